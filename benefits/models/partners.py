from __future__ import annotations

import zlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def name_in_language(name: str, name_en: str | None) -> str:
    """A partner's name in the page's language (the English one only where there is
    one): for a partner, and for the names a notification keeps of it."""
    english = (get_language() or "").startswith("en")
    return name_en if english and name_en else name


class Partner(models.Model):
    """A merchant that offers benefits and, with a user's consent, reads their score.
    Only approved partners offer benefits or query; status changes go through
    benefits.services.partner_status_set, which records who, when and why, refuses to
    approve a lending partner without its licence, and sets the date of the next review."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending review")
        APPROVED = "approved", _("Approved")
        SUSPENDED = "suspended", _("Suspended")

    # The category of lenders (loans, credit lines, 借贷): a licensed activity, so they are
    # approved only with a licence on record, and their authorisations end with their
    # decision unless the person chooses otherwise.
    LENDING = "lending"
    LICENSED_CATEGORIES = frozenset({LENDING})

    name = models.CharField(_("name"), max_length=100, unique=True)
    # Optional: an English page shows the Chinese name until one is entered.
    name_en = models.CharField(
        _("name (English)"),
        max_length=100,
        blank=True,
        help_text=_("Shown on English pages; empty: the name above is shown."),
    )
    category = models.CharField(
        _("category"),
        max_length=50,
        help_text=_(
            "For example bike_rental, hotel or lending. A lending partner (lending, 借贷) is "
            "approved only with its licence number and issuing authority on record."
        ),
    )
    licence_number = models.CharField(_("licence number"), max_length=50, blank=True)
    licence_authority = models.CharField(_("licence issuing authority"), max_length=100, blank=True)
    status = models.CharField(
        _("qualification status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("status changed by"),
    )
    # Set by each approval (a renewed approval after a review included); past the review
    # date the partner is flagged in the admin for another review.
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    review_due_on = models.DateField(_("review due on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Abuse controls of the partner API.
    rate_limit_per_minute = models.PositiveIntegerField(_("calls per minute"), default=120)
    daily_quota = models.PositiveIntegerField(_("calls per day"), default=20_000)
    suspend_on_anomaly = models.BooleanField(
        _("suspend automatically on an anomaly"), default=False
    )

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    MONOGRAM_TONES = 6

    @property
    def monogram(self) -> str:
        """What stands for the partner where a logo would: the first character of a
        Chinese name (瑞幸咖啡 → 瑞), the initials of up to two words of a Latin one."""
        words = self.name.split()
        if not words:
            return "?"
        if words[0][0].isascii():
            return "".join(word[0] for word in words[:2]).upper()
        return words[0][0]

    @property
    def monogram_tone(self) -> int:
        """One of a few background colours, the same for a name on every page."""
        return zlib.crc32(self.name.encode()) % self.MONOGRAM_TONES

    @property
    def display_name(self) -> str:
        return name_in_language(self.name, self.name_en)

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED

    @property
    def is_lending(self) -> bool:
        return self.category.strip().lower() == self.LENDING

    @property
    def licence_missing(self) -> bool:
        """A partner of a licensed category without its licence number and authority."""
        return self.category.strip().lower() in self.LICENSED_CATEGORIES and not (
            self.licence_number.strip() and self.licence_authority.strip()
        )

    @property
    def review_overdue(self) -> bool:
        return (
            self.is_approved
            and self.review_due_on is not None
            and self.review_due_on <= timezone.localdate()
        )

    def clean(self) -> None:
        # An approved lender keeps its licence on record (approving one checks the same).
        if self.is_approved and self.licence_missing:
            raise ValidationError({"licence_number": licence_required_message([self])})


def licence_required_message(partners: list[Partner]) -> str:
    return _(
        "A lending partner needs its licence number and issuing authority on record "
        "before it is approved: %(names)s."
    ) % {"names": ", ".join(p.name for p in partners)}


class PartnerStatusChange(models.Model):
    """Append-only history of a partner's qualification status, with the reason given."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="status_changes")
    status_from = models.CharField(_("from"), max_length=10, choices=Partner.Status.choices)
    status_to = models.CharField(_("to"), max_length=10, choices=Partner.Status.choices)
    reason = models.CharField(_("reason"), max_length=300)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.partner_id}: {self.status_from} → {self.status_to}"
