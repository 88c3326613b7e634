"""Importing what a provider receives from its sources: one CSV file per kind of record.

Every file is UTF-8 (a BOM is allowed), comma-separated, with a header on line 1. Header
names are matched ignoring case and surrounding spaces; columns not listed here are
ignored; every value is trimmed. A listed column must be in the header unless marked
optional, and a value may be blank only where the table says so.

Types: ``date`` is YYYY-MM-DD and, unless said otherwise, not after today; ``money`` is a
decimal of 0 or more with at most 2 decimal places, below 10,000,000,000 (utility bills:
below 100,000,000, what their column holds); ``count`` is a whole number of 0 or more;
``user`` is the ``username`` of an existing portal user; ``choice`` is one of the values
listed (case is ignored).

accounts (CreditAccount; a repeat is the same username, kind and opened_on)
    username        user
    kind            choice  credit_card, consumer_loan, car_loan, mortgage, microloan
    opened_on       date
    closed_on       date    blank while the account is open; not before opened_on
    credit_limit    money
    balance         money   what is owed today

repayments (Repayment; a repeat is the same account and due_date)
    username           user
    account_kind       choice  the account's kind, as in the accounts file
    account_opened_on  date    the account's opened_on, as in the accounts file
    due_date           date    may be in the future; not before the account was opened
    amount             money
    paid_date          date    blank while unpaid; at most 366 days before due_date
    days_overdue       count   at most 36,500

    CreditAccount has no external reference, so a repayment names its account by
    (username, account_kind, account_opened_on): import the accounts first. A row is
    refused when no account, or more than one, matches.

activity (ActivityMonth; a repeat is the same username and month)
    username        user
    month           date    YYYY-MM or YYYY-MM-DD, stored as the month's first day; the
                            month must have begun (a month's last day is fine)
    spend           money
    transfers_in    money
    transactions    count
    categories      count   spending categories used, at most 32,767

bills (UtilityBill; a repeat is the same username, kind and due_date)
    username        user
    kind            choice  water, power, gas, phone
    due_date        date    may be in the future
    amount          money
    paid_date       date    blank while unpaid; at most 366 days before due_date

wealth (WealthHolding; a repeat is the same username, product and as_of)
    username        user
    product         choice  money_market, fund, deposit, insurance
    amount          money
    as_of           date

friends (Friendship; one row per verified friendship, stored in both directions)
    username          user
    friend_username   user    not the same as username
    verified_on       date    optional column; blank or absent means the import time

A row whose record already exists is skipped and counted, so importing a file twice
changes nothing. A row repeating an earlier row of the same file (for friends, in either
direction) is a bad row naming that line: the source sent the record twice, maybe with
different values, and someone should look. Every other bad row is reported with its line
number and a reason, and the good rows around it are imported.

A file that is not UTF-8, not CSV, empty or missing a required column imports nothing:
it is read once to check that before anything is written.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import os
import re
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.db import models, transaction
from django.utils import timezone

from accounts.models import User
from scoring.models import (
    ActivityMonth,
    CreditAccount,
    Friendship,
    Repayment,
    UtilityBill,
    WealthHolding,
)
from scoring.tasks import score_recompute_queue_many
from sesame_portal.errors import ServiceError

BATCH_SIZE = 2_000
MAX_MONEY = Decimal("1e10")
MAX_DAYS_OVERDUE = 36_500  # a century: anything larger is a unit mistake
EARLIEST_PAYMENT = datetime.timedelta(days=366)  # before the due date
INT_MAX = 2_147_483_647  # PositiveIntegerField on every supported database
SMALLINT_MAX = 32_767

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_MONTH = re.compile(r"\d{4}-\d{2}(-\d{2})?")
_COUNT = re.compile(r"[0-9]+")  # int() would also take "1_000", "+3" and other scripts' digits


@dataclass
class ImportReport:
    imported: int = 0
    skipped: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


class _RowError(Exception):
    """Why one row is refused; the caller adds the line number."""


@dataclass
class _Row:
    line: int
    fields: dict[str, Any]


@dataclass
class _Built:
    objects: list[models.Model]
    imported: int
    skipped: int
    errors: list[tuple[int, str]] = field(default_factory=list)


# --- Values ----------------------------------------------------------------------------------


def _shown(value: str) -> str:
    return value if len(value) <= 40 else value[:37] + "..."


def _text(row: Mapping[str, str], column: str) -> str:
    value = row.get(column) or ""
    if not value:
        raise _RowError(f"{column} is empty")
    return value


def _date(
    row: Mapping[str, str],
    column: str,
    *,
    today: datetime.date | None,
    blank_ok: bool = False,
    pattern: re.Pattern[str] = _ISO_DATE,
) -> datetime.date | None:
    """A date; ``today`` is the latest accepted, None when any date will do."""
    value = row.get(column) or ""
    if not value:
        if blank_ok:
            return None
        raise _RowError(f"{column} is empty")
    if not pattern.fullmatch(value):
        expected = "YYYY-MM-DD" if pattern is _ISO_DATE else "YYYY-MM or YYYY-MM-DD"
        raise _RowError(f'{column} "{_shown(value)}" is not a date in the form {expected}')
    try:
        date = datetime.date.fromisoformat(value if len(value) == 10 else value + "-01")
    except ValueError:
        raise _RowError(f"{column} {value} is not a real date") from None
    if today is not None and date > today:
        raise _RowError(f"{column} {value} is in the future")
    return date


def _money(row: Mapping[str, str], column: str, model: type[models.Model]) -> Decimal:
    value = _text(row, column)
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise _RowError(f'{column} "{_shown(value)}" is not a number') from None
    if not amount.is_finite():
        raise _RowError(f'{column} "{_shown(value)}" is not a number')
    if amount < 0:
        raise _RowError(f"{column} {_shown(value)} is negative")
    # The database would round or refuse what its column cannot hold; say so instead.
    column_field = model._meta.get_field(column)
    places = Decimal(1).scaleb(-column_field.decimal_places)
    limit = min(MAX_MONEY, Decimal(10) ** (column_field.max_digits - column_field.decimal_places))
    if amount >= limit:
        raise _RowError(
            f"{column} {_shown(value)} is too large (the most accepted is {limit - places})"
        )
    if amount != amount.quantize(places):
        raise _RowError(
            f"{column} {_shown(value)} has more than {column_field.decimal_places} decimal places"
        )
    return abs(amount).quantize(places)  # abs: "-0" is zero


def _count(row: Mapping[str, str], column: str, *, maximum: int = INT_MAX) -> int:
    value = _text(row, column)
    if not _COUNT.fullmatch(value):
        raise _RowError(f'{column} "{_shown(value)}" is not a whole number of 0 or more')
    number = int(value)
    if number > maximum:
        raise _RowError(f"{column} {_shown(value)} is too large (the most accepted is {maximum})")
    return number


def _choice(row: Mapping[str, str], column: str, choices: type[models.TextChoices]) -> str:
    value = _text(row, column)
    if value.lower() not in choices.values:
        raise _RowError(f'{column} "{_shown(value)}" is not one of {", ".join(choices.values)}')
    return value.lower()


def _paid_date(
    row: Mapping[str, str], due_date: datetime.date, today: datetime.date
) -> datetime.date | None:
    paid_date = _date(row, "paid_date", today=today, blank_ok=True)
    if paid_date is not None and paid_date < due_date - EARLIEST_PAYMENT:
        raise _RowError(
            f"paid_date {paid_date} is more than {EARLIEST_PAYMENT.days} days "
            f"before due_date {due_date}"
        )
    return paid_date


# --- Rows: checks that need no database ------------------------------------------------------


def _account_parse(row: Mapping[str, str], today: datetime.date) -> dict[str, Any]:
    opened_on = _date(row, "opened_on", today=today)
    closed_on = _date(row, "closed_on", today=today, blank_ok=True)
    if closed_on is not None and closed_on < opened_on:
        raise _RowError(f"closed_on {closed_on} is before opened_on {opened_on}")
    return {
        "username": _text(row, "username"),
        "kind": _choice(row, "kind", CreditAccount.Kind),
        "opened_on": opened_on,
        "closed_on": closed_on,
        "credit_limit": _money(row, "credit_limit", CreditAccount),
        "balance": _money(row, "balance", CreditAccount),
    }


def _repayment_parse(row: Mapping[str, str], today: datetime.date) -> dict[str, Any]:
    account_opened_on = _date(row, "account_opened_on", today=today)
    due_date = _date(row, "due_date", today=None)
    if due_date < account_opened_on:
        raise _RowError(f"due_date {due_date} is before the account was opened")
    return {
        "username": _text(row, "username"),
        "account_kind": _choice(row, "account_kind", CreditAccount.Kind),
        "account_opened_on": account_opened_on,
        "due_date": due_date,
        "amount": _money(row, "amount", Repayment),
        "paid_date": _paid_date(row, due_date, today),
        "days_overdue": _count(row, "days_overdue", maximum=MAX_DAYS_OVERDUE),
    }


def _activity_parse(row: Mapping[str, str], today: datetime.date) -> dict[str, Any]:
    # Sources label a month by its first or its last day; either is that month.
    month = _date(row, "month", today=None, pattern=_ISO_MONTH).replace(day=1)
    if month > today:
        raise _RowError(f"month {row['month']} has not begun")
    return {
        "username": _text(row, "username"),
        "month": month,
        "spend": _money(row, "spend", ActivityMonth),
        "transfers_in": _money(row, "transfers_in", ActivityMonth),
        "transactions": _count(row, "transactions"),
        "categories": _count(row, "categories", maximum=SMALLINT_MAX),
    }


def _bill_parse(row: Mapping[str, str], today: datetime.date) -> dict[str, Any]:
    due_date = _date(row, "due_date", today=None)
    return {
        "username": _text(row, "username"),
        "kind": _choice(row, "kind", UtilityBill.Kind),
        "due_date": due_date,
        "amount": _money(row, "amount", UtilityBill),
        "paid_date": _paid_date(row, due_date, today),
    }


def _wealth_parse(row: Mapping[str, str], today: datetime.date) -> dict[str, Any]:
    return {
        "username": _text(row, "username"),
        "product": _choice(row, "product", WealthHolding.Product),
        "amount": _money(row, "amount", WealthHolding),
        "as_of": _date(row, "as_of", today=today),
    }


def _friendship_parse(row: Mapping[str, str], today: datetime.date) -> dict[str, Any]:
    username, friend_username = _text(row, "username"), _text(row, "friend_username")
    if username == friend_username:
        raise _RowError("username and friend_username are the same user")
    verified_on = _date(row, "verified_on", today=today, blank_ok=True)
    verified_at = None
    if verified_on is not None:
        verified_at = timezone.make_aware(datetime.datetime.combine(verified_on, datetime.time()))
    return {"username": username, "friend_username": friend_username, "verified_at": verified_at}


# --- Batches: checks against the database, one query each per batch --------------------------


def _user_ids(rows: list[_Row], users: dict[str, int]) -> set[int]:
    return {users[row.fields["username"]] for row in rows}


def _by_user_and_key(
    model: type[models.Model], key: tuple[str, ...]
) -> Callable[[list[_Row], dict[str, int]], _Built]:
    """A builder for records keyed by user and ``key``, whose last field is a date that
    narrows the look-up of existing records to what this batch could repeat."""

    def build(rows: list[_Row], users: dict[str, int]) -> _Built:
        date_field = key[-1]
        existing = set(
            model.objects.filter(
                user_id__in=_user_ids(rows, users),
                **{f"{date_field}__in": {row.fields[date_field] for row in rows}},
            ).values_list("user_id", *key)
        )
        built = _Built(objects=[], imported=0, skipped=0)
        for row in rows:
            values = dict(row.fields)
            user_id = users[values.pop("username")]
            if (user_id, *(values[name] for name in key)) in existing:
                built.skipped += 1
                continue
            built.objects.append(model(user_id=user_id, **values))
            built.imported += 1
        return built

    return build


def _repayments_build(rows: list[_Row], users: dict[str, int]) -> _Built:
    accounts: dict[tuple[int, str, datetime.date], list[int]] = defaultdict(list)
    for pk, user_id, kind, opened_on in CreditAccount.objects.filter(
        user_id__in=_user_ids(rows, users)
    ).values_list("pk", "user_id", "kind", "opened_on"):
        accounts[(user_id, kind, opened_on)].append(pk)
    built = _Built(objects=[], imported=0, skipped=0)
    matched: list[tuple[_Row, int, int]] = []
    for row in rows:
        values = row.fields
        user_id = users[values["username"]]
        kind, opened_on = values["account_kind"], values["account_opened_on"]
        found = accounts.get((user_id, kind, opened_on), [])
        if not found:
            built.errors.append(
                (row.line, f'"{values["username"]}" has no {kind} account opened on {opened_on}')
            )
        elif len(found) > 1:
            built.errors.append(
                (
                    row.line,
                    f'"{values["username"]}" has {len(found)} {kind} accounts opened on '
                    f"{opened_on}: the repayment cannot be matched to one of them",
                )
            )
        else:
            matched.append((row, user_id, found[0]))
    existing = set(
        Repayment.objects.filter(
            account_id__in={account_id for _, _, account_id in matched},
            due_date__in={row.fields["due_date"] for row, _, _ in matched},
        ).values_list("account_id", "due_date")
    )
    for row, user_id, account_id in matched:
        if (account_id, row.fields["due_date"]) in existing:
            built.skipped += 1
            continue
        built.objects.append(
            Repayment(
                account_id=account_id,
                user_id=user_id,
                **{
                    name: row.fields[name]
                    for name in ("due_date", "amount", "paid_date", "days_overdue")
                },
            )
        )
        built.imported += 1
    return built


def _friendships_build(rows: list[_Row], users: dict[str, int]) -> _Built:
    ids = {users[row.fields[name]] for row in rows for name in ("username", "friend_username")}
    existing = set(
        Friendship.objects.filter(user_id__in=ids, friend_id__in=ids).values_list(
            "user_id", "friend_id"
        )
    )
    now = timezone.now()
    built = _Built(objects=[], imported=0, skipped=0)
    for row in rows:
        one, other = users[row.fields["username"]], users[row.fields["friend_username"]]
        # A half-stored friendship gets its missing direction; a whole one is a repeat.
        missing = [pair for pair in ((one, other), (other, one)) if pair not in existing]
        if not missing:
            built.skipped += 1
            continue
        verified_at = row.fields["verified_at"] or now
        built.objects.extend(
            Friendship(user_id=user_id, friend_id=friend_id, verified_at=verified_at)
            for user_id, friend_id in missing
        )
        built.imported += 1
    return built


# --- Kinds -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    model: type[models.Model]
    columns: tuple[str, ...]  # required in the header
    parse: Callable[[Mapping[str, str], datetime.date], dict[str, Any]]
    key: tuple[str, ...]  # the fields that make a row a repeat of another
    build: Callable[[list[_Row], dict[str, int]], _Built]
    optional: tuple[str, ...] = ()
    user_columns: tuple[str, ...] = ("username",)
    # Where a unique constraint exists, a record written meanwhile by someone else is
    # ignored rather than failing the whole batch.
    ignore_conflicts: bool = False
    symmetric: bool = False  # the key names the same record in any order (friendships)

    def row_key(self, fields: Mapping[str, Any]) -> tuple[Any, ...]:
        values = tuple(fields[name] for name in self.key)
        return tuple(sorted(values)) if self.symmetric else values


KINDS: dict[str, _Kind] = {
    "accounts": _Kind(
        model=CreditAccount,
        columns=("username", "kind", "opened_on", "closed_on", "credit_limit", "balance"),
        parse=_account_parse,
        key=("username", "kind", "opened_on"),
        build=_by_user_and_key(CreditAccount, ("kind", "opened_on")),
    ),
    "repayments": _Kind(
        model=Repayment,
        columns=(
            "username",
            "account_kind",
            "account_opened_on",
            "due_date",
            "amount",
            "paid_date",
            "days_overdue",
        ),
        parse=_repayment_parse,
        key=("username", "account_kind", "account_opened_on", "due_date"),
        build=_repayments_build,
    ),
    "activity": _Kind(
        model=ActivityMonth,
        columns=("username", "month", "spend", "transfers_in", "transactions", "categories"),
        parse=_activity_parse,
        key=("username", "month"),
        build=_by_user_and_key(ActivityMonth, ("month",)),
        ignore_conflicts=True,
    ),
    "bills": _Kind(
        model=UtilityBill,
        columns=("username", "kind", "due_date", "amount", "paid_date"),
        parse=_bill_parse,
        key=("username", "kind", "due_date"),
        build=_by_user_and_key(UtilityBill, ("kind", "due_date")),
    ),
    "wealth": _Kind(
        model=WealthHolding,
        columns=("username", "product", "amount", "as_of"),
        parse=_wealth_parse,
        key=("username", "product", "as_of"),
        build=_by_user_and_key(WealthHolding, ("product", "as_of")),
    ),
    "friends": _Kind(
        model=Friendship,
        columns=("username", "friend_username"),
        optional=("verified_on",),
        parse=_friendship_parse,
        key=("username", "friend_username"),
        build=_friendships_build,
        user_columns=("username", "friend_username"),
        ignore_conflicts=True,
        symmetric=True,
    ),
}


# --- The file --------------------------------------------------------------------------------


@contextlib.contextmanager
def _binary(path_or_file: str | os.PathLike[str] | IO[Any]) -> Iterator[IO[bytes]]:
    """The input as a binary stream that can be read twice (checked, then imported)."""
    if isinstance(path_or_file, str | os.PathLike):
        try:
            # Not "with open(...)" around the yield: that would turn an OSError raised
            # while importing (a lost database connection) into "Cannot read".
            handle = open(path_or_file, "rb")  # noqa: SIM115
        except OSError as exc:
            raise ServiceError(
                "unreadable", f"Cannot read {path_or_file}: {exc.strerror or exc}."
            ) from None
        with handle:
            yield handle
        return
    if isinstance(path_or_file.read(0), bytes) and path_or_file.seekable():
        yield path_or_file  # the caller's file: left open for the caller
        return
    # A text stream or a pipe: spooled (to disk past 8 MB) so it can be read twice.
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        while chunk := path_or_file.read(64 * 1024):
            spool.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
        spool.seek(0)
        yield spool


def _records(binary: IO[bytes]) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, values) for each CSV record, streamed. A value in quotes
    may span lines; a blank line is an empty record."""

    def lines() -> Iterator[str]:
        # UTF-8 never has a newline byte inside a character, so lines decode alone.
        for number, raw in enumerate(binary, start=1):
            try:
                yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise ServiceError(
                    "encoding",
                    f"The file is not UTF-8 text (line {number}). Save it as UTF-8 "
                    '("CSV UTF-8" in Excel) and import it again.',
                ) from None

    # Strict, so a quote left open is an error rather than a value that silently swallows
    # the rest of the file.
    reader = csv.reader(lines(), strict=True)
    start = 1
    try:
        for values in reader:
            yield start, reader.line_num, values
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ServiceError(
            "csv", f"The file is not valid CSV in the row starting at line {start}: {exc}."
        ) from None


def _header(kind: _Kind, values: list[str] | None) -> dict[str, int]:
    """The position of each column the kind reads, or why the header will not do."""
    expected = ", ".join(kind.columns)
    if not values or not any(value.strip() for value in values):
        raise ServiceError(
            "empty", f"The file is empty: its first line must be the header: {expected}."
        )
    names = [value.strip().lower() for value in values]
    wanted = (*kind.columns, *kind.optional)
    for name in wanted:
        if names.count(name) > 1:
            raise ServiceError("header", f'The column "{name}" appears twice in the header.')
    missing = [name for name in kind.columns if name not in names]
    if missing:
        raise ServiceError(
            "missing_columns",
            f"The header lacks {', '.join(missing)}; the columns needed are: {expected}.",
        )
    return {name: names.index(name) for name in wanted if name in names}


def _check(kind: _Kind, binary: IO[bytes]) -> None:
    """Read the whole file once, so a bad encoding or broken CSV far down the file is
    refused before the first batch is written."""
    records = _records(binary)
    _start, _end, values = next(records, (1, 1, None))
    _header(kind, values)
    for _record in records:
        pass


def _rows(
    kind: _Kind, binary: IO[bytes], report: ImportReport
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, {column: trimmed value}) for each non-blank record; misshapen ones are
    reported."""
    records = _records(binary)
    _start, _end, header = next(records)
    columns = _header(kind, header)
    width = len(header)
    for line, end, values in records:
        if not any(value.strip() for value in values):
            continue
        # Spreadsheets pad rows with empty cells; only values that cannot belong to a
        # column mean the row is misaligned.
        if len(values) < width or any(value.strip() for value in values[width:]):
            reason = f"has {len(values)} values but the header has {width} columns"
            if end > line:
                reason += f" (it runs on to line {end}: is a quote left open?)"
            report.errors.append((line, reason))
            continue
        yield line, {name: values[index].strip() for name, index in columns.items()}


def _store(kind: _Kind, rows: list[_Row], report: ImportReport) -> None:
    names = {row.fields[column] for row in rows for column in kind.user_columns}
    users = dict(User.objects.filter(username__in=names).values_list("username", "pk"))
    known = []
    for row in rows:
        unknown = [row.fields[c] for c in kind.user_columns if row.fields[c] not in users]
        if unknown:
            report.errors.append((row.line, f'no user named "{_shown(unknown[0])}"'))
        else:
            known.append(row)
    # One transaction per batch: a crash loses at most this batch, never half of it.
    with transaction.atomic():
        built = kind.build(known, users)
        kind.model.objects.bulk_create(built.objects, ignore_conflicts=kind.ignore_conflicts)
        # New data matters to the score: one recompute per affected user, deduplicated.
        score_recompute_queue_many(
            user_ids={users[row.fields[c]] for row in known for c in kind.user_columns},
            trigger=f"import:{kind.model._meta.model_name}",
        )
    report.imported += built.imported
    report.skipped += built.skipped
    report.errors.extend(built.errors)


def records_import(
    *,
    kind: str,
    path_or_file: str | os.PathLike[str] | IO[Any],
    today: datetime.date | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Import one provider CSV file of ``kind`` (see the module docstring for columns).

    Raises ServiceError, having written nothing, for an unknown kind or a file that
    cannot be read, is not UTF-8 CSV, is empty or lacks a required column. Otherwise
    reports what was imported, what already existed, and each bad row by line number.
    The file is streamed in batches of ``batch_size`` rows with a fixed number of
    queries per batch. Only the keys of the rows seen so far stay in memory, to tell a
    repeat within the file (about 30 MB for 100,000 rows).
    """
    spec = KINDS.get(kind)
    if spec is None:
        raise ServiceError("kind", f'Unknown kind "{kind}": use one of {", ".join(KINDS)}.')
    today = today or timezone.localdate()
    report = ImportReport()
    with _binary(path_or_file) as binary:
        start = binary.tell()
        _check(spec, binary)
        binary.seek(start)
        seen: dict[tuple[Any, ...], int] = {}
        batch: list[_Row] = []
        for line, values in _rows(spec, binary, report):
            try:
                fields = spec.parse(values, today)
            except _RowError as exc:
                report.errors.append((line, str(exc)))
                continue
            first = seen.setdefault(spec.row_key(fields), line)
            if first != line:
                report.errors.append((line, f"repeats line {first} (same {', '.join(spec.key)})"))
                continue
            batch.append(_Row(line, fields))
            if len(batch) >= batch_size:
                _store(spec, batch, report)
                batch = []
        if batch:
            _store(spec, batch, report)
    report.errors.sort()
    return report
