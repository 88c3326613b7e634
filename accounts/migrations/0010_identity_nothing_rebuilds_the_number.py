"""The mask kept the region and the last four characters and hid exactly the birth date,
which sat beside it in plaintext: together they gave every ID number back. The mask now
keeps the first and last character, and the birth date is encrypted."""

import datetime

from django.db import migrations, models

from accounts.crypto import decrypt_text, encrypt_text


def forwards(apps, schema_editor):
    Identity = apps.get_model("accounts", "Identity")
    batch = []
    for identity in Identity.objects.only("pk", "id_number_masked", "birth_date").iterator(
        chunk_size=2000
    ):
        masked = identity.id_number_masked
        identity.id_number_masked = f"{masked[:1]}{'*' * (len(masked) - 2)}{masked[-1:]}"
        identity.birth_date_encrypted = encrypt_text(identity.birth_date.isoformat())
        batch.append(identity)
        if len(batch) >= 2000:
            Identity.objects.bulk_update(batch, ["id_number_masked", "birth_date_encrypted"])
            batch = []
    Identity.objects.bulk_update(batch, ["id_number_masked", "birth_date_encrypted"])


def backwards(apps, schema_editor):
    # The old mask comes back from the encrypted number itself.
    Identity = apps.get_model("accounts", "Identity")
    for identity in Identity.objects.iterator(chunk_size=2000):
        number = decrypt_text(identity.id_number_encrypted)
        identity.id_number_masked = f"{number[:6]}{'*' * 8}{number[-4:]}"
        identity.birth_date = datetime.date.fromisoformat(
            decrypt_text(identity.birth_date_encrypted)
        )
        identity.save(update_fields=["id_number_masked", "birth_date"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0009_score_notifications_by_email")]

    operations = [
        migrations.AddField(
            model_name="identity",
            name="birth_date_encrypted",
            field=models.TextField(default="", verbose_name="birth date (encrypted)"),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="identity",
            name="birth_date",
            field=models.DateField(null=True, verbose_name="birth date"),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="identity", name="birth_date"),
    ]
