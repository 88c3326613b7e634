"""Steps and checks the browser tests share."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.conftest import PASSWORD

# What must never reach a log: resident ID numbers, the names the journeys verify, and
# credentials (partner keys and tokens, proof links, voucher codes).
LOG_SECRETS = re.compile(
    r"[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
    r"|李小龙|王芳"
    r"|\b(?:sk|au)_[0-9a-f]{12}_"
    r"|/proof/ey"
    r"|\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b"
)

VIEWPORT = {"width": 375, "height": 812}
FORM_SUBMIT = "main form.form button[type=submit]"


def url_pattern(live_server, path: str) -> re.Pattern[str]:
    return re.compile(re.escape(live_server.url + path) + r"(\?.*)?$")


def log_in(page, live_server, username: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click(FORM_SUBMIT)
    expect(page).to_have_url(url_pattern(live_server, "/"))


def new_phone_context(browser, browser_log, **options):
    """A 375 px, zh-CN phone context whose requests go into `browser_log`."""
    context = browser.new_context(
        viewport=VIEWPORT,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        **options,
    )
    context.set_default_timeout(10_000)
    context.on("request", lambda request: browser_log.requests.append(request.url))
    return context


def assert_no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= VIEWPORT["width"], f"{page.url} is {width} px wide at a 375 px viewport"


def assert_tab_bar_leaves_content_visible(page) -> None:
    """Scrolled to the end, the fixed tab bar leaves the last of the content uncovered."""
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    content_bottom = page.evaluate(
        "document.querySelector('main').lastElementChild.getBoundingClientRect().bottom"
    )
    tabbar_top = page.locator("nav.tabbar").bounding_box()["y"]
    assert content_bottom <= tabbar_top, f"{page.url}: the tab bar covers the end of the page"
