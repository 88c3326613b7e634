"""The first journey and the page qualities a phone user sees, in a real Chromium at 375 px."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from accounts.models import ConsentGrant, ConsentPurpose, ConsentRevocation, Identity, User
from tests.browser.helpers import (
    FORM_SUBMIT,
    assert_no_horizontal_scroll,
    assert_tab_bar_leaves_content_visible,
    fill_identity,
    fill_sign_up,
    log_in,
    url_pattern,
)
from tests.factories import PASSWORD, make_id_number


def test_first_journey(page, live_server, screenshot):
    # Sign up.
    page.goto(live_server.url + "/accounts/signup/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    fill_sign_up(page, "xiaolong")
    screenshot(page, "signup")
    page.click(FORM_SUBMIT)

    # Real-name verification.
    expect(page).to_have_url(url_pattern(live_server, "/accounts/identity/"))
    user = User.objects.get(username="xiaolong")
    assert not Identity.objects.filter(user=user).exists()
    expect(page.locator(".messages")).to_be_visible()
    id_number = make_id_number()
    fill_identity(page, "李小龙", id_number)
    screenshot(page, "identity")
    page.click(FORM_SUBMIT)

    # Verified: on to the consents page; the identity page now shows the masked number.
    expect(page).to_have_url(url_pattern(live_server, "/accounts/consents/"))
    identity = Identity.objects.get(user=user)
    assert identity.id_number_masked != id_number
    page.goto(live_server.url + "/accounts/identity/")
    facts = page.locator("main dl.facts")
    expect(facts).to_contain_text("李小龙")
    expect(facts).to_contain_text(identity.id_number_masked)
    expect(page.locator("main")).not_to_contain_text(id_number)
    expect(page.locator("main form")).to_have_count(0)
    screenshot(page, "identity-verified")

    # Consent to scoring.
    page.goto(live_server.url + "/accounts/consents/")
    current = page.locator("section[aria-labelledby=current-title]")
    expect(current.locator("li.consent")).to_have_count(0)
    assert not ConsentGrant.objects.filter(user=user).exists()
    offer = page.locator("form:has(input[name=purpose][value=scoring])")
    agree = offer.locator("button[type=submit]")
    expect(agree).to_have_text(re.compile(r"I agree|同意"))
    agree.click()
    # The first consent to scoring ends the guided path on the score; the row is listed.
    expect(page).to_have_url(url_pattern(live_server, "/"))
    page.goto(live_server.url + "/accounts/consents/")
    grant = ConsentGrant.objects.get(user=user, purpose=ConsentPurpose.SCORING)
    assert grant.channel == ConsentGrant.Channel.WEB
    assert not hasattr(grant, "authorization")  # shares with no partner
    row = page.locator(f"#consent-{grant.pk}")
    expect(current.locator(row)).to_be_visible()
    expect(row.locator(".badge-ok")).to_be_visible()
    expect(page.locator("form:has(input[name=purpose][value=scoring])")).to_have_count(0)
    screenshot(page, "consents-granted")

    # Revoke in place with htmx: the row is swapped, the page is not reloaded.
    page.evaluate("window.__marker = 1")
    row.locator("button[type=submit]").click()
    expect(row.locator(".badge")).to_have_text(re.compile(r"Revoked|撤"))
    expect(row.locator(".badge-ok")).to_have_count(0)
    expect(row.locator("form")).to_have_count(0)
    assert page.evaluate("window.__marker") == 1, "revoking reloaded the whole page"
    # The "consent given" notice was replaced by the revoke notice, out of band.
    expect(page.locator("#messages .message")).to_have_count(1)
    expect(page.locator("#messages .message-success")).to_have_text(
        re.compile(r"Consent revoked|已撤回|撤回")
    )
    revocation = ConsentRevocation.objects.get(grant=grant)
    assert revocation.reason == ConsentRevocation.Reason.USER
    assert not ConsentGrant.objects.filter(user=user).current().exists()
    screenshot(page, "consents-revoked")

    # Home, through the tab bar: identity done, scoring consent to do again.
    page.locator("nav.tabbar a").first.click()
    expect(page).to_have_url(url_pattern(live_server, "/"))
    expect(page.locator("nav.tabbar a").first).to_have_attribute("aria-current", "page")
    steps = page.locator("ol.steps > li")
    expect(steps.nth(0)).to_have_class(re.compile(r"\bstep-done\b"))
    expect(steps.nth(1)).not_to_have_class(re.compile(r"\bstep-done\b"))
    expect(page.locator(".score-card a.button-primary")).to_have_attribute(
        "href", "/accounts/consents/"
    )
    screenshot(page, "home")


def test_bad_id_number_shows_error_next_to_field(page, live_server, screenshot):
    User.objects.create_user(username="baduser", password=PASSWORD)
    log_in(page, live_server, "baduser")
    page.goto(live_server.url + "/accounts/identity/")
    good = make_id_number()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")  # wrong check character
    fill_identity(page, "李小龙", bad)
    page.click(FORM_SUBMIT)

    expect(page).to_have_url(url_pattern(live_server, "/accounts/identity/"))
    field = page.locator("#id_id_number")
    expect(field).to_have_attribute("aria-invalid", "true")
    error = page.locator("#id_id_number_error")
    expect(error).to_be_visible()
    expect(error).not_to_be_empty()
    # The message belongs to the field: announced with it and placed right by it.
    expect(field).to_have_attribute("aria-describedby", re.compile(r"\bid_id_number_error\b"))
    field_box, error_box = field.bounding_box(), error.bounding_box()
    assert abs(error_box["y"] - (field_box["y"] + field_box["height"])) < 120
    expect(page.locator("#id_full_name")).not_to_have_attribute("aria-invalid", "true")
    screenshot(page, "identity-error")
    assert not Identity.objects.exists()


def test_language_switch(page, live_server):
    page.goto(live_server.url + "/accounts/login/")
    html = page.locator("html")
    switch = page.locator("header .lang-switch button")
    username_label = page.locator("label[for=id_username]")
    heading = page.locator("main h1")
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(heading).to_have_text("登录")
    expect(username_label).to_contain_text("用户名")
    expect(switch).to_have_text("English")

    switch.click()
    expect(html).to_have_attribute("lang", "en")
    expect(page).to_have_url(url_pattern(live_server, "/accounts/login/"))
    expect(heading).to_have_text("Log in")
    expect(username_label).to_contain_text("Username")
    expect(switch).to_have_text("中文")

    switch.click()
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(heading).to_have_text("登录")
    expect(username_label).to_contain_text("用户名")
    expect(switch).to_have_text("English")


def test_no_horizontal_scroll_at_375px(page, live_server):
    page.goto(live_server.url + "/accounts/signup/")
    assert_no_horizontal_scroll(page)

    User.objects.create_user(username="narrow", password=PASSWORD)
    log_in(page, live_server, "narrow")
    for path in ("/accounts/identity/", "/accounts/consents/", "/"):
        page.goto(live_server.url + path)
        expect(page.locator("main h1")).to_be_visible()
        assert_no_horizontal_scroll(page)
        assert_tab_bar_leaves_content_visible(page)


def test_form_fields_are_spaced(page, live_server):
    page.goto(live_server.url + "/accounts/signup/")
    gaps = page.evaluate(
        """() => [...document.querySelectorAll('main form.form input:not([type=hidden])')]
            .map((input) => {
                const next = input.nextElementSibling
                    || input.parentElement.nextElementSibling;
                return [input.id, next.getBoundingClientRect().top
                        - input.getBoundingClientRect().bottom];
            })"""
    )
    assert len(gaps) == 3
    crowded = [(field, gap) for field, gap in gaps if gap < 8]
    assert not crowded, f"inputs with less than 8 px before the next element: {crowded}"


def test_keyboard_order_on_login(page, live_server):
    page.goto(live_server.url + "/accounts/login/")
    describe = (
        "() => { const e = document.activeElement;"
        " return e.id || `${e.tagName.toLowerCase()}:${e.type || ''}`; }"
    )
    # The username field may already hold the focus (Django's login form sets autofocus).
    focused = [page.evaluate(describe)]
    for _ in range(12):
        if focused[-1] == "button:submit" and "id_password" in focused:
            break
        page.keyboard.press("Tab")
        focused.append(page.evaluate(describe))
    assert "id_username" in focused, focused
    start = focused.index("id_username")
    assert focused[start : start + 3] == ["id_username", "id_password", "button:submit"], focused
    # That button is the form's own submit, not the language switch.
    expect(page.locator(FORM_SUBMIT)).to_be_focused()
    # And it can be reached from the top of the page too: the skip link comes first.
    page.goto(live_server.url + "/accounts/signup/")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()


def test_api_docs_load_offline(page, live_server, browser_log, screenshot):
    page.goto(live_server.url + "/api/docs/")
    operation = page.locator('.opblock-summary-path[data-path="/api/v1/me/identity/"]').first
    expect(operation).to_be_visible(timeout=20_000)
    expect(operation).to_have_text("/api/v1/me/identity/")
    screenshot(page, "api-docs")
    browser_log.assert_clean()
