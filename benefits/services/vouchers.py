"""Claiming a benefit: one valid voucher per user per benefit, within the quota."""

from __future__ import annotations

import datetime
import secrets

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ConsentPurpose, User
from accounts.selectors import consent_allows
from benefits.eligibility import BLOCK_COURT_LIST, eligibility_of
from benefits.models import Benefit, Partner, Voucher
from benefits.selectors import person_of
from sesame_portal.errors import ServiceError

# Crockford's base32 without look-alikes (no I, L, O, U): 16 characters carry 80 bits.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16


def voucher_code_new() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def _offered_or_error(benefit: Benefit | None, now: datetime.datetime) -> Benefit:
    if (
        benefit is None
        or benefit.status != Benefit.Status.PUBLISHED
        or benefit.partner.status != Partner.Status.APPROVED
    ):
        raise ServiceError("not_found", _("No such benefit is on offer."), status_code=404)
    if benefit.active_from > now:
        raise ServiceError("not_started", _("This benefit is not on offer yet."), status_code=409)
    if benefit.active_to is not None and benefit.active_to <= now:
        raise ServiceError("ended", _("This benefit has ended."), status_code=410)
    return benefit


def voucher_claim(*, user: User, benefit_id: int, now: datetime.datetime | None = None) -> Voucher:
    """Give the user a voucher for an unlocked benefit.

    Claims of one benefit are serialised on its row (SELECT … FOR UPDATE), so that the
    check of the quota and of the user's own valid voucher and the insert happen as one:
    concurrent claims never go beyond the quota or give one person two vouchers.
    """
    now = now or timezone.now()
    if not consent_allows(user=user, purpose=ConsentPurpose.SCORING):
        raise ServiceError(
            "consent_required",
            _("Benefits follow your score, which needs your consent to scoring."),
            status_code=403,
        )
    benefit = Benefit.objects.select_related("partner").filter(pk=benefit_id).first()
    benefit = _offered_or_error(benefit, now)
    eligibility = eligibility_of(person_of(user), benefit, today=timezone.localdate(now))
    if BLOCK_COURT_LIST in eligibility.blocked_by:
        raise ServiceError(
            "court_list",
            _(
                "You are on the court list of dishonest judgment debtors, so benefits are "
                "not available. If this is wrong, you can dispute it."
            ),
            status_code=403,
        )
    if not eligibility.unlocked:
        raise ServiceError(
            "not_eligible", _("This benefit is not unlocked for you yet."), status_code=403
        )
    with transaction.atomic():
        Benefit.objects.select_for_update().filter(pk=benefit.pk).exists()
        valid = Q(redeemed_at__isnull=True, expires_at__gt=now)
        if Voucher.objects.filter(valid, user=user, benefit=benefit).exists():
            raise ServiceError(
                "already_claimed",
                _("You already hold a valid voucher for this benefit."),
                status_code=409,
            )
        if benefit.quota is not None:
            outstanding = Voucher.objects.filter(
                valid | Q(redeemed_at__isnull=False), benefit=benefit
            ).count()
            if outstanding >= benefit.quota:
                raise ServiceError(
                    "quota_exhausted",
                    _("All vouchers for this benefit have been claimed."),
                    status_code=409,
                )
        expires_at = now + datetime.timedelta(days=benefit.voucher_days)
        if benefit.active_to is not None:
            expires_at = min(expires_at, benefit.active_to)  # not beyond the offer itself
        return Voucher.objects.create(
            code=voucher_code_new(),
            user=user,
            benefit=benefit,
            issued_at=now,
            expires_at=expires_at,
        )
