"""A partner-sharing grant's partner and terms now live on its authorisation (benefits
0010 copied them there first): accounts keeps the consent itself, and no longer refers
to benefits."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0014_partner_authorisation_terms'),
        # The partner and terms are copied to the authorisations before they go here.
        ('benefits', '0011_partner_authorisation_terms_copy'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='consentgrant',
            name='accounts_co_user_id_82033e_idx',
        ),
        migrations.RemoveIndex(
            model_name='consentgrant',
            name='accounts_co_partner_d6eeb2_idx',
        ),
        migrations.RemoveField(
            model_name='consentgrant',
            name='identity_check',
        ),
        migrations.RemoveField(
            model_name='consentgrant',
            name='max_queries',
        ),
        migrations.RemoveField(
            model_name='consentgrant',
            name='partner',
        ),
        migrations.RemoveField(
            model_name='consentgrant',
            name='scope',
        ),
        migrations.RemoveField(
            model_name='consentgrant',
            name='stated_purpose',
        ),
        migrations.RemoveField(
            model_name='consentgrant',
            name='use_limit',
        ),
        migrations.AddIndex(
            model_name='consentgrant',
            index=models.Index(fields=['user', 'purpose'], name='accounts_co_user_id_5f6c18_idx'),
        ),
    ]
