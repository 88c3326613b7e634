"""Real-browser fixtures: a headless Debian Chromium driven by Playwright's sync API.

Every page runs at a 375 px phone viewport. A test fails if the page asked any host other
than the live server, logged a Content Security Policy refusal, or threw an uncaught error.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django_guid.log_filters import CorrelationId
from pythonjsonlogger.json import JsonFormatter

from sesame_portal.request_log import RedactRequestPaths
from tests.browser.helpers import LOG_SECRETS, new_phone_context

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CONSOLE_PROBLEMS = ("Content Security Policy", "Refused to")
_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    # Conftest hooks see the whole session's items: mark only the ones in this folder.
    for item in items:
        if _HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")
def browser():
    """One Chromium for every test in this folder.

    While Playwright's sync API is alive, its event loop counts as running in this thread,
    so Django's async-safety check would refuse every ORM call (test bodies, the flush after
    each transactional test). DJANGO_ALLOW_ASYNC_UNSAFE is therefore set for exactly the
    browser's lifetime, not at import: importing this conftest happens in every run of
    `tests/`, and a process-wide variable would leak into the rest of the suite (and into
    subprocesses, where `check --deploy` rightly refuses it with async.E001).
    """
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM}: install Debian's chromium package."
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ.setdefault(ASYNC_UNSAFE, "true")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)


@dataclass
class BrowserLog:
    """What one browser context did: every request URL, console message and page error."""

    allowed_netloc: str
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    _checked: tuple[int, int, int] = (0, 0, 0)

    def problems(self) -> list[str]:
        """Problems recorded since the last `assert_clean`."""
        start_requests, start_console, start_errors = self._checked
        external = [
            url
            for url in self.requests[start_requests:]
            if urlsplit(url).scheme in {"http", "https", "ws", "wss"}
            and urlsplit(url).netloc != self.allowed_netloc
        ]
        csp = [
            line
            for line in self.console[start_console:]
            if any(word in line for word in CONSOLE_PROBLEMS)
        ]
        errors = self.page_errors[start_errors:]
        found = []
        if external:
            found.append("requests to other hosts:\n  " + "\n  ".join(external))
        if csp:
            found.append("CSP refusals in the console:\n  " + "\n  ".join(csp))
        if errors:
            found.append("page errors:\n  " + "\n  ".join(errors))
        return found

    def assert_clean(self) -> None:
        """Fail now if anything bad was recorded. Tests may call it in their body (so an
        xfail covers it); the `page` fixture calls it again at teardown for the rest."""
        found = self.problems()
        self._checked = (len(self.requests), len(self.console), len(self.page_errors))
        if found:
            pytest.fail("\n".join(found), pytrace=False)


@pytest.fixture
def browser_log(live_server) -> BrowserLog:
    return BrowserLog(allowed_netloc=urlsplit(live_server.url).netloc)


class _LogLines(logging.Handler):
    """The portal's log lines during one test, formatted as production writes them."""

    def __init__(self) -> None:
        super().__init__()
        config = settings.LOGGING
        self.setFormatter(
            JsonFormatter(
                config["formatters"]["json"]["fmt"],
                rename_fields=config["formatters"]["json"]["rename_fields"],
            )
        )
        self.addFilter(CorrelationId())
        self.addFilter(RedactRequestPaths())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def page(browser, browser_log, live_server, transactional_db, consent_texts) -> Iterator:
    context = new_phone_context(browser, browser_log)
    page = context.new_page()
    page.on(
        "console", lambda message: browser_log.console.append(f"[{message.type}] {message.text}")
    )
    page.on("pageerror", lambda error: browser_log.page_errors.append(str(error)))
    logs = _LogLines()
    logging.getLogger().addHandler(logs)
    try:
        yield page
    finally:
        context.close()
        logging.getLogger().removeHandler(logs)
    browser_log.assert_clean()
    assert any('"route"' in line for line in logs.lines), "no request was logged"
    leaked = [line for line in logs.lines if LOG_SECRETS.search(line)]
    assert not leaked, "personal data or a credential in the logs:\n" + "\n".join(leaked[:5])


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    """Save a full-page screenshot as test-artifacts/screenshots/<name>.png."""

    def save(page, name: str) -> Path:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
