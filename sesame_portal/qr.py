"""QR codes (vouchers, proof links), drawn as SVG on the server (no script, no inline
style, so the page's Content Security Policy holds)."""

from __future__ import annotations

import segno


def qr_svg(text: str, *, title: str) -> str:
    qr = segno.make(text, error="m", micro=False)
    return qr.svg_inline(
        scale=5, border=2, svgclass="qr", lineclass=None, title=title, omitsize=True
    )
