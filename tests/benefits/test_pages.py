"""The benefit pages: the catalogue, claiming, vouchers, and the notifications inbox."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.crypto import keyed_hash
from accounts.models import Notification
from benefits.models import Voucher
from benefits.services import voucher_claim
from scoring.models import CourtListEntry
from tests.clients import browser
from tests.factories import grant_scoring, make_benefit, make_partner, rescore, set_score, verify

pytestmark = pytest.mark.django_db

CATALOGUE = "/benefits/"
VOUCHERS = "/benefits/vouchers/"
INBOX = "/accounts/notifications/"


def claim_page(benefit_id: int) -> str:
    return f"/benefits/{benefit_id}/claim/"


def voucher_page(voucher: Voucher) -> str:
    return reverse("benefits:voucher", args=[voucher.pk])


# --- The catalogue ------------------------------------------------------------------------------


def test_the_catalogue_shows_what_is_unlocked_and_how_far_the_rest_is(scored_owner, partner):
    make_benefit(partner, 600, title_en="Deposit-free public bikes")
    make_benefit(partner, 700, title_en="Visa help without a deposit certificate")
    make_benefit(partner, 651, title_en="Deposit-free power banks")

    page = browser(scored_owner).get(CATALOGUE)

    html = page.content.decode()
    assert page.status_code == 200
    unlocked, locked = html.split('id="locked-title"')
    assert "Deposit-free public bikes" in unlocked
    assert "Visa help" in locked
    assert "50 points away" in locked
    assert "1 point away" in locked
    assert html.count('class="card benefit benefit-unlocked"') == 1
    assert f'action="{claim_page(partner.benefits.get(min_score=600).pk)}"' in html


def test_the_catalogue_speaks_chinese_by_default(scored_owner, partner):
    make_benefit(partner, 600, title_zh="公共自行车免押金")
    make_benefit(partner, 700)

    html = browser(scored_owner, "zh-hans").get(CATALOGUE).content.decode()

    assert "公共自行车免押金" in html
    assert "已解锁" in html
    assert "还差 50 分" in html


def test_the_category_filter_keeps_one_category_and_ignores_unknown_ones(scored_owner, partner):
    make_benefit(partner, 600, title_en="Bikes for all")
    make_benefit(partner, 600, title_en="Hotel stay", category="hotel")
    client = browser(scored_owner)

    hotels = client.get(CATALOGUE, {"category": "hotel"}).content.decode()
    unknown = client.get(CATALOGUE, {"category": "spaceships"})

    assert "Hotel stay" in hotels
    assert "Bikes for all" not in hotels
    assert unknown.status_code == 200
    assert "Bikes for all" in unknown.content.decode()


def test_without_a_score_the_catalogue_explains_that_benefits_follow_it(owner, partner):
    make_benefit(partner, 600, title_en="Deposit-free public bikes")

    html = browser(owner).get(CATALOGUE).content.decode()

    assert "Benefits follow your score" in html
    assert "Deposit-free public bikes" in html
    assert "benefit-unlocked" not in html
    assert "Claim" not in html


def test_a_court_listed_user_is_told_why_and_how_to_dispute(owner, partner, model_version):
    number = verify(owner)
    grant_scoring(owner)
    set_score(owner, 900, model_version=model_version)
    CourtListEntry.objects.create(id_number_hash=keyed_hash(number))
    make_benefit(partner, 350)

    html = browser(owner).get(CATALOGUE).content.decode()

    assert "court list" in html
    assert "benefit-unlocked" not in html


def test_the_catalogue_needs_login(client):
    response = client.get(CATALOGUE)

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_catalogue_takes_the_same_queries_for_3_benefits_as_for_30(scored_owner, partner):
    for score in (600, 640, 700):
        make_benefit(partner, score)
    voucher_claim(user=scored_owner, benefit_id=partner.benefits.first().pk)
    client = browser(scored_owner)
    client.get(CATALOGUE)
    with CaptureQueriesContext(connection) as few:
        assert client.get(CATALOGUE).status_code == 200
    for score in range(360, 950, 22):
        offer = make_benefit(make_partner(f"Partner {score}"), score, quota=3)
        if score <= 650:
            voucher_claim(user=scored_owner, benefit_id=offer.pk)

    with CaptureQueriesContext(connection) as many:
        html = client.get(CATALOGUE).content.decode()

    assert html.count('<article class="card benefit') == 30
    assert len(many.captured_queries) == len(few.captured_queries)


# --- Claiming and vouchers ----------------------------------------------------------------------


def test_claiming_leads_to_the_voucher_page_with_its_code_and_qr(scored_owner, benefit):
    client = browser(scored_owner)

    response = client.post(claim_page(benefit.pk))

    voucher = Voucher.objects.get(user=scored_owner)
    assert response.status_code == 302
    assert response["Location"] == voucher_page(voucher)
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert voucher.code in html
    assert "<svg" in html[html.index("<main") : html.index("</main>")]  # the QR code
    assert "Your voucher is ready" in html


def test_a_claimed_benefit_shows_a_link_to_the_voucher_instead_of_the_button(scored_owner, benefit):
    voucher = voucher_claim(user=scored_owner, benefit_id=benefit.pk)

    html = browser(scored_owner).get(CATALOGUE).content.decode()

    assert f'href="{voucher_page(voucher)}"' in html
    assert f'action="{claim_page(benefit.pk)}"' not in html


def test_a_refused_claim_returns_to_the_catalogue_with_the_reason(scored_owner, partner):
    reach = make_benefit(partner, 900)
    client = browser(scored_owner)

    response = client.post(claim_page(reach.pk))

    assert response.status_code == 302
    assert response["Location"] == CATALOGUE
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["error"]
    assert not Voucher.objects.exists()


def test_claiming_needs_a_post_and_a_login(client, benefit, scored_owner):
    assert client.post(claim_page(benefit.pk)).status_code == 302
    assert browser(scored_owner).get(claim_page(benefit.pk)).status_code == 405
    assert not Voucher.objects.exists()


def test_claiming_needs_the_csrf_token(scored_owner, benefit):
    client = Client(enforce_csrf_checks=True)
    client.force_login(scored_owner)

    assert client.post(claim_page(benefit.pk)).status_code == 403
    assert not Voucher.objects.exists()


def test_another_users_voucher_page_is_not_found(scored_owner, other_user, benefit, model_version):
    voucher = voucher_claim(user=scored_owner, benefit_id=benefit.pk)

    response = browser(other_user).get(voucher_page(voucher))

    assert response.status_code == 404
    assert voucher.code not in response.content.decode()


def test_my_vouchers_page_lists_only_mine(scored_owner, other_user, benefit, model_version):
    mine = voucher_claim(user=scored_owner, benefit_id=benefit.pk)
    grant_scoring(other_user)
    set_score(other_user, 700, model_version=model_version)
    theirs = voucher_claim(user=other_user, benefit_id=benefit.pk)

    html = browser(scored_owner).get(VOUCHERS).content.decode()

    assert mine.code in html
    assert theirs.code not in html


def test_an_expired_voucher_page_hides_the_code(scored_owner, benefit):
    voucher = voucher_claim(user=scored_owner, benefit_id=benefit.pk)
    Voucher.objects.filter(pk=voucher.pk).update(expires_at=voucher.issued_at)

    html = browser(scored_owner).get(voucher_page(voucher)).content.decode()

    assert "Expired" in html
    # No QR code in the page's content (the tab bar's icons are SVG too).
    main = html[html.index("<main") : html.index("</main>")]
    assert "<svg" not in main


# --- Notifications ------------------------------------------------------------------------------


def test_the_inbox_lists_unlocks_and_locks_and_marks_them_read(owner, partner, model_version):
    make_benefit(partner, 600, title_en="Deposit-free public bikes")
    rescore(owner, 620, model_version=model_version)
    rescore(owner, 590, model_version=model_version)
    client = browser(owner)

    first = client.get(INBOX).content.decode()
    second = client.get(INBOX).content.decode()

    assert "Unlocked: Deposit-free public bikes" in first
    assert "Locked again: Deposit-free public bikes" in first
    assert first.count('class="unread"') == 2
    assert second.count('class="unread"') == 0
    assert "Deposit-free public bikes" in second
    assert not Notification.objects.filter(user=owner, read_at__isnull=True).exists()


def test_the_inbox_shows_only_my_notifications(owner, other_user, partner, model_version):
    make_benefit(partner, 600, title_en="Deposit-free public bikes")
    rescore(other_user, 620, model_version=model_version)

    html = browser(owner).get(INBOX).content.decode()

    assert "Deposit-free public bikes" not in html
    assert Notification.objects.get(user=other_user).read_at is None


def test_the_header_shows_the_unread_count(owner, partner, model_version):
    make_benefit(partner, 600)
    make_benefit(partner, 610)
    rescore(owner, 620, model_version=model_version)  # one notification for both
    rescore(owner, 605, model_version=model_version)  # one for the one locked again
    client = browser(owner)

    before = client.get(CATALOGUE).content.decode()
    client.get(INBOX)
    after = client.get(CATALOGUE).content.decode()

    assert '<span class="bell-count">2</span>' in before
    assert "Notifications: 2 new" in before
    assert "bell-count" not in after


def test_the_inbox_needs_login(client):
    assert client.get(INBOX).status_code == 302
