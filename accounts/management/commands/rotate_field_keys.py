from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.services import field_keys_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field under the first key of FIELD_ENCRYPTION_KEYS, "
        "so older keys can then be removed."
    )

    def handle(self, *args, **options):
        for label, count in field_keys_rotate().items():
            self.stdout.write(f"{label}: re-encrypted {count} rows under the newest key.")
