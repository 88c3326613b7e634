"""Importing the court list of dishonest judgment debtors (失信被执行人) from CSV.

Only the keyed hash of each ID number is kept; names are checked for plausibility and
then dropped. Refused rows are reported by line number, never by content."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.crypto import keyed_hash
from accounts.models import Identity, User
from accounts.resident_id import IdentityRuleError, parse_resident_id, validate_name
from benefits.models import CourtListEntry, CourtListImport
from benefits.services.unlocks import unlocks_close_all
from sesame_portal.errors import ServiceError

NAME_HEADERS = {"name", "full_name", "姓名"}
ID_HEADERS = {"id_number", "id", "身份证号", "身份证号码"}
MAX_ERRORS_KEPT = 1000
BATCH = 5000


def csv_text(raw: bytes) -> str:
    """Decode an uploaded CSV: UTF-8 (with or without a BOM), else GB 18030, which is
    what spreadsheet programs on Chinese systems write."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            raise ServiceError(
                "encoding", _("The file is neither UTF-8 nor GB 18030 text.")
            ) from None


def _columns(header: list[str]) -> tuple[int, int]:
    names = [h.strip().lower() for h in header]
    name_col = next((i for i, h in enumerate(names) if h in NAME_HEADERS), None)
    id_col = next((i for i, h in enumerate(names) if h in ID_HEADERS), None)
    if name_col is None or id_col is None:
        raise ServiceError(
            "header",
            _("The first line must name the columns: name and id_number (or 姓名 and 身份证号)."),
        )
    return name_col, id_col


def _csv_rows(text: str) -> Iterator[list[str]]:
    """The rows of the file. A lone carriage return ends a line, as in old spreadsheet
    exports; what the csv module cannot read at all is refused with the line it stopped at."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        yield from reader
    except csv.Error:
        raise ServiceError(
            "csv", _("The file is not valid CSV (line %(line)d).") % {"line": reader.line_num}
        ) from None


def court_list_import(*, text: str, file_name: str, by: User | None = None) -> CourtListImport:
    """Add every valid row to the court list and close the benefits of listed users."""
    today = timezone.localdate()
    rows = _csv_rows(text)
    header = next(rows, None)
    if header is None:
        raise ServiceError("empty", _("The file is empty."))
    name_col, id_col = _columns(header)
    digests: set[str] = set()
    errors: list[dict] = []
    total = 0
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        total += 1
        try:
            if len(row) <= max(name_col, id_col):
                raise IdentityRuleError("columns", _("This row has too few columns."))
            validate_name(row[name_col])
            resident = parse_resident_id(row[id_col], today=today)
        except IdentityRuleError as exc:
            errors.append({"line": line, "code": exc.code, "message": str(exc.message)})
            continue
        digests.add(keyed_hash(resident.number))
    with transaction.atomic():
        record = CourtListImport.objects.create(
            file_name=file_name[:200],
            imported_by=by,
            rows_total=total,
            rows_bad=len(errors),
            errors=errors[:MAX_ERRORS_KEPT],
        )
        known = set()
        ordered = sorted(digests)
        for start in range(0, len(ordered), BATCH):
            batch = ordered[start : start + BATCH]
            known |= set(
                CourtListEntry.objects.filter(id_number_hash__in=batch).values_list(
                    "id_number_hash", flat=True
                )
            )
        added = [d for d in ordered if d not in known]
        CourtListEntry.objects.bulk_create(
            [CourtListEntry(id_number_hash=d, source=record) for d in added],
            batch_size=BATCH,
            ignore_conflicts=True,
        )
        record.rows_added = len(added)
        record.save(update_fields=["rows_added"])
        for start in range(0, len(added), BATCH):
            listed_users = Identity.objects.filter(
                id_number_hash__in=added[start : start + BATCH]
            ).values_list("user_id", flat=True)
            unlocks_close_all(users=list(listed_users))
    return record
