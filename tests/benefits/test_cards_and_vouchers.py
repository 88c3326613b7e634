"""How benefits look: partner monograms, one action per card that covers the card, voucher
states in the list, and copy/share for the partner's code."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from benefits.models import Partner, Voucher
from benefits.services import voucher_claim
from tests.clients import browser
from tests.factories import make_benefit, make_partner

pytestmark = pytest.mark.django_db

CATALOGUE = "/benefits/"
VOUCHERS = "/benefits/vouchers/"


@pytest.mark.parametrize(
    ("name", "monogram"),
    [("瑞幸咖啡", "瑞"), ("hello bike", "HB"), ("Didi", "D"), ("Ctrip Travel Group", "CT")],
)
def test_a_partner_without_a_logo_has_a_monogram_from_its_name(name, monogram):
    partner = Partner(name=name)
    assert partner.monogram == monogram
    assert 0 <= partner.monogram_tone < Partner.MONOGRAM_TONES
    assert Partner(name=name).monogram_tone == partner.monogram_tone  # the same on every page


def test_every_benefit_card_has_a_monogram_and_at_most_one_action(scored_owner, partner):
    make_benefit(partner, 600, title_en="Deposit-free public bikes")
    make_benefit(partner, 700, title_en="Visa help without a deposit certificate")

    html = browser(scored_owner).get(CATALOGUE).content.decode()

    cards = re.findall(r'<article class="card benefit.*?</article>', html, re.S)
    assert len(cards) == 2
    for card in cards:
        assert f'class="monogram monogram-{partner.monogram_tone}"' in card
        assert f">{partner.monogram}</span>" in card
        assert card.count("card-action") == 1
    unlocked, locked = cards
    assert re.search(r'<button type="submit" class="button button-primary card-action">', unlocked)
    assert 'class="button button-block card-action" href="/score/what-if/"' in locked


def test_the_voucher_list_says_valid_used_or_expired(scored_owner, partner):
    valid = voucher_claim(user=scored_owner, benefit_id=make_benefit(partner, 600).pk)
    used = voucher_claim(user=scored_owner, benefit_id=make_benefit(partner, 600).pk)
    expired = voucher_claim(user=scored_owner, benefit_id=make_benefit(partner, 600).pk)
    Voucher.objects.filter(pk=used.pk).update(redeemed_at=timezone.now())
    Voucher.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - datetime.timedelta(days=1)
    )

    html = browser(scored_owner).get(VOUCHERS).content.decode()

    rows = {
        code: re.search(re.escape(code) + r".*?</a>", html, re.S).group()
        for code in (valid.code, used.code, expired.code)
    }
    assert '<span class="badge badge-ok">Valid</span>' in rows[valid.code]
    assert '<span class="badge">Used</span>' in rows[used.code]
    assert '<span class="badge badge-expired">Expired</span>' in rows[expired.code]
    assert [v.status for v in Voucher.objects.order_by("pk")] == ["valid", "used", "expired"]


def test_the_voucher_states_speak_chinese(scored_owner, partner):
    voucher_claim(user=scored_owner, benefit_id=make_benefit(partner, 600).pk)
    html = browser(scored_owner, "zh-hans").get(VOUCHERS).content.decode()
    assert '<span class="badge badge-ok">有效</span>' in html


def test_a_second_partner_gets_its_own_monogram(scored_owner):
    other = make_partner("瑞幸咖啡")
    make_benefit(other, 600)
    html = browser(scored_owner, "zh-hans").get(CATALOGUE).content.decode()
    assert '" aria-hidden="true">瑞</span>' in html
