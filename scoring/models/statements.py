"""The personal statement a person may add beside their score."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PersonalStatement(models.Model):
    """本人声明: a short statement the person adds, shown with their data."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="personal_statement"
    )
    text = models.CharField(_("personal statement"), max_length=300)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("personal statement")
        verbose_name_plural = _("personal statements")

    def __str__(self) -> str:
        return f"statement of {self.user_id}"
