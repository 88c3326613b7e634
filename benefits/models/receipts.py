"""Decision receipts (the decision a partner took with a score query, as it reported it)
and honour reports (a person says a partner did not honour a benefit they unlocked)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from benefits.models.catalogue import Benefit, Voucher
from benefits.models.partner_api import PartnerDecision, PartnerQuery
from benefits.models.partners import Partner

# Admins answer an honour report within this many days; past it the report is flagged.
HONOUR_ANSWER_WITHIN = datetime.timedelta(days=10)


class DecisionReason(models.TextChoices):
    """The documented reason codes a partner reports with its decision (the partner API
    takes these and no others, so the person reads each in their own language)."""

    SCORE_ABOVE_POLICY = "score_above_policy", _("The score met the partner's threshold")
    SCORE_BELOW_POLICY = "score_below_policy", _("The score was below the partner's threshold")
    SUBSCORE_BELOW_POLICY = (
        "subscore_below_policy",
        _("A sub-score was below the partner's threshold"),
    )
    NOT_ELIGIBLE = "not_eligible", _("Not eligible for the benefit")
    IDENTITY_NOT_CONFIRMED = "identity_not_confirmed", _("Identity not confirmed")
    OWN_RECORDS = "own_records", _("The partner's own records")
    LIMIT_BY_BAND = "limit_by_band", _("A limit set by the score band")
    APPLICATION_WITHDRAWN = "application_withdrawn", _("The application was withdrawn")
    OTHER = "other", _("Another reason of the partner's policy")


class DecisionReceipt(models.Model):
    """The decision a partner reported about one of its answered score or eligibility
    queries: at most one per query. The person sees it beside the query and may add it
    to a dispute of theirs that is still open."""

    query = models.OneToOneField(
        PartnerQuery,
        on_delete=models.CASCADE,
        related_name="decision_receipt",
        verbose_name=_("query"),
    )
    partner = models.ForeignKey(
        Partner,
        on_delete=models.CASCADE,
        related_name="decision_receipts",
        verbose_name=_("partner"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="decision_receipts"
    )
    outcome = models.CharField(_("decision"), max_length=20, choices=PartnerDecision.choices)
    limit = models.PositiveIntegerField(_("limit (yuan)"), null=True, blank=True)
    # The partner's own code (letters, digits, _ . -); the documented ones read in words.
    reason_code = models.CharField(_("reason"), max_length=64, choices=DecisionReason.choices)
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    # The person's open dispute they added this decision to, and when.
    dispute = models.ForeignKey(
        "scoring.Dispute",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("dispute"),
    )
    disputed_at = models.DateTimeField(_("added to the dispute at"), null=True, blank=True)

    class Meta:
        verbose_name = _("decision receipt")
        verbose_name_plural = _("decision receipts")
        ordering = ["-reported_at", "-id"]
        indexes = [models.Index(fields=["partner", "outcome"])]

    def __str__(self) -> str:
        return f"{self.outcome} by {self.partner_id} on query {self.query_id}"


class HonourReport(models.Model):
    """A person reports that a partner did not honour a benefit they had unlocked.
    Admins answer within HONOUR_ANSWER_WITHIN: upheld (the partner was at fault) or not
    upheld, with a reason the person reads."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        UPHELD = "upheld", _("Upheld")
        NOT_UPHELD = "not_upheld", _("Not upheld")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="honour_reports"
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="honour_reports", verbose_name=_("partner")
    )
    benefit = models.ForeignKey(
        Benefit, on_delete=models.CASCADE, related_name="honour_reports", verbose_name=_("benefit")
    )
    voucher = models.ForeignKey(
        Voucher,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("voucher"),
    )
    what_happened = models.TextField(_("what happened"), max_length=1000)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.RECEIVED
    )
    answer = models.TextField(_("answer"), blank=True)
    created_at = models.DateTimeField(_("received at"), default=timezone.now)
    due_at = models.DateTimeField(_("answer due by"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("answered by"),
    )

    class Meta:
        verbose_name = _("honour report")
        verbose_name_plural = _("honour reports")
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["status", "due_at"]), models.Index(fields=["partner"])]

    def __str__(self) -> str:
        return f"honour report {self.pk} ({self.partner_id})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.RECEIVED

    def is_overdue(self, now: datetime.datetime | None = None) -> bool:
        return self.is_open and self.due_at < (now or timezone.now())
