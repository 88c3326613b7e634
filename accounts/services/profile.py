"""Profile completion: checking and saving sections, and verifying a work email with a
mailed code."""

from __future__ import annotations

import datetime
import hmac
import logging
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.crypto import keyed_hash
from accounts.models import FieldMark, Profile, User, WorkEmailChallenge
from accounts.profile_sections import SECTION_BY_KEY, Section
from accounts.selectors import birth_date_for_user
from accounts.signals import person_data_changed
from accounts.validators import profile_section_clean
from sesame_portal.errors import FieldsInvalid, ServiceError

logger = logging.getLogger(__name__)

WORK_EMAIL_CODE_MINUTES = 15
WORK_EMAIL_CODE_TTL = datetime.timedelta(minutes=WORK_EMAIL_CODE_MINUTES)
WORK_EMAIL_CODES_PER_HOUR = 5


def _mark(profile: Profile, field: str, mark: str, at: datetime.datetime) -> None:
    if getattr(profile, field) in ("", None):
        profile.field_marks.pop(field, None)
    else:
        profile.field_marks[field] = {"mark": mark, "at": at.isoformat()}


def profile_update(*, user: User, sections: dict[str, dict[str, Any]]) -> list[str]:
    """Check the answers of one or more sections, then save them; return the changed
    fields.

    Each section is checked whole against the profile's rules (`profile_section_clean`),
    a field left out keeping its saved answer; answers are saved as the rules return them
    (a phone as eleven digits, a student's employer cleared). All sections save or none
    do: FieldsInvalid names every refused field with its messages. Changed values are
    marked self-declared from now; a changed work email loses its verification and gets a
    new code. Any change to a section the score uses queues one recompute for the user.
    """
    specs = [_section(key) for key in sections]
    birth_date = birth_date_for_user(user=user)
    today = timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        profile, _created = Profile.objects.select_for_update().get_or_create(user=user)
        answers: dict[str, dict[str, Any]] = {}
        errors: dict[str, list[str]] = {}
        for spec in specs:
            given = {
                f: sections[spec.key][f] if f in sections[spec.key] else getattr(profile, f)
                for f in spec.fields
            }
            try:
                answers[spec.key] = profile_section_clean(
                    spec.key, given, birth_date=birth_date, today=today
                )
            except ValidationError as error:
                errors.update(error.message_dict)
        if errors:
            raise FieldsInvalid(errors)
        new_email = answers.get("occupation", {}).get("work_email") or ""
        if new_email and new_email != profile.work_email:
            # A new address needs a code; refuse before saving when none may be sent.
            _work_email_codes_check(user=user, now=now)
        changed = _profile_write(profile, answers, user=user, now=now)
    if "work_email" in changed and profile.work_email:
        work_email_challenge_start(user=user)
    return changed


def profile_section_clear(*, user: User, section: str) -> list[str]:
    """Delete every answer of one section (and a work email's verification with it);
    the score is recomputed without them."""
    fields = _section(section).fields
    empty = {name: None if Profile._meta.get_field(name).null else "" for name in fields}
    with transaction.atomic():
        profile, _created = Profile.objects.select_for_update().get_or_create(user=user)
        return _profile_write(profile, {section: empty}, user=user, now=timezone.now())


def _section(key: str) -> Section:
    if key not in SECTION_BY_KEY:
        raise ServiceError("section", _("No such profile section."), status_code=404)
    return SECTION_BY_KEY[key]


def _profile_write(
    profile: Profile,
    sections: dict[str, dict[str, Any]],
    *,
    user: User,
    now: datetime.datetime,
) -> list[str]:
    """Set checked answers of whole sections on the locked profile, mark what changed,
    save, and queue the score's recompute when it uses a changed section."""
    changed: list[str] = []
    scored: list[str] = []
    for key, values in sections.items():
        section = SECTION_BY_KEY[key]
        fields = [f for f in section.fields if getattr(profile, f) != values[f]]
        for field in fields:
            setattr(profile, field, values[field])
            _mark(profile, field, FieldMark.SELF_DECLARED, now)
        changed += fields
        if fields and section.used_by_score:
            scored.append(key)
    if not changed:
        return []
    if "work_email" in changed:
        profile.work_email_verified_at = None
        WorkEmailChallenge.objects.filter(user=user, verified_at__isnull=True).update(
            superseded=True
        )
    profile.updated_at = now
    profile.save()
    if scored:
        person_data_changed.send(User, user_ids={user.pk}, trigger="profile:" + ",".join(scored))
    return changed


def _code_hash(challenge_email: str, user_id: int, code: str) -> str:
    return keyed_hash(f"work-email:{user_id}:{challenge_email}:{code}")


def _work_email_codes_check(*, user: User, now: datetime.datetime) -> None:
    recent = WorkEmailChallenge.objects.filter(
        user=user, created_at__gt=now - datetime.timedelta(hours=1)
    ).count()
    if recent >= WORK_EMAIL_CODES_PER_HOUR:
        raise ServiceError(
            "rate_limited",
            _("Too many codes requested. Try again in an hour."),
            status_code=429,
            retry_after=3600,
        )


def work_email_challenge_start(*, user: User) -> WorkEmailChallenge:
    """Mail a fresh six-digit code to the profile's unverified work email."""
    now = timezone.now()
    with transaction.atomic():
        profile = Profile.objects.select_for_update().filter(user=user).first()
        if profile is None or not profile.work_email:
            raise ServiceError("no_work_email", _("Enter a work email first."))
        if profile.work_email_verified_at is not None:
            raise ServiceError(
                "already_verified", _("This work email is already verified."), status_code=409
            )
        _work_email_codes_check(user=user, now=now)
        WorkEmailChallenge.objects.filter(user=user, verified_at__isnull=True).update(
            superseded=True
        )
        code = f"{secrets.randbelow(1_000_000):06d}"
        challenge = WorkEmailChallenge.objects.create(
            user=user,
            email=profile.work_email,
            created_at=now,
            code_hash=_code_hash(profile.work_email, user.pk, code),
            expires_at=now + WORK_EMAIL_CODE_TTL,
        )
    send_mail(
        subject=_("Your Sesame Portal verification code"),
        message=_(
            "Your code is %(code)s. Enter it in Sesame Portal within %(minutes)d minutes to "
            "verify this work email. If you did not ask for it, ignore this email."
        )
        % {"code": code, "minutes": WORK_EMAIL_CODE_MINUTES},
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[challenge.email],
    )
    logger.info("work email code sent", extra={"user_id": user.pk})
    return challenge


def work_email_verify(*, user: User, code: str) -> Profile:
    """Check a typed code against the latest challenge; five wrong codes end it."""
    now = timezone.now()
    code = (code or "").strip()
    failure: ServiceError | None = None
    with transaction.atomic():
        challenge = (
            WorkEmailChallenge.objects.select_for_update()
            .filter(user=user, verified_at__isnull=True, superseded=False)
            .order_by("-created_at")
            .first()
        )
        profile = Profile.objects.select_for_update().filter(user=user).first()
        if challenge is None or profile is None or challenge.email != profile.work_email:
            raise ServiceError("no_code", _("There is no code waiting. Ask for a new one."))
        if challenge.attempts >= WorkEmailChallenge.MAX_ATTEMPTS:
            raise ServiceError(
                "too_many_attempts",
                _("Too many wrong codes. Ask for a new one."),
                status_code=429,
            )
        if challenge.expires_at <= now:
            raise ServiceError("code_expired", _("This code has expired. Ask for a new one."))
        if not hmac.compare_digest(challenge.code_hash, _code_hash(challenge.email, user.pk, code)):
            challenge.attempts += 1
            challenge.save(update_fields=["attempts"])
            left = WorkEmailChallenge.MAX_ATTEMPTS - challenge.attempts
            failure = ServiceError(
                "code_invalid",
                _("That code is not right. %(left)d tries left.") % {"left": left}
                if left
                else _("Too many wrong codes. Ask for a new one."),
            )
        else:
            challenge.verified_at = now
            challenge.save(update_fields=["verified_at"])
            profile.work_email_verified_at = now
            _mark(profile, "work_email", FieldMark.VERIFIED, now)
            profile.updated_at = now
            profile.save()
            person_data_changed.send(
                User, user_ids={user.pk}, trigger="profile:work_email_verified"
            )
    if failure is not None:
        raise failure
    return profile
