"""A dispute that passed its deadline, at 375 px in Chinese and in English: the person
files a dispute of a late instalment, we fail to answer in 20 days, the deadline task
runs; the person is told, the dispute page shows the deadline, that it passed and that
the record does not count meanwhile, and the score history says why the score moved."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from scoring import selectors
from scoring.models import Dispute, PendingRecompute, ScoreSnapshot
from scoring.models.disputes import ANSWER_WITHIN
from scoring.services.scores import score_recompute
from scoring.tasks import disputes_overdue, score_recompute_user
from tests.browser.helpers import (
    FORM_SUBMIT,
    assert_no_horizontal_scroll,
    assert_tab_bar_leaves_content_visible,
    log_in,
    new_phone_context,
    ready_user,
)
from tests.dates import days_ago
from tests.factories import (
    SOLID_FILE_ANSWERS,
    add_repayment,
    mark_verified,
    solid_file,
    store_model,
)

LANGUAGES = {"zh": "zh-CN", "en": "en-US"}
WORDS = {
    "zh": {
        "late": "逾期 11 天",
        "dispute_this": "提出申诉",
        "received": "申诉已收到",
        "overdue": "已逾期",
        "uncounted": "这条记录不计入您的评分",
        "meanwhile": "在此期间不计入评分",
        "told": "我们未能在",
        "why": "申诉处理期限已过：被申诉的记录暂不计入评分",  # noqa: RUF001
    },
    "en": {
        "late": "paid 11 days late",
        "dispute_this": "Dispute this",
        "received": "Your dispute is received",
        "overdue": "Overdue",
        "uncounted": "this record does not count in your score",
        "meanwhile": "does not count in your score meanwhile",
        "told": "We did not answer your dispute by",
        "why": "Dispute deadline passed: the disputed record no longer counts",
    },
}


@pytest.fixture
def phone(request, browser, browser_log, transactional_db, consent_texts):
    context = new_phone_context(browser, browser_log, locale=LANGUAGES[request.param])
    page = context.new_page()
    page.on("console", lambda msg: browser_log.console.append(f"[{msg.type}] {msg.text}"))
    page.on("pageerror", lambda error: browser_log.page_errors.append(str(error)))
    yield page, request.param
    context.close()
    browser_log.assert_clean()


@pytest.fixture
def worker(monkeypatch):
    """A per-user recompute published runs at once, as a worker would run it."""

    def run(args=(), kwargs=None, **options):
        score_recompute_user.apply(args=args)

    monkeypatch.setattr("scoring.tasks.score_recompute_user.apply_async", run)


@pytest.fixture
def scored(transactional_db, trained, consent_texts):
    selectors._cache.clear()
    store_model(trained)
    user = ready_user("waiting")
    solid_file(user)
    loan = user.credit_accounts.filter(kind="consumer_loan").first()
    add_repayment(loan, due=days_ago(50), days_overdue=11)
    mark_verified(user, *SOLID_FILE_ANSWERS)
    first = score_recompute(user=user, trigger="identity_verified")
    ScoreSnapshot.objects.filter(pk=first.pk).update(
        computed_at=timezone.now() - datetime.timedelta(days=22)
    )
    # The recompute the file's profile queued is done (the score above is it).
    PendingRecompute.objects.filter(user=user).delete()
    yield user
    selectors._cache.clear()


@pytest.mark.parametrize("phone", ["zh", "en"], indirect=True)
def test_an_unanswered_dispute_stops_counting_after_its_deadline(
    phone, live_server, screenshot, scored, worker
):
    page, lang = phone
    words = WORDS[lang]
    log_in(page, live_server, "waiting")

    # File the dispute of the late instalment.
    page.goto(live_server.url + "/score/records/")
    row = page.locator("ul.query-list li", has_text=words["late"])
    row.get_by_role("link", name=words["dispute_this"]).click()
    page.fill("#id_statement", "I paid this instalment on time; the bank receipt says so.")
    page.click(FORM_SUBMIT)
    expect(page.locator(".messages")).to_contain_text(words["received"])
    dispute = Dispute.objects.get(user=scored)
    due = timezone.localdate(dispute.due_at).isoformat()
    expect(page.locator("main")).to_contain_text(due)
    expect(page.locator("#dispute-overdue")).to_have_count(0)

    # Twenty days pass unanswered; the deadline task runs.
    moved = timezone.now() - datetime.timedelta(days=21)
    Dispute.objects.filter(pk=dispute.pk).update(created_at=moved, due_at=moved + ANSWER_WITHIN)
    disputes_overdue()
    latest = ScoreSnapshot.objects.filter(user=scored).latest("computed_at")
    assert latest.trigger == "dispute_overdue"

    # The dispute page: the deadline, that it passed, and that the record does not count.
    page.reload()
    due = timezone.localdate(moved + ANSWER_WITHIN).isoformat()
    expect(page.locator("main dl")).to_contain_text(due)
    expect(page.locator("main dl .badge")).to_have_text(words["overdue"])
    expect(page.locator("#dispute-overdue")).to_contain_text(words["uncounted"])
    assert_no_horizontal_scroll(page)
    assert_tab_bar_leaves_content_visible(page)
    screenshot(page, f"dispute-deadline-{lang}-dispute")

    page.goto(live_server.url + "/score/records/")
    disputes = page.locator("section[aria-labelledby=disputes-title]")
    expect(disputes).to_contain_text(words["meanwhile"])
    assert_no_horizontal_scroll(page)
    screenshot(page, f"dispute-deadline-{lang}-records")

    # Told in the inbox, leading to the dispute.
    page.goto(live_server.url + "/accounts/notifications/")
    told = page.locator("main li", has_text=words["told"])
    expect(told).to_have_count(1)
    told.get_by_role("link").first.click()
    expect(page.locator("#dispute-overdue")).to_be_visible()

    # The history says why the score moved.
    page.goto(live_server.url + "/score/history/")
    expect(page.locator("main")).to_contain_text(words["why"])
    assert_no_horizontal_scroll(page)
    screenshot(page, f"dispute-deadline-{lang}-history")
