from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The kinds the data-use email sweep mails (accounts.notifications.data_use_emails_send).
DATA_USE_EMAILED = ("data_used", "data_use_digest")


class Notification(models.Model):
    """An in-app message to one user. Stored as a kind and its parameters, not as text,
    so that it reads in whichever language the user has chosen when they open it."""

    class Kind(models.TextChoices):
        BENEFIT_UNLOCKED = "benefit_unlocked", _("Benefit unlocked")
        BENEFIT_LOCKED = "benefit_locked", _("Benefit locked")
        # params: {"from": score, "to": score, "snapshot_id": id, "previous_id": id}
        SCORE_CHANGED = "score_changed", _("Score changed")
        # To the holder of a verification someone appealed against. params: {"appeal_id": id}
        IDENTITY_APPEAL_FILED = "identity_appeal_filed", _("Identity appeal filed")
        # To the appellant and to the holder. params: {"appeal_id": id, "outcome":
        # "approved"|"rejected", "role": "appellant"|"holder", "reason": text (appellant)}
        IDENTITY_APPEAL_DECIDED = "identity_appeal_decided", _("Identity appeal decided")
        # params: {"partner": name}
        PARTNER_AUTHORIZATION_ENDED = (
            "partner_authorization_ended",
            _("Partner authorisation ended"),
        )
        # params: {"device": label}; the time is the notification's own.
        NEW_SIGN_IN = "new_sign_in", _("New sign-in")
        # params: {"section": key, "outcome": "approved"|"rejected", "reason": text}
        PROFILE_VERIFICATION_DECIDED = (
            "profile_verification_decided",
            _("Profile verification decided"),
        )
        # A new score reached the person's goal. params: {"score": score, "target": score,
        # "benefit_id": id or None, "title_zh": ..., "title_en": ...}
        GOAL_REACHED = "goal_reached", _("Goal reached")
        # To the person who asked a partner to erase their data. params: {"partner": name,
        # "partner_id": id, "request_id": id}
        PARTNER_ERASURE_DONE = "partner_erasure_done", _("Partner erased my data")
        PARTNER_ERASURE_OVERDUE = "partner_erasure_overdue", _("Erasure request overdue")
        # params: {"partner": name, "decision": PartnerDecision value, "receipt_id": id}
        PARTNER_DECISION_REPORTED = "partner_decision_reported", _("Partner decision reported")
        # params: {"partner": name, "outcome": "upheld"|"not_upheld", "report_id": id}
        HONOUR_REPORT_ANSWERED = "honour_report_answered", _("Honour report answered")
        # A dispute of a record was received, reviewed, answered or passed its deadline.
        # params: {"dispute_id": id, "status": a dispute status or "overdue", "due": date,
        # "reason": text (rejected), "uncounted": bool (overdue: the record left the score)}
        DISPUTE_UPDATED = "dispute_updated", _("Dispute updated")
        # To the person. params: {"name": the helper's name as the person gave it}
        HELPER_ACCEPTED = "helper_accepted", _("Helper accepted")
        # A partner's call used the person's data (a score query, an identity check, a
        # voucher redemption), written with the call's log row. params: {"query_id": id}
        DATA_USED = "data_used", _("Data used")
        # The week's uses for those who chose a weekly digest. params: {"count": n,
        # "since": ISO date}
        DATA_USE_DIGEST = "data_use_digest", _("Data use digest")
        # An authorisation of a partner ends within days. params: {"authorization_id": id}
        AUTHORIZATION_EXPIRING = "authorization_expiring", _("Authorisation expiring")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    params = models.JSONField(_("details"), default=dict)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Set when it went out by email: a task delivered twice sends nothing twice.
    emailed_at = models.DateTimeField(_("emailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at"]),
            # The inbox (newest first) and the email task (one moment) of a user whose
            # score changes most nights.
            models.Index(fields=["user", "-created_at"], name="accounts_notif_user_created"),
            # The email sweep of data-use alerts (every minute): only the rows not mailed.
            models.Index(
                fields=["created_at"],
                name="accounts_notif_data_unmailed",
                condition=models.Q(emailed_at__isnull=True, kind__in=DATA_USE_EMAILED),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class DataUseAlerts(models.TextChoices):
    """When a person hears that a partner used their data."""

    EACH = "each", _("Each time a partner uses my data")
    WEEKLY = "weekly", _("Once a week, in a digest")


class NotificationPreference(models.Model):
    """How a user wants to hear of changes besides the portal's inbox. No row: inbox only."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preference",
    )
    by_email = models.BooleanField(_("email me when my score or benefits change"), default=False)
    # Emails have no request to take a language from: they are written in the one the
    # user was reading when they turned them on.
    language = models.CharField(
        _("email language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )
    data_use_alerts = models.CharField(
        _("data use alerts"),
        max_length=10,
        choices=DataUseAlerts.choices,
        default=DataUseAlerts.EACH,
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"{'email' if self.by_email else 'inbox only'} for {self.user_id}"
