"""The printed credit statement: one A4 page in Chinese and English together, drawn with
fpdf2 from a proof's answer (proof_answer) and nothing else, so it carries exactly what
the proof discloses, with a QR code of the proof's link that verifies it online."""

from __future__ import annotations

import datetime
import io
import logging
from collections.abc import Callable
from pathlib import Path

import segno
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from fpdf import FPDF

from scoring.models import ScoreSnapshot
from scoring.services.proofs import ProofAnswer
from sesame_portal.errors import ServiceError

logger = logging.getLogger(__name__)

# Debian's CJK fonts that fpdf2 reads (TrueType outlines; for a collection, its first
# face), in order of preference. STATEMENT_FONT, when set, is the only one tried.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # fonts-wqy-microhei
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # fonts-wqy-zenhei
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",  # fonts-droid-fallback
    "/usr/share/fonts/truetype/arphic/uming.ttc",  # fonts-arphic-uming
)
FONT = "cjk"
LANGUAGES = ("zh-hans", "en")  # the statement's two languages, Chinese first
INK, GREY, RULE = (20, 20, 20), (90, 90, 90), (200, 200, 200)


def statement_font() -> Path:
    """The font the statement is drawn with; font_missing (503) when there is none, so the
    person gets a clear message rather than an error page."""
    configured = settings.STATEMENT_FONT
    for name in (configured,) if configured else FONT_CANDIDATES:
        path = Path(name)
        if path.is_file():
            return path
    logger.error("statement_font_missing", extra={"tried": configured or FONT_CANDIDATES})
    raise _font_missing()


def _font_missing() -> ServiceError:
    return ServiceError(
        "font_missing",
        _(
            "The printed statement cannot be made now: the server lacks its Chinese font. "
            "Your proof links still work; please try again later."
        ),
        status_code=503,
    )


def _both(text: Callable[[], str]) -> tuple[str, str]:
    """`text` in Chinese, then in English (the page shows both whatever the reader's
    language)."""
    lines = []
    for language in LANGUAGES:
        with translation.override(language):
            lines.append(str(text()))
    return lines[0], lines[1]


def _when(moment: datetime.datetime) -> str:
    local = timezone.localtime(moment)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} UTC{offset[:3]}:{offset[3:]}"


def _answer_line(answer: ProofAnswer) -> Callable[[], str]:
    if answer.meets is None:
        # The verification page's msgid (with its en dash) and so its translation.
        return lambda: (
            _("Score band: %(band)s (%(low)s\u2013%(high)s)")
            % {
                "band": ScoreSnapshot.Band(answer.band_code).label,
                "low": answer.band_low,
                "high": answer.band_high,
            }
        )
    return lambda: "{}{}{}".format(
        _("Score at least %(n)s:") % {"n": answer.proof.threshold},
        "" if translation.get_language().startswith("zh") else " ",  # after a full-width colon
        _("Yes") if answer.meets else _("No"),
    )


def _drawable(text: str) -> str:
    """The person's own text with control and formatting characters (tabs, bidi
    overrides, zero widths) as spaces: the font has no glyph for them."""
    return "".join(char if char.isprintable() or char == "\n" else " " for char in text)


class _Page(FPDF):
    def pair(self, text: Callable[[], str], *, size: float = 11, width: float = 0) -> None:
        """One line of the statement: Chinese in ink, English below it in grey."""
        chinese, english = _both(text)
        self.set_text_color(*INK)
        self.set_font(FONT, size=size)
        self.multi_cell(width, size * 0.5, chinese, new_x="LMARGIN", new_y="NEXT", align="L")
        self.set_text_color(*GREY)
        self.set_font(FONT, size=size * 0.85)
        self.multi_cell(width, size * 0.45, english, new_x="LMARGIN", new_y="NEXT", align="L")
        self.ln(2.5)

    def rule(self) -> None:
        self.ln(1)
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(4)


def _qr_png(link: str) -> io.BytesIO:
    image = io.BytesIO()
    segno.make(link, error="m", micro=False).save(image, kind="png", scale=8, border=2)
    image.seek(0)
    return image


def statement_pdf(answer: ProofAnswer, *, link: str) -> bytes:
    """The statement of a shown proof answer, issued when it was checked: its disclosures
    only, the link's QR code and how to check it."""
    issued_at = answer.checked_at
    font = statement_font()
    pdf = _Page(format="A4")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(auto=True, margin=16)
    try:
        pdf.add_font(FONT, fname=str(font), collection_font_number=0)
    except Exception as error:  # a file that is not a font fpdf2 reads
        logger.exception("statement_font_unreadable", extra={"font": str(font)})
        raise _font_missing() from error
    title_zh, title_en = _both(lambda: _("Credit statement"))
    pdf.set_title(f"{title_zh} / {title_en}")
    pdf.set_creator(_both(lambda: _("Sesame Portal"))[1])
    pdf.set_creation_date(issued_at)
    pdf.add_page()

    qr_size = 42
    text_width = pdf.epw - qr_size - 8
    pdf.image(_qr_png(link), x=pdf.w - pdf.r_margin - qr_size, y=pdf.t_margin, w=qr_size)
    pdf.set_font(FONT, size=9)
    pdf.set_text_color(*GREY)
    pdf.cell(text_width, 5, " · ".join(_both(lambda: _("Sesame Portal"))))
    pdf.ln(8)
    pdf.pair(lambda: _("Credit statement"), size=20, width=text_width)
    pdf.pair(
        lambda: _("Issued at %(when)s") % {"when": _when(issued_at)}, size=10, width=text_width
    )
    pdf.set_y(max(pdf.get_y(), pdf.t_margin + qr_size + 2))
    pdf.rule()

    if answer.name:
        pdf.pair(lambda: _("Holder: %(name)s") % {"name": answer.name}, size=13)
    pdf.pair(_answer_line(answer), size=13)
    if answer.statement:
        pdf.rule()
        pdf.pair(lambda: _("Personal statement"), size=12)
        pdf.set_text_color(*INK)
        pdf.set_font(FONT, size=11)
        pdf.multi_cell(0, 6, _drawable(answer.statement), new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(1.5)
        pdf.pair(lambda: _("Written by the holder; Sesame Portal has not checked it."), size=9)

    pdf.rule()
    pdf.pair(lambda: _("Check it online"), size=12)
    pdf.pair(
        lambda: _(
            "Scan the QR code or open the link below: Sesame Portal answers it afresh, "
            "signed, and shows whether it still holds."
        ),
        size=10,
    )
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, size=9)
    pdf.multi_cell(0, 5, link, link=link, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(2.5)
    pdf.pair(
        lambda: (
            _("Valid until %(until)s, unless the holder revokes it.")
            % {"until": _when(answer.proof.expires_at)}
        ),
        size=10,
    )
    pdf.pair(
        lambda: _(
            "This statement carries only what its holder chose to show, as of the time it "
            "was issued. On its own, without the online check, it proves nothing."
        ),
        size=9,
    )
    return bytes(pdf.output())
