"""Curating partners and benefits: qualification status with its history, publishing."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.partner_sharing import partner_grants_end
from benefits.models import Benefit, BenefitUnlock, Partner, PartnerStatusChange
from sesame_portal.errors import ServiceError


def partner_status_set(
    *, partners: Iterable[Partner], status: str, reason: str, by: User | None
) -> list[Partner]:
    """Approve, suspend or return partners to review, recording who, when and why.

    A suspended partner's benefits leave the catalogue at once (the catalogue reads the
    status), their open unlocks are closed, and every current authorisation people gave
    it ends (each person is told). Returns the partners that changed."""
    if status not in Partner.Status.values:
        raise ServiceError("invalid", _("Unknown status."))
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", _("Give a reason for the change."))
    now = timezone.now()
    changed = []
    with transaction.atomic():
        for partner in Partner.objects.select_for_update().filter(pk__in=[p.pk for p in partners]):
            if partner.status == status:
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
            partner.save(update_fields=["status", "status_changed_at", "status_changed_by"])
            if status != Partner.Status.APPROVED:
                BenefitUnlock.objects.filter(
                    benefit__partner=partner, locked_at__isnull=True
                ).update(locked_at=now)
                # For good: approving the partner again does not bring them back.
                partner_grants_end(partner_id=partner.pk, partner_name=partner.name, at=now)
            changed.append(partner)
    return changed


def benefit_publish(*, benefit: Benefit, by: User | None, publish: bool = True) -> Benefit:
    """Offer a benefit (or take it back to draft). Users see it at once: the catalogue
    judges eligibility live; unlock records and notifications follow the next recompute."""
    benefit.status = Benefit.Status.PUBLISHED if publish else Benefit.Status.DRAFT
    if publish:
        benefit.published_at = timezone.now()
        benefit.published_by = by
    benefit.save(update_fields=["status", "published_at", "published_by"])
    return benefit
