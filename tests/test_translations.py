"""The message catalogues: they compile, are complete, are committed compiled, and are used.

Every ``.po`` under ``locale/`` must pass ``msgfmt --check``, have no untranslated or
fuzzy entry, and have a committed ``.mo`` identical to what ``msgfmt`` makes of it now
(so a translation edited without ``compilemessages`` fails here, not in production).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
PO_FILES = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))
PO_IDS = [str(path.relative_to(LOCALE_DIR)) for path in PO_FILES]
LOGIN_URL = "/accounts/login/"

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b"}


def test_locale_has_catalogues():
    assert PO_FILES, f"no .po file under {LOCALE_DIR}"


# --- A small .po reader -----------------------------------------------------------------------


@dataclass
class Entry:
    line: int
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def where(self) -> str:
        return ", ".join(self.references) or f"line {self.line}"


def _unquote(text: str, path: Path, number: int) -> str:
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"{path}:{number}: expected a quoted string, got {text!r}")
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            out.append(_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


def parse_po(path: Path) -> list[Entry]:
    """Read entries (obsolete ``#~`` ones are skipped); strings may span several lines."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: str | None = None  # the field that a continuation line ("...") extends

    def finish() -> None:
        nonlocal entry, target
        if entry is not None and target is not None:
            entries.append(entry)
        entry, target = None, None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            finish()
            continue
        # A comment or a new msgctxt/msgid after a msgstr starts the next entry, even
        # without the blank line that normally separates them.
        starts_entry = line.startswith(("#", "msgctxt ", "msgid "))
        if starts_entry and target is not None and target.startswith("msgstr"):
            finish()
        if entry is None:
            entry = Entry(line=number)
        if line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
        elif line.startswith("#:"):
            entry.references.extend(line[2:].split())
        elif line.startswith("#"):
            pass
        elif line.startswith('"'):
            if target is None:
                raise ValueError(f"{path}:{number}: string outside any msgid/msgstr")
            _append(entry, target, _unquote(line, path, number))
        else:
            keyword, _, rest = line.partition(" ")
            target = keyword
            if keyword == "msgctxt":
                entry.msgctxt = ""
            elif keyword == "msgid_plural":
                entry.msgid_plural = ""
            elif keyword.startswith("msgstr[") and keyword.endswith("]"):
                entry.msgstr[int(keyword[7:-1])] = ""
            elif keyword == "msgstr":
                entry.msgstr[0] = ""
            elif keyword != "msgid":
                raise ValueError(f"{path}:{number}: unknown keyword {keyword!r}")
            _append(entry, target, _unquote(rest, path, number))
    finish()
    return entries


def _append(entry: Entry, target: str, text: str) -> None:
    if target == "msgid":
        entry.msgid += text
    elif target == "msgctxt":
        entry.msgctxt = (entry.msgctxt or "") + text
    elif target == "msgid_plural":
        entry.msgid_plural = (entry.msgid_plural or "") + text
    else:
        index = int(target[7:-1]) if target.startswith("msgstr[") else 0
        entry.msgstr[index] += text


def _header(entries: list[Entry]) -> dict[str, str]:
    header = next((entry for entry in entries if entry.is_header), None)
    assert header is not None, "the catalogue has no header entry"
    fields = {}
    for line in header.msgstr.get(0, "").splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def _placeholders(text: str) -> list[str]:
    """The ``%(name)s``-style placeholders of a string, in order, ``%%`` excluded."""
    found, i = [], 0
    while i < len(text):
        if text.startswith("%%", i):
            i += 2
        elif text.startswith("%(", i) and (end := text.find(")", i)) != -1:
            found.append(text[i : end + 2])
            i = end + 2
        else:
            i += 1
    return sorted(found)


def test_parser_reads_multiline_plural_and_flags(tmp_path):
    po = tmp_path / "sample.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n'
        '#: a.py:1\n#, python-format, fuzzy\nmsgid ""\n"Two %(n)d "\n"lines \\"quoted\\""\n'
        'msgstr "两行"\n\n'
        'msgctxt "menu"\nmsgid "File"\nmsgid_plural "Files"\nmsgstr[0] ""\n\n'
        '#~ msgid "Old"\n#~ msgstr ""\n',
        encoding="utf-8",
    )
    header, multiline, plural = parse_po(po)
    assert header.is_header
    assert _header([header]) == {"Language": "zh_Hans"}
    assert multiline.msgid == 'Two %(n)d lines "quoted"'
    assert multiline.msgstr == {0: "两行"}
    assert multiline.flags == {"python-format", "fuzzy"}
    assert multiline.references == ["a.py:1"]
    assert (plural.msgctxt, plural.msgid_plural, plural.msgstr) == ("menu", "Files", {0: ""})
    assert _placeholders("%(a)s %% %(b)d") == ["%(a)s", "%(b)d"]


# --- msgfmt ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def msgfmt() -> str:
    path = shutil.which("msgfmt")
    if path is None:
        reason = "GNU gettext's msgfmt is not installed (apt-get install gettext)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}, and CI is set: translations must be checked in CI")
        pytest.skip(reason)
    return path


def _run_msgfmt(msgfmt: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - a fixed binary on our own files
        [msgfmt, *map(str, args)], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("po", PO_FILES, ids=PO_IDS)
def test_catalogue_compiles_cleanly(msgfmt, po):
    result = _run_msgfmt(msgfmt, "--check", "-o", os.devnull, po)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("po", PO_FILES, ids=PO_IDS)
def test_committed_mo_matches_po(msgfmt, po, tmp_path):
    committed = po.with_suffix(".mo")
    assert committed.is_file(), f"{committed} is missing: run manage.py compilemessages"
    fresh = tmp_path / "fresh.mo"
    result = _run_msgfmt(msgfmt, "-o", fresh, po)
    assert result.returncode == 0, result.stderr
    assert fresh.read_bytes() == committed.read_bytes(), (
        f"{committed.relative_to(LOCALE_DIR)} is stale: run manage.py compilemessages"
    )


# --- Completeness ------------------------------------------------------------------------------


@pytest.mark.parametrize("po", PO_FILES, ids=PO_IDS)
def test_every_entry_is_translated_and_none_is_fuzzy(po):
    entries = parse_po(po)
    assert any(not entry.is_header for entry in entries), f"{po} has no messages"
    fuzzy = [entry.where for entry in entries if "fuzzy" in entry.flags]
    untranslated = [
        f"{entry.where}: {entry.msgid!r}"
        for entry in entries
        if not entry.is_header and (not entry.msgstr or not all(entry.msgstr.values()))
    ]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    assert not untranslated, "untranslated entries:\n" + "\n".join(untranslated)


@pytest.mark.parametrize("po", PO_FILES, ids=PO_IDS)
def test_translations_keep_every_placeholder(po):
    wrong = [
        f"{entry.where}: {entry.msgid!r} -> {text!r}"
        for entry in parse_po(po)
        if not entry.is_header
        for text in entry.msgstr.values()
        if _placeholders(text) != _placeholders(entry.msgid_plural or entry.msgid)
    ]
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


@pytest.mark.parametrize("po", PO_FILES, ids=PO_IDS)
def test_header_names_language_and_charset(po):
    header = _header(parse_po(po))
    language = po.parent.parent.name
    assert header.get("Language") == language
    assert header.get("Content-Type") == "text/plain; charset=UTF-8"
    if language.startswith("zh"):
        assert header.get("Plural-Forms") == "nplurals=1; plural=0;"


# --- In use ------------------------------------------------------------------------------------


def test_login_page_is_chinese_by_default(client, db):
    page = client.get(LOGIN_URL).content.decode()
    assert "登录" in page
    assert "Log in" not in page


def test_login_page_is_english_when_asked(client, db):
    page = client.get(LOGIN_URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Log in" in page
    assert "登录" not in page
