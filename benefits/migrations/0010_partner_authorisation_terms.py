"""The partner and terms of a partner-sharing grant move from the grant (accounts' ledger)
to its authorisation (benefits), which already held the partner: scope, stated purpose,
identity checks and the limit in use. This adds them; 0010 copies them over (apart, so
that neither direction alters a table with rows changed in the same transaction), and
accounts 0015 then drops them from the grant."""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models

class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0014_partner_authorisation_terms"),
        ("benefits", "0009_court_list_moves_to_scoring"),
    ]

    operations = [
        migrations.AddField(
            model_name="partnerauthorization",
            name="scope",
            field=models.CharField(
                choices=[
                    ("score", "Score only"),
                    ("score_and_subscores", "Score and the five sub-scores"),
                    ("eligibility", "Eligibility for one benefit (yes or no)"),
                ],
                default="",
                max_length=30,
                verbose_name="scope",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="partnerauthorization",
            name="stated_purpose",
            field=models.CharField(blank=True, max_length=200, verbose_name="stated purpose"),
        ),
        migrations.AddField(
            model_name="partnerauthorization",
            name="identity_check",
            field=models.BooleanField(default=False, verbose_name="identity checks allowed"),
        ),
        migrations.AddField(
            model_name="partnerauthorization",
            name="use_limit",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "No limit until it ends"),
                    ("queries", "A number of queries"),
                    ("decision", "Until one decision"),
                ],
                default="",
                max_length=10,
                verbose_name="limited to",
            ),
        ),
        migrations.AddField(
            model_name="partnerauthorization",
            name="max_queries",
            field=models.PositiveSmallIntegerField(
                blank=True, null=True, verbose_name="queries allowed"
            ),
        ),
        migrations.AlterField(
            model_name="partnerauthorization",
            name="partner",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="authorizations",
                to="benefits.partner",
                verbose_name="partner",
            ),
        ),
    ]
