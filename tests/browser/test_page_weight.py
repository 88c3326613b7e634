"""Page weight: the bytes a phone downloads, measured on the wire by Chromium itself
(DevTools' Network domain, cache disabled), for the first page a phone loads and for the
score home of a person with a score. Each must stay under 150 KB, all of it from the
portal. The figures are written to test-artifacts/page-weight.json for the benchmarks.
"""

from __future__ import annotations

import datetime
import importlib
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from accounts.services import profile_update
from benefits.demo import demo_benefits_load, demo_partners_load
from scoring import selectors
from scoring.models import ScoreSnapshot
from scoring.services.scores import score_recompute
from tests.browser.helpers import log_in, ready_user, url_pattern, wait_until
from tests.factories import make_id_number, store_model

BUDGET = 150 * 1024
ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "page-weight.json"
NOTE = (
    "Bytes on the wire as Chromium's DevTools report them (Network.loadingFinished "
    "encodedDataLength: response headers and body, plus the headers of any redirect), "
    "with the browser cache disabled. The live test server serves static files "
    "uncompressed (no gzip or brotli), so each figure is an upper bound of what a "
    "compressing production server sends."
)


class WireMeter:
    """Every network request of one page, with the bytes it took, from a CDP session."""

    def __init__(self, page) -> None:
        self.page = page
        self.cdp = page.context.new_cdp_session(page)
        self.requests: dict[str, dict] = {}
        self.order: list[str] = []
        self.cdp.on("Network.requestWillBeSent", self._sent)
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.on("Network.loadingFailed", self._failed)
        self.cdp.send("Network.enable")
        self.cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})

    def reset(self) -> None:
        self.requests.clear()
        self.order.clear()

    def _entry(self, key: str, url: str) -> dict:
        entry = {"url": url, "status": None, "type": None, "bytes": 0, "encoding": ""}
        self.requests[key] = entry
        self.order.append(key)
        return entry

    def _sent(self, event: dict) -> None:
        request_id = event["requestId"]
        redirect = event.get("redirectResponse")
        if redirect is not None and request_id in self.requests:
            # The same id goes on with the new URL: keep the redirect as its own row.
            hop = self.requests.pop(request_id)
            self.order.remove(request_id)
            key = f"{request_id}:{len(self.order)}"
            hop.update(
                status=redirect.get("status"),
                bytes=int(redirect.get("encodedDataLength") or 0),
                finished=True,
            )
            self.requests[key] = hop
            self.order.append(key)
        entry = self._entry(request_id, event["request"]["url"])
        entry.update(type=event.get("type"), loader=event.get("loaderId"))

    def _response(self, event: dict) -> None:
        entry = self.requests.get(event["requestId"])
        if entry is None:
            return
        response = event["response"]
        headers = {name.lower(): value for name, value in response.get("headers", {}).items()}
        entry.update(status=response.get("status"), encoding=headers.get("content-encoding", ""))

    def _finished(self, event: dict) -> None:
        entry = self.requests.get(event["requestId"])
        if entry is not None:
            entry.update(bytes=int(event.get("encodedDataLength") or 0), finished=True)

    def _failed(self, event: dict) -> None:
        entry = self.requests.get(event["requestId"])
        if entry is not None:
            entry.update(failed=event.get("errorText", "failed"), finished=True)

    def _rows(self, url: str) -> list[dict]:
        """Only this navigation's requests: not the last page's late favicon, say."""
        rows = [self.requests[key] for key in self.order]
        loader = next(r["loader"] for r in rows if r["type"] == "Document" and r["url"] == url)
        return [row for row in rows if row["loader"] == loader]

    def _settled(self, url: str, icons: list[str]) -> bool:
        rows = self._rows(url)
        seen = {row["url"] for row in rows}
        return all(icon in seen for icon in icons) and all(row.get("finished") for row in rows)

    def load(self, url: str) -> dict:
        """Load `url` with an empty cache and return what it cost."""
        self.reset()
        self.page.goto(url, wait_until="networkidle")
        # The favicon is fetched on its own schedule, after network idle: wait until it and
        # every other request of this navigation has finished.
        icons = self.page.eval_on_selector_all("link[rel~=icon]", "links => links.map(l => l.href)")
        wait_until(self.page, lambda: self._settled(url, icons))
        rows = self._rows(url)
        return {
            "url": urlsplit(url).path,
            "final_url": _path(self.page.url),
            "total_bytes": sum(row["bytes"] for row in rows),
            "requests": len(rows),
            "resources": [
                {
                    "url": _path(row["url"]),
                    "status": row["status"],
                    "type": row["type"],
                    "bytes": row["bytes"],
                    "content_encoding": row["encoding"] or None,
                    **({"failed": row["failed"]} if row.get("failed") else {}),
                }
                for row in rows
            ],
            "hosts": sorted({urlsplit(row["url"]).netloc for row in rows}),
            "unfinished": [_path(row["url"]) for row in rows if not row.get("finished")],
        }


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _person_with_a_score(trained_result) -> User:
    """A verified, consenting person with a real score and a full home history chart."""
    user = ready_user("weighed", id_number=make_id_number(sequence="515"))
    profile_update(
        user=user,
        sections={
            "education": {
                "education_level": "bachelor",
                "school": "复旦大学",
                "graduation_year": 2012,
            },
            "income": {"income_band": "8k_12k"},
        },
    )
    store_model(trained_result)
    latest = score_recompute(user=user, trigger="test")
    assert latest is not None
    now = timezone.now()
    for weeks in range(1, 12):  # the home shows the last 12 scores
        past = ScoreSnapshot.objects.get(pk=latest.pk)
        past.pk = None
        past.score = latest.score - 2 * weeks
        past.computed_at = now - datetime.timedelta(weeks=weeks)
        past.save()
    return user


def test_page_weight(
    page,
    live_server,
    browser,
    browser_log,
    recompute_calls,
    trained,
):
    demo_partners_load()
    demo_benefits_load()
    importlib.import_module("scoring.migrations.0003_recompute_schedule").schedule(apps, None)
    meter = WireMeter(page)

    # The first page a phone loads: / logged out, what the portal is and where to start.
    first = meter.load(live_server.url + "/")
    expect(page).to_have_url(url_pattern(live_server, "/"))
    expect(page.locator("main a[href='/accounts/signup/']")).to_be_visible()
    expect(page.locator("main a[href='/accounts/login/']")).to_be_visible()

    # The score home of a person with a score.
    _person_with_a_score(trained)
    log_in(page, live_server, "weighed")
    home = meter.load(live_server.url + "/")
    expect(page.locator("#score-panel svg.gauge")).to_be_visible()
    expect(page.locator("#score-panel svg.history-chart circle.history-dot")).to_have_count(12)
    expect(page.locator("#score-panel[hx-trigger]")).to_have_count(0)

    pages = {"first_visit_logged_out": first, "score_home": home}
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(
        json.dumps(
            {
                "budget_bytes": BUDGET,
                "note": NOTE,
                "measured_at": timezone.now().isoformat(timespec="seconds"),
                "browser": f"Chromium {browser.version}",
                "viewport": "375x812, device scale factor 2",
                "database": connection.vendor,
                "pages": pages,
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )

    portal = urlsplit(live_server.url).netloc
    for name, measured in pages.items():
        paths = [row["url"] for row in measured["resources"]]
        assert measured["hosts"] == [portal], f"{name} left the portal: {measured['hosts']}"
        assert not measured["unfinished"], f"{name}: still loading {measured['unfinished']}"
        assert not [row for row in measured["resources"] if row.get("failed")], measured
        assert any(path.endswith(".css") for path in paths), f"{name}: no stylesheet {paths}"
        assert any("htmx" in path for path in paths), f"{name}: no htmx {paths}"
        assert measured["total_bytes"] > 0
    # The first page is `/` itself now (no redirect to count): the welcome page.
    assert first["resources"][0]["status"] == 200, first["resources"][0]
    assert first["final_url"] == "/"
    over = {
        name: measured["total_bytes"]
        for name, measured in pages.items()
        if measured["total_bytes"] >= BUDGET
    }
    assert not over, f"over the {BUDGET} byte budget: {over} (see {ARTIFACT})"
    browser_log.assert_clean()


@pytest.fixture(autouse=True)
def _no_stale_model_cache():
    selectors._cache.clear()
    yield
    selectors._cache.clear()
