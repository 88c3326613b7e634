"""Curating partners and benefits: qualification status with its history, publishing."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from benefits.models import Benefit, BenefitUnlock, Partner, PartnerStatusChange
from benefits.models.partners import licence_required_message
from benefits.services.partner_access import partner_access_changed, partner_grants_end
from sesame_portal.errors import ServiceError


def partner_status_set(
    *, partners: Iterable[Partner], status: str, reason: str, by: User | None
) -> list[Partner]:
    """Approve, suspend or return partners to review, recording who, when and why.

    A suspended partner's benefits leave the catalogue at once (the catalogue reads the
    status), their open unlocks are closed, and every current authorisation people gave
    it ends (each person is told). Approving refuses, changing none, when any of the
    partners is a lender without its licence on record; it sets the approval date and the
    review date (PARTNER_REVIEW_DAYS later), and approving an approved partner again
    records its review. Returns the partners that changed (or were reviewed)."""
    if status not in Partner.Status.values:
        raise ServiceError("invalid", _("Unknown status."))
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", _("Give a reason for the change."))
    now = timezone.now()
    approving = status == Partner.Status.APPROVED
    changed = []
    with transaction.atomic():
        locked = list(
            Partner.objects.select_for_update()
            .filter(pk__in=[p.pk for p in partners])
            .order_by("pk")
        )
        unlicensed = [partner for partner in locked if partner.licence_missing]
        if approving and unlicensed:
            # None of them changes: the admin sees which need their licence first.
            raise ServiceError("licence_required", licence_required_message(unlicensed))
        for partner in locked:
            if partner.status == status and not approving:
                continue
            PartnerStatusChange.objects.create(
                partner=partner,
                status_from=partner.status,
                status_to=status,
                reason=reason[:300],
                changed_by=by,
                changed_at=now,
            )
            partner.status = status
            partner.status_changed_at = now
            partner.status_changed_by = by
            # Approving an approved partner again records its review and renews the date.
            partner.approved_at = now if approving else partner.approved_at
            partner.review_due_on = partner_review_due(now) if approving else None
            partner.save(
                update_fields=[
                    "status",
                    "status_changed_at",
                    "status_changed_by",
                    "approved_at",
                    "review_due_on",
                ]
            )
            if status != Partner.Status.APPROVED:
                BenefitUnlock.objects.filter(
                    benefit__partner=partner, locked_at__isnull=True
                ).update(locked_at=now)
                # For good: approving the partner again does not bring them back.
                partner_grants_end(partner_id=partner.pk, partner_name=partner.name, at=now)
            changed.append(partner)
        if changed:
            partner_access_changed()
    return changed


def partner_review_due(approved_at: datetime.datetime) -> datetime.date:
    """The day an approval given at `approved_at` falls due for review."""
    return timezone.localdate(approved_at) + datetime.timedelta(days=settings.PARTNER_REVIEW_DAYS)


def benefit_publish(*, benefit: Benefit, by: User | None, publish: bool = True) -> Benefit:
    """Offer a benefit (or take it back to draft). Users see it at once: the catalogue
    judges eligibility live; unlock records and notifications follow the next recompute."""
    benefit.status = Benefit.Status.PUBLISHED if publish else Benefit.Status.DRAFT
    if publish:
        benefit.published_at = timezone.now()
        benefit.published_by = by
    benefit.save(update_fields=["status", "published_at", "published_by"])
    return benefit
