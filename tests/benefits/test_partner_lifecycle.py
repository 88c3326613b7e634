"""A partner's lifecycle: its API key shown once from the server-side session (never in a
cookie); suspension ending every authorisation people gave it, for good; the partner's own
words on the consent screen as plain text; lending partners approved only with a licence on
record, and every approval due for review a year later."""

from __future__ import annotations

import datetime
import re
import urllib.parse

import pytest
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest
from django.test import Client
from django.utils import timezone, translation
from rest_framework.test import APIClient

from accounts.models import ConsentGrant, ConsentPurpose, ConsentRevocation, Notification
from accounts.notifications import notifications_page
from accounts.services import consent_revoke
from benefits.models import Partner, PartnerApiKey, PartnerQuery, PartnerStatusChange
from benefits.services import partner_status_set
from benefits.services.anomalies import partner_anomalies_detect
from sesame_portal.errors import ServiceError
from tests.dates import days_ago, days_ahead, today
from tests.factories import (
    WEB,
    authorize,
    grant_scoring,
    make_api_key,
    make_partner,
    make_user,
    set_score,
)
from tests.partner_api import assert_error, partner_client, score_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("partner_cache")]

KEY_RE = re.compile(r"sk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")
PARTNERS = "/admin/benefits/partner/"


@pytest.fixture
def admin(admin_client):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return admin_client


def browser(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


# --- 1. A new API key: shown once, from the session, never in a cookie ---------------------------


def cookie_texts(response) -> str:
    """Everything the response's cookies carry, the messages cookie decoded."""
    texts = []
    for name, morsel in response.cookies.items():
        texts.append(morsel.value)
        if name == "messages" and morsel.value:
            decoded = CookieStorage(HttpRequest())._decode(morsel.value) or []
            texts += [str(message) for message in decoded]
    return "\n".join(texts)


def test_a_new_api_key_never_travels_in_a_cookie(admin, partner):
    response = admin.post(
        "/admin/benefits/partnerapikey/add/", {"partner": partner.pk, "label": "production"}
    )

    assert response.status_code == 302
    row = PartnerApiKey.objects.get()
    # The next page shows it, once; a reload does not.
    shown = admin.get(response["Location"])
    keys = KEY_RE.findall(shown.content.decode())
    assert len(keys) == 1
    assert keys[0].startswith(f"sk_{row.prefix}_")
    secret = keys[0].split("_", 2)[2]
    assert secret not in cookie_texts(response)
    assert secret not in cookie_texts(shown)
    assert secret not in str(dict(admin.session))
    again = admin.get(response["Location"])
    assert secret not in again.content.decode()


def test_a_new_key_is_shown_only_on_its_own_page(admin, partner):
    """Another key's page, opened in between, neither shows nor consumes it."""
    older = PartnerApiKey.objects.create(partner=partner, prefix="0" * 12, key_hash="0" * 64)
    response = admin.post("/admin/benefits/partnerapikey/add/", {"partner": partner.pk})
    new = PartnerApiKey.objects.exclude(pk=older.pk).get()

    elsewhere = admin.get(f"/admin/benefits/partnerapikey/{older.pk}/change/")
    shown = admin.get(response["Location"])

    assert not KEY_RE.findall(elsewhere.content.decode())
    assert response["Location"].endswith(f"/{new.pk}/change/")
    assert len(KEY_RE.findall(shown.content.decode())) == 1


# --- 2. Suspension ends every authorisation people gave the partner ------------------------------


@pytest.fixture
def authorised(partner, model_version):
    """Two scored people who authorised the partner; one who authorised another partner;
    one whose authorisation of the partner they revoked themselves."""
    people = [make_user(name) for name in ("ann", "bo", "cy", "di")]
    for person in people:
        grant_scoring(person)
        set_score(person, 700, model_version=model_version)
    elsewhere = make_partner("悦途酒店 Joyway Hotels", category="hotel")
    tokens = {
        "ann": authorize(people[0], partner, "score"),
        "bo": authorize(people[1], partner, "score"),
        "cy": authorize(people[2], elsewhere, "score"),
        "di": authorize(people[3], partner, "score"),
    }
    consent_revoke(user=people[3], grant_id=tokens["di"][0].pk, client=WEB)
    return people, tokens


def suspend(partner, reason="营业执照过期"):
    return partner_status_set(
        partners=[partner], status=Partner.Status.SUSPENDED, reason=reason, by=None
    )


def approve(partner, reason="复核通过"):
    return partner_status_set(
        partners=[partner], status=Partner.Status.APPROVED, reason=reason, by=None
    )


def test_suspension_ends_every_current_authorisation_of_the_partner(partner, authorised):
    _people, tokens = authorised

    suspend(partner)

    for name in ("ann", "bo"):
        grant = ConsentGrant.objects.get(pk=tokens[name][0].pk)
        assert not grant.is_current()
        assert grant.revocation.reason == ConsentRevocation.Reason.PARTNER_SUSPENDED
    # The person's own revocation stays theirs; another partner's grant is untouched.
    di = ConsentGrant.objects.get(pk=tokens["di"][0].pk)
    assert di.revocation.reason == ConsentRevocation.Reason.USER
    assert ConsentGrant.objects.get(pk=tokens["cy"][0].pk).is_current()


def test_re_approval_does_not_revive_the_old_authorisations(partner, authorised):
    _people, tokens = authorised
    api = partner_client(make_api_key(partner))
    assert api.get(score_url(tokens["ann"][1])).status_code == 200

    suspend(partner)
    approve(partner)

    refused = api.get(score_url(tokens["ann"][1]), HTTP_ACCEPT_LANGUAGE="en")
    body = assert_error(refused, 403, "authorization_revoked")
    assert "suspended" in body["message"]
    assert not ConsentGrant.objects.current().filter(authorization__partner=partner).exists()


def test_each_person_is_told_in_the_app_once(partner, authorised):
    people, _tokens = authorised

    suspend(partner)

    told = Notification.objects.filter(kind=Notification.Kind.PARTNER_AUTHORIZATION_ENDED)
    assert sorted(n.user.username for n in told) == ["ann", "bo"]
    with translation.override("en"):
        [entry] = [e for e in notifications_page(user=people[0]) if "ended" in e["text"]]
    assert partner.name in entry["text"]
    assert "suspended" in entry["text"]
    assert entry["url"] == "/accounts/consents/"


def test_the_consents_page_says_the_partner_was_suspended_not_you(partner, authorised):
    people, _tokens = authorised

    suspend(partner)

    html = browser(people[0]).get("/accounts/consents/").content.decode()
    assert "Ended: the partner was suspended" in html
    own = browser(people[3]).get("/accounts/consents/").content.decode()
    assert "Ended: the partner was suspended" not in own
    assert "Revoked by you" in own


def test_the_consents_api_gives_the_reason(partner, authorised):
    people, _tokens = authorised
    suspend(partner)
    api = APIClient()
    api.force_authenticate(people[0])

    [row] = [r for r in api.get("/api/v1/me/consents/").json() if r["partner"]]

    assert row["is_current"] is False
    assert row["revocation_reason"] == "partner_suspended"


def test_returning_a_partner_to_review_ends_them_too(partner, authorised):
    _people, tokens = authorised

    partner_status_set(
        partners=[partner], status=Partner.Status.PENDING, reason="资料补充", by=None
    )

    grant = ConsentGrant.objects.get(pk=tokens["ann"][0].pk)
    assert grant.revocation.reason == ConsentRevocation.Reason.PARTNER_SUSPENDED


def test_automatic_suspension_ends_them_through_the_same_function(partner, authorised):
    _people, tokens = authorised
    Partner.objects.filter(pk=partner.pk).update(suspend_on_anomaly=True)
    now = timezone.now()
    PartnerQuery.objects.bulk_create(
        PartnerQuery(partner=partner, kind="score", outcome="out_of_scope", status_code=403)
        for _ in range(60)
    )

    [anomaly] = partner_anomalies_detect(now=now + datetime.timedelta(seconds=1))

    assert anomaly.suspended_partner
    grant = ConsentGrant.objects.get(pk=tokens["bo"][0].pk)
    assert grant.revocation.reason == ConsentRevocation.Reason.PARTNER_SUSPENDED
    assert (
        Notification.objects.filter(kind=Notification.Kind.PARTNER_AUTHORIZATION_ENDED).count() == 2
    )


# --- 3. The partner's stated purpose is plain text, shown as the partner's words -----------------


def authorize_url(partner_id: int, **terms) -> str:
    return f"/benefits/partners/{partner_id}/authorize/?{urllib.parse.urlencode(terms)}"


@pytest.mark.parametrize(
    "purpose",
    [
        "押金减免\u202e退款",  # right-to-left override
        "\u2066免押\u2069",  # isolates
        "免\u200b押",  # zero-width space
        "免\u200d押",  # zero-width joiner
        "免押\x07",  # a control character
        "\ufeff免押",  # byte order mark
    ],
)
def test_a_purpose_with_hidden_characters_is_refused(scored_owner, partner, purpose):
    person = browser(scored_owner)

    response = person.get(authorize_url(partner.pk, scope="score", purpose=purpose, days=30))
    posted = person.post(
        authorize_url(partner.pk, scope="score", purpose=purpose, days=30),
        {"scope": "score", "purpose": purpose, "days": 30, "show_score": "on"},
    )

    assert response.status_code == 400
    assert "Remove the invisible control characters." in response.content.decode()
    assert posted.status_code == 400
    assert not ConsentGrant.objects.filter(purpose=ConsentPurpose.PARTNER_SHARING).exists()


def test_a_purpose_too_long_is_refused(scored_owner, partner):
    response = browser(scored_owner).get(
        authorize_url(partner.pk, scope="score", purpose="免" * 201, days=30)
    )

    assert response.status_code == 400


def test_the_purpose_is_shown_as_the_partners_own_words(scored_owner, partner):
    html = (
        browser(scored_owner)
        .get(authorize_url(partner.pk, scope="score", purpose="租车押金减免", days=30))
        .content.decode()
    )

    assert "In the partner's words:" in html
    assert "<bdi>租车押金减免</bdi>" in html


def test_the_consents_api_refuses_hidden_characters_with_a_code(owner_api, scored_owner, partner):
    response = owner_api.post(
        "/api/v1/me/consents/",
        {
            "purpose": "partner_sharing",
            "partner": partner.pk,
            "scope": "score",
            "stated_purpose": "免押\u202e",
            "expires_at": (timezone.now() + datetime.timedelta(days=5)).isoformat(),
        },
        format="json",
    )

    assert_error(response, 400, "stated_purpose")
    assert not ConsentGrant.objects.filter(purpose=ConsentPurpose.PARTNER_SHARING).exists()


# --- 4. Lending partners need a licence; approvals fall due for review ---------------------------


def lender(**fields) -> Partner:
    values = {
        "name": "快借数据 QuickLend Data",
        "category": Partner.LENDING,
        "licence_number": "",
        "licence_authority": "",
        "status": Partner.Status.PENDING,
    }
    return Partner.objects.create(**values | fields)


@pytest.mark.parametrize(
    "licence",
    [{}, {"licence_number": "JR-2026-001"}, {"licence_authority": "上海市地方金融管理局"}],
)
def test_a_lending_partner_without_a_licence_on_record_is_not_approved(licence):
    partner = lender(**licence)

    with pytest.raises(ServiceError) as refused:
        approve(partner)

    assert refused.value.code == "licence_required"
    assert partner.name in refused.value.message
    partner.refresh_from_db()
    assert partner.status == Partner.Status.PENDING
    assert partner.approved_at is None
    assert not PartnerStatusChange.objects.exists()


def test_a_lending_partner_with_its_licence_is_approved_until_its_review(settings):
    settings.PARTNER_REVIEW_DAYS = 365
    partner = lender(licence_number="JR-2026-001", licence_authority="上海市地方金融管理局")

    approve(partner)

    partner.refresh_from_db()
    assert partner.status == Partner.Status.APPROVED
    assert timezone.localdate(partner.approved_at) == today()
    assert partner.review_due_on == days_ahead(365)
    assert not partner.review_overdue


def test_the_bulk_action_refuses_a_lender_without_a_licence_with_a_message(admin):
    unlicensed = lender()
    other = make_partner("Pending shop", status=Partner.Status.PENDING)

    response = admin.post(
        PARTNERS,
        {
            "action": "approve",
            "_selected_action": [unlicensed.pk, other.pk],
            "apply": "Confirm",
            "reason": "资料齐全",
        },
        follow=True,
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "licence number and issuing authority" in html
    assert unlicensed.name in html
    assert set(Partner.objects.values_list("status", flat=True)) == {"pending"}


def test_an_approved_lenders_licence_cannot_be_removed_on_its_form(admin):
    partner = lender(licence_number="JR-2026-001", licence_authority="上海市地方金融管理局")
    approve(partner)

    response = admin.post(
        f"{PARTNERS}{partner.pk}/change/",
        {
            "name": partner.name,
            "category": partner.category,
            "licence_number": "",
            "licence_authority": "上海市地方金融管理局",
            "rate_limit_per_minute": 120,
            "daily_quota": 20000,
            "benefits-TOTAL_FORMS": 0,
            "benefits-INITIAL_FORMS": 0,
            "api_keys-TOTAL_FORMS": 0,
            "api_keys-INITIAL_FORMS": 0,
            "status_changes-TOTAL_FORMS": 0,
            "status_changes-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 200
    assert "licence number and issuing authority" in response.content.decode()
    partner.refresh_from_db()
    assert partner.licence_number == "JR-2026-001"


def test_partners_past_their_review_date_are_flagged_in_the_admin(admin):
    due = make_partner("Due shop")
    fresh = make_partner("Fresh shop")
    Partner.objects.filter(pk=due.pk).update(review_due_on=days_ago(1))
    Partner.objects.filter(pk=fresh.pk).update(review_due_on=days_ahead(30))

    page = admin.get(PARTNERS)
    filtered = admin.get(PARTNERS, {"review": "due"})

    assert "1 approved partner is past its review date" in page.content.decode()
    assert {p.pk for p in filtered.context["cl"].result_list} == {due.pk}
    assert Partner.objects.get(pk=due.pk).review_overdue


def test_approving_an_approved_partner_again_records_the_review(settings):
    settings.PARTNER_REVIEW_DAYS = 30
    partner = make_partner()
    Partner.objects.filter(pk=partner.pk).update(review_due_on=days_ago(3))

    changed = approve(partner, reason="年度复核")

    partner.refresh_from_db()
    assert changed == [partner]
    assert partner.review_due_on == days_ahead(30)
    change = partner.status_changes.get()
    assert (change.status_from, change.status_to, change.reason) == (
        "approved",
        "approved",
        "年度复核",
    )
