"""Decision receipts, honour reports and partner cards (issue 20, capabilities 3 and 4) in
a real Chromium at 375 px, in Chinese and in English: the partner reads the person's
score and reports its decision through the API; the person sees the decision beside the
query; the person reports the partner for a benefit it did not honour; anyone, logged out,
opens the partner's public card.

Screenshots go to test-artifacts/screenshots/receipts-<lang>-<step>.png."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from django.utils import translation
from playwright.sync_api import expect

from benefits.models import DecisionReceipt, HonourReport
from benefits.services.unlocks import unlocks_apply
from scoring.services.disputes import dispute_file
from tests.browser.helpers import (
    DIMENSIONS,
    SCORE,
    assert_no_horizontal_scroll,
    assert_tab_bar_leaves_content_visible,
    log_in,
    new_phone_context,
    ready_user,
    snapshot_store,
    url_pattern,
)
from tests.dates import days_ago
from tests.factories import (
    add_bill,
    authorize,
    make_api_key,
    make_benefit,
    make_id_number,
    make_partner,
)

LANGUAGES = {"zh": "zh-hans", "en": "en"}
WHAT = "门店说没有免押金这项权益。收了我200元押金。"


def _t(lang: str, msgid: str) -> str:
    with translation.override(LANGUAGES[lang]):
        return translation.gettext(msgid)


def _partner_call(live_server, key: str, path: str, body: dict | None = None):
    """One partner API call as the partner's server makes it: only the key, no cookies."""
    request = urllib.request.Request(  # noqa: S310 - http to the live server
        live_server.url + "/api/v1/partner/" + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Authorization": f"Api-Key {key}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        },
        method="POST" if body is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _phone_layout(page) -> None:
    assert_no_horizontal_scroll(page)
    assert_tab_bar_leaves_content_visible(page)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_receipts_journey(
    lang, page, browser, browser_log, live_server, screenshot, recompute_calls
):
    username = f"receipts{lang}"
    user = ready_user(username, id_number=make_id_number(sequence="701" if lang == "zh" else "702"))
    snapshot_store(user, SCORE, DIMENSIONS)
    partner = make_partner("快借数据 QuickLend Data", category="lending")
    partner.licence_number, partner.licence_authority = "京金租-2026-017", "北京市地方金融管理局"
    partner.name_en = "QuickLend Data"
    partner.save()
    benefit = make_benefit(
        partner, 600, title_zh="押金全免", title_en="No deposit", terms_zh="", terms_en=""
    )
    unlocks_apply(scores=[(user.pk, SCORE, DIMENSIONS)])
    _grant, token = authorize(user, partner, "score", use_limit="queries", max_queries=5)
    key = make_api_key(partner)

    # The partner reads the score, then reports its decision with a documented reason.
    assert _partner_call(live_server, key, f"authorizations/{token}/score/")[0] == 200
    status, answer = _partner_call(
        live_server,
        key,
        f"authorizations/{token}/decisions/",
        {"decision": "limit", "reason_code": "limit_by_band", "limit": 5000},
    )
    assert status == 201, answer
    receipt = DecisionReceipt.objects.get(user=user)

    # The person sees it beside the query, in their language.
    page.context.add_cookies(
        [{"name": "django_language", "value": LANGUAGES[lang], "url": live_server.url}]
    )
    log_in(page, live_server, username)
    page.goto(live_server.url + "/benefits/queries/")
    beside = page.locator(f"main ul.query-list > li:has(#decision-{receipt.pk})")
    expect(beside).to_have_count(1)
    with translation.override(LANGUAGES[lang]):
        outcome, reason = str(receipt.get_outcome_display()), str(receipt.get_reason_code_display())
    decision = beside.locator(f"#decision-{receipt.pk}")
    expect(decision).to_contain_text(outcome)
    expect(decision).to_contain_text("¥5000")
    expect(decision).to_contain_text(reason)
    expect(beside).to_contain_text(_t(lang, "Score"))
    _phone_layout(page)
    screenshot(page, f"receipts-{lang}-1-decision")

    # With a dispute of theirs still open, they add the decision to it.
    bill = add_bill(user, due=days_ago(40), paid_on=None, kind="water")
    dispute = dispute_file(
        user=user, kind="bill", record_id=bill.pk, field="", statement="已缴清。"
    )
    page.reload()
    decision = page.locator(f"#decision-{receipt.pk}")
    expect(decision.locator("select[name=dispute]")).to_have_value(str(dispute.pk))
    _phone_layout(page)
    screenshot(page, f"receipts-{lang}-1b-dispute-offer")
    decision.get_by_role("button", name=_t(lang, "Dispute this decision")).click()
    expect(page).to_have_url(url_pattern(live_server, f"/score/disputes/{dispute.pk}/"))
    expect(page.locator("main ol.steps")).to_contain_text(outcome)

    # The notification leads there too.
    page.goto(live_server.url + "/accounts/notifications/")
    expect(page.locator("main")).to_contain_text(outcome)

    # The person reports the partner for a benefit it did not honour.
    page.goto(live_server.url + "/benefits/vouchers/")
    page.get_by_role("link", name=_t(lang, "A partner did not honour a benefit? Report it")).click()
    expect(page).to_have_url(url_pattern(live_server, "/benefits/honour-reports/"))
    page.select_option("#id_benefit", str(benefit.pk))
    page.fill("#id_what_happened", WHAT)
    _phone_layout(page)
    screenshot(page, f"receipts-{lang}-2-honour-form")
    page.click("main form.form button[type=submit]")
    expect(page).to_have_url(url_pattern(live_server, "/benefits/honour-reports/"))
    report = HonourReport.objects.get(user=user)
    filed = page.locator(f"#report-{report.pk}")
    expect(filed).to_contain_text(WHAT)
    expect(filed).to_contain_text(_t(lang, "Answer due by"))
    _phone_layout(page)
    screenshot(page, f"receipts-{lang}-3-honour-filed")

    # Anyone, logged out, opens the partner's public card: figures, nothing personal.
    stranger = new_phone_context(browser, browser_log, locale="en-US" if lang == "en" else "zh-CN")
    try:
        public = stranger.new_page()
        public.goto(live_server.url + f"/benefits/partners/{partner.pk}/card/")
        expect(public.locator("main h1")).to_have_text(
            partner.name_en if lang == "en" else partner.name
        )
        main = public.locator("main")
        expect(main).to_contain_text(_t(lang, "Refusal rate"))
        expect(main).to_contain_text(_t(lang, "Complaint rate"))
        expect(main).to_contain_text(_t(lang, "Open anomalies"))
        expect(main).to_contain_text("京金租-2026-017")
        assert username not in main.inner_text()
        assert WHAT not in main.inner_text()
        assert_no_horizontal_scroll(public)  # logged out: no tab bar
        screenshot(public, f"receipts-{lang}-4-card")
    finally:
        stranger.close()
