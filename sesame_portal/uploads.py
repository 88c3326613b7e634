"""Uploaded evidence (dispute attachments, identity appeals): what a file is by its first
bytes, whatever it is called, and how large it may be."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpResponse
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from sesame_portal.errors import ServiceError

EVIDENCE_MAX_MB = 5
# What a person writes beside their evidence (a dispute, an identity appeal).
STATEMENT_MAX = 2000
EVIDENCE_MAX_BYTES = EVIDENCE_MAX_MB * 1024 * 1024
# File types by their first bytes: what the file is, whatever it is called.
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


_EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


def evidence_file_name(content_type: str) -> str:
    """The name evidence is kept under: never the uploaded one, which may carry an ID
    number or a name (people photograph their ID card as 110105....jpg)."""
    return f"evidence.{_EXTENSIONS.get(content_type, 'bin')}"


def evidence_response(evidence, *, filename: str) -> HttpResponse:
    """Sealed evidence (accounts.models.evidence.SealedEvidence) decrypted for one
    reader: always downloaded under a neutral name, never rendered, never cached."""
    response = HttpResponse(evidence.content(), content_type=evidence.content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def evidence_content_type(upload: UploadedFile) -> str:
    """The content type of a PDF, JPEG or PNG of at most EVIDENCE_MAX_MB; refused otherwise
    (413 attachment_too_large, 415 attachment_type)."""
    if upload.size > EVIDENCE_MAX_BYTES:
        raise ServiceError(
            "attachment_too_large",
            _("The file is larger than %(mb)d MB.") % {"mb": EVIDENCE_MAX_MB},
            status_code=413,
        )
    head = upload.read(16)
    upload.seek(0)
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    raise ServiceError("attachment_type", _("Attach a PDF, JPEG or PNG file."), status_code=415)


def statement_clean(text: str | None, *, missing: str) -> str:
    """The statement beside evidence, trimmed: refused (code `statement`) when empty,
    with `missing` as the message, or longer than STATEMENT_MAX."""
    text = (text or "").strip()
    if not text:
        raise ServiceError("statement", missing)
    if len(text) > STATEMENT_MAX:
        raise ServiceError(
            "statement",
            _("Keep the statement to %(most)s characters.")
            % {"most": number_format(STATEMENT_MAX, force_grouping=True)},
        )
    return text
