"""Disputes of a record, their evidence (sealed), who opened it, and their history."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models.evidence import SealedEvidence

# Admins answer a dispute within this; past it unanswered, the record stops counting.
ANSWER_WITHIN = datetime.timedelta(days=20)


class Dispute(models.Model):
    """A person contests one of their records (异议申诉): a repayment, a utility bill, the
    court-list match or a profile answer. Admins answer within ANSWER_WITHIN (20 days); a
    correction recomputes the score. The record shows as under review meanwhile. A dispute
    left unanswered past its deadline is marked overdue (overdue_at, by the deadline task)
    and, until it is answered, its repayment or bill does not count in the score."""

    class Kind(models.TextChoices):
        REPAYMENT = "repayment", _("A repayment")
        BILL = "bill", _("A utility bill")
        COURT_LIST = "court_list", _("The court-list match")
        PROFILE = "profile", _("A profile answer")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        UNDER_REVIEW = "under_review", _("Under review")
        CORRECTED = "corrected", _("Corrected")
        REJECTED = "rejected", _("Rejected")

    OPEN = (Status.RECEIVED, Status.UNDER_REVIEW)
    # Kinds whose record is one row the score reads (a Repayment or a UtilityBill).
    SCORED_KINDS = (Kind.REPAYMENT, Kind.BILL)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="disputes"
    )
    kind = models.CharField(_("record"), max_length=12, choices=Kind.choices)
    # The disputed record: a Repayment or UtilityBill id, or a profile field name.
    record_id = models.PositiveBigIntegerField(_("record id"), null=True, blank=True)
    field = models.CharField(_("profile field"), max_length=40, blank=True)
    record_summary = models.CharField(_("record as it stood"), max_length=200)
    statement = models.TextField(_("statement"), max_length=2000)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.RECEIVED
    )
    resolution = models.TextField(_("resolution"), blank=True)
    created_at = models.DateTimeField(_("received at"), default=timezone.now)
    due_at = models.DateTimeField(_("answer due by"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # When the deadline task found it unanswered past due_at; kept once answered.
    overdue_at = models.DateTimeField(_("deadline passed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        ordering = ["due_at"]
        # Staff open a person's evidence only with this permission (superusers have it).
        permissions = [("view_dispute_evidence", _("Can open the evidence of disputes"))]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["user", "kind"]),
            # The score's loader leaves out the records of these few rows, a chunk's
            # range of users at a time.
            models.Index(
                fields=["kind", "user", "record_id"],
                condition=Q(status__in=["received", "under_review"], overdue_at__isnull=False),
                name="dispute_uncounted",
            ),
        ]

    def __str__(self) -> str:
        return f"dispute {self.pk} ({self.get_kind_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def is_overdue(self) -> bool:
        """Past its deadline and still unanswered (see UNCOUNTED)."""
        return self.is_open and self.overdue_at is not None

    @property
    def record_uncounted(self) -> bool:
        """Whether its record is left out of the score now (see UNCOUNTED)."""
        return self.is_overdue and self.kind in self.SCORED_KINDS

    @property
    def record_counts(self) -> bool:
        return not self.record_uncounted


# The one rule of what is left out of the score: a repayment or bill whose dispute passed
# its deadline unanswered, until the dispute is answered (scoring.selectors reads it).
UNCOUNTED = Q(status__in=Dispute.OPEN, overdue_at__isnull=False)


class DisputeAttachment(SealedEvidence):
    """The optional evidence, handed out only to its owner and to staff."""

    dispute = models.OneToOneField(Dispute, on_delete=models.CASCADE, related_name="attachment")

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")


class DisputeEvidenceAccess(models.Model):
    """Each download of a dispute's evidence: by its owner or by staff, and when. The
    person sees the staff openings by role (never by username) and gets them in their
    export; the admin keeps who it was."""

    class Role(models.TextChoices):
        OWNER = "owner", _("owner")
        STAFF = "staff", _("staff")

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="evidence_accesses")
    role = models.CharField(_("opened by"), max_length=8, choices=Role.choices)
    # Kept when the staff account goes: the person's record of the opening stays.
    accessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("account"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("evidence opening")
        verbose_name_plural = _("evidence openings")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.role} at {self.at:%Y-%m-%d %H:%M}"


class DisputeEvent(models.Model):
    """The dispute's timeline, as the person sees it."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"), default=timezone.now)
    status = models.CharField(_("status"), max_length=12, choices=Dispute.Status.choices)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("dispute event")
        verbose_name_plural = _("dispute events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.status} at {self.at:%Y-%m-%d %H:%M}"
