from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from scoring.services.imports import KINDS, records_import
from sesame_portal.errors import ServiceError

ERRORS_SHOWN = 50


def _columns() -> str:
    return "; ".join(
        f"{name}: {', '.join((*kind.columns, *(f'[{c}]' for c in kind.optional)))}"
        for name, kind in KINDS.items()
    )


class Command(BaseCommand):
    help = (
        "Import provider data of one KIND from a UTF-8 CSV file whose first line is the "
        f"header. Columns ([optional]): {_columns()}. Types and rules: scoring/services/imports.py."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(KINDS), help="what the file holds")
        parser.add_argument("path", help="the CSV file")

    def handle(self, *args, kind: str, path: str, **options):
        try:
            report = records_import(kind=kind, path_or_file=path)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Imported {report.imported}, skipped {report.skipped}, {len(report.errors)} bad rows"
        )
        # A long list buries the summary; the first rows usually show the pattern.
        for line, reason in report.errors[:ERRORS_SHOWN]:
            self.stdout.write(f"line {line}: {reason}")
        if len(report.errors) > ERRORS_SHOWN:
            self.stdout.write(f"... and {len(report.errors) - ERRORS_SHOWN} more bad rows")
