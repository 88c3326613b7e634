"""The user's side of authorising a partner: the consent screen a partner's link opens
(/benefits/partners/<id>/authorize/?scope=&purpose=&benefit=&days=), the consent ledger
entry and the token it gives once, and the same through POST /api/v1/me/consents/."""

from __future__ import annotations

import datetime
import re
import urllib.parse

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ConsentGrant, ConsentPurpose
from benefits.credentials import credential_hash
from benefits.models import Benefit, Partner, PartnerAuthorization, PartnerQuery
from tests.dates import days_ahead
from tests.factories import grant_scoring, make_api_key, make_benefit, make_partner, set_score
from tests.partner_api import assert_error, eligibility_url, partner_client, score_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("partner_cache")]

TOKEN_RE = re.compile(r"au_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")
NOT_VALID = "This authorisation link is not valid."


def authorize_url(partner_id: int, **terms) -> str:
    url = f"/benefits/partners/{partner_id}/authorize/"
    return f"{url}?{urllib.parse.urlencode(terms)}" if terms else url


def authorise(client: Client, partner: Partner, terms: dict) -> str:
    """Confirm the terms on the screen; returns the token the next page shows."""
    response = client.post(authorize_url(partner.pk), terms | {"show_score": "on"})
    assert response.status_code == 302, response.content
    return TOKEN_RE.search(client.get(response["Location"]).content.decode()).group()


def partner_api_call(partner: Partner, url: str):
    return partner_client(make_api_key(partner)).get(url)


def browser(user=None, **options) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", **options)
    if user is not None:
        client.force_login(user)
    return client


def shown_until(days: int) -> str:
    return f"{(last_day(days) - datetime.timedelta(days=1)):%Y-%m-%d} (inclusive)"


def last_day(days: int) -> datetime.datetime:
    """When the authorisation ends: as this local day begins (shown_until: the screen
    shows the day before, inclusive)."""
    return timezone.make_aware(datetime.datetime.combine(days_ahead(days), datetime.time.min))


@pytest.fixture
def person(scored_owner):
    return browser(scored_owner)


@pytest.fixture
def other_partner(db) -> Partner:
    return make_partner("悦途酒店 Joyway Hotels", category="hotel")


# --- What the screen shows ------------------------------------------------------------------------


def test_the_screen_shows_who_what_for_and_until_when(person, partner):
    response = person.get(authorize_url(partner.pk, scope="score", purpose="租车押金减免", days=30))

    assert response.status_code == 200
    html = response.content.decode()
    assert partner.name in html
    assert partner.licence_number in html
    assert "租车押金减免" in html
    assert shown_until(30) in html
    will_see, will_not_see = html.split("The partner will not see")
    assert "Your credit score, its band and when it was computed." in will_see
    assert "Your sub-scores." in will_not_see
    assert "ID number" in will_not_see
    assert 'name="csrfmiddlewaretoken"' in html
    # Looking is not agreeing.
    assert not ConsentGrant.objects.filter(purpose=ConsentPurpose.PARTNER_SHARING).exists()
    assert not PartnerAuthorization.objects.exists()


def test_the_screen_for_sub_scores_says_so(person, partner):
    html = person.get(
        authorize_url(partner.pk, scope="score_and_subscores", purpose="租房押金", days=90)
    ).content.decode()

    will_see, _will_not_see = html.split("The partner will not see")
    assert "Your five sub-scores." in will_see
    assert shown_until(90) in html


def test_the_screen_for_one_benefit_says_only_yes_or_no(person, partner):
    offer = make_benefit(partner, 600, title_en="Deposit-free public bikes")

    html = person.get(
        authorize_url(partner.pk, scope="eligibility", benefit=offer.pk, purpose="免押", days=7)
    ).content.decode()

    will_see, will_not_see = html.split("The partner will not see")
    assert "Deposit-free public bikes" in will_see
    assert "yes or no" in will_see
    assert "Your credit score" not in will_see
    assert "Your score or sub-scores." in will_not_see


def test_what_the_link_says_is_shown_as_text_not_markup(person, partner):
    html = person.get(
        authorize_url(partner.pk, scope="score", purpose="<script>alert(1)</script>", days=3)
    ).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- Links that are not valid ---------------------------------------------------------------------


BAD_TERMS = [
    pytest.param({"scope": "everything", "purpose": "x", "days": 30}, id="unknown-scope"),
    pytest.param({"purpose": "x", "days": 30}, id="no-scope"),
    pytest.param({"scope": "score", "days": 30}, id="no-purpose"),
    pytest.param({"scope": "score", "purpose": "x" * 201, "days": 30}, id="long-purpose"),
    pytest.param({"scope": "score", "purpose": "x", "days": 0}, id="zero-days"),
    pytest.param({"scope": "score", "purpose": "x", "days": -5}, id="negative-days"),
    pytest.param({"scope": "score", "purpose": "x", "days": 366}, id="over-a-year"),
    pytest.param({"scope": "score", "purpose": "x", "days": 400}, id="400-days"),
    pytest.param({"scope": "score", "purpose": "x", "days": 10**30}, id="huge-days"),
    pytest.param({"scope": "score", "purpose": "x", "days": "1.5"}, id="fractional-days"),
    pytest.param({"scope": "score", "purpose": "x"}, id="no-days"),
    pytest.param({"scope": "eligibility", "purpose": "x", "days": 30}, id="eligibility-no-benefit"),
    pytest.param(
        {"scope": "eligibility", "purpose": "x", "days": 30, "benefit": "abc"}, id="benefit-nan"
    ),
    pytest.param(
        {"scope": "eligibility", "purpose": "x", "days": 30, "benefit": 999_999},
        id="unknown-benefit",
    ),
    pytest.param(
        {"scope": "eligibility", "purpose": "x", "days": 30, "benefit": 10**30},
        id="huge-benefit",
    ),
    pytest.param(
        {"scope": "eligibility", "purpose": "x", "days": 30, "benefit": "THEIRS"},
        id="benefit-of-another-partner",
    ),
]


@pytest.mark.parametrize("terms", BAD_TERMS)
def test_a_link_with_bad_terms_is_a_400_page(person, partner, other_partner, terms):
    theirs = make_benefit(other_partner, 600)
    terms = {k: (theirs.pk if v == "THEIRS" else v) for k, v in terms.items()}

    shown = person.get(authorize_url(partner.pk, **terms))
    posted = person.post(authorize_url(partner.pk), terms)

    for response in (shown, posted):
        assert response.status_code == 400
        assert NOT_VALID in response.content.decode()
        assert "Authorise" not in response.content.decode().split(NOT_VALID)[1]
    assert not ConsentGrant.objects.filter(purpose=ConsentPurpose.PARTNER_SHARING).exists()
    assert not PartnerAuthorization.objects.exists()


@pytest.mark.parametrize("status", [Partner.Status.PENDING, Partner.Status.SUSPENDED])
def test_a_partner_not_approved_is_not_found(person, status):
    partner = make_partner("审核中 Under Review", status=status)
    terms = {"scope": "score", "purpose": "x", "days": 30}

    assert person.get(authorize_url(partner.pk, **terms)).status_code == 404
    assert person.post(authorize_url(partner.pk), terms).status_code == 404
    assert not PartnerAuthorization.objects.exists()


def test_an_unknown_partner_is_not_found(person):
    assert person.get(authorize_url(999_999, scope="score", purpose="x", days=3)).status_code == 404
    assert person.get("/benefits/partners/99999999999999999999999/authorize/").status_code == 404


def test_the_screen_needs_a_login(partner):
    terms = {"scope": "score", "purpose": "租车押金", "days": 30}
    url = authorize_url(partner.pk, **terms)

    shown = browser().get(url)
    posted = browser().post(authorize_url(partner.pk), terms)

    for response in (shown, posted):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(shown["Location"]).query)
    assert query["next"] == [url]
    assert not PartnerAuthorization.objects.exists()


def test_authorising_needs_the_forms_csrf_token(scored_owner, partner):
    strict = browser(scored_owner, enforce_csrf_checks=True)

    response = strict.post(
        authorize_url(partner.pk), {"scope": "score", "purpose": "租车押金", "days": 30}
    )

    assert response.status_code == 403
    assert not PartnerAuthorization.objects.exists()


# --- Authorising ----------------------------------------------------------------------------------


def test_authorising_records_the_grant_and_shows_the_token_once(person, scored_owner, partner):
    terms = {"scope": "score", "purpose": "租车押金减免", "days": 30}
    form = person.get(authorize_url(partner.pk, **terms)).content.decode()
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
    assert {k: hidden[k] for k in terms} == {k: str(v) for k, v in terms.items()}

    response = person.post(authorize_url(partner.pk), hidden | {"show_score": "on"})

    # Shown after a redirect, so that a reload never authorises again.
    grant = ConsentGrant.objects.get(purpose=ConsentPurpose.PARTNER_SHARING)
    assert response.status_code == 302, response.content
    assert response["Location"] == f"/benefits/authorized/{grant.pk}/"
    shown = person.get(response["Location"])
    assert shown.status_code == 200
    tokens = TOKEN_RE.findall(shown.content.decode())
    assert len(tokens) == 1
    token = tokens[0]
    again = person.get(response["Location"])
    assert again.status_code == 200
    assert "au_" not in again.content.decode()
    assert "shown once" in again.content.decode()
    assert token not in str(dict(person.session))
    authorised = grant.authorization
    assert (grant.user, authorised.partner, authorised.scope) == (scored_owner, partner, "score")
    assert (authorised.stated_purpose, grant.channel) == ("租车押金减免", ConsentGrant.Channel.WEB)
    assert grant.expires_at == last_day(30)
    assert grant.text.purpose == ConsentPurpose.PARTNER_SHARING
    assert grant.is_current()
    authorization = PartnerAuthorization.objects.get()
    assert (authorization.grant, authorization.partner) == (grant, partner)
    assert authorization.benefit is None
    assert authorization.token_hash == credential_hash(token)
    # The token is for the partner, not for any later page.
    for page in ("/accounts/consents/", authorize_url(partner.pk, **terms), "/benefits/queries/"):
        assert token.split("_", 2)[2] not in person.get(page).content.decode()
    # And it works on the partner API.
    answer = partner_api_call(partner, score_url(token))
    assert answer.status_code == 200, answer.content
    assert answer.json()["score"] == 650


def test_authorising_one_benefit_lets_the_partner_ask_about_that_benefit_only(
    person, scored_owner, partner
):
    bikes, cars = make_benefit(partner, 600), make_benefit(partner, 700)
    terms = {"scope": "eligibility", "benefit": bikes.pk, "purpose": "单车免押", "days": 7}

    token = authorise(person, partner, terms)

    assert PartnerAuthorization.objects.get().benefit == bikes
    answer = partner_api_call(partner, eligibility_url(token, bikes.pk))
    assert answer.status_code == 200, answer.content
    assert answer.json()["eligible"] is True
    assert_error(partner_api_call(partner, eligibility_url(token, cars.pk)), 403, "out_of_scope")
    assert_error(partner_api_call(partner, score_url(token)), 403, "out_of_scope")


def test_revoking_on_the_consents_page_stops_the_partner_at_its_next_call(
    person, scored_owner, partner
):
    token = authorise(person, partner, {"scope": "score", "purpose": "租车押金", "days": 30})
    assert partner_api_call(partner, score_url(token)).status_code == 200
    grant = ConsentGrant.objects.get(purpose=ConsentPurpose.PARTNER_SHARING)

    person.post(f"/accounts/consents/{grant.pk}/revoke/")

    assert not ConsentGrant.objects.get(pk=grant.pk).is_current()
    assert_error(partner_api_call(partner, score_url(token)), 403, "authorization_revoked")
    assert [q.outcome for q in PartnerQuery.objects.order_by("id")] == [
        "ok",
        "authorization_revoked",
    ]


def test_another_persons_authorisation_is_theirs(person, other_user, partner, model_version):
    """Each person's token is about them; nobody sees another's confirmation page."""
    grant_scoring(other_user)
    set_score(other_user, 777, model_version=model_version)

    token = authorise(
        browser(other_user), partner, {"scope": "score", "purpose": "租车押金", "days": 30}
    )

    assert partner_api_call(partner, score_url(token)).json()["score"] == 777
    grant = ConsentGrant.objects.get(purpose=ConsentPurpose.PARTNER_SHARING)
    assert grant.user == other_user
    assert person.get(f"/benefits/authorized/{grant.pk}/").status_code == 404


# --- The same through the user API ----------------------------------------------------------------


def test_the_consents_api_returns_a_token_that_works(owner_api, scored_owner, partner):
    response = owner_api.post(
        "/api/v1/me/consents/",
        {
            "purpose": "partner_sharing",
            "partner": partner.pk,
            "scope": "score_and_subscores",
            "stated_purpose": "租车押金",
            "expires_at": (timezone.now() + datetime.timedelta(days=30)).isoformat(),
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert TOKEN_RE.fullmatch(body["authorization_token"])
    assert body["partner"] == {"id": partner.pk, "name": partner.name}
    assert (body["scope"], body["channel"], body["is_current"]) == (
        "score_and_subscores",
        "api",
        True,
    )
    answer = partner_api_call(partner, score_url(body["authorization_token"]))
    assert answer.status_code == 200, answer.content
    assert answer.json()["dimensions"] == {"capacity": 60, "credit_history": 70}
    # Listing the consents never shows the token again.
    listed = owner_api.get("/api/v1/me/consents/")
    assert body["authorization_token"] not in listed.content.decode()
    assert all("authorization_token" not in grant for grant in listed.json())


def test_the_consents_api_authorises_eligibility_for_one_benefit(owner_api, scored_owner, partner):
    bikes, cars = make_benefit(partner, 600), make_benefit(partner, 700)

    body = owner_api.post(
        "/api/v1/me/consents/",
        {
            "purpose": "partner_sharing",
            "partner": partner.pk,
            "scope": "eligibility",
            "benefit": bikes.pk,
            "expires_at": (timezone.now() + datetime.timedelta(days=3)).isoformat(),
        },
        format="json",
    ).json()

    token = body["authorization_token"]
    assert partner_api_call(partner, eligibility_url(token, bikes.pk)).json()["eligible"] is True
    assert_error(partner_api_call(partner, eligibility_url(token, cars.pk)), 403, "out_of_scope")


def test_the_consents_api_refuses_a_benefit_of_another_partner(
    owner_api, scored_owner, partner, other_partner
):
    theirs = make_benefit(other_partner, 600)

    response = owner_api.post(
        "/api/v1/me/consents/",
        {
            "purpose": "partner_sharing",
            "partner": partner.pk,
            "scope": "eligibility",
            "benefit": theirs.pk,
            "expires_at": (timezone.now() + datetime.timedelta(days=3)).isoformat(),
        },
        format="json",
    )

    assert_error(response, 400, "benefit")
    assert not PartnerAuthorization.objects.exists()
    assert not ConsentGrant.objects.filter(purpose=ConsentPurpose.PARTNER_SHARING).exists()


def test_revoking_through_the_api_stops_the_token(owner_api, scored_owner, partner):
    body = owner_api.post(
        "/api/v1/me/consents/",
        {
            "purpose": "partner_sharing",
            "partner": partner.pk,
            "scope": "score",
            "expires_at": (timezone.now() + datetime.timedelta(days=3)).isoformat(),
        },
        format="json",
    ).json()

    assert owner_api.delete(f"/api/v1/me/consents/{body['id']}/").status_code == 204

    assert_error(
        partner_api_call(partner, score_url(body["authorization_token"])),
        403,
        "authorization_revoked",
    )


def test_other_consents_carry_no_token(owner_api):
    response = owner_api.post("/api/v1/me/consents/", {"purpose": "scoring"}, format="json")

    assert response.status_code == 201, response.content
    assert "authorization_token" not in response.json()
    assert not PartnerAuthorization.objects.exists()


def test_a_link_for_a_benefit_not_on_offer_is_refused(person, partner):
    """A draft (or ended) benefit would leave an authorisation that can never answer."""
    draft = make_benefit(partner, 600, status=Benefit.Status.DRAFT)

    response = person.get(
        authorize_url(partner.pk, scope="eligibility", benefit=draft.pk, purpose="x", days=3)
    )

    assert response.status_code == 400
    assert not PartnerAuthorization.objects.exists()


# Minimum disclosure ---------------------------------------------------------------------------


def test_the_exact_score_needs_the_persons_own_tick(person, scored_owner, partner):
    terms = {"scope": "score", "purpose": "租车押金减免", "days": 30}
    response = person.post(authorize_url(partner.pk), terms)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Tick the box to show your exact score" in page
    assert NOT_VALID not in page  # the link itself is fine
    assert 'name="show_score"' in page
    assert not ConsentGrant.objects.filter(purpose=ConsentPurpose.PARTNER_SHARING).exists()


@pytest.mark.parametrize("unticked", ["0", "false", "False", "off", "no", ""])
def test_show_score_0_or_false_is_not_a_tick(person, scored_owner, partner, unticked):
    terms = {"scope": "score", "purpose": "租车押金减免", "days": 30, "show_score": unticked}
    response = person.post(authorize_url(partner.pk), terms)
    assert response.status_code == 400
    assert "Tick the box to show your exact score" in response.content.decode()
    assert not ConsentGrant.objects.filter(purpose=ConsentPurpose.PARTNER_SHARING).exists()


def test_a_link_cannot_tick_the_box_for_the_person(person, scored_owner, partner):
    terms = {"scope": "score", "purpose": "租车押金减免", "days": 30, "show_score": "on"}
    form = person.get(authorize_url(partner.pk, **terms)).content.decode()
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
    assert "show_score" not in hidden
    assert 'name="show_score" id="id_show_score">' in form  # shown unticked
    assert person.post(authorize_url(partner.pk), hidden).status_code == 400
    assert not ConsentGrant.objects.filter(purpose=ConsentPurpose.PARTNER_SHARING).exists()


def test_a_score_link_naming_a_benefit_can_be_narrowed_to_eligibility(
    person, scored_owner, partner, benefit
):
    terms = {"scope": "score", "benefit": benefit.pk, "purpose": "单车免押", "days": 7}
    form = person.get(authorize_url(partner.pk, **terms)).content.decode()
    assert "Share only whether I qualify for" in form
    # The narrowing button sends scope=eligibility after the link's hidden scope.
    response = person.post(authorize_url(partner.pk), terms | {"scope": ["score", "eligibility"]})
    assert response.status_code == 302, response.content
    grant = ConsentGrant.objects.get(purpose=ConsentPurpose.PARTNER_SHARING)
    assert grant.authorization.scope == "eligibility"
    assert grant.authorization.benefit == benefit
