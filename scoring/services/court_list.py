"""Importing the court list of dishonest judgment debtors (失信被执行人) from CSV.

Only the keyed hash of each ID number is kept; names are checked for plausibility and
then dropped. Refused rows are reported by line number, never by content.

The list is data about people: the score reads it (friends on the list) and benefits'
eligibility reads it through scoring.selectors.

An import is the whole list as it stands: people it no longer holds are removed (their
benefits return at the recompute queued for them). A match that staff corrected through
a dispute stays removed while later lists give the same entry (the ID number with the
same case numbers); a list that changes the entry, or drops the person and lists them
again later, lists them again."""

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
from scoring.models import CourtListEntry, CourtListImport, CourtListOverride, Dispute
from scoring.signals import court_listed
from scoring.tasks import score_recompute_queue_many
from sesame_portal.errors import ServiceError

NAME_HEADERS = {"name", "full_name", "姓名"}
ID_HEADERS = {"id_number", "id", "身份证号", "身份证号码"}
CASE_HEADERS = {"case_number", "case_no", "案号"}
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


def _columns(header: list[str]) -> tuple[int, int, int | None]:
    names = [h.strip().lower() for h in header]
    name_col = next((i for i, h in enumerate(names) if h in NAME_HEADERS), None)
    id_col = next((i for i, h in enumerate(names) if h in ID_HEADERS), None)
    case_col = next((i for i, h in enumerate(names) if h in CASE_HEADERS), None)
    if name_col is None or id_col is None:
        raise ServiceError(
            "header",
            _("The first line must name the columns: name and id_number (or 姓名 and 身份证号)."),
        )
    return name_col, id_col, case_col


def _entry_hash(digest: str, cases: set[str]) -> str:
    """The person's entry as the list gives it: their ID number and case numbers."""
    return keyed_hash("|".join([digest, *sorted(cases)]))


def _user_ids(digests) -> set[int]:
    ordered = sorted(digests)
    found: set[int] = set()
    for start in range(0, len(ordered), BATCH):
        found |= set(
            Identity.objects.filter(id_number_hash__in=ordered[start : start + BATCH]).values_list(
                "user_id", flat=True
            )
        )
    return found


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
    """Replace the court list with the file's valid rows: add who is new (their benefits
    close now), remove who is gone, keep off who a corrected dispute took off while
    their entry is unchanged, and queue a recompute for everyone whose status changed."""
    today = timezone.localdate()
    rows = _csv_rows(text)
    header = next(rows, None)
    if header is None:
        raise ServiceError("empty", _("The file is empty."))
    name_col, id_col, case_col = _columns(header)
    cases: dict[str, set[str]] = {}
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
        case = row[case_col].strip() if case_col is not None and case_col < len(row) else ""
        cases.setdefault(keyed_hash(resident.number), set()).update({case} - {""})
    if not cases:
        # The whole list is replaced: a file without one valid row would empty it.
        raise ServiceError(
            "no_rows",
            _("The file lists nobody that can be read: the court list is left as it was."),
        )
    entries = {digest: _entry_hash(digest, found) for digest, found in cases.items()}
    with transaction.atomic():
        record = CourtListImport.objects.create(
            file_name=file_name[:200],
            imported_by=by,
            rows_total=total,
            rows_bad=len(errors),
            errors=errors[:MAX_ERRORS_KEPT],
        )
        listed = dict(CourtListEntry.objects.values_list("id_number_hash", "entry_hash"))
        overrides = dict(CourtListOverride.objects.values_list("id_number_hash", "entry_hash"))
        kept_off = {
            digest
            for digest, entry in entries.items()
            # An override made before entries were fingerprinted holds for the next list.
            if overrides.get(digest) in ("", entry)
        }
        added = sorted(d for d in entries if d not in listed and d not in kept_off)
        removed = sorted(d for d in listed if d not in entries)
        changed = [d for d, entry in entries.items() if d in listed and listed[d] != entry]
        _delete_in_batches(CourtListEntry.objects, removed)
        # Overrides end when the list drops the person or changes their entry.
        _delete_in_batches(CourtListOverride.objects, [d for d in overrides if d not in kept_off])
        for digest in kept_off:
            if overrides[digest] == "":
                CourtListOverride.objects.filter(id_number_hash=digest).update(
                    entry_hash=entries[digest]
                )
        CourtListEntry.objects.bulk_create(
            [CourtListEntry(id_number_hash=d, entry_hash=entries[d], source=record) for d in added],
            batch_size=BATCH,
            ignore_conflicts=True,
        )
        for digest in changed:
            CourtListEntry.objects.filter(id_number_hash=digest).update(entry_hash=entries[digest])
        record.rows_added = len(added)
        record.rows_removed = len(removed)
        record.rows_kept_off = len(kept_off)
        record.save(update_fields=["rows_added", "rows_removed", "rows_kept_off"])
        listed_users = _user_ids(added)
        # The apps above close what a listed person may not keep (benefits' unlocks).
        court_listed.send(sender=CourtListImport, user_ids=listed_users)
        score_recompute_queue_many(
            user_ids=listed_users | _user_ids(removed), trigger="court_list_import"
        )
    return record


def _delete_in_batches(manager, digests: list[str]) -> None:
    for start in range(0, len(digests), BATCH):
        manager.filter(id_number_hash__in=digests[start : start + BATCH]).delete()


def court_list_correct(*, dispute: Dispute) -> bool:
    """A court-list dispute answered "corrected": remove the person's match and keep it
    removed while later imports give the same entry. The caller queues the recompute
    that gives the benefits back. Returns whether a match was removed."""
    if dispute.kind != Dispute.Kind.COURT_LIST:
        return False
    digests = list(
        Identity.objects.filter(user=dispute.user_id).values_list("id_number_hash", flat=True)
    )
    removed = False
    for entry in CourtListEntry.objects.select_for_update().filter(id_number_hash__in=digests):
        CourtListOverride.objects.update_or_create(
            id_number_hash=entry.id_number_hash,
            defaults={"entry_hash": entry.entry_hash, "dispute": dispute},
        )
        entry.delete()
        removed = True
    return removed
