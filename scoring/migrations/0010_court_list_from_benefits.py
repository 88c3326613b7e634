"""The court list, moved down from benefits (benefits 0009 renamed its tables scoring_*):
the models enter scoring's state only, and their content types follow them so existing
permissions, admin groups and admin log entries keep pointing at them."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MODELS = ("courtlistimport", "courtlistentry", "courtlistoverride")


def _content_types_move(apps, source: str, target: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        moving = content_type.objects.filter(app_label=source, model=model)
        if moving.exists():
            # A row made for the new label before this ran (content types are created
            # after migrate) has only the default permissions: the moving row wins.
            content_type.objects.filter(app_label=target, model=model).delete()
            moving.update(app_label=target)


def content_types_to_scoring(apps, schema_editor) -> None:
    _content_types_move(apps, "benefits", "scoring")


def content_types_to_benefits(apps, schema_editor) -> None:
    _content_types_move(apps, "scoring", "benefits")


class Migration(migrations.Migration):
    dependencies = [
        ("benefits", "0009_court_list_moves_to_scoring"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("scoring", "0009_dispute_evidence_sealed"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='CourtListImport',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('file_name', models.CharField(max_length=200, verbose_name='file name')),
                        ('imported_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='imported at')),
                        ('rows_total', models.PositiveIntegerField(default=0, verbose_name='rows')),
                        ('rows_added', models.PositiveIntegerField(default=0, verbose_name='people added')),
                        ('rows_bad', models.PositiveIntegerField(default=0, verbose_name='rows refused')),
                        ('rows_removed', models.PositiveIntegerField(default=0, verbose_name='people removed')),
                        ('rows_kept_off', models.PositiveIntegerField(default=0, verbose_name='kept off after a dispute')),
                        ('errors', models.JSONField(blank=True, default=list, verbose_name='refused rows')),
                        ('imported_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='imported by')),
                    ],
                    options={
                        'verbose_name': 'court list import',
                        'verbose_name_plural': 'court list imports',
                        'ordering': ['-imported_at'],
                    },
                ),
                migrations.CreateModel(
                    name='CourtListEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('id_number_hash', models.CharField(max_length=64, unique=True, verbose_name='ID number keyed hash')),
                        ('entry_hash', models.CharField(blank=True, max_length=64, verbose_name='entry keyed hash')),
                        ('imported_at', models.DateTimeField(auto_now_add=True, verbose_name='imported at')),
                        ('source', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='entries', to='scoring.courtlistimport', verbose_name='import')),
                    ],
                    options={
                        'verbose_name': 'court list entry',
                        'verbose_name_plural': 'court list entries',
                    },
                ),
                migrations.CreateModel(
                    name='CourtListOverride',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('id_number_hash', models.CharField(max_length=64, unique=True, verbose_name='ID number keyed hash')),
                        ('entry_hash', models.CharField(blank=True, max_length=64, verbose_name='entry keyed hash')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='corrected at')),
                        ('dispute', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='scoring.dispute', verbose_name='dispute')),
                    ],
                    options={
                        'verbose_name': 'court list correction',
                        'verbose_name_plural': 'court list corrections',
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_to_scoring, content_types_to_benefits),
    ]
