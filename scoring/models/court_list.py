"""The court list of dishonest judgment debtors: imports, entries (keyed hashes only) and
corrections after a dispute."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scoring.models.disputes import Dispute


class CourtListImport(models.Model):
    """One upload of the court list: what it held and which rows were refused."""

    file_name = models.CharField(_("file name"), max_length=200)
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("imported by"),
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_added = models.PositiveIntegerField(_("people added"), default=0)
    rows_bad = models.PositiveIntegerField(_("rows refused"), default=0)
    # An import is the whole list: whoever it no longer holds is removed.
    rows_removed = models.PositiveIntegerField(_("people removed"), default=0)
    # Listed with the same entry as when a dispute about it was corrected: kept off.
    rows_kept_off = models.PositiveIntegerField(_("kept off after a dispute"), default=0)
    # [{"line": n, "message": text}]: never the row itself, which holds a name and ID number.
    errors = models.JSONField(_("refused rows"), default=list, blank=True)

    class Meta:
        verbose_name = _("court list import")
        verbose_name_plural = _("court list imports")
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.imported_at:%Y-%m-%d %H:%M})"


class CourtListEntry(models.Model):
    """A person on the court list of dishonest judgment debtors (失信被执行人), kept only
    as the keyed hash of the ID number (the same HMAC as verified identities)."""

    id_number_hash = models.CharField(_("ID number keyed hash"), max_length=64, unique=True)
    # The keyed hash of the person's entry as the list gives it (the ID number and its
    # case numbers): a corrected dispute holds until the list changes the entry.
    entry_hash = models.CharField(_("entry keyed hash"), max_length=64, blank=True)
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    source = models.ForeignKey(
        CourtListImport,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="entries",
        verbose_name=_("import"),
    )

    class Meta:
        verbose_name = _("court list entry")
        verbose_name_plural = _("court list entries")

    def __str__(self) -> str:
        return f"court list entry {self.pk}"


class CourtListOverride(models.Model):
    """A court-list match that staff corrected in the person's favour (a dispute about
    it, answered "corrected"): the entry is removed and stays removed while later
    imports list the same entry. An import that changes the entry (a new case number)
    or drops the person ends the override."""

    id_number_hash = models.CharField(_("ID number keyed hash"), max_length=64, unique=True)
    entry_hash = models.CharField(_("entry keyed hash"), max_length=64, blank=True)
    dispute = models.ForeignKey(
        Dispute,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("dispute"),
    )
    created_at = models.DateTimeField(_("corrected at"), default=timezone.now)

    class Meta:
        verbose_name = _("court list correction")
        verbose_name_plural = _("court list corrections")

    def __str__(self) -> str:
        return f"court list correction {self.pk}"
