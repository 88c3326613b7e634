"""What a superuser may add, change and delete by hand in each of the portal's admins
(sesame_portal.admin_mixins says it once for all of them): evidence and records the code
writes are never added or edited there."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory

pytestmark = pytest.mark.django_db

# (model, admin or inline class): add, change, delete
EXPECTED = {
    ("accounts.ConsentGrant", "ConsentGrantAdmin"): (False, False, False),
    ("accounts.ConsentGrant", "RevocationInline"): (False, False, True),
    ("accounts.ConsentGrant", "AuthorizationInline"): (False, False, False),
    ("accounts.ConsentText", "ConsentTextAdmin"): (True, True, False),
    ("accounts.Identity", "IdentityAdmin"): (False, False, False),
    ("accounts.User", "IdentityInline"): (False, True, True),
    ("benefits.BenefitUnlock", "BenefitUnlockAdmin"): (False, False, True),
    ("scoring.CourtListEntry", "CourtListEntryAdmin"): (False, False, True),
    ("scoring.CourtListImport", "CourtListImportAdmin"): (True, False, True),
    ("scoring.CourtListOverride", "CourtListOverrideAdmin"): (False, False, True),
    ("benefits.Partner", "PartnerApiKeyInline"): (False, True, True),
    ("benefits.Partner", "PartnerStatusChangeInline"): (False, True, True),
    ("benefits.PartnerAnomaly", "PartnerAnomalyAdmin"): (False, True, True),
    ("benefits.PartnerQuery", "PartnerQueryAdmin"): (False, False, False),
    ("benefits.Voucher", "VoucherAdmin"): (False, False, True),
    ("scoring.Dispute", "DisputeAdmin"): (False, True, True),
    ("scoring.Dispute", "DisputeEventInline"): (False, False, True),
    ("scoring.ModelVersion", "ModelVersionAdmin"): (False, True, True),
    ("scoring.RecomputeRun", "RecomputeRunAdmin"): (False, False, True),
    ("scoring.ScoreSnapshot", "ScoreSnapshotAdmin"): (False, False, True),
}


def _admins(request):
    for model, model_admin in admin.site._registry.items():
        yield model._meta.label, model_admin, True
        for inline in model_admin.get_inline_instances(request):
            yield model._meta.label, inline, False


def test_what_staff_may_do_by_hand_in_each_admin(admin_user):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    seen = {}
    for label, model_admin, top in _admins(request):
        key = (label, type(model_admin).__name__)
        if key not in EXPECTED:
            continue
        add = (
            model_admin.has_add_permission(request)
            if top
            else model_admin.has_add_permission(request, None)
        )
        seen[key] = (
            add,
            model_admin.has_change_permission(request, None),
            model_admin.has_delete_permission(request, None),
        )
    assert seen == EXPECTED


def test_a_published_consent_text_is_not_changed(admin_user):
    from accounts.models import ConsentText

    request = RequestFactory().get("/admin/")
    request.user = admin_user
    text_admin = admin.site._registry[ConsentText]
    assert text_admin.has_change_permission(request, None)
    assert not text_admin.has_change_permission(request, ConsentText())
