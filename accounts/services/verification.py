"""Verifying profile sections that have no code to type (education, vehicle, property,
housing provident fund): the person files a document, or for education a CHSI (学信网)
online verification code, and staff decide.

The document is checked by its content as dispute evidence is (PDF, JPEG or PNG of at
most 5 MB) and kept sealed. A CHSI code is checked for its form only: the portal has no
link to CHSI, so staff look the code up on chsi.com.cn before approving. Approving marks
the answers filed verified, "by document" or "by CHSI code", on that day, and queues the
person's recompute, where verified answers count fully (scoring.ml.declared). Rejecting
needs a reason, which the person is told. Changing a verified answer later makes it
self-declared again (profile_update marks every changed field)."""

from __future__ import annotations

import logging
import re

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    FieldMark,
    Notification,
    Profile,
    SectionVerification,
    SectionVerificationDocument,
    User,
)
from accounts.profile_sections import SECTION_BY_KEY
from accounts.signals import person_data_changed
from sesame_portal.errors import ServiceError
from sesame_portal.uploads import evidence_content_type

logger = logging.getLogger(__name__)

VERIFIABLE_SECTIONS = tuple(SectionVerification.Section.values)
# CHSI online verification codes (学信网在线验证码) are letters and digits; the portal
# checks the form only, staff check the code itself on chsi.com.cn.
CHSI_CODE = re.compile(r"^[A-Z0-9]{10,20}$")


def _answers(profile: Profile, section: str) -> dict:
    return {field: getattr(profile, field) for field in SECTION_BY_KEY[section].fields}


def _section_check(section: str) -> None:
    if section not in VERIFIABLE_SECTIONS:
        raise ServiceError(
            "section", _("This section cannot be verified with a document."), status_code=404
        )


def chsi_code_clean(code: str | None) -> str:
    """The code as CHSI prints it: upper case, without spaces or hyphens."""
    cleaned = re.sub(r"[\s-]", "", code or "").upper()
    if not CHSI_CODE.match(cleaned):
        raise ServiceError(
            "code",
            _(
                "Enter the online verification code from your CHSI report: 10 to 20 letters "
                "and digits."
            ),
        )
    return cleaned


def section_verification_file(
    *,
    user: User,
    section: str,
    document: UploadedFile | None = None,
    code: str | None = None,
) -> SectionVerification:
    """File a verification of one section's current answers, with a document or (for
    education) a CHSI code. Refused when the section is not complete, when the document
    is not a PDF, JPEG or PNG of at most 5 MB (by its content), or when one is pending."""
    _section_check(section)
    code = (code or "").strip()
    if code and section != SectionVerification.Section.EDUCATION:
        raise ServiceError("code", _("A code can verify education only. Attach a document."))
    if document is None and not code:
        raise ServiceError(
            "attachment",
            _("Attach a document, or enter your CHSI code.")
            if section == SectionVerification.Section.EDUCATION
            else _("Attach a document."),
        )
    content_type = evidence_content_type(document) if document is not None else None
    clean_code = chsi_code_clean(code) if document is None else ""
    with transaction.atomic():
        profile = Profile.objects.select_for_update().filter(user=user).first()
        if profile is None or not SECTION_BY_KEY[section].is_complete(profile):
            raise ServiceError("incomplete", _("Answer this section before verifying it."))
        if SectionVerification.objects.filter(
            user=user, section=section, status=SectionVerification.Status.PENDING
        ).exists():
            raise ServiceError(
                "already_filed",
                _("This section is already waiting for our staff."),
                status_code=409,
            )
        try:
            with transaction.atomic():
                verification = SectionVerification.objects.create(
                    user=user,
                    section=section,
                    method=SectionVerification.Method.DOCUMENT
                    if document is not None
                    else SectionVerification.Method.CHSI_CODE,
                    code=clean_code,
                    answers=_answers(profile, section),
                )
        except IntegrityError as error:  # filed twice at the same moment
            raise ServiceError(
                "already_filed",
                _("This section is already waiting for our staff."),
                status_code=409,
            ) from error
        if document is not None:
            SectionVerificationDocument.objects.create(
                verification=verification,
                **SectionVerificationDocument.sealed(document, content_type),
            )
    logger.info(
        "profile verification filed", extra={"user_id": user.pk, "verification": verification.pk}
    )
    return verification


def section_verification_decide_check(
    *, verification: SectionVerification, approve: bool, reason: str
) -> None:
    """Whether this decision can be taken now (the admin form asks before saving, the
    decision again under its locks)."""
    if verification.status != SectionVerification.Status.PENDING:
        raise ServiceError(
            "already_decided", _("This verification is already decided."), status_code=409
        )
    if not approve and not (reason or "").strip():
        raise ServiceError("reason", _("Say why the verification is rejected."))
    if approve:
        profile = Profile.objects.filter(user_id=verification.user_id).first()
        if profile is None or _answers(profile, verification.section) != verification.answers:
            raise ServiceError(
                "answers_changed",
                _(
                    "The person has changed these answers since filing: the document may "
                    "not prove them. Reject it and ask them to file again."
                ),
            )


def section_verification_decide(
    *,
    verification: SectionVerification,
    approve: bool,
    reason: str = "",
    by: User | None = None,
) -> SectionVerification:
    """Staff's decision. Approving marks the section's answers verified (how, and when)
    and queues the person's recompute; rejecting needs a reason. Either way the person
    is told."""
    reason = (reason or "").strip()
    now = timezone.now()
    with transaction.atomic():
        current = SectionVerification.objects.select_for_update().get(pk=verification.pk)
        profile = Profile.objects.select_for_update().filter(user_id=current.user_id).first()
        section_verification_decide_check(verification=current, approve=approve, reason=reason)
        if approve:
            for field, value in current.answers.items():
                if value not in (None, ""):
                    profile.field_marks[field] = {
                        "mark": FieldMark.VERIFIED,
                        "at": now.isoformat(),
                        "by": current.method,
                    }
            profile.updated_at = now
            profile.save(update_fields=["field_marks", "updated_at"])
        current.status = (
            SectionVerification.Status.APPROVED if approve else SectionVerification.Status.REJECTED
        )
        current.reason = reason
        current.decided_at = now
        current.decided_by = by
        current.save(update_fields=["status", "reason", "decided_at", "decided_by"])
        Notification.objects.create(
            user_id=current.user_id,
            kind=Notification.Kind.PROFILE_VERIFICATION_DECIDED,
            params={"section": current.section, "outcome": current.status, "reason": reason},
        )
        if approve:
            person_data_changed.send(
                User, user_ids={current.user_id}, trigger="profile_verified:" + current.section
            )
    logger.info(
        "profile verification decided",
        extra={"verification": current.pk, "outcome": current.status},
    )
    return current
