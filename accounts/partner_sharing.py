"""Ending a partner's sharing grants when the partner loses its approval.

A module of its own, outside accounts.services: benefits' partner services call it, and
accounts.services (through its consent module) imports benefits' services in turn."""

from __future__ import annotations

import datetime

from django.db import transaction

from accounts.models import ConsentGrant, ConsentPurpose, ConsentRevocation
from accounts.notifications import partner_grants_ended_notify


def partner_grants_end(*, partner_id: int, partner_name: str, at: datetime.datetime) -> list[int]:
    """End every current grant of sharing with this partner, recorded as ended because
    the partner was suspended (not as the person's own revocation), and tell each person
    in the app. The grants stay ended: a partner approved again must be authorised anew.
    Returns the ids of the people whose grant ended."""
    with transaction.atomic():
        # Locked like a person's own revocation locks its grant, so the two never collide.
        grants = list(
            ConsentGrant.objects.current(at)
            .select_for_update(of=("self",))
            .filter(purpose=ConsentPurpose.PARTNER_SHARING, partner_id=partner_id)
            .only("id", "user_id")
        )
        ConsentRevocation.objects.bulk_create(
            ConsentRevocation(
                grant_id=grant.pk,
                revoked_at=at,
                reason=ConsentRevocation.Reason.PARTNER_SUSPENDED,
                channel=ConsentGrant.Channel.SYSTEM,
            )
            for grant in grants
        )
        user_ids = sorted({grant.user_id for grant in grants if grant.user_id is not None})
        partner_grants_ended_notify(user_ids=user_ids, partner_name=partner_name, at=at)
    return user_ids
