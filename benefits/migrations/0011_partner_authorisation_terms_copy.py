"""Copy each partner-sharing grant's partner and terms to its authorisation (0009 added
the fields; accounts 0015 drops them from the grant), and back when reversed.

A sharing grant with no authorisation could only be written by calling accounts'
consent service directly (the pages and the API always authorise): it gets one with a
token nobody holds (an empty hash matches no token, and its id is not a token id), so
its partner and terms are kept and the partner can use nothing. A sharing grant with no
partner at all has nothing to keep and none to authorise: it stays without one."""

from __future__ import annotations

from django.db import migrations

TERMS = ("scope", "stated_purpose", "identity_check", "use_limit", "max_queries")
UNISSUED = ""  # the token hash of an authorisation whose token was never issued


def terms_to_authorisations(apps, schema_editor):
    ConsentGrant = apps.get_model("accounts", "ConsentGrant")
    PartnerAuthorization = apps.get_model("benefits", "PartnerAuthorization")
    sharing = ConsentGrant.objects.filter(purpose="partner_sharing", partner__isnull=False)
    for grant in sharing.order_by("pk").iterator():
        terms = {name: getattr(grant, name) for name in TERMS}
        if PartnerAuthorization.objects.filter(grant_id=grant.pk).update(**terms):
            continue
        PartnerAuthorization.objects.create(
            grant_id=grant.pk,
            partner_id=grant.partner_id,
            prefix=f"grant-{grant.pk}",
            token_hash=UNISSUED,
            created_at=grant.granted_at,
            **terms,
        )


def terms_to_grants(apps, schema_editor):
    ConsentGrant = apps.get_model("accounts", "ConsentGrant")
    PartnerAuthorization = apps.get_model("benefits", "PartnerAuthorization")
    for authorization in PartnerAuthorization.objects.order_by("pk").iterator():
        terms = {name: getattr(authorization, name) for name in TERMS}
        ConsentGrant.objects.filter(pk=authorization.grant_id).update(
            partner_id=authorization.partner_id, **terms
        )
    PartnerAuthorization.objects.filter(token_hash=UNISSUED).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0014_partner_authorisation_terms"),
        ("benefits", "0010_partner_authorisation_terms"),
    ]

    operations = [migrations.RunPython(terms_to_authorisations, terms_to_grants)]
