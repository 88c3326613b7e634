"""A partner journey in a real Chromium at 375 px, the user's side: the partner's link
opened while logged out leads through the login page back to the consent screen (and its
terms), authorising shows the token once, the partner's calls with it are answered or
refused and listed under "who checked my score", and revoking stops the partner's next
call. Bad links get a clear error page, never a server error."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import ConsentGrant, ConsentPurpose, User
from benefits.demo import demo_benefits_load, demo_partners_load
from benefits.models import Benefit, ConsentScope, Partner, PartnerAuthorization, PartnerQuery
from benefits.services import partner_status_set
from benefits.services.partner_access import api_key_create
from tests.browser.helpers import (
    DIMENSIONS,
    FORM_SUBMIT,
    SCORE,
    assert_no_horizontal_scroll,
    assert_tab_bar_leaves_content_visible,
    log_in,
    ready_user,
    snapshot_store,
    url_pattern,
)
from tests.dates import days_ahead
from tests.factories import PASSWORD, make_id_number

GREENLANE = "绿道单车 GreenLane Bikes"
BIKES = "公共自行车免押金"
PURPOSE = "开通免押金骑行 (deposit-free bike rental)"
DAYS = 30
TOKEN = re.compile(r"^au_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$")
LOGIN = "/accounts/login/"
CONSENTS = "/accounts/consents/"
ACCOUNT = "/accounts/me/"
QUERIES = "/benefits/queries/"
AUTHORISE_BUTTON = "main form.form button[type=submit]"
QUERY_ROWS = "main ul.query-list > li"


# Helpers --------------------------------------------------------------------------------------


@pytest.fixture
def recomputes(recompute_calls) -> list[tuple[int, str]]:
    """Recomputes queued by consenting are recorded, not sent to the broker."""
    return recompute_calls


@pytest.fixture
def catalogue(transactional_db) -> list[Benefit]:
    """The demo catalogue: GreenLane Bikes is approved and offers bikes at 600+."""
    demo_partners_load()
    return demo_benefits_load()


def _scored_user(username: str, *, sequence: int = 101) -> User:
    """A verified user (born 1990) who consents to scoring and has one snapshot."""
    user = ready_user(username, id_number=make_id_number(sequence=f"{sequence:03d}"))
    snapshot_store(user, SCORE, DIMENSIONS)
    return user


def _link(partner: Partner, **terms) -> str:
    return f"/benefits/partners/{partner.pk}/authorize/?{urlencode(terms)}"


def _partner_call(live_server, api_key: str, path: str) -> tuple[int, dict]:
    """One call of the partner API, as the partner's server makes it: no browser, no
    cookies, only the key."""
    request = urllib.request.Request(  # noqa: S310 - http to the live server
        live_server.url + "/api/v1/partner/" + path,
        headers={"Authorization": f"Api-Key {api_key}", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _assert_phone_layout(page) -> None:
    assert_no_horizontal_scroll(page)
    assert_tab_bar_leaves_content_visible(page)


# (1) Authorise, see the queries, revoke, the partner refused ---------------------------------


def test_partner_journey(page, live_server, screenshot, catalogue, recomputes, browser_log):
    user = _scored_user("partnered")
    partner = Partner.objects.get(name=GREENLANE)
    benefit = Benefit.objects.get(title_zh=BIKES)
    assert partner.status == Partner.Status.APPROVED
    assert benefit.status == Benefit.Status.PUBLISHED
    assert benefit.min_score <= SCORE
    _key, api_key = api_key_create(partner=partner, label="browser test")
    terms = {
        "scope": ConsentScope.ELIGIBILITY,
        "purpose": PURPOSE,
        "benefit": str(benefit.pk),
        "days": str(DAYS),
    }
    link = _link(partner, **terms)
    until = days_ahead(DAYS).isoformat()
    # Shown as the last whole day, inclusive: the grant ends at the midnight that starts
    # `until` (2027-01-31 (inclusive), never 2027-02-01 00:00).
    last_day = days_ahead(DAYS - 1).isoformat()

    # Logged out, the partner's link leads to the login page, which keeps the link.
    page.goto(live_server.url + link)
    expect(page).to_have_url(url_pattern(live_server, LOGIN))
    assert parse_qs(urlsplit(page.url).query)["next"] == [link]
    expect(page.locator("main input[name=next]")).to_have_value(link)
    assert_no_horizontal_scroll(page)
    page.fill("#id_username", "partnered")
    page.fill("#id_password", PASSWORD)
    page.click(FORM_SUBMIT)

    # Back on the consent screen with the link's terms intact.
    expect(page).to_have_url(url_pattern(live_server, urlsplit(link).path))
    assert parse_qs(urlsplit(page.url).query) == {k: [v] for k, v in terms.items()}
    card = page.locator("main section[aria-labelledby=authorize-title]")
    expect(card.locator("h1")).to_contain_text(GREENLANE)
    facts = card.locator("dl.facts")
    expect(facts).to_contain_text(GREENLANE)
    expect(facts).to_contain_text(partner.licence_number)
    expect(facts).to_contain_text(PURPOSE)
    expect(facts).to_contain_text(last_day)
    will_see = card.locator("ul.disclose-yes > li")
    will_not_see = card.locator("ul.disclose-no > li")
    expect(will_see.first).to_be_visible()
    expect(will_see.first).to_contain_text(BIKES)  # eligibility for this one benefit only
    expect(will_not_see.first).to_be_visible()
    expect(card.locator("ul.disclose-no")).not_to_contain_text(BIKES)
    expect(page.locator(AUTHORISE_BUTTON)).to_have_count(1)
    expect(page.locator(".message-error")).to_have_count(0)
    assert not ConsentGrant.objects.filter(user=user, authorization__partner=partner).exists()
    _assert_phone_layout(page)
    screenshot(page, "partner-authorize-zh")

    # The same screen in English, through the header's language button; the terms survive.
    page.locator("header .lang-switch button").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(url_pattern(live_server, urlsplit(link).path))
    assert parse_qs(urlsplit(page.url).query) == {k: [v] for k, v in terms.items()}
    expect(card.locator("h1")).to_have_text(f"Share with {GREENLANE}?")
    expect(card.locator("h2").first).to_have_text("The partner will see")
    expect(card.locator("h2").nth(1)).to_have_text("The partner will not see")
    expect(will_see.first).to_have_text(
        f"Only whether you qualify for “{benefit.title_en}”: yes or no."
    )
    expect(will_not_see.first).to_have_text("Your score or sub-scores.")
    expect(facts).to_contain_text(f"{last_day} (inclusive)")
    expect(facts).to_contain_text(PURPOSE)
    expect(page.locator(AUTHORISE_BUTTON)).to_have_text("Authorise")
    _assert_phone_layout(page)
    screenshot(page, "partner-authorize-en")
    page.locator("header .lang-switch button").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page).to_have_url(url_pattern(live_server, urlsplit(link).path))

    # Authorise: the token for the partner, shown once.
    page.locator(AUTHORISE_BUTTON).click()
    expect(page.locator("main section[aria-labelledby=authorized-title]")).to_be_visible()
    token_box = page.locator("main p.token-box")
    expect(token_box).to_be_visible()
    token = token_box.inner_text().strip()
    assert TOKEN.match(token), token
    grant = ConsentGrant.objects.get(user=user, authorization__partner=partner)
    assert grant.purpose == ConsentPurpose.PARTNER_SHARING
    assert grant.authorization.scope == ConsentScope.ELIGIBILITY
    assert grant.authorization.stated_purpose == PURPOSE
    assert grant.channel == ConsentGrant.Channel.WEB
    assert timezone.localtime(grant.expires_at).date().isoformat() == until
    authorization = PartnerAuthorization.objects.get(grant=grant)
    assert authorization.benefit_id == benefit.pk
    assert token not in authorization.token_hash  # only the hash is kept
    assert token not in page.url
    done = page.locator("main dl.facts")
    expect(done).to_contain_text(PURPOSE)
    expect(done).to_contain_text(f"{last_day}（含当天）")  # noqa: RUF001
    _assert_phone_layout(page)
    screenshot(page, "partner-token")

    # Nowhere else shows it: not the consents page (where the grant is listed), not the
    # partner's link opened again.
    page.locator(f"main a[href='{CONSENTS}']").click()
    expect(page).to_have_url(url_pattern(live_server, CONSENTS))
    row = page.locator(f"#consent-{grant.pk}")
    expect(row).to_be_visible()
    expect(row).to_contain_text(GREENLANE)
    expect(row).to_contain_text(PURPOSE)
    expect(row.locator(".badge-ok")).to_be_visible()
    expect(page.locator("main .token-box")).to_have_count(0)
    assert token not in page.content()
    _assert_phone_layout(page)
    screenshot(page, "partner-consents")
    page.goto(live_server.url + link)
    expect(page.locator(AUTHORISE_BUTTON)).to_have_count(1)
    expect(page.locator("main .token-box")).to_have_count(0)
    assert token not in page.content()
    assert ConsentGrant.objects.filter(user=user, authorization__partner=partner).count() == 1

    # The partner calls with the token: eligibility for its benefit is answered (yes or
    # no, no points), the score is outside the scope.
    status, body = _partner_call(
        live_server, api_key, f"authorizations/{token}/benefits/{benefit.pk}/eligibility/"
    )
    assert status == 200, body
    assert body["benefit"] == benefit.pk
    assert body["eligible"] is True
    # Points away are outside an eligibility-only scope: absent, or at most a null.
    assert body.get("points_away") is None, body
    assert set(body) <= {"benefit", "eligible", "points_away"}, body
    status, body = _partner_call(live_server, api_key, f"authorizations/{token}/score/")
    assert status == 403, body
    assert body["code"] == "out_of_scope", body
    assert str(SCORE) not in json.dumps(body)

    # "Who checked my score", from the Me page's menu: both calls, newest first.
    page.locator(f"nav.tabbar a[href='{ACCOUNT}']").click()
    expect(page).to_have_url(url_pattern(live_server, ACCOUNT))
    page.locator(f"main ul.menu a[href='{QUERIES}']").click()
    expect(page).to_have_url(url_pattern(live_server, QUERIES))
    rows = page.locator(QUERY_ROWS)
    expect(rows).to_have_count(2)
    refused_score, answered = rows.nth(0), rows.nth(1)
    for query in (refused_score, answered):
        expect(query.locator("strong")).to_have_text(GREENLANE)
        expect(query).to_contain_text(PURPOSE)
        expect(query.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    expect(answered.locator(".badge-ok")).to_have_count(1)
    # "Shown": what was disclosed for the answered call, nothing for the refused one.
    shown, nothing = answered.locator("dd").nth(2), refused_score.locator("dd").nth(2)
    expect(shown).not_to_be_empty()
    assert shown.inner_text() != nothing.inner_text()
    expect(refused_score.locator(".badge")).to_have_count(1)
    expect(refused_score.locator(".badge-ok")).to_have_count(0)
    logged = list(PartnerQuery.objects.filter(user=user).order_by("-created_at", "-id"))
    assert [(q.kind, q.outcome) for q in logged] == [
        (PartnerQuery.Kind.SCORE, "out_of_scope"),
        (PartnerQuery.Kind.ELIGIBILITY, "ok"),
    ]
    _assert_phone_layout(page)
    screenshot(page, "partner-queries")

    # Revoke the partner's consent on the consents page, in place (htmx).
    page.locator(f"main a[href='{CONSENTS}']").click()
    expect(page).to_have_url(url_pattern(live_server, CONSENTS))
    row = page.locator(f"#consent-{grant.pk}")
    page.evaluate("window.__marker = 1")
    row.locator("button[type=submit]").click()
    expect(row.locator(".badge-ok")).to_have_count(0)
    expect(row.locator(".badge")).to_have_count(1)
    expect(row.locator("form")).to_have_count(0)
    expect(page.locator("#messages .message-success")).to_be_visible()
    assert page.evaluate("window.__marker") == 1, "revoking reloaded the whole page"
    assert hasattr(ConsentGrant.objects.get(pk=grant.pk), "revocation")
    _assert_phone_layout(page)
    screenshot(page, "partner-consent-revoked")

    # The partner's next call is refused.
    status, body = _partner_call(
        live_server, api_key, f"authorizations/{token}/benefits/{benefit.pk}/eligibility/"
    )
    assert status == 403, body
    assert body["code"] == "authorization_revoked", body
    assert "eligible" not in body

    # And the user sees that refused call too.
    page.goto(live_server.url + QUERIES)
    expect(rows).to_have_count(3)
    newest = rows.first
    expect(newest.locator("strong")).to_have_text(GREENLANE)
    expect(newest.locator(".badge")).to_have_count(1)
    expect(newest.locator(".badge-ok")).to_have_count(0)
    expect(page.locator(f"{QUERY_ROWS} .badge-ok")).to_have_count(1)
    assert PartnerQuery.objects.filter(user=user).latest("created_at").outcome == (
        "authorization_revoked"
    )
    _assert_phone_layout(page)
    screenshot(page, "partner-queries-revoked")
    browser_log.assert_clean()


# (2) Bad links ---------------------------------------------------------------------------------


def test_bad_partner_links_show_a_clear_error(
    page, live_server, screenshot, catalogue, recomputes, browser_log
):
    user = _scored_user("cautious")
    partner = Partner.objects.get(name=GREENLANE)
    benefit = Benefit.objects.get(title_zh=BIKES)
    others = Benefit.objects.exclude(partner=partner).filter(status=Benefit.Status.PUBLISHED)
    good = {"scope": "eligibility", "purpose": PURPOSE, "benefit": benefit.pk, "days": DAYS}
    log_in(page, live_server, "cautious")

    bad_terms = {
        "unknown-scope": {**good, "scope": "everything"},
        "no-purpose": {k: v for k, v in good.items() if k != "purpose"},
        "another-partners-benefit": {**good, "benefit": others.first().pk},
        "no-benefit": {k: v for k, v in good.items() if k != "benefit"},
        "too-long": {**good, "days": 366},
    }
    for name, terms in bad_terms.items():
        response = page.goto(live_server.url + _link(partner, **terms))
        assert response.status == 400, (name, response.status)
        error = page.locator("main .message-error[role=alert]")
        expect(error).to_be_visible()
        expect(error.locator("ul.errorlist li").first).to_be_visible()
        expect(page.locator(AUTHORISE_BUTTON)).to_have_count(0)
        expect(page.locator("main .disclose")).to_have_count(0)
        _assert_phone_layout(page)
        if name == "unknown-scope":
            screenshot(page, "partner-link-invalid")

    # No such partner, or a partner suspended after it handed out its link: not found.
    response = page.goto(
        live_server.url + f"/benefits/partners/999999/authorize/?{urlencode(good)}"
    )
    assert response.status == 404, response.status
    partner_status_set(
        partners=[partner], status=Partner.Status.SUSPENDED, reason="Resold scores.", by=None
    )
    response = page.goto(live_server.url + _link(partner, **good))
    assert response.status == 404, response.status
    expect(page.locator("main h1")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(GREENLANE)
    expect(page.locator(AUTHORISE_BUTTON)).to_have_count(0)
    _assert_phone_layout(page)
    screenshot(page, "partner-link-suspended")
    assert not ConsentGrant.objects.filter(
        user=user, purpose=ConsentPurpose.PARTNER_SHARING
    ).exists()
    browser_log.assert_clean()


# (3) The token page reloaded ------------------------------------------------------------------


def test_reloading_the_token_page_does_not_authorise_again(
    page, live_server, screenshot, catalogue, recomputes
):
    user = _scored_user("reloader")
    partner = Partner.objects.get(name=GREENLANE)
    benefit = Benefit.objects.get(title_zh=BIKES)
    _key, api_key = api_key_create(partner=partner, label="browser test")
    link = _link(partner, scope="eligibility", purpose=PURPOSE, benefit=benefit.pk, days=DAYS)
    log_in(page, live_server, "reloader")
    page.goto(live_server.url + link)
    page.locator(AUTHORISE_BUTTON).click()
    token = page.locator("main p.token-box").inner_text().strip()
    assert TOKEN.match(token), token

    page.reload()
    screenshot(page, "partner-token-reloaded")
    grants = ConsentGrant.objects.filter(user=user, authorization__partner=partner)
    assert grants.count() == 1, "reloading recorded another authorisation"
    status, body = _partner_call(
        live_server, api_key, f"authorizations/{token}/benefits/{benefit.pk}/eligibility/"
    )
    assert status == 200, body
    expect(page.locator("main p.token-box")).to_have_count(0)
