from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.services import identity_keys_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field under the first key of FIELD_ENCRYPTION_KEYS, "
        "so older keys can then be removed."
    )

    def handle(self, *args, **options):
        count = identity_keys_rotate()
        self.stdout.write(f"Re-encrypted {count} identities under the newest key.")
