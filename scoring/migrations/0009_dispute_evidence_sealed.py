"""Dispute evidence is kept encrypted and under a neutral name: a photographed ID card
(or a file named after the number) in a dump gave the ID number away."""

from django.db import migrations

from accounts.crypto import decrypt_bytes, encrypt_bytes

_EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


def seal(apps, schema_editor):
    DisputeAttachment = apps.get_model("scoring", "DisputeAttachment")
    for attachment in DisputeAttachment.objects.iterator(chunk_size=50):
        attachment.data = encrypt_bytes(bytes(attachment.data))
        attachment.name = f"evidence.{_EXTENSIONS.get(attachment.content_type, 'bin')}"
        attachment.save(update_fields=["data", "name"])


def unseal(apps, schema_editor):
    DisputeAttachment = apps.get_model("scoring", "DisputeAttachment")
    for attachment in DisputeAttachment.objects.iterator(chunk_size=50):
        attachment.data = decrypt_bytes(bytes(attachment.data))
        attachment.save(update_fields=["data"])


class Migration(migrations.Migration):
    dependencies = [("scoring", "0008_dispute_evidence_access")]

    operations = [migrations.RunPython(seal, unseal)]
