from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EducationLevel(models.TextChoices):
    PRIMARY = "primary", _("Primary school or less")
    JUNIOR_HIGH = "junior_high", _("Junior high school")
    SENIOR_HIGH = "senior_high", _("Senior high or technical school")
    ASSOCIATE = "associate", _("Junior college (associate degree)")
    BACHELOR = "bachelor", _("Bachelor's degree")
    MASTER = "master", _("Master's degree")
    DOCTORATE = "doctorate", _("Doctorate")


class Occupation(models.TextChoices):
    EMPLOYEE = "employee", _("Employee")
    CIVIL_SERVANT = "civil_servant", _("Civil servant or public institution")
    SELF_EMPLOYED = "self_employed", _("Business owner or self-employed")
    FREELANCER = "freelancer", _("Freelancer")
    STUDENT = "student", _("Student")
    RETIRED = "retired", _("Retired")
    NOT_WORKING = "not_working", _("Not working")


# Occupations that have an employer (and so may verify a work email).
EMPLOYED_OCCUPATIONS = (Occupation.EMPLOYEE, Occupation.CIVIL_SERVANT, Occupation.SELF_EMPLOYED)


class VehicleValue(models.TextChoices):
    UNDER_100K = "lt100k", _("Under ¥100,000")
    FROM_100K = "100k_300k", _("¥100,000 to ¥300,000")
    OVER_300K = "gt300k", _("Over ¥300,000")


class IncomeBand(models.TextChoices):
    UNDER_3K = "lt3k", _("Under ¥3,000 a month")
    FROM_3K = "3k_5k", _("¥3,000 to ¥5,000 a month")
    FROM_5K = "5k_8k", _("¥5,000 to ¥8,000 a month")
    FROM_8K = "8k_12k", _("¥8,000 to ¥12,000 a month")
    FROM_12K = "12k_20k", _("¥12,000 to ¥20,000 a month")
    FROM_20K = "20k_50k", _("¥20,000 to ¥50,000 a month")
    OVER_50K = "gt50k", _("Over ¥50,000 a month")


class FieldMark(models.TextChoices):
    SELF_DECLARED = "self_declared", _("Self-declared")
    VERIFIED = "verified", _("Verified")


class Profile(models.Model):
    """What a person tells us about themselves, section by section.

    `field_marks` records, per field, whether the value is self-declared or verified
    and since when: {"school": {"mark": "self_declared", "at": "2026-11-21T10:00:00+08:00"}}.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    education_level = models.CharField(
        _("highest education"), max_length=20, choices=EducationLevel.choices, blank=True
    )
    school = models.CharField(_("school"), max_length=100, blank=True)
    graduation_year = models.PositiveSmallIntegerField(_("graduation year"), null=True, blank=True)
    occupation = models.CharField(
        _("occupation"), max_length=20, choices=Occupation.choices, blank=True
    )
    employer = models.CharField(_("employer"), max_length=100, blank=True)
    work_email = models.EmailField(_("work email"), blank=True)
    work_email_verified_at = models.DateTimeField(
        _("work email verified at"), null=True, blank=True
    )
    vehicle_owned = models.BooleanField(_("owns a vehicle"), null=True, blank=True)
    vehicle_value = models.CharField(
        _("vehicle value"), max_length=20, choices=VehicleValue.choices, blank=True
    )
    property_owned = models.BooleanField(_("owns property"), null=True, blank=True)
    property_mortgaged = models.BooleanField(_("property has a mortgage"), null=True, blank=True)
    provident_fund_months = models.PositiveSmallIntegerField(
        _("housing provident fund months"), null=True, blank=True
    )
    income_band = models.CharField(
        _("monthly income"), max_length=20, choices=IncomeBand.choices, blank=True
    )
    address = models.CharField(_("home address"), max_length=200, blank=True)
    address_years = models.PositiveSmallIntegerField(
        _("years at this address"), null=True, blank=True
    )
    phone = models.CharField(_("mobile phone"), max_length=11, blank=True)
    field_marks = models.JSONField(_("field marks"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return f"profile of {self.user_id}"


class WorkEmailChallenge(models.Model):
    """A six-digit code mailed to a work address. Only its keyed hash is kept."""

    MAX_ATTEMPTS = 5

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="work_email_challenges"
    )
    email = models.EmailField()
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    verified_at = models.DateTimeField(null=True, blank=True)
    superseded = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return f"work email challenge {self.pk} of {self.user_id}"
