"""Steps and checks the browser tests share."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from playwright.sync_api import expect

from accounts.clients import Client
from accounts.models import User
from accounts.services import consent_grant, identity_verify
from scoring.models import ScoreSnapshot
from tests.factories import (
    PASSWORD,
    ModelVersionFactory,
    ScoreSnapshotFactory,
    UserFactory,
    make_id_number,
)

# What must never reach a log: resident ID numbers, masks that show their region and end
# (which a birth date completes), the birth date the whole journey verifies, the names the
# journeys verify, and credentials (partner keys and tokens, proof links, voucher codes).
LOG_SECRETS = re.compile(
    r"[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
    r"|\d{2}\*+\d|\*+\d{2,3}[\dXx]\b"
    r"|1990-?06-?15"
    r"|李小龙|王芳"
    r"|\b(?:sk|au)_[0-9a-f]{12}_"
    r"|/proof/ey"
    r"|\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b"
)

VIEWPORT = {"width": 375, "height": 812}
FORM_SUBMIT = "main form.form button[type=submit]"


# The hand-written score most journeys show, and its five sub-scores.
SCORE = 671
DIMENSIONS = {
    "credit_history": 72,
    "behaviour": 65,
    "capacity": 58,
    "identity": 80,
    "connections": 47,
}


def snapshot_store(user, score: int, dimensions: dict) -> ScoreSnapshot:
    """A score written by hand (no model run), so that a page shows exactly this score:
    under a stand-in model version that no recompute ever loads."""
    return ScoreSnapshotFactory(
        user=user,
        score=score,
        dimensions=dimensions,
        model_version=ModelVersionFactory(version="browser-hand-written"),
    )


def ready_user(
    username: str,
    *,
    full_name: str = "李小龙",
    id_number: str | None = None,
    consent: bool = True,
    user_agent: str = "",
) -> User:
    """Signed up, verified and (unless consent=False) consenting to scoring, the steps
    every journey but the first takes for granted; done through the services, as the
    pages would, with the password log_in types."""
    user = UserFactory(username=username, password=PASSWORD)
    identity_verify(user=user, full_name=full_name, id_number=id_number or make_id_number())
    if consent:
        client = Client(channel="web", user_agent=user_agent)
        consent_grant(user=user, purpose="scoring", client=client)
    return user


def url_pattern(live_server, path: str) -> re.Pattern[str]:
    return re.compile(re.escape(live_server.url + path) + r"(\?.*)?$")


def fill_sign_up(page, username: str) -> None:
    """The sign-up form, filled in (the caller submits, after its own checks)."""
    page.fill("#id_username", username)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)


def fill_identity(page, full_name: str, id_number: str) -> None:
    """The real-name form, filled in (the caller submits)."""
    page.fill("#id_full_name", full_name)
    page.fill("#id_id_number", id_number)


def log_in(page, live_server, username: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click(FORM_SUBMIT)
    expect(page).to_have_url(url_pattern(live_server, "/"))


def new_phone_context(browser, browser_log, *, locale: str = "zh-CN", **options):
    """A 375 px phone context (zh-CN unless told) whose requests go into `browser_log`."""
    context = browser.new_context(
        viewport=VIEWPORT,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale=locale,
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


# Stored script ------------------------------------------------------------------------------

# Installed before any page script: it records every alert, confirm and prompt, and defines
# nothing else (above all not the marker a payload would set).
DIALOG_RECORDER = """
(() => {
  const calls = [];
  Object.defineProperty(window, "__dialogCalls", { value: calls });
  for (const name of ["alert", "confirm", "prompt"]) {
    const original = window[name];
    window[name] = function (...args) {
      calls.push(name + ": " + args.join(" "));
      return original.apply(this, args);
    };
  }
})();
"""

# What a page says about script that should not be there: the marker a payload sets, the
# dialogs recorded, event-handler attributes or scripts that mention the marker, links
# that run script, and the document's title.
_SCRIPT_EVIDENCE = """
(marker) => {
  const found = [];
  for (const element of document.querySelectorAll("*")) {
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      if (name.startsWith("on") && attribute.value.includes(marker)) {
        found.push(`<${element.tagName.toLowerCase()} ${name}="${attribute.value}">`);
      }
      if (["href", "src", "action", "formaction", "xlink:href", "data"].includes(name)
          && /^\\s*javascript:/i.test(attribute.value)) {
        found.push(`<${element.tagName.toLowerCase()} ${name}="${attribute.value}">`);
      }
    }
    if (element.tagName.toLowerCase() === "script" && element.textContent.includes(marker)) {
      found.push(`<script>${element.textContent}</script>`);
    }
  }
  return {
    ran: window[marker] === undefined ? null : String(window[marker]),
    dialogs: Array.from(window.__dialogCalls || []),
    found,
    title: document.title,
    text: document.body ? document.body.innerText : "",
  };
}
"""


def watch_for_script(page) -> list[str]:
    """Record dialogs on `page` from its next navigation on: the init script above, and
    Playwright's own dialog event (dismissed and listed). Returns that list."""
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.add_init_script(DIALOG_RECORDER)
    page.on("dialog", on_dialog)
    return dialogs


def script_evidence(page, marker: str) -> dict:
    """`window[marker]`, the dialogs, and any element that would run script naming it."""
    return page.evaluate(_SCRIPT_EVIDENCE, marker)


# Waiting on state that Playwright events feed ------------------------------------------------


def wait_until(page, condition: Callable[[], object], *, timeout: float = 10.0) -> bool:
    """Poll `condition` (on state that Playwright's event handlers fill in, such as a
    request log) until it holds or `timeout` seconds pass; the short waits in between let
    Playwright deliver those events. True if it held."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return bool(condition())
        page.wait_for_timeout(50)
    return True


def assert_stays(page, condition: Callable[[], object], *, until: float, message: str) -> None:
    """`condition` holds from now until the monotonic time `until`, checked every 50 ms
    with Playwright's events delivered in between. For what must NOT happen (a poll that
    has stopped), which no event announces: the window is the assertion itself, and the
    first breach fails at once."""
    while True:
        assert condition(), message
        left = until - time.monotonic()
        if left <= 0:
            return
        page.wait_for_timeout(min(50, left * 1000))
