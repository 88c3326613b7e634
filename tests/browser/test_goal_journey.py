"""The goal planner in a real Chromium at 375 px, in Chinese and English: from the score
home to the goal page, a benefit chosen as the goal with an action committed, and the
dated plan (what to do, when a late instalment stops counting, the expected score by
month, said to be an estimate), with nothing wider than the phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from scoring import selectors
from scoring.services.scores import score_recompute
from tests.browser.helpers import assert_no_horizontal_scroll, log_in, ready_user
from tests.dates import days_ago
from tests.factories import (
    add_account,
    add_repayment,
    make_benefit,
    make_id_number,
    make_partner,
    solid_file,
    store_model,
)

LANG_SWITCH = "header .lang-switch button"
SAVE = "main form.form button[type=submit]"


@pytest.fixture
def model(transactional_db, trained, consent_texts):
    selectors._cache.clear()
    store_model(trained)
    yield
    selectors._cache.clear()


def test_a_goal_and_its_dated_plan_in_both_languages(page, live_server, screenshot, model):
    user = ready_user("goal-setter", id_number=make_id_number(sequence="651"))
    solid_file(user)
    loan = add_account(user, opened_on=days_ago(700), limit=5000)
    add_repayment(loan, due=days_ago(500), days_overdue=10)
    score_recompute(user=user, trigger="test")
    benefit = make_benefit(make_partner(), 880, title_zh="免押金租车", title_en="Car, no deposit")

    log_in(page, live_server, "goal-setter")
    page.locator("main a[href='/benefits/goal/']").click()
    expect(page.locator("main h1")).to_have_text("我的目标")
    page.select_option("#id_benefit", str(benefit.pk))
    page.check("input[name=levers][value=card_utilisation]")
    page.click(SAVE)

    expect(page.locator("main")).to_contain_text("免押金租车：需要 880 分。")  # noqa: RUF001
    expect(page.locator("#todo-title")).to_have_text("要做的事")
    todo = page.locator("main section[aria-labelledby=todo-title] ul.lever-list > li")
    expect(todo.filter(has_text="已承诺")).to_have_count(1)
    expect(todo.first.locator(".points")).to_have_text(re.compile(r"^\+\d+$"))
    late = page.locator("main section[aria-labelledby=late-title] li")
    expect(late).to_have_count(1)
    expect(late.first).to_contain_text("逾期 10 天")
    expect(late.first).to_contain_text("起不再计入")
    expect(page.locator("main table tbody tr")).to_have_count(12)
    expect(page.locator("main")).to_contain_text("不是承诺")
    assert_no_horizontal_scroll(page)
    screenshot(page, "goal-plan-zh")

    page.locator(LANG_SWITCH).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main h1")).to_have_text("My goal")
    expect(page.locator("main")).to_contain_text("Car, no deposit: a score of 880.")
    expect(page.locator("main section[aria-labelledby=late-title] li").first).to_contain_text(
        "stops counting on"
    )
    expect(page.locator("main")).to_contain_text("An estimate from the current model")
    assert_no_horizontal_scroll(page)
    screenshot(page, "goal-plan-en")

    page.click("main form.inline-form button")
    expect(page.locator("main")).to_contain_text("Your goal is removed.")
    expect(page.locator("#choose-title")).to_have_text("Set my goal")
