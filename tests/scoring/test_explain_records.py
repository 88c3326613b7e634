"""Records a person may dispute say which they are: the account (its kind and when it
was opened), which instalment of it, the amount with ¥ and the due date, so that two
instalments due the same day are told apart."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation

from scoring.services.disputes import record_summary, records_for_user, yuan
from tests.dates import days_ago
from tests.factories import add_account, add_bill, add_repayment, grant, make_user

pytestmark = pytest.mark.django_db


def test_amounts_read_as_on_a_statement():
    assert yuan(Decimal("1234.5")) == "¥1,234.50"
    assert yuan(Decimal("56")) == "¥56.00"


@pytest.fixture
def two_late_the_same_day():
    user = make_user("identified")
    grant(user)
    loan = add_account(user, opened_on=days_ago(400))
    card = add_account(user, "credit_card", opened_on=days_ago(900))
    for months in (5, 4, 3):
        add_repayment(loan, due=days_ago(30 * months))
    first = add_repayment(loan, due=days_ago(40), days_overdue=10)
    second = add_repayment(card, due=days_ago(40), days_overdue=10)
    third = add_repayment(loan, due=days_ago(10), paid=False)
    first.amount, second.amount = Decimal("1200.00"), Decimal("1200.00")
    first.save(), second.save()
    return user, first, second, third


def test_two_instalments_of_the_same_day_are_told_apart(two_late_the_same_day):
    user, first, second, third = two_late_the_same_day
    with translation.override("en"):
        summaries = {r.record_id: r.summary for r in records_for_user(user=user)}

    assert summaries[first.pk] != summaries[second.pk]
    assert "Consumer loan opened on" in summaries[first.pk]
    assert "instalment 4 of 5" in summaries[first.pk]
    assert "Credit card opened on" in summaries[second.pk]
    assert "instalment 1 of 1" in summaries[second.pk]
    assert "¥1,200.00 due on" in summaries[first.pk]
    assert "paid 10 days late" in summaries[first.pk]
    assert "instalment 5 of 5" in summaries[third.pk]
    assert summaries[third.pk].endswith("unpaid")


def test_the_dispute_form_shows_the_same_summary(two_late_the_same_day):
    user, first, _second, _third = two_late_the_same_day
    with translation.override("en"):
        listed = {r.record_id: r.summary for r in records_for_user(user=user)}
        single = record_summary(user=user, kind="repayment", record_id=first.pk, field="")
    assert single == listed[first.pk]

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    page = client.get(f"/score/disputes/new/?kind=repayment&record={first.pk}").content.decode()
    assert "instalment 4 of 5" in page


def test_records_page_in_chinese_names_account_amount_and_due_date(two_late_the_same_day):
    user, _first, _second, _third = two_late_the_same_day
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-Hans")
    client.force_login(user)
    page = client.get("/score/records/").content.decode()
    # Full-width brackets, comma and colon, as Chinese copy has them.
    assert re.search(r"消费贷款（[^）]+开户）第 4 期，共 5 期：¥1,200.00，", page)  # noqa: RUF001


def test_bills_say_their_amount(db):
    user = make_user("billed")
    bill = add_bill(user, due=days_ago(20), paid_on=None, kind="water")
    with translation.override("en"):
        [record] = [r for r in records_for_user(user=user) if r.record_id == bill.pk]
    assert record.summary == (
        f"Water bill due on {record.summary.split('due on ')[1].split(' (')[0]} "
        f"({yuan(bill.amount)}): unpaid"
    )
