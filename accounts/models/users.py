from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """The portal's user. Identity facts live on Identity, never on the user row."""

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    @property
    def is_verified(self) -> bool:
        return hasattr(self, "identity")


class Identity(models.Model):
    """A passed real-name verification. The ID number exists here only as ciphertext
    (for a lawful disclosure) and as a keyed hash (for uniqueness and list matching).

    Nothing kept in plaintext lets the number be rebuilt: the mask keeps its first and
    last character only, and the birth date (digits 7 to 14) is encrypted; the region
    and gender it encodes stay readable for benefit rules and fairness checks, and age
    is derived from the decrypted date where a rule or a page needs it."""

    # Ciphertext under FIELD_ENCRYPTION_KEYS, re-encrypted by rotate_field_keys.
    ENCRYPTED_FIELDS = ("full_name_encrypted", "id_number_encrypted", "birth_date_encrypted")

    class Gender(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="identity"
    )
    full_name_encrypted = models.TextField(_("full name (encrypted)"))
    id_number_encrypted = models.TextField(_("ID number (encrypted)"))
    id_number_hash = models.CharField(_("ID number keyed hash"), max_length=64, unique=True)
    id_number_masked = models.CharField(_("ID number"), max_length=18)
    birth_date_encrypted = models.TextField(_("birth date (encrypted)"))
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    region_code = models.CharField(_("region code"), max_length=6)
    region_name = models.CharField(_("region"), max_length=100)
    verified_at = models.DateTimeField(_("verified at"), default=timezone.now)

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")

    def __str__(self) -> str:
        return self.id_number_masked


class IdentityAttempt(models.Model):
    """One submission of the verification form: the rate limit counts these. It keeps
    the outcome only, never what was typed."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="identity_attempts"
    )
    created_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=20)  # "verified" or the contract's error code

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return f"{self.outcome} at {self.created_at:%Y-%m-%d %H:%M}"
