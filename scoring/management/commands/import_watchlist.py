from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from scoring.services.court_list import court_list_import, csv_text
from sesame_portal.errors import ServiceError


class Command(BaseCommand):
    help = (
        "Replace the court list of dishonest judgment debtors with a court-list CSV "
        "(columns name and id_number, or 姓名 and 身份证号; optionally case_number or 案号): "
        "people no longer on it are removed, a match corrected through a dispute stays "
        "removed while the list gives the same entry. Only keyed hashes of the ID numbers "
        "are kept; bad rows are reported by line number."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        try:
            text = csv_text(path.read_bytes())
            record = court_list_import(text=text, file_name=path.name)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        except ServiceError as exc:
            raise CommandError(str(exc.message)) from exc
        for error in record.errors:
            self.stderr.write(f"line {error['line']}: {error['message']}")
        if record.rows_bad > len(record.errors):
            self.stderr.write(f"… and {record.rows_bad - len(record.errors)} more bad rows")
        self.stdout.write(
            f"{record.rows_total} rows read: {record.rows_added} people added to the court "
            f"list, {record.rows_total - record.rows_bad - record.rows_added} already on it, "
            f"{record.rows_bad} rows refused; {record.rows_removed} people no longer on the "
            f"list removed, {record.rows_kept_off} kept off after a corrected dispute."
        )
