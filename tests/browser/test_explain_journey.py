"""Explanations people can act on, in a real Chromium at 375 px, in Chinese and English:
a dimension without data is greyed "no data yet" on the radar and the bars; a tip lands
on its what-if lever, what-if offers only the levers that apply and says the band and
each change's points; records to dispute name the account, instalment, ¥ amount and due
date; a partner authorisation names its benefit and shows the chosen last day."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from scoring import selectors
from scoring.services.scores import score_recompute
from tests.browser.helpers import (
    FORM_SUBMIT,
    assert_no_horizontal_scroll,
    log_in,
    ready_user,
    url_pattern,
)
from tests.dates import days_ago
from tests.factories import (
    add_account,
    add_repayment,
    make_benefit,
    make_id_number,
    make_partner,
    store_model,
)

LANG_SWITCH = "header .lang-switch button"


@pytest.fixture
def model(transactional_db, trained, consent_texts):
    selectors._cache.clear()
    store_model(trained)
    yield
    selectors._cache.clear()


def _newcomer() -> User:
    """Verified and consenting, nothing on record: every dimension but identity is empty."""
    user = ready_user("newcomer", id_number=make_id_number(sequence="611"))
    score_recompute(user=user, trigger="test")
    return user


def _borrower() -> User:
    """A consumer loan and a credit card at its limit, with an instalment of each due the
    same day, both unpaid."""
    user = ready_user("borrower", id_number=make_id_number(sequence="612"))
    loan = add_account(user, opened_on=days_ago(500))
    card = add_account(user, "credit_card", opened_on=days_ago(900), limit=10000, balance=9500)
    for months in (4, 3, 2):
        add_repayment(loan, due=days_ago(30 * months))
    for account in (loan, card):
        row = add_repayment(account, due=days_ago(12), paid=False)
        row.amount = Decimal("1200.00")
        row.save()
    score_recompute(user=user, trigger="test")
    return user


def test_no_data_dimensions_are_greyed_in_both_languages(page, live_server, screenshot, model):
    _newcomer()
    log_in(page, live_server, "newcomer")
    dimensions = page.locator("main ul.dimensions")
    expect(dimensions.locator("li.dimension-no-data")).to_have_count(4)
    expect(dimensions.locator("meter")).to_have_count(1)
    expect(dimensions.locator("li.dimension-no-data").first).to_contain_text("暂无数据")
    radar = page.locator("main svg.radar")
    expect(radar.locator(".radar-value-none")).to_have_count(4)
    expect(radar.locator(".radar-dot-none")).to_have_count(4)
    # Greyed: the no-data label is drawn in the muted colour, not the value's.
    colour = radar.locator(".radar-value-none").first.evaluate("e => getComputedStyle(e).fill")
    value = radar.locator(".radar-value:not(.radar-value-none)").first
    assert colour != value.evaluate("e => getComputedStyle(e).fill")
    assert_no_horizontal_scroll(page)
    screenshot(page, "explain-home-no-data-zh")

    page.locator(LANG_SWITCH).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(dimensions.locator("li.dimension-no-data").first).to_contain_text("No data yet")
    expect(radar.locator(".radar-value-none").first).to_have_text("No data yet")
    assert_no_horizontal_scroll(page)
    screenshot(page, "explain-home-no-data-en")

    # What-if: nothing overdue and no card, so neither lever is offered.
    page.goto(live_server.url + "/score/what-if/")
    expect(page.locator("#id_income_band")).to_be_visible()
    expect(page.locator("#id_repay_overdue")).to_have_count(0)
    expect(page.locator("#id_card_utilisation")).to_have_count(0)
    expect(page.locator("#id_bills_paid_on_time")).to_have_count(0)


def test_tips_land_on_levers_that_say_band_and_points(page, live_server, screenshot, model):
    _borrower()
    log_in(page, live_server, "borrower")
    page.locator(LANG_SWITCH).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    tips = page.locator("main ul.tips > li")
    overdue = tips.filter(has_text="overdue and unpaid")
    expect(overdue).to_have_count(1)
    cards = tips.filter(has_text="of their limits")
    expect(cards).to_have_count(1)
    cards.locator("a").click()
    expect(page).to_have_url(re.compile(r"/score/what-if/#id_card_utilisation$"))
    expect(page.locator("#id_card_utilisation")).to_be_visible()
    page.go_back()
    overdue.locator("a").click()
    expect(page).to_have_url(re.compile(r"/score/what-if/#id_repay_overdue$"))

    page.check("#id_repay_overdue")
    page.fill("#id_card_utilisation", "20")
    page.click(FORM_SUBMIT)
    result = page.locator("#what-if-result")
    expect(result.locator(".big-number")).to_have_text(re.compile(r"^\d{3}$"))
    expect(result.locator(".what-if-band .band")).to_have_text(
        re.compile("^(Poor|Fair|Good|Very good|Excellent)$")
    )
    levers = result.locator("ul.lever-list > li")
    expect(levers).to_have_count(2)
    expect(levers.first).to_contain_text("Repay what is overdue")
    expect(levers.first.locator(".points")).to_have_text(re.compile(r"^\+\d+ points?$"))
    expect(levers.nth(1)).to_contain_text("Credit card use")
    assert_no_horizontal_scroll(page)
    screenshot(page, "explain-what-if-en")

    page.locator(LANG_SWITCH).click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.check("#id_repay_overdue")
    page.click(FORM_SUBMIT)
    expect(result.locator("ul.lever-list > li").first.locator(".points")).to_have_text(
        re.compile(r"^\+\d+ 分$")
    )
    screenshot(page, "explain-what-if-zh")


def test_records_to_dispute_are_identifiable(page, live_server, screenshot, model):
    _borrower()
    log_in(page, live_server, "borrower")
    page.goto(live_server.url + "/score/records/")
    records = page.locator("main section[aria-labelledby=records-title] ul.query-list > li")
    due = timezone.localdate() - datetime.timedelta(days=12)
    loan = records.filter(has_text="消费贷款")
    card = records.filter(has_text="信用卡")
    expect(loan).to_have_count(1)
    expect(card).to_have_count(1)
    expect(loan).to_contain_text("第 4 期，共 4 期：¥1,200.00")  # noqa: RUF001
    expect(card).to_contain_text("第 1 期，共 1 期：¥1,200.00")  # noqa: RUF001
    assert loan.inner_text() != card.inner_text()
    assert_no_horizontal_scroll(page)
    screenshot(page, "explain-records-zh")

    page.locator(LANG_SWITCH).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    english = records.filter(has_text="Consumer loan opened on")
    expect(english).to_contain_text("instalment 4 of 4: ¥1,200.00 due on")
    expect(english).to_contain_text(f"{due.day}")
    screenshot(page, "explain-records-en")
    english.locator("a").click()
    expect(page.locator("main .consent-text")).to_contain_text("instalment 4 of 4")
    screenshot(page, "explain-dispute-new-en")


def test_partner_authorisation_names_its_benefit_and_the_chosen_last_day(
    page, live_server, screenshot, model
):
    ready_user("sharer", id_number=make_id_number(sequence="613"))
    partner = make_partner()
    benefit = make_benefit(partner, 600)
    log_in(page, live_server, "sharer")
    page.goto(live_server.url + "/accounts/consents/")
    page.locator(LANG_SWITCH).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    form = page.locator("main section[aria-labelledby=partner-title] form")
    form.locator("select[name=partner]").select_option(str(partner.pk))
    form.locator("input[name=scope][value=eligibility]").check()
    form.locator("input[name=stated_purpose]").fill("Deposit-free bike")
    last_day = (timezone.localdate() + datetime.timedelta(days=40)).isoformat()
    form.locator("input[name=expires_on]").fill(last_day)
    form.locator("button[type=submit]").click()
    # No benefit chosen: the form says so and keeps what was typed.
    expect(page.locator("main")).to_contain_text("Choose the benefit the partner may check.")
    expect(form.locator("input[name=stated_purpose]")).to_have_value("Deposit-free bike")
    form.locator("select[name=benefit]").select_option(str(benefit.pk))
    form.locator("button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/benefits/authorized/\d+/"))
    facts = page.locator("main dl.facts")
    expect(facts).to_contain_text(f"“{benefit.title_en}”")
    expect(facts).to_contain_text(f"{last_day} (inclusive)")
    assert_no_horizontal_scroll(page)
    screenshot(page, "explain-authorized-en")

    page.goto(live_server.url + "/accounts/consents/")
    row = page.locator("main li.consent").filter(has_text=partner.name)
    expect(row).to_contain_text(f"{last_day} (inclusive)")
    expect(row).to_contain_text(f"“{benefit.title_en}”")
    page.locator(LANG_SWITCH).click()
    expect(row).to_contain_text(f"{last_day}（含当天）")  # noqa: RUF001
    expect(row).to_contain_text(f"“{benefit.title_zh}”")
    screenshot(page, "explain-consents-zh")
    expect(page).to_have_url(url_pattern(live_server, "/accounts/consents/"))
