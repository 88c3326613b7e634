"""The catalogue: benefits partners offer above a score, who has them unlocked (with
history), and the vouchers people claim."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from benefits.models.partners import Partner
from benefits.validators import validate_min_subscores, validate_regions
from scoring.ml.scorecard import SCORE_MAX, SCORE_MIN
from sesame_portal.i18n import format_when_shown


class BenefitCategory(models.TextChoices):
    BIKE_RENTAL = "bike_rental", _("Bike rental")
    CAR_RENTAL = "car_rental", _("Car rental")
    POWER_BANK = "power_bank", _("Power banks")
    SHARED_ITEMS = "shared_items", _("Shared items")
    HOTEL = "hotel", _("Hotel: stay now, pay later")
    HOUSING_DEPOSIT = "housing_deposit", _("Housing rental deposit")
    VISA = "visa", _("Visa help")
    HOSPITAL = "hospital", _("Hospital: pay later")
    OTHER = "other", _("Other")


class Benefit(models.Model):
    """What a partner offers to people whose score (and, optionally, sub-scores, age and
    region) reach its thresholds. Offered only while published, inside its active window,
    and while the partner is approved."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="benefits", verbose_name=_("partner")
    )
    title_zh = models.CharField(_("title (Chinese)"), max_length=100)
    title_en = models.CharField(_("title (English)"), max_length=100)
    terms_zh = models.TextField(_("terms (Chinese)"), blank=True)
    terms_en = models.TextField(_("terms (English)"), blank=True)
    category = models.CharField(_("category"), max_length=20, choices=BenefitCategory.choices)
    min_score = models.PositiveSmallIntegerField(
        _("minimum score"),
        validators=[MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)],
        help_text=format_when_shown(
            ngettext_lazy("From %(min)d to %(max)d.", "From %(min)d to %(max)d.", "max"),
            {"min": SCORE_MIN, "max": SCORE_MAX},
        ),
    )
    # {dimension key: minimum sub-score 0-100}; empty when only the score counts.
    min_subscores = models.JSONField(
        _("minimum sub-scores"),
        default=dict,
        blank=True,
        validators=[validate_min_subscores],
        help_text=_('For example {"capacity": 40}: each sub-score runs from 0 to 100.'),
    )
    min_age = models.PositiveSmallIntegerField(
        _("minimum age"),
        null=True,
        blank=True,
        validators=[MinValueValidator(16), MaxValueValidator(120)],
    )
    # Region codes of the resident ID (2 digits: a province, 4: a city, 6: a county);
    # empty means everywhere.
    regions = models.JSONField(
        _("regions"),
        default=list,
        blank=True,
        validators=[validate_regions],
        help_text=_('Region codes, for example ["31", "4403"]; empty for everywhere.'),
    )
    active_from = models.DateTimeField(_("active from"), default=timezone.now)
    active_to = models.DateTimeField(_("active to"), null=True, blank=True)
    quota = models.PositiveIntegerField(
        _("quota"),
        null=True,
        blank=True,
        help_text=_("Vouchers that may be out at once (valid or redeemed); empty for no limit."),
    )
    voucher_days = models.PositiveSmallIntegerField(
        _("voucher valid for (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("published by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("benefit")
        verbose_name_plural = _("benefits")
        ordering = ["min_score", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_score__gte=SCORE_MIN, min_score__lte=SCORE_MAX),
                name="benefit_min_score_in_range",
            ),
            models.CheckConstraint(
                condition=Q(active_to__isnull=True) | Q(active_to__gt=models.F("active_from")),
                name="benefit_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.partner})"

    def clean(self) -> None:
        if self.active_to and self.active_from and self.active_to <= self.active_from:
            raise ValidationError({"active_to": _("The end must come after the start.")})

    @property
    def title(self) -> str:
        return self.title_en if (get_language() or "").startswith("en") else self.title_zh

    @property
    def terms(self) -> str:
        return self.terms_en if (get_language() or "").startswith("en") else self.terms_zh


class BenefitUnlock(models.Model):
    """A period during which a user had a benefit unlocked. Open while locked_at is
    empty; closing it (the score fell, consent ended) keeps the row as history."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="benefit_unlocks"
    )
    benefit = models.ForeignKey(Benefit, on_delete=models.CASCADE, related_name="unlocks")
    unlocked_at = models.DateTimeField(_("unlocked at"), default=timezone.now)
    score_at_unlock = models.PositiveSmallIntegerField(_("score when unlocked"))
    locked_at = models.DateTimeField(_("locked again at"), null=True, blank=True)
    score_at_lock = models.PositiveSmallIntegerField(_("score when locked"), null=True, blank=True)

    class Meta:
        verbose_name = _("benefit unlock")
        verbose_name_plural = _("benefit unlocks")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "benefit"],
                condition=Q(locked_at__isnull=True),
                name="one_open_unlock_per_user_benefit",
            )
        ]
        indexes = [models.Index(fields=["user", "locked_at"])]

    def __str__(self) -> str:
        return f"unlock of {self.benefit_id} for {self.user_id}"


class Voucher(models.Model):
    """A claimed benefit: an unguessable code the partner verifies and redeems once."""

    code = models.CharField(_("code"), max_length=24, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vouchers"
    )
    benefit = models.ForeignKey(
        Benefit, on_delete=models.PROTECT, related_name="vouchers", verbose_name=_("benefit")
    )
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    redeemed_at = models.DateTimeField(_("redeemed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(fields=["benefit", "expires_at"]),
            models.Index(fields=["user", "benefit"]),
        ]

    def __str__(self) -> str:
        return f"voucher {self.pk} for benefit {self.benefit_id}"

    def is_valid(self, now=None) -> bool:
        return self.redeemed_at is None and self.expires_at > (now or timezone.now())

    @property
    def status(self) -> str:
        """ "used", "valid" or "expired": what the voucher list shows beside each code."""
        if self.redeemed_at is not None:
            return "used"
        return "valid" if self.is_valid() else "expired"
