"""What the privacy tests look for: every value the database holds, and every form in
which an ID number, or what rebuilds one, could sit in it."""

from __future__ import annotations

import base64
import datetime
import re

from cryptography.fernet import InvalidToken
from django.contrib.sessions.models import Session
from django.db import connection

from accounts.crypto import decrypt_text


def plaintext_variants(number: str) -> list[str]:
    """Ways the plaintext number could leak: as is, lowercase, without the check
    character, and trivially encoded."""
    return [
        number,
        number.lower(),
        number[:17],
        base64.b64encode(number.encode()).decode(),
        base64.urlsafe_b64encode(number.encode()).decode(),
        number.encode().hex(),
    ]


def rebuild_clues(number: str) -> list[re.Pattern]:
    """What, kept in plaintext, gives the number back with the region code: its birth
    date in any usual spelling (digits 7 to 14), and any mask that shows more than the
    first and last character (the old 110105********005X hid exactly the birth date)."""
    birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    spellings = [
        number[6:14],
        birth.isoformat(),
        birth.strftime("%Y/%m/%d"),
        f"{birth.year}年{birth.month}月{birth.day}日",
    ]
    return [
        *(re.compile(re.escape(spelling)) for spelling in spellings),
        re.compile(rf"{re.escape(number[:2])}[0-9]*\*"),  # the start and more: 11*, 110105*
        re.compile(rf"\*[0-9]*{re.escape(number[-2:])}", re.IGNORECASE),  # *5X, *005X
    ]


def _is_ciphertext(text: str) -> bool:
    """A Fernet token of ours: random bytes that may spell anything by chance."""
    if not text.startswith("gAAAA"):
        return False
    try:
        decrypt_text(text)
    except (InvalidToken, ValueError):
        return False
    return True


def database_values() -> list[str]:
    """Every value of every row of every table as text (dates and JSON included, our
    own ciphertext left out), plus the decoded sessions."""
    values: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    if value is None:
                        continue
                    if isinstance(value, bytes | memoryview):
                        text = bytes(value).decode("utf-8", "replace")
                    else:
                        text = str(value)
                    if not _is_ciphertext(text):
                        values.append(text)
    values.extend(repr(session.get_decoded()) for session in Session.objects.all())
    return values


def leaks_of(number: str, values: list[str]) -> list[str]:
    """The values that hold the number or a clue that rebuilds it."""
    needles = [re.compile(re.escape(variant)) for variant in plaintext_variants(number)]
    needles += rebuild_clues(number)
    return [
        f"{needle.pattern!r} in {value[:200]!r}"
        for value in values
        for needle in needles
        if needle.search(value)
    ]
