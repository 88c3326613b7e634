"""The admin at tablet width (768 px), in Chinese and in English: the portal's name, the
sign-in apps in the reader's language, the model sidebar folded away, and a model card
whose group gaps are a table and whose wide tables scroll in their own box."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

TABLET = {"width": 768, "height": 1024}


@pytest.fixture
def tablet(browser, browser_log):
    contexts = []

    def open_page(locale: str):
        context = browser.new_context(viewport=TABLET, locale=locale)
        context.set_default_timeout(10_000)
        context.on("request", lambda request: browser_log.requests.append(request.url))
        page = context.new_page()
        page.on("console", lambda m: browser_log.console.append(f"[{m.type}] {m.text}"))
        page.on("pageerror", lambda error: browser_log.page_errors.append(str(error)))
        contexts.append(context)
        return page

    yield open_page
    for context in contexts:
        context.close()
    browser_log.assert_clean()


def admin_log_in(page, live_server, admin_user) -> None:
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_admin_at_tablet_width_in_chinese(
    tablet, live_server, transactional_db, admin_user, active_model, screenshot
):
    page = tablet("zh-CN")
    admin_log_in(page, live_server, admin_user)

    expect(page.locator("#site-name")).to_have_text("芝麻门户管理后台")
    expect(page).to_have_title("管理后台 | 芝麻门户")
    for label in ("登录防护", "登录尝试", "API 令牌"):
        expect(page.locator("#content-main")).to_contain_text(label)
    assert page_width(page) <= TABLET["width"]

    page.goto(f"{live_server.url}/admin/scoring/modelversion/{active_model.pk}/change/")
    expect(page.locator("#nav-sidebar")).to_be_hidden()
    gaps = page.locator("table.model-card-gaps")
    expect(gaps).to_be_visible()
    expect(gaps).to_contain_text("差距（男性减女性）")  # noqa: RUF001
    expect(gaps).to_contain_text("16–24 岁")  # noqa: RUF001
    expect(page.locator(".model-card")).to_contain_text("基尼系数")
    assert page_width(page) <= TABLET["width"], "the model card widens the page"
    screenshot(page, "admin-model-card-tablet-zh")


def test_the_admin_at_tablet_width_in_english(
    tablet, live_server, transactional_db, admin_user, active_model
):
    page = tablet("en-US")
    admin_log_in(page, live_server, admin_user)

    expect(page.locator("#site-name")).to_have_text("Sesame Portal administration")
    page.goto(f"{live_server.url}/admin/scoring/modelversion/{active_model.pk}/change/")
    expect(page.locator("table.model-card-gaps")).to_contain_text("Gap (men minus women)")
    assert page_width(page) <= TABLET["width"]
