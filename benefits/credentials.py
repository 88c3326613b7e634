"""Partner API keys and authorisation tokens: random, shown once, stored as SHA-256.

A credential reads `<kind>_<id>_<secret>`: the id finds the row with one indexed query,
the secret is compared with the stored hash in constant time."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

API_KEY_KIND = "sk"
TOKEN_KIND = "au"  # noqa: S105 - a label, not a secret
_SHAPE = re.compile(r"(sk|au)_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")


def credential_new(kind: str) -> tuple[str, str, str]:
    """A new credential: (the full value to show once, its id, its hash to store)."""
    prefix = secrets.token_hex(6)
    value = f"{kind}_{prefix}_{secrets.token_urlsafe(32)}"
    return value, prefix, credential_hash(value)


def credential_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def credential_prefix(value: str, kind: str) -> str | None:
    """The id part of a well-formed credential of this kind, else None."""
    match = _SHAPE.fullmatch(value or "")
    if match is None or match.group(1) != kind:
        return None
    return match.group(2)


def credential_matches(value: str, stored_hash: str) -> bool:
    return hmac.compare_digest(credential_hash(value), stored_hash)


def token_id(prefix: str) -> str:
    """The public start of an authorisation token (`au_<id>`), by which its partner knows
    the person without the secret: what an erasure request names the person by."""
    return f"{TOKEN_KIND}_{prefix}"
