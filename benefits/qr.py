"""Voucher codes as QR codes, drawn as SVG on the server (no script, no inline style,
so the page's Content Security Policy holds)."""

from __future__ import annotations

import segno


def voucher_qr_svg(code: str) -> str:
    qr = segno.make(code, error="m", micro=False)
    return qr.svg_inline(
        scale=5, border=2, svgclass="qr", lineclass=None, title=code, omitsize=True
    )
