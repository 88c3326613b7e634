"""The text of a PDF drawn by fpdf2 with one embedded TrueType font, for tests (no PDF
library is installed for reading): the content streams' strings decoded through the
font's ToUnicode map."""

from __future__ import annotations

import re
import zlib

_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_STRING = re.compile(rb"\((?:\\.|[^\\)])*\)", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _streams(data: bytes) -> list[bytes]:
    found = []
    for raw in _STREAM.findall(data):
        try:
            found.append(zlib.decompress(raw))
        except zlib.error:
            found.append(raw)
    return found


def _unescape(literal: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(literal):
        char = literal[i : i + 1]
        if char == b"\\":
            following = literal[i + 1 : i + 2]
            octal = re.match(rb"[0-7]{1,3}", literal[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(), 8) & 0xFF)
                i += 1 + len(octal.group())
                continue
            out += _ESCAPES.get(following, following)
            i += 2
            continue
        out += char
        i += 1
    return bytes(out)


def pdf_text(data: bytes) -> str:
    """Every string the PDF draws, one line per text object, in drawing order."""
    streams = _streams(data)
    glyphs: dict[int, str] = {}
    for stream in streams:
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", stream, re.S):
            for code, text in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                glyphs[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    assert glyphs, "no ToUnicode map: not a PDF drawn with an embedded font"
    lines = []
    for stream in streams:
        if not re.search(rb"/F\d+ [\d.]+ Tf", stream):
            continue  # not a page's content (an image, the font itself)
        for text_object in re.findall(rb"BT(.*?)ET", stream, re.S):
            codes = b"".join(_unescape(s[1:-1]) for s in _STRING.findall(text_object))
            lines.append(
                "".join(
                    glyphs.get(int.from_bytes(codes[i : i + 2], "big"), "\ufffd")
                    for i in range(0, len(codes), 2)
                )
            )
    return "\n".join(lines)


def squeezed(text: str) -> str:
    """The text without any white space (lines wrap anywhere)."""
    return re.sub(r"\s+", "", text)
