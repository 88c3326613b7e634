"""Authorisations that limit what a partner may do (issue 16, items 4 and 8a): the identity
check as a scope of its own, capped per authorisation and stopped after repeated
mismatches; authorisations limited to one query, N queries or until one decision, counted
atomically; decisions reported by the partner; a replaced authorisation shown as replaced."""

from __future__ import annotations

import datetime
import threading
import urllib.parse
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import ConsentGrant, ConsentPurpose, ConsentRevocation
from benefits.models import PartnerAnomaly, PartnerAuthorization, PartnerQuery
from benefits.services import partner_calls
from benefits.services.anomalies import IDENTITY_MISMATCH_FLOOR, partner_anomalies_detect
from sesame_portal.errors import ServiceError
from tests.dates import days_ahead, in_days
from tests.factories import (
    authorize,
    grant_scoring,
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
    score_url,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("partner_cache")]

PER_DAY = partner_calls.IDENTITY_CHECKS_PER_DAY
MISMATCHES_MAX = partner_calls.IDENTITY_MISMATCHES_MAX


def decisions_url(token: str) -> str:
    return f"/api/v1/partner/authorizations/{token}/decisions/"


def check(api, token, full_name, number):
    body = {"token": token, "full_name": full_name, "id_number": number}
    return api.post(IDENTITY_CHECK_URL, body, format="json")


def decide(api, token, decision="approved", **extra):
    body = {"decision": decision, "reason_code": "score_above_policy", **extra}
    return api.post(decisions_url(token), body, format="json")


def browser(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def number(owner, model_version) -> str:
    """The owner, verified as 张伟, consenting and scored 650; returns their ID number."""
    value = verify(owner, full_name="张伟")
    grant_scoring(owner)
    set_score(owner, 650, model_version=model_version)
    return value


def test_the_limits_are_what_these_tests_assume():
    assert (PER_DAY, MISMATCHES_MAX) == (3, 3)


# --- The identity check is a scope of its own -----------------------------------------------------


@pytest.mark.parametrize("scope", ["eligibility", "score", "score_and_subscores"])
def test_without_the_identity_tick_no_authorisation_can_check_identity(
    partner_api, owner, partner, number, scope
):
    offer = make_benefit(partner, 600)
    _grant, token = authorize(owner, partner, scope, benefit=offer)

    response = check(partner_api, token, "张伟", number)

    assert_error(response, 403, "out_of_scope")
    row = PartnerQuery.objects.get()
    assert (row.kind, row.user, row.outcome, row.fields_disclosed) == (
        "identity_check",
        owner,
        "out_of_scope",
        [],
    )


def test_the_identity_check_needs_the_authorisation_token(partner_api, scored_owner, partner):
    number = verify(make_user("checked"), full_name="李娜")
    authorize(scored_owner, partner, "score", identity_check=True)

    response = partner_api.post(
        IDENTITY_CHECK_URL, {"full_name": "李娜", "id_number": number}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_with_the_tick_the_check_answers_yes_or_no_about_that_person_only(
    partner_api, owner, partner, number
):
    other_number = verify(make_user("someone"), full_name="李娜")
    _grant, token = authorize(owner, partner, "eligibility", identity_check=True)

    assert check(partner_api, token, "张伟", number).json() == {"match": True}
    # Another verified person's true name and number are not this authorisation's person.
    assert check(partner_api, token, "李娜", other_number).json() == {"match": False}
    rows = list(PartnerQuery.objects.order_by("id"))
    assert [(q.user, q.outcome, q.fields_disclosed, q.detail) for q in rows] == [
        (owner, "ok", ["match"], {"match": True}),
        (owner, "ok", ["match"], {"match": False}),
    ]


def test_identity_checks_are_capped_per_authorisation_and_day(partner_api, owner, partner, number):
    _grant, token = authorize(owner, partner, "score", identity_check=True)
    for _ in range(PER_DAY):
        assert check(partner_api, token, "张伟", number).json() == {"match": True}

    capped = check(partner_api, token, "张伟", number)

    assert_error(capped, 429, "identity_check_limit")
    assert 0 < int(capped["Retry-After"]) <= 86400
    # The next day the checks start again.
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    with mock.patch("django.utils.timezone.now", return_value=tomorrow):
        assert check(partner_api, token, "张伟", number).json() == {"match": True}


def test_repeated_mismatches_stop_identity_checks_and_flag_the_partner(
    partner_api, owner, partner, number
):
    _grant, token = authorize(owner, partner, "score", identity_check=True)
    now = timezone.now()
    for day in range(MISMATCHES_MAX):  # spread over days, under the daily cap
        with mock.patch(
            "django.utils.timezone.now", return_value=now + datetime.timedelta(days=day)
        ):
            assert check(partner_api, token, "王伟", number).json() == {"match": False}
    assert PartnerAnomaly.objects.filter(kind="identity_mismatches").count() == 1

    later = now + datetime.timedelta(days=MISMATCHES_MAX + 1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        stopped = check(partner_api, token, "张伟", number)  # even the right answer now

    assert_error(stopped, 403, "identity_check_stopped")
    [anomaly] = PartnerAnomaly.objects.filter(partner=partner)
    assert anomaly.kind == PartnerAnomaly.Kind.IDENTITY_MISMATCHES
    assert anomaly.detail["mismatches"] == MISMATCHES_MAX
    # The rest of the authorisation still works.
    assert partner_api.get(score_url(token)).status_code == 200


def test_the_detector_counts_identity_mismatches(partner, owner, partner_api, number):
    """Mismatches spread over several authorisations still add up for the partner."""
    PartnerQuery.objects.bulk_create(
        [
            PartnerQuery(
                partner=partner,
                kind=PartnerQuery.Kind.IDENTITY_CHECK,
                outcome="ok",
                status_code=200,
                fields_disclosed=["match"],
                detail={"match": False},
            )
            for _ in range(IDENTITY_MISMATCH_FLOOR)
        ]
    )

    flagged = partner_anomalies_detect(now=timezone.now() + datetime.timedelta(seconds=1))

    assert [(a.kind, a.detail["identity_mismatches_last_hour"]) for a in flagged] == [
        (PartnerAnomaly.Kind.IDENTITY_MISMATCHES, IDENTITY_MISMATCH_FLOOR)
    ]


def test_matches_are_not_mismatches_for_the_detector(partner):
    PartnerQuery.objects.bulk_create(
        [
            PartnerQuery(
                partner=partner,
                kind=PartnerQuery.Kind.IDENTITY_CHECK,
                outcome="ok",
                status_code=200,
                detail={"match": True},
            )
            for _ in range(IDENTITY_MISMATCH_FLOOR * 2)
        ]
    )

    assert partner_anomalies_detect(now=timezone.now() + datetime.timedelta(seconds=1)) == []


def test_the_person_sees_each_identity_check_mismatches_included(
    partner_api, owner, partner, number
):
    _grant, token = authorize(owner, partner, "score", identity_check=True)
    check(partner_api, token, "张伟", number)
    check(partner_api, token, "王伟", number)

    html = browser(owner).get("/benefits/queries/").content.decode()

    assert html.count("Identity check") == 2
    assert "The name and ID number matched yours" in html
    assert "The name and ID number did not match yours" in html
    assert number not in html


# --- The identity tick on the consent screens -----------------------------------------------------


def authorize_url(partner_id: int, **terms) -> str:
    return f"/benefits/partners/{partner_id}/authorize/?{urllib.parse.urlencode(terms)}"


def test_the_link_screen_offers_the_identity_check_as_a_tick_off_by_default(scored_owner, partner):
    person = browser(scored_owner)
    terms = {"scope": "score", "purpose": "租车押金", "days": 30, "identity_check": "on"}

    html = person.get(authorize_url(partner.pk, **terms)).content.decode()

    tick = html.split('id="id_identity_check"')[0].rsplit("<input", 1)[1]
    assert 'type="checkbox"' in tick
    assert "checked" not in tick  # a link cannot tick it for the person
    assert "only yes or no is answered" in html
    will_see, _will_not_see = html.split("The partner will not see")
    assert "name and ID number" not in will_see  # promised only when ticked

    person.post(authorize_url(partner.pk), {**terms, "show_score": "on"} | {"identity_check": ""})
    sharing = ConsentGrant.objects.filter(purpose=ConsentPurpose.PARTNER_SHARING)
    assert sharing.get().authorization.identity_check is False

    person.post(authorize_url(partner.pk), {**terms, "show_score": "on"})
    assert sharing.current().get().authorization.identity_check is True


def test_the_consents_page_offers_the_identity_tick_and_the_use_limits(scored_owner, partner):
    person = browser(scored_owner)
    html = person.get("/accounts/consents/").content.decode()
    assert 'name="identity_check"' in html
    assert 'name="use_limit"' in html

    response = person.post(
        "/accounts/consents/grant/",
        {
            "purpose": "partner_sharing",
            "partner": partner.pk,
            "scope": "score",
            "stated_purpose": "租车押金",
            "expires_on": days_ahead(5).isoformat(),
            "identity_check": "on",
            "use_limit": "queries",
            "max_queries": "4",
        },
    )

    assert response.status_code == 302, response.content
    given = ConsentGrant.objects.get(purpose=ConsentPurpose.PARTNER_SHARING).authorization
    assert (given.identity_check, given.use_limit, given.max_queries) == (True, "queries", 4)


def test_the_consents_api_takes_the_identity_check_and_limits(owner_api, scored_owner, partner):
    body = owner_api.post(
        "/api/v1/me/consents/",
        {
            "purpose": "partner_sharing",
            "partner": partner.pk,
            "scope": "score",
            "expires_at": in_days(3).isoformat(),
            "identity_check": True,
            "use_limit": "one_query",
        },
        format="json",
    ).json()

    assert (body["identity_check"], body["use_limit"], body["max_queries"]) == (
        True,
        "queries",
        1,
    )
    assert body["queries_used"] == 0


# --- Authorisations limited in use ----------------------------------------------------------------


def test_a_one_query_authorisation_answers_once(partner_api, scored_owner, partner):
    offer = make_benefit(partner, 600)
    _grant, token = authorize(scored_owner, partner, "score", use_limit="one_query")

    assert partner_api.get(score_url(token)).status_code == 200
    assert_error(partner_api.get(score_url(token)), 403, "authorization_used")
    assert_error(partner_api.get(eligibility_url(token, offer.pk)), 403, "authorization_used")
    assert PartnerAuthorization.objects.get().queries_used == 1
    grant = ConsentGrant.objects.get(purpose=ConsentPurpose.PARTNER_SHARING)
    assert grant.revocation.reason == ConsentRevocation.Reason.USED_UP
    assert [q.outcome for q in PartnerQuery.objects.order_by("id")] == [
        "ok",
        "authorization_used",
        "authorization_used",
    ]


def test_a_refused_call_does_not_use_the_query(partner_api, scored_owner, partner):
    _grant, token = authorize(scored_owner, partner, "score", use_limit="one_query")

    assert_error(partner_api.get(eligibility_url(token, 999_999)), 404, "benefit_not_found")

    assert partner_api.get(score_url(token)).status_code == 200


def test_n_queries_answer_n_times(partner_api, scored_owner, partner):
    _grant, token = authorize(scored_owner, partner, "score", use_limit="queries", max_queries=3)

    answers = [partner_api.get(score_url(token)).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 403]
    assert PartnerAuthorization.objects.get().queries_used == 3


@pytest.mark.parametrize(
    ("terms", "code"),
    [
        ({"use_limit": "queries"}, "max_queries"),
        ({"use_limit": "queries", "max_queries": 0}, "max_queries"),
        ({"use_limit": "queries", "max_queries": 10_000}, "max_queries"),
        ({"use_limit": "nonsense"}, "use_limit"),
    ],
)
def test_limits_that_make_no_sense_are_refused(scored_owner, partner, terms, code):
    with pytest.raises(ServiceError) as refused:
        authorize(scored_owner, partner, "score", **terms)

    assert refused.value.code == code


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_calls_on_a_one_query_authorisation_give_one_answer(
    partner_cache, consent_texts, model_version
):
    owner = make_user("racer")
    verify(owner)
    grant_scoring(owner)
    set_score(owner, 650, model_version=model_version)
    partner = make_partner()
    _grant, token = authorize(owner, partner, "score", use_limit="one_query")
    key = make_api_key(partner)
    racers = 4
    barrier = threading.Barrier(racers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def call() -> None:
        try:
            barrier.wait(timeout=30)
            response = partner_client(key).get(score_url(token))
            outcome = f"{response.status_code}:{response.json().get('code', 'ok')}"
        except BaseException as exc:  # surfaced in the assertion, not lost in a thread
            outcome = repr(exc)
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=call) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["200:ok"] + ["403:authorization_used"] * (racers - 1)
    assert PartnerAuthorization.objects.get().queries_used == 1


def test_until_one_decision_answers_until_the_partner_reports_its_decision(
    partner_api, scored_owner, partner
):
    _grant, token = authorize(scored_owner, partner, "score", use_limit="decision")
    assert partner_api.get(score_url(token)).status_code == 200
    assert partner_api.get(score_url(token)).status_code == 200

    reported = decide(partner_api, token, "limit", limit=5000)

    assert reported.status_code == 201, reported.content
    assert reported.json() == {
        "decision": "limit",
        "reason_code": "score_above_policy",
        "limit": 5000,
    }
    assert_error(partner_api.get(score_url(token)), 403, "authorization_used")
    assert_error(decide(partner_api, token), 403, "authorization_used")
    row = PartnerQuery.objects.filter(kind="decision", outcome="ok").get()
    assert (row.user, row.status_code, row.fields_disclosed) == (scored_owner, 201, [])
    assert row.detail == {"decision": "limit", "reason_code": "score_above_policy", "limit": 5000}


def test_a_lending_partner_is_authorised_until_one_decision_by_default(partner_api, scored_owner):
    lender = make_partner("快借数据 QuickLend Data", category="lending")
    other = make_partner("悦途酒店 Joyway Hotels", category="hotel")

    lent, _token = authorize(scored_owner, lender, "score")
    hotel, _token = authorize(scored_owner, other, "score")

    assert (lent.authorization.use_limit, hotel.authorization.use_limit) == ("decision", "")
    person = browser(scored_owner)
    html = person.get(
        authorize_url(lender.pk, scope="score", purpose="贷款", days=30)
    ).content.decode()
    chosen = html.split('value="decision"')[1].split(">")[0]
    assert "checked" in chosen


def test_a_decision_after_a_one_query_authorisation_is_still_taken(
    partner_api, scored_owner, partner
):
    _grant, token = authorize(scored_owner, partner, "score", use_limit="one_query")
    partner_api.get(score_url(token))

    assert decide(partner_api, token, "declined").status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"decision": "maybe", "reason_code": "x"},
        {"decision": "approved"},
        {"decision": "limit", "reason_code": "x"},  # a limit decision names the limit
        {"decision": "approved", "reason_code": "x" * 65},
        {"decision": "limit", "reason_code": "x", "limit": -1},
    ],
)
def test_a_decision_that_is_not_valid_is_400(partner_api, scored_owner, partner, body):
    _grant, token = authorize(scored_owner, partner, "score", use_limit="decision")

    response = partner_api.post(decisions_url(token), body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert partner_api.get(score_url(token)).status_code == 200


def test_another_partner_cannot_report_a_decision(partner_api, scored_owner, partner):
    other = make_partner("悦途酒店 Joyway Hotels", category="hotel")
    _grant, token = authorize(scored_owner, other, "score", use_limit="decision")

    assert_error(decide(partner_api, token), 404, "authorization_not_found")


def test_the_person_sees_the_decision_beside_the_query_and_the_uses(
    partner_api, scored_owner, partner, owner_api
):
    _grant, token = authorize(scored_owner, partner, "score", use_limit="queries", max_queries=5)
    partner_api.get(score_url(token))
    partner_api.get(score_url(token))
    decide(partner_api, token, "deposit_waived")
    person = browser(scored_owner)

    queries = person.get("/benefits/queries/").content.decode()
    consents = person.get("/accounts/consents/").content.decode()

    assert "Decision" in queries
    assert "Deposit waived" in queries
    assert "score_above_policy" in queries
    assert "Queries used: 2 of 5" in consents
    rows = owner_api.get("/api/v1/me/queries/").json()
    assert rows[0]["call"] == "decision"
    assert rows[0]["detail"] == {"decision": "deposit_waived", "reason_code": "score_above_policy"}
    listed = owner_api.get("/api/v1/me/consents/").json()
    [shared] = [g for g in listed if g["purpose"] == "partner_sharing"]
    assert (shared["use_limit"], shared["max_queries"], shared["queries_used"]) == (
        "queries",
        5,
        2,
    )


# --- Replaced, not revoked ------------------------------------------------------------------------


def test_an_authorisation_replaced_by_a_newer_one_is_shown_as_replaced(
    partner_api, scored_owner, partner
):
    _first, old = authorize(scored_owner, partner, "score")
    _second, _new = authorize(scored_owner, partner, "score_and_subscores")

    assert_error(partner_api.get(score_url(old)), 403, "authorization_replaced")

    person = browser(scored_owner)
    consents = person.get("/accounts/consents/").content.decode()
    earlier = consents.split("Earlier consents")[1]
    assert "Replaced" in earlier
    assert "Revoked" not in earlier
    queries = person.get("/benefits/queries/").content.decode()
    assert "Refused: replaced by a newer authorisation" in queries
    assert "you revoked" not in queries
