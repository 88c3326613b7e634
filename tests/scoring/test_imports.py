"""Importing provider CSV files: good rows are kept with their values, bad rows are
reported by line (the header is line 1), and a file that cannot be read imports nothing."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from scoring.models import (
    ActivityMonth,
    CreditAccount,
    Friendship,
    Repayment,
    UtilityBill,
    WealthHolding,
)
from scoring.services.imports import ImportReport, records_import
from sesame_portal.errors import ServiceError

HEADERS = {
    "accounts": "username,kind,opened_on,closed_on,credit_limit,balance",
    "repayments": "username,account_kind,account_opened_on,due_date,amount,paid_date,days_overdue",
    "activity": "username,month,spend,transfers_in,transactions,categories",
    "bills": "username,kind,due_date,amount,paid_date",
    "wealth": "username,product,amount,as_of",
    "friends": "username,friend_username,verified_on",
}
MODELS = {
    "accounts": CreditAccount,
    "repayments": Repayment,
    "activity": ActivityMonth,
    "bills": UtilityBill,
    "wealth": WealthHolding,
    "friends": Friendship,
}
# Two good rows per kind, with different keys; the repayments name the accounts that the
# `people` fixture opens.
GOOD = {
    "accounts": (
        "owner,consumer_loan,2021-04-01,,5000.00,1200.50",
        "other,car_loan,2019-05-20,2025-05-20,800000,0",
    ),
    "repayments": (
        "owner,credit_card,2020-01-01,2026-10-05,300,2026-10-05,0",
        "other,mortgage,2018-05-20,2026-12-20,4000,,0",
    ),
    "activity": ("owner,2026-10,3200.10,500,42,7", "other,2026-09-30,100,0,3,1"),
    "bills": ("owner,power,2026-10-15,88.20,2026-10-14", "other,phone,2026-12-01,59,"),
    "wealth": ("owner,money_market,15000,2026-11-01", "other,deposit,50000,2026-06-30"),
    "friends": ("owner,other,2026-01-02", "carol,dave,"),
}


def csv_text(kind: str, *rows: str) -> str:
    return "\n".join([HEADERS[kind], *rows]) + "\n"


@pytest.fixture
def write(tmp_path):
    def write(content: str | bytes, name: str = "data.csv") -> Path:
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    return write


@pytest.fixture
def people(owner, other_user) -> dict[str, User]:
    """Four users; owner holds a credit card and other a mortgage, for repayments."""
    users = {
        "owner": owner,
        "other": other_user,
        "carol": User.objects.create_user(username="carol"),
        "dave": User.objects.create_user(username="dave"),
    }
    CreditAccount.objects.create(
        user=owner, kind="credit_card", opened_on=datetime.date(2020, 1, 1), credit_limit=5000
    )
    CreditAccount.objects.create(
        user=other_user, kind="mortgage", opened_on=datetime.date(2018, 5, 20), credit_limit=9e5
    )
    return users


def run(kind: str, path: Path, today: datetime.date, **options) -> ImportReport:
    return records_import(kind=kind, path_or_file=path, today=today, **options)


def stored(kind: str) -> int:
    """How many records of the kind exist, excluding what the `people` fixture made."""
    return MODELS[kind].objects.count() - (2 if kind == "accounts" else 0)


# --- Good rows --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(GOOD))
def test_good_rows_of_every_kind_are_imported(kind, people, write, today):
    report = run(kind, write(csv_text(kind, *GOOD[kind])), today)

    assert report == ImportReport(imported=2, skipped=0, errors=[])
    # A friendship is stored once per direction.
    assert stored(kind) == (4 if kind == "friends" else 2)


def test_accounts_keep_their_values(people, write, today):
    run("accounts", write(csv_text("accounts", *GOOD["accounts"])), today)

    loan = CreditAccount.objects.get(user=people["owner"], kind="consumer_loan")
    assert (loan.opened_on, loan.closed_on) == (datetime.date(2021, 4, 1), None)
    assert (loan.credit_limit, loan.balance) == (Decimal("5000.00"), Decimal("1200.50"))
    car = CreditAccount.objects.get(user=people["other"], kind="car_loan")
    assert (car.opened_on, car.closed_on) == (
        datetime.date(2019, 5, 20),
        datetime.date(2025, 5, 20),
    )
    assert (car.credit_limit, car.balance) == (Decimal("800000"), Decimal("0"))


def test_repayment_is_attached_to_the_account_named_by_user_kind_and_opening_date(
    people, write, today
):
    run("repayments", write(csv_text("repayments", *GOOD["repayments"])), today)

    paid = Repayment.objects.get(user=people["owner"])
    assert paid.account == CreditAccount.objects.get(user=people["owner"])
    assert (paid.due_date, paid.paid_date, paid.amount, paid.days_overdue) == (
        datetime.date(2026, 10, 5),
        datetime.date(2026, 10, 5),
        Decimal("300"),
        0,
    )
    # A due date after today is an instalment still to come, not an error.
    upcoming = Repayment.objects.get(user=people["other"])
    assert upcoming.account.kind == "mortgage"
    assert (upcoming.due_date, upcoming.paid_date) == (datetime.date(2026, 12, 20), None)


def test_activity_month_is_stored_as_its_first_day(people, write, today):
    run("activity", write(csv_text("activity", *GOOD["activity"])), today)

    october = ActivityMonth.objects.get(user=people["owner"])
    assert october.month == datetime.date(2026, 10, 1)
    assert (october.spend, october.transfers_in) == (Decimal("3200.10"), Decimal("500"))
    assert (october.transactions, october.categories) == (42, 7)
    # Labelled by its last day, September is still September.
    assert ActivityMonth.objects.get(user=people["other"]).month == datetime.date(2026, 9, 1)


def test_bills_and_wealth_keep_their_values(people, write, today):
    run("bills", write(csv_text("bills", *GOOD["bills"])), today)
    run("wealth", write(csv_text("wealth", *GOOD["wealth"])), today)

    power = UtilityBill.objects.get(user=people["owner"])
    assert (power.kind, power.due_date, power.amount, power.paid_date) == (
        "power",
        datetime.date(2026, 10, 15),
        Decimal("88.20"),
        datetime.date(2026, 10, 14),
    )
    assert UtilityBill.objects.get(user=people["other"]).paid_date is None
    fund = WealthHolding.objects.get(user=people["owner"])
    assert (fund.product, fund.amount, fund.as_of) == (
        "money_market",
        Decimal("15000"),
        datetime.date(2026, 11, 1),
    )


def test_friendship_is_stored_in_both_directions_with_its_verification_day(people, write, today):
    run("friends", write(csv_text("friends", *GOOD["friends"])), today)

    owner, other = people["owner"], people["other"]
    pairs = set(Friendship.objects.values_list("user__username", "friend__username"))
    assert pairs == {("owner", "other"), ("other", "owner"), ("carol", "dave"), ("dave", "carol")}
    verified = Friendship.objects.get(user=owner, friend=other).verified_at
    assert verified.astimezone(datetime.UTC) == datetime.datetime(
        2026,
        1,
        1,
        16,
        tzinfo=datetime.UTC,  # midnight in Asia/Shanghai
    )


def test_friends_file_without_the_optional_verified_on_column(people, write, today):
    report = run("friends", write("username,friend_username\nowner,other\n"), today)

    assert report.imported == 1
    assert Friendship.objects.count() == 2


# --- Bad rows ---------------------------------------------------------------------------------

BAD_ROWS = [
    ("accounts", "owner,visa,2020-01-01,,1000,0", 'kind "visa" is not one of credit_card, '),
    (
        "accounts",
        "owner,credit_card,2020/01/01,,1000,0",
        'opened_on "2020/01/01" is not a date in the form YYYY-MM-DD',
    ),
    ("accounts", "owner,credit_card,2020-02-30,,1000,0", "opened_on 2020-02-30 is not a real"),
    ("accounts", "owner,car_loan,2026-11-22,,1000,0", "opened_on 2026-11-22 is in the future"),
    (
        "accounts",
        "owner,car_loan,2020-01-01,2019-12-31,1000,0",
        "closed_on 2019-12-31 is before opened_on 2020-01-01",
    ),
    ("accounts", "owner,car_loan,2020-01-01,,-5,0", "credit_limit -5 is negative"),
    ("accounts", "owner,car_loan,2020-01-01,,NaN,0", 'credit_limit "NaN" is not a number'),
    ("accounts", "owner,car_loan,2020-01-01,,1 000,0", 'credit_limit "1 000" is not a number'),
    (
        "accounts",
        "owner,car_loan,2020-01-01,,10000000000,0",
        "credit_limit 10000000000 is too large (the most accepted is 9999999999.99)",
    ),
    ("accounts", "owner,car_loan,2020-01-01,,10.005,0", "credit_limit 10.005 has more than 2"),
    ("accounts", "owner,car_loan,2020-01-01,,1000,", "balance is empty"),
    ("accounts", ",car_loan,2020-01-01,,1000,0", "username is empty"),
    ("accounts", "ghost,car_loan,2020-01-01,,1000,0", 'no user named "ghost"'),
    ("accounts", "owner,car_loan,2020-01-01,,1000", "has 5 values but the header has 6 columns"),
    (
        "accounts",
        "owner,car_loan,2020-01-01,,1000,0,surplus",
        "has 7 values but the header has 6 columns",
    ),
    (
        "repayments",
        "owner,credit_card,2020-01-01,2026-11-01,300,2026-11-22,3",
        "paid_date 2026-11-22 is in the future",
    ),
    (
        "repayments",
        "owner,credit_card,2020-01-01,2026-06-01,300,2025-05-30,0",
        "paid_date 2025-05-30 is more than 366 days before due_date 2026-06-01",
    ),
    (
        "repayments",
        "owner,credit_card,2020-01-01,2026-06-01,300,,-1",
        'days_overdue "-1" is not a whole number of 0 or more',
    ),
    (
        "repayments",
        "owner,credit_card,2020-01-01,2026-06-01,300,,2.5",
        'days_overdue "2.5" is not a whole number of 0 or more',
    ),
    (
        "repayments",
        "owner,credit_card,2020-01-01,2019-12-01,300,2019-12-01,0",
        "due_date 2019-12-01 is before the account was opened",
    ),
    (
        "repayments",
        "owner,mortgage,2020-01-01,2026-06-01,300,,0",
        '"owner" has no mortgage account opened on 2020-01-01',
    ),
    (
        "repayments",
        "ghost,credit_card,2020-01-01,2026-06-01,300,,0",
        'no user named "ghost"',
    ),
    ("activity", "owner,2026-12,10,0,1,1", "month 2026-12 has not begun"),
    (
        "activity",
        "owner,2026/03,10,0,1,1",
        'month "2026/03" is not a date in the form YYYY-MM or YYYY-MM-DD',
    ),
    ("activity", "owner,2026-03,10,0,1,40000", "categories 40000 is too large (the most"),
    ("activity", "owner,2026-03,10,0,-3,1", 'transactions "-3" is not a whole number'),
    ("activity", "ghost,2026-03,10,0,1,1", 'no user named "ghost"'),
    ("bills", "owner,internet,2026-10-15,50,", 'kind "internet" is not one of water, '),
    (
        "bills",
        "owner,gas,2026-10-15,100000000,",
        "amount 100000000 is too large (the most accepted is 99999999.99)",
    ),
    ("bills", "owner,gas,2026-10-15,20,2026-11-30", "paid_date 2026-11-30 is in the future"),
    ("bills", "ghost,gas,2026-10-15,20,", 'no user named "ghost"'),
    ("wealth", "owner,crypto,100,2026-11-01", 'product "crypto" is not one of money_market, '),
    ("wealth", "owner,fund,100,2027-01-01", "as_of 2027-01-01 is in the future"),
    ("wealth", "owner,fund,-0.01,2026-11-01", "amount -0.01 is negative"),
    ("wealth", "ghost,fund,100,2026-11-01", 'no user named "ghost"'),
    ("friends", "owner,owner,", "username and friend_username are the same user"),
    ("friends", "owner,ghost,", 'no user named "ghost"'),
    ("friends", "ghost,owner,", 'no user named "ghost"'),
    ("friends", "owner,dave,2026-11-22", "verified_on 2026-11-22 is in the future"),
]


@pytest.mark.parametrize(
    ("kind", "bad_row", "reason"), BAD_ROWS, ids=[f"{k}:{r}" for k, _, r in BAD_ROWS]
)
def test_bad_row_is_reported_by_line_and_the_rows_around_it_are_imported(
    kind, bad_row, reason, people, write, today
):
    path = write(csv_text(kind, GOOD[kind][0], bad_row, GOOD[kind][1]))

    report = run(kind, path, today)

    assert len(report.errors) == 1
    line, message = report.errors[0]
    assert line == 3
    assert message.startswith(reason)
    assert (report.imported, report.skipped) == (2, 0)
    assert stored(kind) == (4 if kind == "friends" else 2)


def test_repayment_for_two_identical_accounts_is_refused_as_ambiguous(people, write, today):
    CreditAccount.objects.create(
        user=people["owner"],
        kind="credit_card",
        opened_on=datetime.date(2020, 1, 1),
        credit_limit=1,
    )

    report = run("repayments", write(csv_text("repayments", *GOOD["repayments"])), today)

    assert report.errors == [
        (
            2,
            '"owner" has 2 credit_card accounts opened on 2020-01-01: '
            "the repayment cannot be matched to one of them",
        )
    ]
    assert report.imported == 1


def test_bad_rows_in_several_batches_come_back_in_line_order(people, write, today):
    rows = [f"owner,fund,{n},2026-10-{n:02d}" for n in range(1, 10)]
    rows[1] = "ghost,fund,1,2026-10-01"  # refused when its batch is stored
    rows[6] = "owner,fund,-1,2026-10-07"  # refused while reading
    rows[7] = "ghost,fund,1,2026-10-02"

    report = run("wealth", write(csv_text("wealth", *rows)), today, batch_size=4)

    assert [line for line, _ in report.errors] == [3, 8, 9]
    assert report.imported == 6


# --- Repeats ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(GOOD))
def test_importing_a_file_twice_skips_every_row_the_second_time(kind, people, write, today):
    path = write(csv_text(kind, *GOOD[kind]))
    run(kind, path, today)

    report = run(kind, path, today)

    assert report == ImportReport(imported=0, skipped=2, errors=[])
    assert stored(kind) == (4 if kind == "friends" else 2)


def test_row_repeated_in_the_file_is_reported_with_the_line_it_repeats(people, write, today):
    path = write(
        csv_text(
            "accounts",
            "owner,car_loan,2021-03-01,,90000,50000",
            "other,car_loan,2021-03-01,,1000,0",
            "owner,car_loan,2021-03-01,,90000,40000",
        )
    )

    report = run("accounts", path, today)

    assert report.errors == [(4, "repeats line 2 (same username, kind, opened_on)")]
    assert report.imported == 2
    assert CreditAccount.objects.get(kind="car_loan", user=people["owner"]).balance == 50000


def test_a_repeat_is_reported_even_when_its_first_row_was_in_an_earlier_batch(people, write, today):
    path = write(csv_text("bills", *GOOD["bills"], "carol,gas,2026-10-01,1,", GOOD["bills"][0]))

    report = run("bills", path, today, batch_size=2)

    assert report.errors == [(5, "repeats line 2 (same username, kind, due_date)")]
    assert report.imported == 3


def test_activity_month_repeated_in_the_file_updates_nothing(people, write, today):
    path = write(csv_text("activity", "owner,2026-10-01,100,0,5,2", "owner,2026-10-31,999,0,9,9"))

    report = run("activity", path, today)

    assert report.errors == [(3, "repeats line 2 (same username, month)")]
    assert ActivityMonth.objects.get().spend == Decimal("100")


def test_activity_month_already_stored_is_skipped_and_keeps_its_values(people, write, today):
    ActivityMonth.objects.create(
        user=people["owner"],
        month=datetime.date(2026, 10, 1),
        spend=100,
        transactions=5,
        categories=2,
    )

    report = run("activity", write(csv_text("activity", *GOOD["activity"])), today)

    assert report == ImportReport(imported=1, skipped=1, errors=[])
    assert ActivityMonth.objects.get(user=people["owner"]).spend == Decimal("100")


def test_friendship_named_in_both_directions_is_one_friendship(people, write, today):
    report = run("friends", write(csv_text("friends", "owner,other,", "other,owner,")), today)

    assert report.errors == [(3, "repeats line 2 (same username, friend_username)")]
    assert Friendship.objects.count() == 2


def test_friendship_stored_in_one_direction_only_gets_the_other(people, write, today):
    Friendship.objects.create(user=people["owner"], friend=people["other"])

    report = run("friends", write(csv_text("friends", "other,owner,")), today)

    assert report.imported == 1
    assert Friendship.objects.filter(user=people["other"], friend=people["owner"]).exists()


# --- The file ---------------------------------------------------------------------------------


def test_missing_header_column_imports_nothing(people, write, today):
    path = write("username,kind,opened_on,credit_limit\nowner,credit_card,2020-01-01,100\n")

    with pytest.raises(ServiceError) as caught:
        run("accounts", path, today)

    assert caught.value.code == "missing_columns"
    assert "closed_on, balance" in caught.value.message
    assert stored("accounts") == 0


def test_extra_columns_whitespace_and_header_case_are_tolerated(people, write, today):
    path = write(
        " Username ,Note,KIND,opened_on,closed_on,credit_limit,balance\n"
        "  owner , a comment ,  Consumer_Loan , 2020-01-01 ,, 5000 , 12.5 \n"
    )

    report = run("accounts", path, today)

    assert report == ImportReport(imported=1, skipped=0, errors=[])
    account = CreditAccount.objects.get(kind="consumer_loan")
    assert (account.kind, account.balance) == ("consumer_loan", Decimal("12.50"))


def test_column_named_twice_in_the_header_is_refused(people, write, today):
    with pytest.raises(ServiceError, match='"username" appears twice'):
        run("wealth", write("username,product,amount,as_of,username\n"), today)


def test_blank_lines_and_padded_cells_are_not_rows(people, write, today):
    path = write(
        HEADERS["wealth"]
        + "\r\n\r\n"
        + GOOD["wealth"][0]
        + ",,\r\n,,,\r\nghost,fund,1,2026-11-01\r\n"
    )

    report = run("wealth", path, today)

    assert report.imported == 1
    assert report.errors == [(5, 'no user named "ghost"')]


def test_header_only_file_imports_nothing_without_error(people, write, today):
    assert run("wealth", write(HEADERS["wealth"] + "\n"), today) == ImportReport()


@pytest.mark.parametrize("content", [b"", b"\n\n", "\ufeff".encode()])
def test_empty_file_is_refused(content, people, write, today):
    with pytest.raises(ServiceError) as caught:
        run("wealth", write(content), today)

    assert caught.value.code == "empty"


def test_byte_order_mark_before_the_header_is_ignored(people, write, today):
    path = write(("\ufeff" + csv_text("wealth", *GOOD["wealth"])).encode("utf-8"))

    assert run("wealth", path, today).imported == 2


def test_non_utf8_file_is_refused_before_any_batch_is_written(people, write, today):
    # GBK, as Excel on a Chinese system saves "CSV", far enough down to be in a later batch.
    rows = [*GOOD["wealth"], "carol,fund,1,2026-11-01", "dave,fund,1,2026-11-01"]
    content = csv_text("wealth", *rows).encode() + "owner,deposit,5,2026-11-01,张三\n".encode("gbk")

    with pytest.raises(ServiceError) as caught:
        run("wealth", write(content), today, batch_size=1)

    assert caught.value.code == "encoding"
    assert "line 6" in caught.value.message
    assert stored("wealth") == 0


def test_broken_csv_is_refused_before_any_batch_is_written(people, write, today):
    path = write(csv_text("wealth", *GOOD["wealth"], 'carol,"fund,1,2026-11-01'))

    with pytest.raises(ServiceError) as caught:
        run("wealth", path, today, batch_size=1)

    assert caught.value.code == "csv"
    assert "the row starting at line 4" in caught.value.message
    assert stored("wealth") == 0


def test_value_spanning_lines_is_reported_at_the_line_it_starts(people, write, today):
    path = write(
        csv_text("wealth", 'owner,"crypto', '",1,2026-11-01', 'other,"fund,1', '2026-11-01"')
    )

    report = run("wealth", path, today)

    assert report.errors == [
        (2, 'product "crypto" is not one of money_market, fund, deposit, insurance'),
        (
            4,
            "has 2 values but the header has 4 columns "
            "(it runs on to line 5: is a quote left open?)",
        ),
    ]


def test_unknown_kind_is_refused(write, today):
    with pytest.raises(ServiceError, match='Unknown kind "loans"'):
        run("loans", write("username\n"), today)


@pytest.mark.parametrize(
    "stream",
    [
        io.StringIO(csv_text("wealth", *GOOD["wealth"])),
        io.BytesIO(csv_text("wealth", *GOOD["wealth"]).encode()),
    ],
    ids=["text", "binary"],
)
def test_an_open_file_can_be_imported(stream, people, today):
    report = records_import(kind="wealth", path_or_file=stream, today=today)

    assert report.imported == 2
    assert not stream.closed  # the caller opened it, the caller closes it


def test_queries_grow_with_batches_not_rows(people, write, today):
    rows = [f"{name},fund,{n},2026-10-{n:02d}" for n in range(1, 16) for name in ("owner", "other")]
    path = write(csv_text("wealth", *rows))

    with CaptureQueriesContext(connection) as queries:
        report = run("wealth", path, today, batch_size=10)

    assert report.imported == 30
    # 3 batches, each: users, existing records, savepoint, insert, then the recompute
    # queue (consents, pending, insert), release.
    assert len(queries) <= 3 * 8


def test_a_crash_loses_the_batch_it_happened_in_and_nothing_of_it_stays(
    people, write, today, monkeypatch
):
    rows = [f"owner,fund,{n},2026-10-{n:02d}" for n in range(1, 5)]
    real_bulk_create = WealthHolding.objects.bulk_create
    calls = []

    def bulk_create_then_crash_on_the_second_batch(objs, **kwargs):
        result = real_bulk_create(objs, **kwargs)
        calls.append(len(objs))
        if len(calls) == 2:
            raise ConnectionError("the database went away")
        return result

    monkeypatch.setattr(
        WealthHolding.objects, "bulk_create", bulk_create_then_crash_on_the_second_batch
    )

    with pytest.raises(ConnectionError):
        run("wealth", write(csv_text("wealth", *rows)), today, batch_size=2)

    assert calls == [2, 2]
    assert sorted(WealthHolding.objects.values_list("amount", flat=True)) == [1, 2]


# --- The command ------------------------------------------------------------------------------


def test_command_prints_the_summary_and_each_bad_row(people, write):
    path = write(
        csv_text("wealth", GOOD["wealth"][0], "ghost,fund,1,2020-01-01", GOOD["wealth"][1])
    )
    out = io.StringIO()

    call_command("import_records", "wealth", str(path), stdout=out)

    assert out.getvalue().splitlines() == [
        "Imported 2, skipped 0, 1 bad rows",
        'line 3: no user named "ghost"',
    ]
    assert WealthHolding.objects.count() == 2


def test_command_lists_the_first_50_bad_rows_then_counts_the_rest(people, write):
    rows = [f"owner,fund,-{n},2020-01-01" for n in range(1, 61)]
    out = io.StringIO()

    call_command("import_records", "wealth", str(write(csv_text("wealth", *rows))), stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0] == "Imported 0, skipped 0, 60 bad rows"
    assert lines[1] == "line 2: amount -1 is negative"
    assert lines[50] == "line 51: amount -50 is negative"
    assert lines[51:] == ["... and 10 more bad rows"]


def test_command_refuses_a_file_missing_a_column_and_imports_nothing(people, write):
    path = write("username,product,amount\nowner,fund,100\n")

    with pytest.raises(CommandError, match="The header lacks as_of"):
        call_command("import_records", "wealth", str(path), stdout=io.StringIO())

    assert WealthHolding.objects.count() == 0


def test_command_refuses_a_non_utf8_file(people, write):
    path = write(HEADERS["wealth"].encode() + b"\n" + "张三,fund,1,2020-01-01\n".encode("gbk"))

    with pytest.raises(CommandError, match=r"not UTF-8 text \(line 2\)"):
        call_command("import_records", "wealth", str(path), stdout=io.StringIO())


def test_command_refuses_an_unknown_kind(write):
    with pytest.raises(CommandError, match="invalid choice: 'loans'"):
        call_command("import_records", "loans", str(write("username\n")))


def test_command_refuses_a_file_it_cannot_read(tmp_path):
    with pytest.raises(CommandError, match=r"Cannot read .*missing\.csv: No such file"):
        call_command("import_records", "wealth", str(tmp_path / "missing.csv"))


def test_an_import_queues_one_recompute_per_consenting_user(
    db, tmp_path, recompute_calls, django_capture_on_commit_callbacks
):
    from accounts.clients import Client
    from accounts.services import consent_grant
    from scoring.models import PendingRecompute

    consenting = User.objects.create_user("importee", password="x-long-password-1")
    User.objects.create_user("silent", password="x-long-password-1")
    consent_grant(user=consenting, purpose="scoring", client=Client(channel="web"))
    PendingRecompute.objects.all().delete()  # the consent's own recompute has run
    path = tmp_path / "wealth.csv"
    path.write_text(
        "username,product,amount,as_of\n"
        "importee,fund,1000,2026-01-01\nimportee,deposit,500,2026-01-01\n"
        "silent,fund,50,2026-01-01\n",
        encoding="utf-8",
    )

    with django_capture_on_commit_callbacks(execute=True):
        records_import(kind="wealth", path_or_file=path)

    assert recompute_calls == [(consenting.pk, "import:wealthholding")]
