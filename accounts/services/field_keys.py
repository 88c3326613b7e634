"""Key rotation for every encrypted field, wherever it lives.

A model lists its ciphertext fields in ENCRYPTED_FIELDS (text or bytes); rotation finds
them through the app registry, so a new encrypted field is rotated without this module
knowing its app."""

from __future__ import annotations

from django.apps import apps
from django.db import transaction

from accounts.crypto import rotate_value


def encrypted_models() -> list[tuple[type, tuple[str, ...]]]:
    return [
        (model, tuple(model.ENCRYPTED_FIELDS))
        for model in apps.get_models()
        if getattr(model, "ENCRYPTED_FIELDS", ())
    ]


def field_keys_rotate(*, chunk_size: int = 200) -> dict[str, int]:
    """Re-encrypt every encrypted field under the newest Fernet key, a chunk at a time;
    returns the rows done per model."""
    done: dict[str, int] = {}
    for model, fields in encrypted_models():
        count, last_pk = 0, 0
        while True:
            with transaction.atomic():
                chunk = list(
                    model.objects.select_for_update()
                    .filter(pk__gt=last_pk)
                    .order_by("pk")
                    .only("pk", *fields)[:chunk_size]
                )
                for row in chunk:
                    for name in fields:
                        setattr(row, name, rotate_value(getattr(row, name)))
                model.objects.bulk_update(chunk, fields)
            if not chunk:
                break
            count += len(chunk)
            last_pk = chunk[-1].pk
        done[model._meta.label] = count
    return done
