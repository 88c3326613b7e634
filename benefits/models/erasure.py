"""A person's request that a partner erase what it received about them (PIPL art. 47):
one open request per person and partner, due ERASURE_DEADLINE_DAYS after it was made."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from benefits.models.partners import Partner


class ErasureRequestQuerySet(models.QuerySet):
    def open(self) -> ErasureRequestQuerySet:
        """Not yet done by the partner."""
        return self.filter(done_at__isnull=True)

    def overdue(self, at: datetime.datetime | None = None) -> ErasureRequestQuerySet:
        """Open past their due time (the rule ErasureRequest.is_overdue says for one row)."""
        return self.open().filter(due_at__lte=at or timezone.now())


class ErasureRequest(models.Model):
    """Made by the person with one tap on the partner's page; closed by the partner
    through its API once it has erased, with its note. The person stays known to the
    partner only by the ids of the authorisation tokens it holds (`token_ids`, kept when
    the request is made so it survives the person's account)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="erasure_requests",
        verbose_name=_("person"),
    )
    # Protected: the request is evidence of what the partner was asked and when.
    partner = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        related_name="erasure_requests",
        verbose_name=_("partner"),
    )
    token_ids = models.JSONField(_("authorisation token ids"), default=list, blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    due_at = models.DateTimeField(_("due at"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    partner_note = models.CharField(_("partner's note"), max_length=500, blank=True)
    # When the overdue sweep told the person (and the admins) that it is overdue: once.
    overdue_notified_at = models.DateTimeField(_("flagged overdue at"), null=True, blank=True)

    objects = ErasureRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("erasure request")
        verbose_name_plural = _("erasure requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "partner"],
                condition=Q(done_at__isnull=True),
                name="one_open_erasure_request",
            )
        ]
        indexes = [models.Index(fields=["partner", "done_at"])]

    def __str__(self) -> str:
        return f"erasure request {self.pk} to {self.partner_id}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    def is_overdue(self, at: datetime.datetime | None = None) -> bool:
        """Not done by its due time (ErasureRequestQuerySet.overdue for many rows)."""
        return self.done_at is None and self.due_at <= (at or timezone.now())


def erasure_due(created_at: datetime.datetime) -> datetime.datetime:
    """When a request made at `created_at` is due: ERASURE_DEADLINE_DAYS later."""
    return created_at + datetime.timedelta(days=settings.ERASURE_DEADLINE_DAYS)
