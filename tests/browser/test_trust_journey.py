"""Trust features in a real Chromium at 375 px: tap a point on the history chart to see
why the score changed, in points that add up; share a proof of the score and open it as a
merchant would, in another browser; revoke it and see the merchant's page refuse it."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from scoring import selectors
from scoring.models import ScoreSnapshot
from scoring.services.scores import score_recompute
from tests.browser.helpers import assert_no_horizontal_scroll, log_in, new_phone_context, ready_user
from tests.dates import days_ago
from tests.factories import (
    PASSWORD,
    SOLID_FILE_ANSWERS,
    add_repayment,
    make_id_number,
    mark_verified,
    set_profile,
    solid_file,
    store_model,
)

POINTS = re.compile("^([+\u2212\u00b1])(\\d+)$")  # +12, minus 12, plus-minus 0


@pytest.fixture
def scored_twice(
    transactional_db,
    trained,
    consent_texts,
) -> tuple[User, ScoreSnapshot]:
    """A user with an ordinary, verified file scored yesterday, then again after 10
    years of housing provident fund (verified: declared answers share a cap)."""
    selectors._cache.clear()
    store_model(trained)
    user = ready_user("trusting", id_number=make_id_number(sequence="501"))
    solid_file(user)
    mark_verified(user, *SOLID_FILE_ANSWERS)
    first = score_recompute(user=user, trigger="identity_verified")
    ScoreSnapshot.objects.filter(pk=first.pk).update(
        computed_at=timezone.now() - datetime.timedelta(days=1)
    )
    set_profile(user, provident_fund_months=120)
    second = score_recompute(user=user, trigger="profile:provident_fund")
    assert second.score != first.score
    yield user, second
    selectors._cache.clear()


def _signed(text: str) -> int:
    sign, number = POINTS.match(text.strip()).groups()
    return int(number) * (-1 if sign == "\u2212" else 1)


def test_tap_a_point_to_see_why_the_score_changed(page, live_server, screenshot, scored_twice):
    user, latest = scored_twice
    previous = ScoreSnapshot.objects.filter(user=user).exclude(pk=latest.pk).get()
    log_in(page, live_server, "trusting")
    page.goto(live_server.url + "/score/history/")
    assert_no_horizontal_scroll(page)

    # Tap the older point first: the first score has nothing to compare with.
    page.locator(f'svg.history-chart a[href="?at={previous.pk}#change"] .history-hit').click()
    expect(page.locator("#change")).to_contain_text("第一个信用分")

    page.locator(f'svg.history-chart a[href="?at={latest.pk}#change"] .history-hit').click()
    change = page.locator("#change")
    expect(change).to_contain_text("变化原因")
    expect(change).to_contain_text("住房公积金")
    total = _signed(change.locator(".change-total .points").inner_text())
    assert total == latest.score - previous.score
    lists = change.locator("ul.change-list")
    by_dimension = [_signed(t) for t in lists.nth(0).locator(".points").all_inner_texts()]
    by_item = [_signed(t) for t in lists.nth(1).locator(".points").all_inner_texts()]
    assert sum(by_dimension) == total
    assert sum(by_item) == total
    expect(change.locator("ul.events")).to_contain_text("资料有更新")
    assert_no_horizontal_scroll(page)
    screenshot(page, "trust-zh-history-change")


def test_share_a_proof_open_it_as_a_merchant_and_revoke_it(
    page, browser, browser_log, live_server, screenshot, scored_twice
):
    _user, latest = scored_twice
    log_in(page, live_server, "trusting")
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="向商户出示信用证明").click()
    expect(page).to_have_url(re.compile(r"/score/proofs/$"))
    page.fill("#id_threshold", str(latest.score - 10))
    page.check("#id_show_name")
    page.click("main form.form button[type=submit]")
    expect(page.locator(".qr-box svg")).to_be_visible()
    link = page.locator(".token-box").inner_text().strip()
    assert link.startswith(live_server.url + "/proof/")
    assert_no_horizontal_scroll(page)
    screenshot(page, "trust-zh-proof-created")

    # The merchant opens the link in their own browser, not logged in.
    merchant_context = new_phone_context(browser, browser_log)
    merchant = merchant_context.new_page()
    try:
        merchant.goto(link)
        expect(merchant.locator("h1")).to_have_text("芝麻门户出具的真实证明")
        expect(merchant.locator(".proof-answer")).to_contain_text("是")
        expect(merchant.locator("main")).to_contain_text("李*龙")
        assert str(latest.score) not in merchant.locator("main").inner_text()
        assert_no_horizontal_scroll(merchant)
        screenshot(merchant, "trust-zh-proof-merchant")

        # A link altered by hand is refused.
        response = merchant.goto(link[:-6] + "xxxxx/")
        assert response.status == 404
        expect(merchant.locator("h1")).to_have_text("不是真实的证明")

        # The holder sees the opening, then revokes the proof.
        page.reload()
        expect(page.locator("section[aria-labelledby=openings-title] time")).to_have_count(1)
        page.get_by_role("button", name="撤销此证明").click()
        expect(page.locator(".messages")).to_contain_text("证明已撤销")

        response = merchant.goto(link)
        assert response.status == 410
        expect(merchant.locator("h1")).to_have_text("该证明已被持有人撤销")
        screenshot(merchant, "trust-zh-proof-revoked")
    finally:
        merchant_context.close()


def test_file_a_dispute_and_see_an_admin_answer_it(
    page, browser, browser_log, live_server, screenshot, scored_twice, admin_user, tmp_path
):
    user, _latest = scored_twice
    loan = user.credit_accounts.order_by("pk").first()
    add_repayment(loan, due=days_ago(40), days_overdue=9)
    log_in(page, live_server, "trusting")
    page.goto(live_server.url + "/score/records/")
    row = page.locator("ul.query-list li", has_text="逾期 9 天")
    row.get_by_role("link", name="提出申诉").click()
    page.fill("#id_statement", "这一期我按时还了\uff0c银行回单附后。")
    receipt = tmp_path / "receipt.pdf"
    receipt.write_bytes(b"%PDF-1.4\n%receipt\n%%EOF\n")
    page.set_input_files("#id_attachment", str(receipt))
    page.click("main form.form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("申诉已收到")
    expect(page.locator("main")).to_contain_text("已受理")
    assert_no_horizontal_scroll(page)
    screenshot(page, "trust-zh-dispute-received")
    page.goto(live_server.url + "/score/records/")
    records = page.locator("section[aria-labelledby=records-title] li", has_text="逾期 9 天")
    expect(records).to_contain_text("申诉中")

    # An admin answers it in the admin: rejected, with a reason.
    admin_context = new_phone_context(browser, browser_log)
    admin = admin_context.new_page()
    try:
        admin.goto(live_server.url + "/admin/login/")
        admin.fill("#id_username", admin_user.username)
        admin.fill("#id_password", PASSWORD)
        admin.click("input[type=submit]")
        admin.goto(live_server.url + "/admin/scoring/dispute/")
        admin.locator("#result_list tbody tr").first.locator("a").first.click()
        admin.select_option("#id_status", "rejected")
        admin.click("input[name=_save]")
        expect(admin.locator(".errornote, .errorlist").first).to_be_visible()
        admin.select_option("#id_status", "rejected")
        admin.fill("#id_note", "银行确认该期于到期后第 9 天入账。")
        admin.click("input[name=_save]")
        expect(admin.locator(".messagelist")).to_be_visible()
        screenshot(admin, "trust-admin-dispute-answered")
    finally:
        admin_context.close()

    page.goto(live_server.url + "/score/records/")
    page.locator("section[aria-labelledby=disputes-title] a").first.click()
    expect(page.locator("main")).to_contain_text("已驳回")
    expect(page.locator("main")).to_contain_text("银行确认该期于到期后第 9 天入账。")
    screenshot(page, "trust-zh-dispute-answered")
