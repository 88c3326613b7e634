"""What each partner knows about me, in a real Chromium at 375 px, in both languages: from
"who checked my score" to the partner's page (what it was shown, the authorisation), one
tap asks it to erase, the partner lists the request through its API (naming the person
only by the token id it holds) and marks it done, and the person sees it done with the
partner's note, and is told."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from django.utils import translation
from playwright.sync_api import expect

from benefits.demo import demo_benefits_load, demo_partners_load
from benefits.models import ErasureRequest, Partner
from benefits.services.partner_access import api_key_create
from tests.browser.helpers import (
    DIMENSIONS,
    SCORE,
    assert_no_horizontal_scroll,
    assert_tab_bar_leaves_content_visible,
    log_in,
    ready_user,
    snapshot_store,
    url_pattern,
)
from tests.factories import authorize, make_id_number

LANGUAGES = {"zh": "zh-hans", "en": "en"}
GREENLANE = "绿道单车 GreenLane Bikes"
PURPOSE = "开通免押金骑行 (deposit-free bike rental)"
NOTE = "已删除全部记录 all records erased"


@pytest.fixture
def catalogue(transactional_db):
    demo_partners_load()
    return demo_benefits_load()


def _t(lang: str, msgid: str, **params) -> str:
    with translation.override(LANGUAGES[lang]):
        text = translation.gettext(msgid)
    return text % params if params else text


def _partner_call(live_server, api_key: str, path: str, body: dict | None = None):
    """One call of the partner API as the partner's server makes it: only the key."""
    request = urllib.request.Request(  # noqa: S310 - http to the live server
        live_server.url + "/api/v1/partner/" + path,
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "POST",
        headers={
            "Authorization": f"Api-Key {api_key}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_partner_page_erasure_journey(
    lang, page, live_server, screenshot, catalogue, recompute_calls, browser_log
):
    username = f"erasing{lang}"
    user = ready_user(username, id_number=make_id_number(sequence="731" if lang == "zh" else "733"))
    snapshot_store(user, SCORE, DIMENSIONS)
    partner = Partner.objects.get(name=GREENLANE)
    _key, api_key = api_key_create(partner=partner, label="browser test")
    _grant, token = authorize(user, partner, "score", purpose=PURPOSE)
    status, _answer = _partner_call(live_server, api_key, f"authorizations/{token}/score/")
    assert status == 200  # one disclosure: the score

    page.context.add_cookies(
        [{"name": "django_language", "value": LANGUAGES[lang], "url": live_server.url}]
    )
    log_in(page, live_server, username)

    # From "who checked my score" to the partner's own page.
    page.goto(live_server.url + "/benefits/queries/")
    assert_no_horizontal_scroll(page)
    screenshot(page, f"partner-queries-{lang}")
    page.locator("main .partner-list a").filter(has_text=partner.name_en or GREENLANE).click()
    expect(page).to_have_url(url_pattern(live_server, f"/benefits/partners/{partner.pk}/"))
    with translation.override(LANGUAGES[lang]):
        shown_name = partner.display_name
    expect(page.locator("main h1")).to_contain_text(shown_name)
    disclosures = page.locator("main section[aria-labelledby=disclosures-title] li")
    expect(disclosures).to_have_count(1)
    expect(disclosures.first).to_contain_text(PURPOSE)
    authorisations = page.locator("main section[aria-labelledby=authorisations-title] li")
    expect(authorisations).to_have_count(1)
    expect(authorisations.first).to_contain_text(_t(lang, "Active"))
    assert_no_horizontal_scroll(page)
    assert_tab_bar_leaves_content_visible(page)
    screenshot(page, f"partner-page-{lang}")

    # One tap: the request is sent, shown as waiting, and the button is gone.
    erasure = page.locator("main section#erasure")
    erasure.locator("button[type=submit]").click()
    sent = _t(lang, "Sent. %(partner)s must erase your data by %(due)s.")
    expect(page.locator("#messages")).to_contain_text(sent.split("%(partner)s")[0].strip())
    expect(erasure).to_contain_text(_t(lang, "Waiting for the partner"))
    expect(erasure.locator("button[type=submit]")).to_have_count(0)
    assert_no_horizontal_scroll(page)
    screenshot(page, f"partner-page-erasure-sent-{lang}")
    [request] = ErasureRequest.objects.filter(user=user)

    # The partner lists it, knowing the person by its token's id only, and marks it done.
    status, listed = _partner_call(live_server, api_key, "erasure-requests/")
    assert status == 200
    [row] = listed
    assert row["id"] == request.pk
    assert token.startswith(row["token_ids"][0] + "_")
    assert username not in json.dumps(listed)
    status, done = _partner_call(
        live_server, api_key, f"erasure-requests/{request.pk}/done/", {"note": NOTE}
    )
    assert status == 200
    assert done["done_at"]
    status, again = _partner_call(
        live_server, api_key, f"erasure-requests/{request.pk}/done/", {"note": NOTE}
    )
    assert (status, again["code"]) == (409, "erasure_request_done")

    # The person sees it done, with the partner's note, and may ask again later.
    page.reload()
    done_row = page.locator("main section#erasure li.erasure-done")
    expect(done_row).to_contain_text(_t(lang, "Erased"))
    expect(done_row).to_contain_text(NOTE)
    expect(page.locator("main section#erasure button[type=submit]")).to_have_count(1)
    assert_no_horizontal_scroll(page)
    screenshot(page, f"partner-page-erasure-done-{lang}")

    # And is told, with a link back to the partner's page.
    page.goto(live_server.url + "/accounts/notifications/")
    told = page.locator("main").get_by_text(GREENLANE).first
    expect(told).to_be_visible()
    browser_log.assert_clean()
