"""Claiming a benefit: the service and POST /api/v1/me/benefits/{id}/claim/, each refusal
with its code, the quota, and concurrent claims that never go beyond it."""

from __future__ import annotations

import datetime
import re
import threading

import pytest
from django.db import connection
from django.utils import timezone

from accounts.crypto import keyed_hash
from accounts.models import ConsentPurpose
from accounts.services import consent_revoke
from benefits.models import Benefit, Partner, Voucher
from benefits.services import voucher_claim
from scoring.models import CourtListEntry, ModelVersion
from sesame_portal.errors import ServiceError
from tests.dates import birth_years_ago, in_days
from tests.factories import (
    WEB,
    grant_scoring,
    id_number,
    make_benefit,
    make_partner,
    make_user,
    set_score,
    verify,
)

pytestmark = pytest.mark.django_db

CODE_RE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(?:-[0-9A-HJKMNP-TV-Z]{4}){3}")
VOUCHERS_URL = "/api/v1/me/vouchers/"


def claim_url(benefit_id: int) -> str:
    return f"/api/v1/me/benefits/{benefit_id}/claim/"


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message"}
    assert body["code"] == code
    assert body["message"]


def scored(username: str, score: int, model_version: ModelVersion):
    user = make_user(username)
    grant_scoring(user)
    set_score(user, score, model_version=model_version)
    return user


# --- The happy path -------------------------------------------------------------------------------


def test_claiming_an_unlocked_benefit_gives_a_voucher_with_a_code_expiry_and_qr(
    scored_owner, owner_api, partner
):
    offer = make_benefit(partner, 600, voucher_days=14)

    response = owner_api.post(claim_url(offer.pk))

    assert response.status_code == 201, response.content
    body = response.json()
    assert CODE_RE.fullmatch(body["code"])
    issued = datetime.datetime.fromisoformat(body["issued_at"])
    expires = datetime.datetime.fromisoformat(body["expires_at"])
    assert expires - issued == datetime.timedelta(days=14)
    assert abs(issued - timezone.now()) < datetime.timedelta(minutes=1)
    assert body["qr_svg"].lstrip().startswith("<svg")
    assert "<script" not in body["qr_svg"]
    assert body["benefit"] == offer.pk
    assert body["partner"] == partner.name
    assert body["valid"] is True
    assert body["redeemed_at"] is None
    voucher = Voucher.objects.get()
    assert (voucher.user, voucher.benefit, voucher.code) == (scored_owner, offer, body["code"])


def test_codes_differ_between_vouchers(partner, model_version):
    offer = make_benefit(partner, 600)
    codes = {
        voucher_claim(user=scored(f"u{i}", 700, model_version), benefit_id=offer.pk).code
        for i in range(5)
    }

    assert len(codes) == 5
    assert all(CODE_RE.fullmatch(code) for code in codes)


def test_a_second_claim_while_the_voucher_is_valid_is_refused(scored_owner, owner_api, benefit):
    owner_api.post(claim_url(benefit.pk))

    assert_error(owner_api.post(claim_url(benefit.pk)), 409, "already_claimed")
    assert Voucher.objects.count() == 1


def test_after_the_voucher_expires_a_new_claim_works(scored_owner, owner_api, benefit):
    first = voucher_claim(user=scored_owner, benefit_id=benefit.pk)
    later = first.expires_at + datetime.timedelta(seconds=1)

    second = voucher_claim(user=scored_owner, benefit_id=benefit.pk, now=later)

    assert second.pk != first.pk
    assert second.code != first.code
    assert second.expires_at == later + datetime.timedelta(days=benefit.voucher_days)


def test_an_expired_voucher_no_longer_blocks_a_claim_through_the_api(
    scored_owner, owner_api, benefit
):
    voucher = voucher_claim(user=scored_owner, benefit_id=benefit.pk)
    Voucher.objects.filter(pk=voucher.pk).update(expires_at=in_days(-0.001))

    assert owner_api.post(claim_url(benefit.pk)).status_code == 201
    assert Voucher.objects.filter(user=scored_owner).count() == 2


# --- The quota ------------------------------------------------------------------------------------


def test_the_quota_counts_valid_and_redeemed_vouchers(
    scored_owner, owner_api, partner, model_version
):
    offer = make_benefit(partner, 600, quota=2)
    used = voucher_claim(user=scored("first", 700, model_version), benefit_id=offer.pk)
    Voucher.objects.filter(pk=used.pk).update(redeemed_at=timezone.now())
    voucher_claim(user=scored("second", 700, model_version), benefit_id=offer.pk)

    assert_error(owner_api.post(claim_url(offer.pk)), 409, "quota_exhausted")
    assert not Voucher.objects.filter(user=scored_owner).exists()


def test_an_expired_unredeemed_voucher_frees_its_place_in_the_quota(
    scored_owner, owner_api, partner, model_version
):
    offer = make_benefit(partner, 600, quota=1)
    lapsed = voucher_claim(user=scored("lapsed", 700, model_version), benefit_id=offer.pk)
    assert_error(owner_api.post(claim_url(offer.pk)), 409, "quota_exhausted")

    Voucher.objects.filter(pk=lapsed.pk).update(expires_at=in_days(-0.001))

    assert owner_api.post(claim_url(offer.pk)).status_code == 201


# --- Refusals -------------------------------------------------------------------------------------


def test_a_benefit_that_ended_is_gone(scored_owner, owner_api, partner):
    ended = make_benefit(partner, 600, active_from=in_days(-10), active_to=in_days(-1))

    assert_error(owner_api.post(claim_url(ended.pk)), 410, "ended")


def test_a_benefit_not_started_yet_cannot_be_claimed(scored_owner, owner_api, partner):
    future = make_benefit(partner, 600, active_from=in_days(3))

    assert_error(owner_api.post(claim_url(future.pk)), 409, "not_started")


@pytest.mark.parametrize(
    ("benefit_status", "partner_status"),
    [
        (Benefit.Status.DRAFT, Partner.Status.APPROVED),
        (Benefit.Status.PUBLISHED, Partner.Status.SUSPENDED),
        (Benefit.Status.PUBLISHED, Partner.Status.PENDING),
    ],
)
def test_a_draft_or_a_benefit_of_an_unapproved_partner_is_not_found(
    scored_owner, owner_api, benefit_status, partner_status
):
    hidden = make_benefit(make_partner(status=partner_status), 600, status=benefit_status)

    assert_error(owner_api.post(claim_url(hidden.pk)), 404, "not_found")
    assert not Voucher.objects.exists()


def test_an_unknown_benefit_is_not_found(scored_owner, owner_api):
    assert_error(owner_api.post(claim_url(999_999)), 404, "not_found")


def test_a_benefit_id_that_is_not_a_number_is_a_json_404(scored_owner, owner_api):
    response = owner_api.post("/api/v1/me/benefits/abc/claim/")

    assert response.status_code == 404
    assert set(response.json()) == {"code", "message"}


def test_a_benefit_not_unlocked_yet_cannot_be_claimed(scored_owner, owner_api, partner):
    reach = make_benefit(partner, 700)

    assert_error(owner_api.post(claim_url(reach.pk)), 403, "not_eligible")
    assert not Voucher.objects.exists()


def test_a_benefit_locked_by_age_or_region_cannot_be_claimed(scored_owner, owner_api, partner):
    elsewhere = make_benefit(partner, 600, regions=["31"])
    seniors = make_benefit(partner, 600, min_age=60)

    assert_error(owner_api.post(claim_url(elsewhere.pk)), 403, "not_eligible")
    assert_error(owner_api.post(claim_url(seniors.pk)), 403, "not_eligible")


@pytest.mark.parametrize(("days", "status"), [(0, 201), (1, 403)])
def test_the_minimum_age_is_judged_on_the_verified_birth_date(
    owner, owner_api, partner, model_version, days, status
):
    adults = make_benefit(partner, 600, min_age=18)
    verify(owner, id_number(birth=birth_years_ago(18, days=days)))  # 18 today, or tomorrow
    grant_scoring(owner)
    set_score(owner, 700, model_version=model_version)

    assert owner_api.post(claim_url(adults.pk)).status_code == status


def test_a_regional_benefit_is_claimed_by_someone_from_that_region(
    owner, owner_api, partner, model_version
):
    shanghai = make_benefit(partner, 600, regions=["3101"])
    verify(owner, id_number(region="310101"))
    grant_scoring(owner)
    set_score(owner, 700, model_version=model_version)

    assert owner_api.post(claim_url(shanghai.pk)).status_code == 201


def test_a_court_listed_user_is_told_why(owner, owner_api, benefit, model_version):
    number = verify(owner)
    grant_scoring(owner)
    set_score(owner, 900, model_version=model_version)
    CourtListEntry.objects.create(id_number_hash=keyed_hash(number))

    assert_error(owner_api.post(claim_url(benefit.pk)), 403, "court_list")
    assert not Voucher.objects.exists()


def test_without_scoring_consent_nothing_can_be_claimed(scored_owner, owner_api, benefit):
    grant = scored_owner.consent_grants.get(purpose=ConsentPurpose.SCORING)
    consent_revoke(user=scored_owner, grant_id=grant.pk, client=WEB)

    assert_error(owner_api.post(claim_url(benefit.pk)), 403, "consent_required")


def test_consent_but_no_score_yet_is_not_eligible(owner, owner_api, benefit):
    grant_scoring(owner)

    assert_error(owner_api.post(claim_url(benefit.pk)), 403, "not_eligible")


def test_claiming_needs_authentication(api_client, benefit):
    response = api_client.post(claim_url(benefit.pk))

    assert response.status_code in (401, 403)
    assert set(response.json()) == {"code", "message"}
    assert not Voucher.objects.exists()


# --- My vouchers ----------------------------------------------------------------------------------


def test_my_vouchers_lists_only_mine_newest_first(
    scored_owner, owner_api, other_api, other_user, partner, model_version
):
    bikes, hotels = make_benefit(partner, 600), make_benefit(partner, 620)
    first = voucher_claim(user=scored_owner, benefit_id=bikes.pk)
    second = voucher_claim(user=scored_owner, benefit_id=hotels.pk, now=in_days(0.001))
    grant_scoring(other_user)
    set_score(other_user, 700, model_version=model_version)
    theirs = voucher_claim(user=other_user, benefit_id=bikes.pk)

    mine = owner_api.get(VOUCHERS_URL)
    others = other_api.get(VOUCHERS_URL)

    assert mine.status_code == 200
    assert [v["code"] for v in mine.json()] == [second.code, first.code]
    assert [v["code"] for v in others.json()] == [theirs.code]
    assert {"code", "benefit", "expires_at", "valid", "redeemed_at"} <= set(mine.json()[0])
    assert "qr_svg" not in mine.json()[0]


def test_my_vouchers_needs_authentication(api_client):
    assert api_client.get(VOUCHERS_URL).status_code in (401, 403)


# --- Concurrent claims ----------------------------------------------------------------------------


def _claim_at_once(users, benefit_id: int) -> list[str]:
    """Every user claims at the same moment, each on its own connection; the outcome of
    each claim is 'ok' or the refusal's code."""
    barrier = threading.Barrier(len(users))
    outcomes: list[str] = []
    lock = threading.Lock()

    def claim(user) -> None:
        try:
            barrier.wait(timeout=30)
            voucher_claim(user=user, benefit_id=benefit_id)
            outcome = "ok"
        except ServiceError as exc:
            outcome = exc.code
        except BaseException as exc:  # surfaced in the assertion, not lost in a thread
            outcome = repr(exc)
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=claim, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


@pytest.fixture
def concurrent_offer(consent_texts, model_version):
    return make_benefit(make_partner(), 600, quota=1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_never_go_beyond_a_quota_of_one(concurrent_offer, model_version):
    users = [scored(f"racer{i}", 700, model_version) for i in range(6)]

    outcomes = _claim_at_once(users, concurrent_offer.pk)

    assert outcomes == ["ok"] + ["quota_exhausted"] * 5
    assert Voucher.objects.filter(benefit=concurrent_offer).count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_user_claiming_twice_at_once_gets_one_voucher(concurrent_offer, model_version):
    Benefit.objects.filter(pk=concurrent_offer.pk).update(quota=None)
    user = scored("twice", 700, model_version)

    outcomes = _claim_at_once([user] * 4, concurrent_offer.pk)

    assert outcomes == ["already_claimed"] * 3 + ["ok"]
    assert Voucher.objects.filter(user=user).count() == 1
