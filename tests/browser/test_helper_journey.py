"""A trusted helper in a real Chromium at 375 px, in Chinese and in English: the person
invites a helper and gets the link once; the helper opens it, creates an account of their
own (no real-name verification), accepts and acts for the person under a banner; they
withdraw a partner's authorisation, are refused the profile; the person sees it all in
their audit trail and revokes the helper, who is out at the next page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import ConsentRevocation, HelperGrant
from tests.browser.helpers import (
    FORM_SUBMIT,
    assert_no_horizontal_scroll,
    fill_sign_up,
    log_in,
    new_phone_context,
    ready_user,
    url_pattern,
)
from tests.factories import authorize, make_partner

TEXT = {
    "zh-CN": {
        "invite": "生成邀请链接",
        "create": "创建一个",
        "accept": "以 ming-helper 的身份接受",
        "act": "代 granny 操作",
        "banner": "您正在协助 granny",
        "audit": ("撤回了一项同意", "尝试了不被允许的页面或操作"),
        "revoke": "撤回",
    },
    "en-US": {
        "invite": "Create invitation link",
        "create": "Create one",
        "accept": "Accept as ming-helper",
        "act": "Act for granny",
        "banner": "You are helping granny",
        "audit": ("Withdrew a consent", "Tried a page or action not allowed"),
        "revoke": "Revoke",
    },
}


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_a_helper_is_invited_acts_within_limits_and_is_revoked(
    page, browser, browser_log, live_server, screenshot, locale
):
    text = TEXT[locale]
    short = "zh" if locale == "zh-CN" else "en"
    person = ready_user("granny")
    partner_grant, _token = authorize(person, make_partner())

    # The person invites a helper who may also withdraw consents.
    log_in(page, live_server, "granny")
    if locale != "zh-CN":
        page.locator("header .lang-switch button").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(live_server.url + "/accounts/helpers/")
    page.fill("#id_name", "小明 Ming")
    page.check("input[name=level][value=revoke_only]")
    page.select_option("#id_months", "3")
    page.get_by_role("button", name=text["invite"]).click()
    link = page.locator("#helper-link").inner_text().strip()
    assert "/accounts/helpers/accept/" in link
    assert_no_horizontal_scroll(page)
    screenshot(page, f"helper-{short}-invite")

    # The helper, on their own phone: the link, a new account of their own, accept.
    helper_context = new_phone_context(browser, browser_log, locale=locale)
    helper = helper_context.new_page()
    try:
        helper.goto(link)
        expect(helper.locator("main")).to_contain_text("granny")
        assert_no_horizontal_scroll(helper)
        screenshot(helper, f"helper-{short}-accept")
        helper.get_by_role("link", name=text["create"]).click()
        fill_sign_up(helper, "ming-helper")
        helper.click(FORM_SUBMIT)
        helper.get_by_role("button", name=text["accept"]).click()
        expect(helper).to_have_url(url_pattern(live_server, "/accounts/helping/"))
        assert_no_horizontal_scroll(helper)
        screenshot(helper, f"helper-{short}-helping")
        helper.get_by_role("button", name=text["act"]).click()

        # Acting: the banner, the person's consents, a withdrawal.
        expect(helper.locator(".acting-banner")).to_contain_text(text["banner"])
        assert_no_horizontal_scroll(helper)
        screenshot(helper, f"helper-{short}-acting-home")
        helper.goto(live_server.url + "/accounts/consents/")
        row = helper.locator(f"#consent-{partner_grant.pk}")
        row.get_by_role("button", name=text["revoke"]).click()
        expect(row.locator("form")).to_have_count(0)
        assert ConsentRevocation.objects.filter(grant=partner_grant).exists()
        assert_no_horizontal_scroll(helper)
        screenshot(helper, f"helper-{short}-acting-consents")
        # The profile is not theirs to see.
        response = helper.goto(live_server.url + "/accounts/profile/")
        assert response.status == 403
        screenshot(helper, f"helper-{short}-refused")

        # The person reads what happened, then revokes the helper.
        page.goto(live_server.url + "/accounts/helpers/audit/")
        for words in text["audit"]:
            expect(page.locator("main")).to_contain_text(words)
        assert_no_horizontal_scroll(page)
        screenshot(page, f"helper-{short}-audit")
        page.goto(live_server.url + "/accounts/helpers/")
        grant_row = HelperGrant.objects.get(owner=person)
        page.locator(f"#helper-{grant_row.pk}").get_by_role("button", name=text["revoke"]).click()
        screenshot(page, f"helper-{short}-revoked")

        # The helper is out at the next page.
        helper.goto(live_server.url + "/accounts/consents/")
        expect(helper.locator(".acting-banner")).to_have_count(0)
        expect(helper.locator("main")).not_to_contain_text("绿道单车")
    finally:
        helper_context.close()
