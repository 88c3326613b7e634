"""The partner API: keys, authorisations and their scope, vouchers, the identity check,
the query log every call leaves, rate limits and quotas, and bodies no partner should
send. Each refusal is a 4xx with `{code, message}`, never a server error."""

from __future__ import annotations

import datetime
import json
import logging
import re
import threading
import urllib.parse
from unittest import mock

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import ConsentGrant, ConsentPurpose
from accounts.services import account_delete, consent_revoke
from benefits.credentials import API_KEY_KIND, TOKEN_KIND, credential_hash, credential_new
from benefits.models import (
    Benefit,
    Partner,
    PartnerApiKey,
    PartnerAuthorization,
    PartnerQuery,
    Voucher,
)
from benefits.services import partner_calls, partner_status_set, voucher_claim
from benefits.services.partner_access import api_key_revoke
from benefits.services.partner_calls import partner_rate_check
from benefits.services.vouchers import voucher_code_new
from scoring.models import ScoreSnapshot
from sesame_portal.errors import ServiceError
from tests.dates import in_days
from tests.factories import (
    PASSWORD,
    WEB,
    authorize,
    grant_scoring,
    id_number,
    make_api_key,
    make_benefit,
    make_partner,
    make_user,
    set_score,
    verify,
)
from tests.partner_api import (
    IDENTITY_CHECK_URL,
    assert_error,
    eligibility_url,
    partner_client,
    redeem_url,
    score_url,
    voucher_url,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("partner_cache")]

SCORE_FIELDS = {"score", "band", "computed_at"}
VOUCHER_FIELDS = {"code", "benefit", "valid", "expires_at", "redeemed_at"}
# Full-width letters and digits, as a Chinese keyboard may type them.
FULL_WIDTH = {code: code + 0xFEE0 for code in range(0x21, 0x7F)}
KEY_RE = re.compile(r"sk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")


@pytest.fixture
def other_partner(db) -> Partner:
    return make_partner("悦途酒店 Joyway Hotels", category="hotel")


@pytest.fixture
def other_partner_api(other_partner) -> APIClient:
    return partner_client(make_api_key(other_partner))


@pytest.fixture
def token(scored_owner, partner) -> str:
    """The scored owner authorised the partner to see the score."""
    _grant, value = authorize(scored_owner, partner, "score")
    return value


def swap_last_character(value: str) -> str:
    return value[:-1] + ("A" if value[-1] != "A" else "B")


def logged() -> list[PartnerQuery]:
    return list(PartnerQuery.objects.order_by("id"))


# --- Keys -----------------------------------------------------------------------------------------


def test_a_call_without_a_key_is_401_and_says_how_to_send_one(partner_cache, token):
    response = partner_client(None).get(score_url(token))

    assert_error(response, 401, "api_key_missing")
    assert response["WWW-Authenticate"] == "Api-Key"
    assert not PartnerQuery.objects.exists()


@pytest.mark.parametrize(
    "make_value",
    [
        pytest.param(lambda key: "", id="empty"),
        pytest.param(lambda key: "not-a-key", id="malformed"),
        pytest.param(lambda key: key[:-1], id="truncated"),
        pytest.param(lambda key: key + "x", id="too-long"),
        pytest.param(lambda key: key.upper(), id="upper-case"),
        pytest.param(lambda key: credential_new(API_KEY_KIND)[0], id="unknown"),
        pytest.param(swap_last_character, id="right-prefix-wrong-secret"),
        pytest.param(lambda key: TOKEN_KIND + key[len(API_KEY_KIND) :], id="token-kind"),
    ],
)
def test_a_key_that_is_not_valid_is_401(partner_cache, api_key, token, make_value):
    response = partner_client(make_value(api_key)).get(score_url(token))

    assert_error(response, 401, "api_key_invalid")
    assert response["WWW-Authenticate"] == "Api-Key"
    assert not PartnerQuery.objects.exists()


def test_a_revoked_key_stops_at_once(partner_api, api_key, token):
    assert partner_api.get(score_url(token)).status_code == 200

    api_key_revoke(key=PartnerApiKey.objects.get(prefix=api_key.split("_")[1]))

    assert_error(partner_api.get(score_url(token)), 401, "api_key_invalid")


@pytest.mark.parametrize("status", [Partner.Status.PENDING, Partner.Status.SUSPENDED])
def test_the_valid_key_of_a_partner_not_approved_is_403(partner_cache, scored_owner, status):
    partner = make_partner("待审 Pending Rentals")
    _grant, token = authorize(scored_owner, partner, "score")
    key = make_api_key(partner)
    Partner.objects.filter(pk=partner.pk).update(status=status)

    assert_error(partner_client(key).get(score_url(token)), 403, "partner_not_approved")


def test_a_suspension_stops_the_partner_at_its_very_next_call(
    partner_api, partner, token, admin_user
):
    assert partner_api.get(score_url(token)).status_code == 200

    partner_status_set(
        partners=[partner], status=Partner.Status.SUSPENDED, reason="resold scores", by=admin_user
    )

    assert_error(partner_api.get(score_url(token)), 403, "partner_not_approved")
    assert_error(
        partner_api.post(IDENTITY_CHECK_URL, {"full_name": "张伟", "id_number": "1"}),
        403,
        "partner_not_approved",
    )

    partner_status_set(
        partners=[partner], status=Partner.Status.APPROVED, reason="cleared", by=admin_user
    )
    # The key works again, but the suspension ended the person's authorisation for good.
    assert_error(partner_api.get(score_url(token)), 403, "authorization_revoked")


def test_a_partner_may_hold_several_keys_and_rotate_them(partner_cache, partner, token):
    old, new = make_api_key(partner, "2025"), make_api_key(partner, "2026")

    assert partner_client(old).get(score_url(token)).status_code == 200
    assert partner_client(new).get(score_url(token)).status_code == 200

    api_key_revoke(key=PartnerApiKey.objects.get(label="2025"))

    assert_error(partner_client(old).get(score_url(token)), 401, "api_key_invalid")
    assert partner_client(new).get(score_url(token)).status_code == 200
    assert [q.api_key.label for q in logged()] == ["2025", "2026", "2026"]


def test_only_the_hash_of_a_key_is_stored(partner):
    value = make_api_key(partner, "primary")
    _kind, prefix, secret = value.split("_", 2)

    row = PartnerApiKey.objects.get()
    stored = json.dumps(model_to_dict(row), default=str)

    assert row.prefix == prefix
    assert row.key_hash == credential_hash(value)
    assert value not in stored
    assert secret not in stored


def test_the_admin_creates_a_key_and_shows_it_once(admin_client, partner, token, admin_user):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    response = admin_client.post(
        "/admin/benefits/partnerapikey/add/",
        {"partner": partner.pk, "label": "production"},
        follow=True,
    )

    assert response.status_code == 200, response.content
    shown = KEY_RE.findall(response.content.decode())
    assert len(shown) == 1, shown
    key = shown[0]
    row = PartnerApiKey.objects.get()
    assert (row.partner, row.label, row.created_by) == (partner, "production", admin_user)
    assert row.key_hash == credential_hash(key)
    assert partner_client(key).get(score_url(token)).status_code == 200
    # Never shown again: not on the list, not on the key's page, not on the partner's.
    for page in (
        "/admin/benefits/partnerapikey/",
        f"/admin/benefits/partnerapikey/{row.pk}/change/",
        f"/admin/benefits/partner/{partner.pk}/change/",
    ):
        later = admin_client.get(page)
        assert later.status_code == 200
        assert key.split("_", 2)[2] not in later.content.decode()


def test_the_admin_revokes_keys_with_an_action(admin_client, partner, partner_cache, token):
    key = make_api_key(partner)

    admin_client.post(
        "/admin/benefits/partnerapikey/",
        {"action": "revoke", "_selected_action": [PartnerApiKey.objects.get().pk]},
    )

    assert PartnerApiKey.objects.get().revoked_at is not None
    assert_error(partner_client(key).get(score_url(token)), 401, "api_key_invalid")


def test_a_portal_user_session_cannot_call_the_partner_api(partner_cache, scored_owner, token):
    browser = APIClient()
    browser.force_login(scored_owner)

    assert_error(browser.get(score_url(token)), 401, "api_key_missing")
    assert_error(
        browser.post(IDENTITY_CHECK_URL, {"full_name": "张伟", "id_number": "1"}, format="json"),
        401,
        "api_key_missing",
    )


def test_a_user_api_token_cannot_call_the_partner_api(partner_cache, scored_owner, token):
    _instance, knox_token = AuthToken.objects.create(user=scored_owner)
    mobile = APIClient()
    mobile.credentials(HTTP_AUTHORIZATION=f"Token {knox_token}")
    assert mobile.get("/api/v1/me/score/").status_code == 200  # the token itself is good

    assert_error(mobile.get(score_url(token)), 401, "api_key_missing")


def test_a_partner_key_cannot_call_the_user_api(partner_api):
    assert partner_api.get("/api/v1/me/score/").status_code in (401, 403)
    assert partner_api.get("/api/v1/me/queries/").status_code in (401, 403)


def test_a_call_records_when_the_key_was_last_used(partner_api, api_key, token):
    partner_api.get(score_url(token))

    assert PartnerApiKey.objects.get().last_used_at is not None


# --- The score ------------------------------------------------------------------------------------


def test_the_score_scope_gives_the_score_its_band_and_time_only(partner_api, scored_owner, token):
    snapshot = ScoreSnapshot.objects.get(user=scored_owner)

    response = partner_api.get(score_url(token))

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == SCORE_FIELDS
    assert (body["score"], body["band"]) == (650, snapshot.band)
    assert datetime.datetime.fromisoformat(body["computed_at"]) == snapshot.computed_at


def test_the_score_and_subscores_scope_adds_the_dimensions(partner_api, scored_owner, partner):
    _grant, token = authorize(scored_owner, partner, "score_and_subscores")

    body = partner_api.get(score_url(token)).json()

    assert set(body) == SCORE_FIELDS | {"dimensions"}
    assert body["score"] == 650
    assert body["dimensions"] == {"capacity": 60, "credit_history": 70}


def test_an_eligibility_authorisation_does_not_give_the_score(
    partner_api, scored_owner, partner, benefit
):
    _grant, token = authorize(scored_owner, partner, "eligibility", benefit=benefit)

    assert_error(partner_api.get(score_url(token)), 403, "out_of_scope")


def test_no_scoring_consent_means_no_score_to_share(partner_api, scored_owner, token):
    scoring = scored_owner.consent_grants.get(purpose=ConsentPurpose.SCORING)
    consent_revoke(user=scored_owner, grant_id=scoring.pk, client=WEB)

    assert_error(partner_api.get(score_url(token)), 404, "score_unavailable")


def test_no_score_yet_means_no_score_to_share(partner_api, partner):
    newcomer = make_user("newcomer")
    grant_scoring(newcomer)
    _grant, token = authorize(newcomer, partner, "score")

    assert_error(partner_api.get(score_url(token)), 404, "score_unavailable")


# --- Eligibility ----------------------------------------------------------------------------------


def test_an_eligibility_authorisation_answers_yes_or_no_for_its_benefit_only(
    partner_api, scored_owner, partner
):
    bikes, cars = make_benefit(partner, 600), make_benefit(partner, 700)
    _grant, token = authorize(scored_owner, partner, "eligibility", benefit=bikes)

    response = partner_api.get(eligibility_url(token, bikes.pk))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {"benefit": bikes.pk, "eligible": True}  # not even points_away: null
    assert_error(partner_api.get(eligibility_url(token, cars.pk)), 403, "out_of_scope")
    assert PartnerQuery.objects.filter(outcome="ok").get().fields_disclosed == ["eligible"]


@pytest.mark.parametrize("scope", ["score", "score_and_subscores"])
def test_a_score_authorisation_answers_eligibility_with_points_away(
    partner_api, scored_owner, partner, scope
):
    bikes, cars = make_benefit(partner, 600), make_benefit(partner, 700)
    _grant, token = authorize(scored_owner, partner, scope)

    unlocked = partner_api.get(eligibility_url(token, bikes.pk)).json()
    locked = partner_api.get(eligibility_url(token, cars.pk)).json()

    assert unlocked["eligible"] is True
    assert set(unlocked) == {"benefit", "eligible", "points_away"}
    assert locked == {"benefit": cars.pk, "eligible": False, "points_away": 50}


def test_a_benefit_of_another_partner_a_draft_or_an_unknown_one_is_not_found(
    partner_api, scored_owner, partner, other_partner
):
    theirs = make_benefit(other_partner, 600)
    draft = make_benefit(partner, 600, status=Benefit.Status.DRAFT)
    ended = make_benefit(partner, 600, active_from=in_days(-9), active_to=in_days(-1))
    _grant, token = authorize(scored_owner, partner, "score")

    for benefit_id in (theirs.pk, draft.pk, ended.pk, 999_999):
        assert_error(partner_api.get(eligibility_url(token, benefit_id)), 404, "benefit_not_found")


def test_an_eligibility_authorisation_for_a_draft_is_not_found(partner_api, scored_owner, partner):
    draft = make_benefit(partner, 600, status=Benefit.Status.DRAFT)
    _grant, token = authorize(scored_owner, partner, "eligibility", benefit=draft)

    assert_error(partner_api.get(eligibility_url(token, draft.pk)), 404, "benefit_not_found")


# --- The authorisation's time and owner -----------------------------------------------------------


def test_an_expired_authorisation_is_refused(partner_api, scored_owner, partner, benefit):
    grant, token = authorize(scored_owner, partner, "score")
    ConsentGrant.objects.filter(pk=grant.pk).update(expires_at=in_days(-0.001))

    assert_error(partner_api.get(score_url(token)), 403, "authorization_expired")
    assert_error(partner_api.get(eligibility_url(token, benefit.pk)), 403, "authorization_expired")


def test_a_revoked_authorisation_is_refused_at_the_next_call(
    partner_api, scored_owner, partner, benefit
):
    grant, token = authorize(scored_owner, partner, "score")
    assert partner_api.get(score_url(token)).status_code == 200

    consent_revoke(user=scored_owner, grant_id=grant.pk, client=WEB)

    assert_error(partner_api.get(score_url(token)), 403, "authorization_revoked")
    assert_error(partner_api.get(eligibility_url(token, benefit.pk)), 403, "authorization_revoked")


def test_authorising_again_replaces_the_old_token(partner_api, scored_owner, partner):
    _first, old = authorize(scored_owner, partner, "score")
    _second, new = authorize(scored_owner, partner, "score_and_subscores")

    assert_error(partner_api.get(score_url(old)), 403, "authorization_replaced")
    assert "dimensions" in partner_api.get(score_url(new)).json()


def test_a_deleted_account_is_refused(partner_cache, owner, model_version, partner):
    number = verify(owner, full_name="张伟")
    grant_scoring(owner)
    set_score(owner, 700, model_version=model_version)
    _grant, token = authorize(owner, partner, "score", identity_check=True)
    api = partner_client(make_api_key(partner))
    assert api.get(score_url(token)).status_code == 200

    account_delete(user=owner, password=PASSWORD)

    assert_error(api.get(score_url(token)), 403, "authorization_revoked")
    assert_error(check(api, token, "张伟", number), 403, "authorization_revoked")
    assert not PartnerQuery.objects.filter(user__isnull=False).exists()


def test_an_unknown_token_and_another_partners_token_are_refused_alike(
    partner_api, scored_owner, partner, other_partner, other_user, model_version
):
    grant_scoring(other_user)
    set_score(other_user, 800, model_version=model_version)
    _grant, theirs = authorize(other_user, other_partner, "score")
    _grant, mine = authorize(scored_owner, partner, "score")
    unknown = credential_new(TOKEN_KIND)[0]
    wrong_secret = swap_last_character(mine)

    answers = [
        partner_api.get(score_url(value)) for value in (unknown, theirs, wrong_secret, "abc")
    ]

    for answer in answers:
        assert_error(answer, 404, "authorization_not_found")
    assert len({a.content for a in answers}) == 1
    # Alike but for the request id each response carries.
    headers = [{k: v for k, v in a.headers.items() if k != "X-Request-ID"} for a in answers]
    assert len({tuple(sorted(h.items())) for h in headers}) == 1
    # Nothing about the other partner's user is logged against this partner.
    assert not PartnerQuery.objects.filter(user=other_user).exists()


def test_another_partners_token_is_refused_on_eligibility_too(
    partner_api, scored_owner, partner, other_partner
):
    offer = make_benefit(partner, 600)
    _grant, theirs = authorize(scored_owner, other_partner, "score")

    unknown = partner_api.get(eligibility_url(credential_new(TOKEN_KIND)[0], offer.pk))
    other = partner_api.get(eligibility_url(theirs, offer.pk))

    assert_error(other, 404, "authorization_not_found")
    assert other.content == unknown.content


def test_only_the_hash_of_a_token_is_stored(scored_owner, partner):
    grant, token = authorize(scored_owner, partner, "score")

    row = PartnerAuthorization.objects.get()
    assert row.grant == grant
    assert row.token_hash == credential_hash(token)
    assert token.split("_", 2)[2] not in json.dumps(model_to_dict(row), default=str)


# --- Vouchers -------------------------------------------------------------------------------------


@pytest.fixture
def voucher(scored_owner, benefit) -> Voucher:
    return voucher_claim(user=scored_owner, benefit_id=benefit.pk)


def test_a_partner_checks_its_own_voucher(partner_api, voucher):
    response = partner_api.get(voucher_url(voucher.code))

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == VOUCHER_FIELDS
    assert (body["code"], body["benefit"], body["valid"], body["redeemed_at"]) == (
        voucher.code,
        voucher.benefit_id,
        True,
        None,
    )
    assert datetime.datetime.fromisoformat(body["expires_at"]) == voucher.expires_at


def test_a_voucher_of_another_partners_benefit_is_not_found(other_partner_api, voucher):
    assert_error(other_partner_api.get(voucher_url(voucher.code)), 404, "voucher_not_found")
    assert_error(other_partner_api.post(redeem_url(voucher.code)), 404, "voucher_not_found")
    assert Voucher.objects.get().redeemed_at is None


def test_an_unknown_well_formed_code_is_not_found(partner_api, voucher):
    assert_error(partner_api.get(voucher_url(voucher_code_new())), 404, "voucher_not_found")


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("abc", id="short"),
        pytest.param("ABCD-EFGH-JKMN-PQR", id="one-short"),
        pytest.param("ABCD-EFGH-JKMN-PQRST", id="one-long"),
        pytest.param("ABCDEFGHJKMNPQRS", id="no-dashes"),
        pytest.param("ABCD EFGH JKMN PQRS", id="spaces-for-dashes"),
        pytest.param("ABCD-EFGH-IJKL-MNOP", id="letters-codes-never-use"),
        pytest.param("ABCD-EFGH-JKMN-PQR%", id="punctuation"),
        pytest.param("ABCD-EFGH-JKMN-PQRS".translate(FULL_WIDTH), id="full-width"),
        pytest.param("A" * 500, id="huge"),
    ],
)
def test_a_malformed_code_is_400(partner_api, code):
    path_code = urllib.parse.quote(code)

    assert_error(partner_api.get(voucher_url(path_code)), 400, "invalid_code")
    assert_error(partner_api.post(redeem_url(path_code)), 400, "invalid_code")


@pytest.mark.parametrize(
    "spell",
    [
        pytest.param(str.lower, id="lower-case"),
        pytest.param(lambda code: f"  {code} ", id="surrounding-spaces"),
    ],
)
def test_a_code_read_in_lower_case_or_with_spaces_around_is_the_same_voucher(
    partner_api, voucher, spell
):
    """Codes are upper-case; what a cashier types is read as one."""
    response = partner_api.get(voucher_url(urllib.parse.quote(spell(voucher.code))))

    assert response.status_code == 200, response.content
    assert response.json()["code"] == voucher.code


def test_a_voucher_is_redeemed_once(partner_api, voucher):
    first = partner_api.post(redeem_url(voucher.code))

    assert first.status_code == 200, first.content
    assert first.json()["valid"] is False
    redeemed_at = datetime.datetime.fromisoformat(first.json()["redeemed_at"])
    assert abs(redeemed_at - timezone.now()) < datetime.timedelta(minutes=1)
    assert_error(partner_api.post(redeem_url(voucher.code)), 409, "already_redeemed")
    assert_error(partner_api.post(redeem_url(voucher.code.lower())), 409, "already_redeemed")
    checked = partner_api.get(voucher_url(voucher.code)).json()
    assert checked["valid"] is False
    assert datetime.datetime.fromisoformat(checked["redeemed_at"]) == redeemed_at
    assert Voucher.objects.get().redeemed_at == redeemed_at


def test_an_expired_voucher_cannot_be_redeemed(partner_api, voucher):
    Voucher.objects.filter(pk=voucher.pk).update(expires_at=in_days(-0.001))

    assert_error(partner_api.post(redeem_url(voucher.code)), 410, "voucher_expired")
    assert Voucher.objects.get().redeemed_at is None
    assert partner_api.get(voucher_url(voucher.code)).json()["valid"] is False


def test_a_suspended_partner_cannot_redeem(partner_api, partner, voucher):
    Partner.objects.filter(pk=partner.pk).update(status=Partner.Status.SUSPENDED)

    assert_error(partner_api.post(redeem_url(voucher.code)), 403, "partner_not_approved")
    assert Voucher.objects.get().redeemed_at is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_redemptions_give_exactly_one(partner_cache):
    partner = make_partner()
    offer = make_benefit(partner, 600)
    holder = make_user("holder")
    voucher = Voucher.objects.create(
        code=voucher_code_new(), user=holder, benefit=offer, expires_at=in_days(7)
    )
    key = make_api_key(partner)
    racers = 6
    barrier = threading.Barrier(racers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def redeem() -> None:
        try:
            barrier.wait(timeout=30)
            response = partner_client(key).post(redeem_url(voucher.code))
            outcome = str(response.status_code)
        except BaseException as exc:  # surfaced in the assertion, not lost in a thread
            outcome = repr(exc)
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=redeem) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["200"] + ["409"] * (racers - 1)
    assert Voucher.objects.get().redeemed_at is not None
    redemptions = PartnerQuery.objects.filter(kind=PartnerQuery.Kind.VOUCHER_REDEEM)
    assert sorted(redemptions.values_list("outcome", flat=True)) == ["already_redeemed"] * (
        racers - 1
    ) + ["ok"]


# --- The identity check ---------------------------------------------------------------------------


@pytest.fixture
def verified(owner, partner):
    """The owner, verified as 张伟, authorising the partner to see the score and to check
    their identity; returns (their ID number, the token)."""
    number = verify(owner, full_name="张伟")
    _grant, token = authorize(owner, partner, "score", identity_check=True)
    return number, token


def check(api, token, full_name, number):
    body = {"token": token, "full_name": full_name, "id_number": number}
    return api.post(IDENTITY_CHECK_URL, body, "json")


def test_the_right_name_and_number_of_the_authorisations_person_match(partner_api, verified, owner):
    number, token = verified
    response = check(partner_api, token, "张伟", number)

    assert response.status_code == 200, response.content
    assert response.json() == {"match": True}
    # Written the way people write them: spaces, a lower-case x.
    assert check(partner_api, token, " 张 伟 ", f" {number.lower()} ").json() == {"match": True}
    assert {q.user for q in logged()} == {owner}


def test_every_other_case_is_the_same_no(partner_api, verified, owner, monkeypatch):
    # More checks than one authorisation allows, to see every case answered.
    monkeypatch.setattr(partner_calls, "IDENTITY_CHECKS_PER_DAY", 10)
    monkeypatch.setattr(partner_calls, "IDENTITY_MISMATCHES_MAX", 10)
    number, token = verified
    stranger_number = verify(make_user("stranger"), full_name="李娜")

    answers = [
        check(partner_api, token, "王伟", number),  # wrong name
        check(partner_api, token, "张伟", id_number()),  # nobody has this number
        check(partner_api, token, "李娜", stranger_number),  # another verified person
        check(partner_api, token, "张伟", number[:-1]),  # malformed
        check(partner_api, token, "张伟", "not a number"),
    ]

    for answer in answers:
        assert answer.status_code == 200, answer.content
    assert {a.content for a in answers} == {b'{"match":false}'}
    # Every check is about the authorisation's person, and shown to them.
    assert [q.user for q in logged()] == [owner] * 5


def test_refused_authorisations_cannot_check_identity(partner_api, owner, partner, other_partner):
    number = verify(owner, full_name="张伟")
    _grant, theirs = authorize(owner, other_partner, "score", identity_check=True)
    revoked, revoked_token = authorize(owner, partner, "score", identity_check=True)
    consent_revoke(user=owner, grant_id=revoked.pk, client=WEB)

    assert_error(check(partner_api, theirs, "张伟", number), 404, "authorization_not_found")
    assert_error(check(partner_api, revoked_token, "张伟", number), 403, "authorization_revoked")
    lapsed_grant, lapsed = authorize(owner, partner, "score", identity_check=True)
    ConsentGrant.objects.filter(pk=lapsed_grant.pk).update(expires_at=in_days(-0.001))
    assert_error(check(partner_api, lapsed, "张伟", number), 403, "authorization_expired")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="empty"),
        pytest.param({"full_name": "张伟"}, id="no-number"),
        pytest.param({"id_number": "110105198804120012"}, id="no-name"),
        pytest.param({"full_name": "", "id_number": ""}, id="blank"),
        pytest.param({"full_name": "张" * 61, "id_number": "1"}, id="long-name"),
        pytest.param({"full_name": "张伟", "id_number": "1" * 41}, id="long-number"),
        pytest.param({"full_name": "张伟" * 50_000, "id_number": "1" * 50_000}, id="huge"),
        pytest.param({"full_name": ["张伟"], "id_number": {"a": 1}}, id="wrong-types"),
        pytest.param(["张伟", "110105198804120012"], id="a-list"),
    ],
)
def test_a_body_that_is_not_a_name_and_a_number_is_400(partner_api, body):
    response = partner_api.post(IDENTITY_CHECK_URL, body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert response.json()["message"]


def test_the_id_number_is_never_logged(partner_api, verified, caplog):
    caplog.set_level(logging.DEBUG)
    verified, token = verified

    check(partner_api, token, "张伟", verified)
    check(partner_api, token, "王伟", verified)

    rows = PartnerQuery.objects.values()
    assert len(rows) == 2
    stored = json.dumps(list(rows), default=str)
    assert verified not in stored
    assert verified[-8:] not in stored
    assert "张伟" not in stored
    assert verified not in caplog.text
    assert all(q["fields_disclosed"] == ["match"] for q in rows)


# --- The query log --------------------------------------------------------------------------------


def only_new_row(before: int) -> PartnerQuery:
    rows = list(PartnerQuery.objects.filter(pk__gt=before))
    assert len(rows) == 1, rows
    return rows[0]


def last_id() -> int:
    return PartnerQuery.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_every_call_answered_or_refused_leaves_one_row(
    partner_api, api_key, scored_owner, partner, other_partner, voucher
):
    key = PartnerApiKey.objects.get(prefix=api_key.split("_")[1])
    offer = voucher.benefit
    _grant, token = authorize(scored_owner, partner, "score", purpose="租车押金 car deposit")
    _theirs, theirs = authorize(make_user("third"), other_partner, "score")
    number = verify(make_user("verified"), full_name="赵敏")
    purpose = "租车押金 car deposit"
    decided = "score_above_policy"

    cases = [
        # (call, kind, user, purpose, fields disclosed, outcome, status)
        (
            lambda: partner_api.get(score_url(token)),
            "score",
            scored_owner,
            purpose,
            ["band", "computed_at", "score"],
            "ok",
            200,
        ),
        (
            lambda: partner_api.get(eligibility_url(token, offer.pk)),
            "eligibility",
            scored_owner,
            purpose,
            ["eligible", "points_away"],
            "ok",
            200,
        ),
        (
            lambda: partner_api.get(eligibility_url(token, 999_999)),
            "eligibility",
            scored_owner,
            purpose,
            [],
            "benefit_not_found",
            404,
        ),
        (
            lambda: partner_api.get(score_url(theirs)),
            "score",
            None,
            "",
            [],
            "authorization_not_found",
            404,
        ),
        (
            lambda: partner_api.get(score_url("au_nonsense")),
            "score",
            None,
            "",
            [],
            "authorization_not_found",
            404,
        ),
        (
            lambda: partner_api.get(voucher_url(voucher.code)),
            "voucher_verify",
            scored_owner,
            offer.title_zh,
            ["voucher_status"],
            "ok",
            200,
        ),
        (
            lambda: partner_api.get(voucher_url("nope")),
            "voucher_verify",
            None,
            "",
            [],
            "invalid_code",
            400,
        ),
        (
            lambda: partner_api.post(redeem_url(voucher.code)),
            "voucher_redeem",
            scored_owner,
            offer.title_zh,
            ["voucher_status"],
            "ok",
            200,
        ),
        (
            lambda: partner_api.post(redeem_url(voucher.code)),
            "voucher_redeem",
            scored_owner,
            offer.title_zh,
            [],
            "already_redeemed",
            409,
        ),
        (
            # The person did not tick identity checks.
            lambda: check(partner_api, token, "赵敏", number),
            "identity_check",
            scored_owner,
            purpose,
            [],
            "out_of_scope",
            403,
        ),
        (
            lambda: partner_api.post(
                f"/api/v1/partner/authorizations/{token}/decisions/",
                {"decision": "approved", "reason_code": decided},
                format="json",
            ),
            "decision",
            scored_owner,
            purpose,
            [],
            "ok",
            201,
        ),
    ]
    for call, kind, user, stated, fields, outcome, status in cases:
        before = last_id()
        response = call()
        assert response.status_code == status, (kind, outcome, response.content)
        row = only_new_row(before)
        assert (row.partner, row.api_key, row.kind, row.user) == (partner, key, kind, user)
        assert (row.purpose, row.fields_disclosed) == (stated, fields)
        assert (row.outcome, row.status_code) == (outcome, status)
        assert abs(row.created_at - timezone.now()) < datetime.timedelta(minutes=1)


def test_refusals_inside_the_authorisation_are_logged_against_the_person(
    partner_api, scored_owner, partner, benefit
):
    grant, token = authorize(scored_owner, partner, "eligibility", benefit=benefit)
    partner_api.get(score_url(token))
    consent_revoke(user=scored_owner, grant_id=grant.pk, client=WEB)
    partner_api.get(eligibility_url(token, benefit.pk))

    rows = logged()
    assert [(q.outcome, q.status_code, q.user, q.fields_disclosed) for q in rows] == [
        ("out_of_scope", 403, scored_owner, []),
        ("authorization_revoked", 403, scored_owner, []),
    ]
    assert {q.authorization.grant for q in rows} == {grant}


@pytest.mark.parametrize("refusal", ["rate_limited", "partner_not_approved", "invalid"])
def test_refusals_before_the_call_are_logged_too(partner_api, partner, token, refusal):
    if refusal == "rate_limited":
        Partner.objects.filter(pk=partner.pk).update(rate_limit_per_minute=0)
        response = partner_api.get(score_url(token))
    elif refusal == "partner_not_approved":
        Partner.objects.filter(pk=partner.pk).update(status=Partner.Status.SUSPENDED)
        response = partner_api.get(score_url(token))
    else:
        response = partner_api.post(IDENTITY_CHECK_URL, {}, format="json")

    assert response.json()["code"] == refusal
    row = PartnerQuery.objects.get()
    assert (row.partner, row.outcome, row.status_code, row.fields_disclosed) == (
        partner,
        refusal,
        response.status_code,
        [],
    )


def test_my_queries_shows_me_my_rows_only(
    partner_api, scored_owner, owner_api, other_api, other_user, partner, model_version
):
    _grant, token = authorize(scored_owner, partner, "score", purpose="单车免押 bike deposit")
    grant_scoring(other_user)
    set_score(other_user, 700, model_version=model_version)
    _grant, theirs = authorize(other_user, partner, "score_and_subscores")
    partner_api.get(score_url(token))
    partner_api.get(eligibility_url(token, 999_999))
    partner_api.get(score_url(theirs))

    mine = owner_api.get("/api/v1/me/queries/")

    assert mine.status_code == 200
    rows = mine.json()
    assert [(r["call"], r["outcome"]) for r in rows] == [
        ("eligibility", "benefit_not_found"),
        ("score", "ok"),
    ]
    assert rows[1]["partner"] == partner.name
    assert rows[1]["purpose"] == "单车免押 bike deposit"
    assert rows[1]["fields_disclosed"] == ["band", "computed_at", "score"]
    assert rows[1]["call_label"]
    assert rows[1]["at"]
    assert set(rows[0]) == {
        "id",
        "partner",
        "call",
        "call_label",
        "purpose",
        "fields_disclosed",
        "outcome",
        "detail",
        "at",
    }
    theirs_rows = other_api.get("/api/v1/me/queries/").json()
    assert [(r["call"], r["fields_disclosed"]) for r in theirs_rows] == [
        ("score", ["band", "computed_at", "dimensions", "score"])
    ]
    assert APIClient().get("/api/v1/me/queries/").status_code in (401, 403)


def test_the_queries_page_shows_me_my_rows_only(
    partner_api, scored_owner, other_user, partner, other_partner, model_version
):
    _grant, token = authorize(scored_owner, partner, "score", purpose="单车免押 bike deposit")
    grant_scoring(other_user)
    set_score(other_user, 700, model_version=model_version)
    _grant, theirs = authorize(other_user, other_partner, "eligibility", purpose="酒店先住后付")
    partner_api.get(score_url(token))
    partner_client(make_api_key(other_partner)).get(score_url(theirs))  # out of scope

    def page(user) -> str:
        browser = Client(HTTP_ACCEPT_LANGUAGE="en")
        browser.force_login(user)
        response = browser.get("/benefits/queries/")
        assert response.status_code == 200
        return response.content.decode()

    mine, theirs_page = page(scored_owner), page(other_user)
    assert partner.name in mine
    assert "单车免押 bike deposit" in mine
    assert other_partner.name not in mine
    assert "酒店先住后付" not in mine
    assert "band, when it was computed, score" in mine
    assert other_partner.name in theirs_page
    assert "Refused: outside what you allowed" in theirs_page
    assert "单车免押" not in theirs_page
    assert Client().get("/benefits/queries/").status_code == 302


def test_the_score_call_makes_the_same_number_of_queries_whatever_the_history(
    partner_api, partner, model_version
):
    def queries_for(username: str, snapshots: int) -> int:
        user = make_user(username)
        grant_scoring(user)
        for days in range(snapshots):
            set_score(
                user,
                600 + days,
                {"capacity": 50},
                model_version=model_version,
                at=timezone.now() - datetime.timedelta(days=snapshots - days),
            )
        _grant, token = authorize(user, partner, "score_and_subscores")
        with CaptureQueriesContext(connection) as queries:
            response = partner_api.get(score_url(token))
        assert response.status_code == 200, response.content
        return len(queries)

    partner_api.get(score_url("au_000000000000_" + "x" * 43))  # the key's last use, noted
    one, fifty = queries_for("one", 1), queries_for("fifty", 50)

    assert one == fifty
    assert one <= 10


# --- Rate limits and quotas -----------------------------------------------------------------------


@pytest.fixture
def frozen_now():
    """Every call of the test at one instant, so a minute boundary cannot split them."""
    instant = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=instant):
        yield instant


def test_the_fourth_call_in_a_minute_is_429_with_retry_after(
    partner_api, partner, token, frozen_now
):
    Partner.objects.filter(pk=partner.pk).update(rate_limit_per_minute=3)

    answers = [partner_api.get(score_url(token)) for _ in range(4)]

    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert_error(answers[3], 429, "rate_limited")
    retry_after = answers[3]["Retry-After"]
    assert retry_after.isdigit()
    assert int(retry_after) == 60 - timezone.localtime(frozen_now).second
    assert 1 <= int(retry_after) <= 60
    assert PartnerQuery.objects.filter(outcome="ok").count() == 3


def test_the_limit_counts_every_kind_of_call_and_resets_the_next_minute(
    partner_api, partner, token, voucher, frozen_now
):
    Partner.objects.filter(pk=partner.pk).update(rate_limit_per_minute=2)
    partner_api.get(voucher_url(voucher.code))
    partner_api.post(IDENTITY_CHECK_URL, {"full_name": "张伟", "id_number": "1"}, format="json")

    assert_error(partner_api.get(score_url(token)), 429, "rate_limited")

    partner.refresh_from_db()
    partner_rate_check(partner=partner, now=frozen_now + datetime.timedelta(minutes=1))


def test_the_limit_is_per_partner(partner_api, partner, other_partner, token, frozen_now):
    Partner.objects.filter(pk__in=[partner.pk, other_partner.pk]).update(rate_limit_per_minute=1)
    theirs = partner_client(make_api_key(other_partner))

    assert partner_api.get(score_url(token)).status_code == 200
    assert_error(partner_api.get(score_url(token)), 429, "rate_limited")
    assert_error(theirs.get(score_url(token)), 404, "authorization_not_found")


def test_past_the_daily_quota_calls_are_429_until_midnight(partner_api, partner, token, frozen_now):
    Partner.objects.filter(pk=partner.pk).update(rate_limit_per_minute=100, daily_quota=3)

    answers = [partner_api.get(score_url(token)) for _ in range(4)]

    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert_error(answers[3], 429, "quota_exhausted")
    local = timezone.localtime(frozen_now)
    midnight = (local + datetime.timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    retry_after = answers[3]["Retry-After"]
    assert retry_after.isdigit()
    assert int(retry_after) == int((midnight - local).total_seconds()) + 1
    assert 0 < int(retry_after) <= 86_401


def test_the_quota_starts_again_the_next_day(partner, partner_cache):
    partner.daily_quota = 1
    evening = timezone.make_aware(datetime.datetime(2026, 11, 21, 23, 59, 30))
    partner_rate_check(partner=partner, now=evening)
    with pytest.raises(ServiceError) as refused:
        partner_rate_check(partner=partner, now=evening + datetime.timedelta(seconds=10))
    assert (refused.value.code, refused.value.retry_after) == ("quota_exhausted", 21)

    partner_rate_check(partner=partner, now=evening + datetime.timedelta(minutes=1))


def test_when_the_cache_fails_calls_are_refused_with_503(partner_api, token):
    unreachable = ConnectionError("cache unreachable")
    # The cache API counts on local memory; on Redis both counters go in one pipeline.
    with (
        mock.patch("django.core.cache.cache.incr", side_effect=unreachable),
        mock.patch("redis.client.Pipeline.execute", side_effect=unreachable),
    ):
        response = partner_api.get(score_url(token))

    assert_error(response, 503, "rate_limit_unavailable")
    assert response["Retry-After"].isdigit()
    assert not PartnerQuery.objects.filter(outcome="ok").exists()
    assert partner_api.get(score_url(token)).status_code == 200  # back once it is


# --- Bodies no partner should send ----------------------------------------------------------------


def test_a_five_megabyte_body_is_a_clean_4xx(partner_api):
    body = json.dumps({"full_name": "张" * (5 * 1024 * 1024 // 3), "id_number": "1"})
    assert len(body.encode()) > 5_000_000

    response = partner_api.generic(
        "POST", IDENTITY_CHECK_URL, body.encode(), content_type="application/json"
    )

    assert 400 <= response.status_code < 500, response.status_code
    assert {"code", "message"} <= set(response.json())


def test_a_five_megabyte_array_is_a_clean_4xx(partner_api):
    body = ("[" + ",".join(["1"] * 2_600_000) + "]").encode()

    response = partner_api.generic(
        "POST", IDENTITY_CHECK_URL, body, content_type="application/json"
    )

    assert 400 <= response.status_code < 500, response.status_code
    assert {"code", "message"} <= set(response.json())


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b"full_name=x&id_number=y", "application/x-www-form-urlencoded", id="form"),
        pytest.param(b"name and number", "text/plain", id="text"),
        pytest.param(b"<check><name>x</name></check>", "application/xml", id="xml"),
        pytest.param(b'{"full_name": "x", ', "application/json", id="truncated-json"),
        pytest.param(b"\xff\xfe\x00garbage", "application/json", id="not-utf8"),
        pytest.param(b"NaN", "application/json", id="nan"),
        pytest.param(b"", "application/json", id="empty"),
    ],
)
def test_a_body_that_is_not_json_is_a_clean_4xx(partner_api, body, content_type):
    response = partner_api.generic("POST", IDENTITY_CHECK_URL, body, content_type=content_type)

    assert 400 <= response.status_code < 500, response.content
    answer = response.json()
    assert {"code", "message"} <= set(answer)
    assert answer["code"]


def test_a_body_sent_to_a_redemption_is_ignored(partner_api, voucher):
    response = partner_api.generic(
        "POST", redeem_url(voucher.code), b"\x00" * 10_000, content_type="application/octet-stream"
    )

    assert response.status_code == 200, response.content


def test_a_method_the_api_does_not_offer_is_a_clean_405(partner_api, token):
    response = partner_api.delete(score_url(token))

    assert_error(response, 405, "method_not_allowed")


@pytest.mark.parametrize("scheme", ["api-key", "API-KEY", "Api-key"])
def test_the_scheme_name_is_case_insensitive(scheme, partner, token):
    """HTTP authentication schemes are case-insensitive (RFC 9110, 11.1)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {make_api_key(partner)}")

    assert client.get(score_url(token)).status_code == 200


def test_partner_answers_about_a_person_are_never_cached(
    partner_api, scored_owner, partner, benefit
):
    """A shared cache or the partner's HTTP stack must not keep a person's score."""
    _grant, token = authorize(scored_owner, partner, "score")
    answers = [partner_api.get(score_url(token))]
    # A new authorisation supersedes the previous one.
    _grant, token = authorize(scored_owner, partner, "eligibility", benefit=benefit)
    answers.append(partner_api.get(eligibility_url(token, benefit.pk)))
    answers.append(partner_api.get(score_url(credential_new(TOKEN_KIND)[0])))  # a refusal too

    assert [a.status_code for a in answers] == [200, 200, 404]
    assert all("no-store" in a["Cache-Control"] for a in answers)
