from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.crypto import decrypt_bytes, encrypt_bytes
from sesame_portal.uploads import evidence_file_name


class SealedEvidence(models.Model):
    """An uploaded file kept in the database (backups and access rules cover it),
    encrypted and under a neutral name: evidence often shows an ID number, and people
    name the photo of their card after it. Dispute attachments, appeal evidence and the
    documents that verify profile sections."""

    ENCRYPTED_FIELDS = ("data",)

    name = models.CharField(_("file name"), max_length=120)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size"))
    data = models.BinaryField(_("content"))

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def sealed(upload: UploadedFile, content_type: str) -> dict:
        """The fields for an upload whose type evidence_content_type has checked."""
        data = upload.read()
        return {
            "name": evidence_file_name(content_type),
            "content_type": content_type,
            "size": len(data),
            "data": encrypt_bytes(data),
        }

    def content(self) -> bytes:
        return decrypt_bytes(self.data)
