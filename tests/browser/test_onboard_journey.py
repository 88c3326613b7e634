"""The first five minutes at 375 px, in Chinese and in English (the browser's own
language, no switch pressed): `/` logged out says what the portal is, then one guided
path with a step indicator: sign up, verify (with the attempts left shown after a
refusal), the one consent scoring needs, and the home with its checklist on top; the
language chosen with the switch then sticks."""

from __future__ import annotations

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accounts.models import ConsentGrant, ConsentPurpose, User
from tests.browser.helpers import (
    FORM_SUBMIT,
    assert_no_horizontal_scroll,
    fill_identity,
    fill_sign_up,
    new_phone_context,
    url_pattern,
)
from tests.factories import make_id_number

# The phone's own language, and the one the portal should answer in.
LANGUAGES = {"zh": ("zh-CN", "zh-hans"), "en": ("en-US", "en")}
CURRENT_STEP = ".onboarding-steps li[aria-current=step] .onboarding-number"


def _step_is(page, number: int) -> None:
    expect(page.locator(CURRENT_STEP)).to_have_text(str(number))
    expect(page.locator(".onboarding-steps li")).to_have_count(4)


@pytest.fixture
def phone(request, browser, browser_log, transactional_db, consent_texts):
    """A phone set to the parametrised language (the `page` fixture's is always zh-CN)."""
    context = new_phone_context(browser, browser_log, locale=LANGUAGES[request.param][0])
    page = context.new_page()
    page.on("console", lambda msg: browser_log.console.append(f"[{msg.type}] {msg.text}"))
    page.on("pageerror", lambda error: browser_log.page_errors.append(str(error)))
    yield page, request.param
    context.close()
    browser_log.assert_clean()


@pytest.mark.parametrize("phone", ["zh", "en"], indirect=True)
def test_guided_first_path(phone, live_server, screenshot):
    page, lang = phone
    code = LANGUAGES[lang][1]

    # Logged out, `/` says what the portal is and links to how scores work.
    page.goto(live_server.url + "/")
    expect(page).to_have_url(url_pattern(live_server, "/"))
    expect(page.locator("html")).to_have_attribute("lang", code)
    expect(page.locator("main h1#welcome-title")).to_be_visible()
    expect(page.locator("main a[href='/score/how-it-works/']")).to_be_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, f"onboard-{lang}-0-welcome")

    # 1. Sign up.
    page.locator("main a.button-primary[href='/accounts/signup/']").click()
    expect(page).to_have_url(url_pattern(live_server, "/accounts/signup/"))
    _step_is(page, 1)
    assert_no_horizontal_scroll(page)
    screenshot(page, f"onboard-{lang}-1-signup")
    fill_sign_up(page, f"newcomer{lang}")
    page.click(FORM_SUBMIT)

    # 2. Verify: a refused number says how many attempts are left before the lockout.
    expect(page).to_have_url(url_pattern(live_server, "/accounts/identity/"))
    _step_is(page, 2)
    expect(page.locator(".attempts-left")).to_have_count(0)
    good = make_id_number(sequence="457")
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    fill_identity(page, "李小龙", wrong)
    page.click(FORM_SUBMIT)
    left = settings.IDENTITY_ATTEMPTS_PER_HOUR - 1
    expect(page.locator(".attempts-left")).to_contain_text(str(left))
    expect(page.locator("html")).to_have_attribute("lang", code)
    assert_no_horizontal_scroll(page)
    screenshot(page, f"onboard-{lang}-2-identity-attempts-left")
    page.fill("#id_id_number", good)
    page.click(FORM_SUBMIT)

    # 3. The one consent scoring needs; the others wait for later.
    expect(page).to_have_url(url_pattern(live_server, "/accounts/consents/"))
    _step_is(page, 3)
    expect(page.locator("form:has(input[name=purpose])")).to_have_count(1)
    expect(page.locator("form:has(input[name=purpose][value=scoring])")).to_have_count(1)
    expect(page.locator("input[name=purpose][value=partner_sharing]")).to_have_count(0)
    expect(page.locator(".consents-later a[href='?all=1']")).to_be_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, f"onboard-{lang}-3-consent")
    page.locator("form:has(input[name=purpose][value=scoring]) button[type=submit]").click()

    # 4. The score: the home, the checklist on top while a step remains.
    expect(page).to_have_url(url_pattern(live_server, "/"))
    user = User.objects.get(username=f"newcomer{lang}")
    assert ConsentGrant.objects.current().filter(user=user, purpose=ConsentPurpose.SCORING)
    _step_is(page, 4)
    checklist = page.locator("section[aria-labelledby=steps-title]")
    expect(checklist).to_be_visible()
    top = page.evaluate(
        "[document.querySelector('#steps-title').getBoundingClientRect().top,"
        " document.querySelector('#score-title').getBoundingClientRect().top]"
    )
    assert top[0] < top[1], "the checklist is not above the score"
    expect(checklist.locator("ol.steps li.step-done")).to_have_count(2)
    expect(checklist.locator("a[href='/accounts/profile/']")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", code)
    assert_no_horizontal_scroll(page)
    screenshot(page, f"onboard-{lang}-4-home")

    # The other language, chosen with the switch, sticks over the browser's own.
    page.locator("header .lang-switch button").click()
    other = "en" if code == "zh-hans" else "zh-hans"
    expect(page.locator("html")).to_have_attribute("lang", other)
    page.goto(live_server.url + "/accounts/consents/?all=1")
    expect(page.locator("html")).to_have_attribute("lang", other)
    cookie = next(c for c in page.context.cookies() if c["name"] == "django_language")
    assert cookie["expires"] > 0, "the choice would be forgotten with the browser session"
    expect(page.locator("form:has(input[name=purpose][value=social_connections])")).to_be_visible()
    screenshot(page, f"onboard-{lang}-5-consents-all-switched")
