"""Encryption at rest and keyed hashing for sensitive identifiers.

Ciphertext uses MultiFernet over FIELD_ENCRYPTION_KEYS: the first key encrypts, every
key decrypts, so keys rotate by prepending a new one and running `rotate_field_keys`.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be url-safe base64 Fernet keys."
        ) from exc


def field_cipher() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_text(plaintext: str) -> str:
    return field_cipher().encrypt(plaintext.encode()).decode()


def decrypt_text(token: str) -> str:
    return field_cipher().decrypt(token.encode()).decode()


def rotate_token(token: str) -> str:
    """Re-encrypt a token under the newest key (no-op in meaning, new ciphertext)."""
    return field_cipher().rotate(token.encode()).decode()


def rotate_value(value: str | bytes | memoryview) -> str | bytes:
    """rotate_token for a text field's or a binary field's ciphertext."""
    if isinstance(value, str):
        return rotate_token(value)
    return field_cipher().rotate(bytes(value))


def encrypt_bytes(plain: bytes) -> bytes:
    return field_cipher().encrypt(plain)


def decrypt_bytes(token: bytes) -> bytes:
    return field_cipher().decrypt(bytes(token))


def birth_date_encrypt(birth_date: datetime.date) -> str:
    return encrypt_text(birth_date.isoformat())


def birth_date_decrypt(token: str) -> datetime.date:
    return datetime.date.fromisoformat(decrypt_text(token))


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 of a normalised identifier, hex encoded."""
    return hmac.new(settings.ID_HASH_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()
