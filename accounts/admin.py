from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.crypto import decrypt_text
from accounts.models import (
    ConsentGrant,
    ConsentRevocation,
    ConsentText,
    HelperAuditEntry,
    HelperGrant,
    Identity,
    IdentityAppeal,
    IdentityAppealEvidence,
    Profile,
    SectionVerification,
    SectionVerificationDocument,
    User,
)
from accounts.selectors import identity_age, identity_full_name, profile_value_display
from sesame_portal.admin_mixins import NoAdd, NoChange, NoDelete, ReadOnlyAdmin
from sesame_portal.errors import ServiceError
from sesame_portal.uploads import evidence_response


class IdentityFacts:
    """Staff see the age, never the birth date: beside the mask it rebuilt the number."""

    @admin.display(description=_("age"))
    def age(self, identity: Identity) -> int | str:
        # An unsaved inline (the "add user" page) has no date to read.
        return identity_age(identity) if identity.birth_date_encrypted else "-"


class IdentityInline(NoAdd, IdentityFacts, admin.StackedInline):
    model = Identity
    fields = ["id_number_masked", "age", "gender", "region_name", "verified_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    inlines = [IdentityInline]
    list_display = ["username", "is_staff", "is_active", "date_joined", "last_login"]

    def user_change_password(self, request, id, form_url=""):
        """A password set here ends the person's tokens and sessions too, as a change of
        their own does (the admin's own session stays when it is their account)."""
        old_key = request.session.session_key
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = User.objects.get(pk=id)
            own = user.pk == request.user.pk
            services.sign_out_everywhere(user=user, keep_session_key=old_key if own else None)
            # Django gives the admin's session a new key either way: its sign-in follows.
            if old_key and request.session.session_key != old_key:
                services.web_session_rekey(old_key=old_key, new_key=request.session.session_key)
        return response


@admin.register(Identity)
class IdentityAdmin(IdentityFacts, ReadOnlyAdmin):
    list_display = ["user", "id_number_masked", "region_name", "verified_at"]
    fields = [
        "user",
        "id_number_masked",
        "age",
        "gender",
        "region_code",
        "region_name",
        "verified_at",
    ]
    search_fields = ["user__username"]
    list_filter = ["gender"]


@admin.register(ConsentText)
class ConsentTextAdmin(NoDelete, admin.ModelAdmin):
    """A new wording is added as a new version; published versions stay as they were."""

    list_display = ["purpose", "version", "title_zh", "published_at"]
    list_filter = ["purpose"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None


@admin.register(HelperGrant)
class HelperGrantAdmin(ReadOnlyAdmin):
    """Who a person let help them; changed only by the person (revoking), never here.
    The invitation code's hash is not shown."""

    list_display = ["owner", "name", "helper", "level", "invited_at", "expires_at", "revoked_at"]
    fields = [
        "owner",
        "name",
        "email",
        "helper",
        "level",
        "invited_at",
        "invitation_expires_at",
        "accepted_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = ["level"]
    search_fields = ["owner__username", "helper__username"]
    list_select_related = ["owner", "helper"]


@admin.register(HelperAuditEntry)
class HelperAuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["owner", "helper_name", "at", "action", "method", "allowed", "status_code"]
    list_filter = ["allowed"]
    search_fields = ["owner__username"]
    list_select_related = ["owner"]


class RevocationInline(NoAdd, NoChange, admin.StackedInline):
    model = ConsentRevocation
    readonly_fields = ["revoked_at", "reason", "channel", "client_ip", "user_agent"]
    can_delete = False


@admin.register(ConsentGrant)
class ConsentGrantAdmin(ReadOnlyAdmin):
    # A sharing grant's partner and terms are shown by the partners' app, which
    # registers this admin again with them.
    list_display = ["user", "purpose", "granted_at", "expires_at"]
    list_filter = ["purpose", "channel"]
    search_fields = ["user__username"]
    list_select_related = ["user"]
    inlines = [RevocationInline]


class StaffDecisionForm(forms.ModelForm):
    """Staff decide through a decision and a reason; the rest is the person's. Each
    subclass says what approving does and checks the decision with its service."""

    approve_label = ""
    reason_label = ""

    decision = forms.ChoiceField(label=_("Decision"), required=False)
    decision_reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = [
            ("", _("Not decided yet")),
            ("approve", self.approve_label),
            ("reject", _("Reject")),
        ]
        self.fields["decision_reason"].label = self.reason_label

    def decide_check(self, *, approve: bool, reason: str) -> None:
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        decision = cleaned.get("decision")
        if decision:
            try:
                self.decide_check(
                    approve=decision == "approve", reason=cleaned.get("decision_reason", "")
                )
            except ServiceError as error:
                raise forms.ValidationError(error.message) from error
        return cleaned


class AppealDecisionForm(StaffDecisionForm):
    approve_label = _("Approve: move the verification to the appellant")
    reason_label = _("Reason (required to reject; shown to the appellant)")

    class Meta:
        model = IdentityAppeal
        fields: list[str] = []

    def decide_check(self, *, approve: bool, reason: str) -> None:
        services.identity_appeal_decide_check(appeal=self.instance, approve=approve, reason=reason)


@admin.register(IdentityAppeal)
class IdentityAppealAdmin(NoAdd, NoDelete, admin.ModelAdmin):
    """Seeing appeals takes the view permission, deciding them the decide permission;
    being staff is not enough for either. People file appeals; staff decide them."""

    form = AppealDecisionForm
    list_display = ["id", "created_at", "status", "appellant", "holder", "decided_at"]
    list_filter = ["status"]
    search_fields = ["appellant__username", "holder__username"]
    ordering = ["status", "created_at"]
    list_select_related = ["appellant", "holder"]
    readonly_fields = [
        "appellant",
        "appellant_name",
        "holder",
        "holder_name",
        "statement",
        "evidence_link",
        "status",
        "created_at",
        "reason",
        "decided_at",
        "decided_by",
    ]

    def get_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if self.has_change_permission(request, obj):
            fields += ["decision", "decision_reason"]
        return fields

    @admin.display(description=_("name the appellant gave"))
    def appellant_name(self, obj: IdentityAppeal) -> str:
        return decrypt_text(obj.full_name_encrypted)

    @admin.display(description=_("name verified on the holder's account"))
    def holder_name(self, obj: IdentityAppeal) -> str:
        identity = Identity.objects.filter(pk=obj.identity_id).first()
        return identity_full_name(identity) if identity is not None else "-"

    @admin.display(description=_("evidence"))
    def evidence_link(self, obj: IdentityAppeal):
        evidence = IdentityAppealEvidence.objects.filter(appeal=obj).only("size").first()
        if evidence is None:
            return None
        url = reverse("admin:accounts_identityappeal_evidence", args=[obj.pk])
        return format_html(
            '<a href="{}">{}</a> ({} KB)', url, _("Open the evidence"), evidence.size // 1024
        )

    def has_change_permission(self, request, obj=None) -> bool:
        if not request.user.has_perm("accounts.decide_identityappeal"):
            return False
        return obj is None or obj.status == IdentityAppeal.Status.PENDING

    def get_urls(self):
        evidence = self.admin_site.admin_view(self.evidence_view)
        return [
            path("<int:appeal_id>/evidence/", evidence, name="accounts_identityappeal_evidence"),
            *super().get_urls(),
        ]

    def evidence_view(self, request, appeal_id: int) -> HttpResponse:
        appeal = IdentityAppeal.objects.filter(pk=appeal_id).first()
        if not self.has_view_permission(request, appeal):
            raise PermissionDenied
        evidence = IdentityAppealEvidence.objects.filter(appeal_id=appeal_id).first()
        if appeal is None or evidence is None:
            raise Http404
        return evidence_response(evidence, filename=f"appeal-{appeal_id}")

    def save_model(self, request, obj, form, change) -> None:
        decision = form.cleaned_data.get("decision")
        if not decision:
            return
        try:
            services.identity_appeal_decide(
                appeal=obj,
                approve=decision == "approve",
                reason=form.cleaned_data.get("decision_reason", ""),
                by=request.user,
            )
        except ServiceError as error:  # changed since the form was checked
            self.message_user(request, error.message, level=messages.ERROR)


class VerificationDecisionForm(StaffDecisionForm):
    approve_label = _("Approve: the answers filed become verified")
    reason_label = _("Reason (required to reject; shown to the person)")

    class Meta:
        model = SectionVerification
        fields: list[str] = []

    def decide_check(self, *, approve: bool, reason: str) -> None:
        services.section_verification_decide_check(
            verification=self.instance, approve=approve, reason=reason
        )


@admin.register(SectionVerification)
class SectionVerificationAdmin(NoAdd, NoDelete, admin.ModelAdmin):
    """Profile verifications (education, vehicle, property, housing fund): seeing them
    takes the view permission, deciding them the decide permission. Staff open the
    document, or look a CHSI code up on chsi.com.cn, and compare it with the answers."""

    form = VerificationDecisionForm
    list_display = ["id", "created_at", "section", "method", "status", "user", "decided_at"]
    list_filter = ["status", "section", "method"]
    search_fields = ["user__username"]
    ordering = ["status", "created_at"]
    list_select_related = ["user"]
    readonly_fields = [
        "user",
        "section",
        "answers_filed",
        "method",
        "code",
        "document_link",
        "status",
        "created_at",
        "reason",
        "decided_at",
        "decided_by",
    ]

    def get_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if self.has_change_permission(request, obj):
            fields += ["decision", "decision_reason"]
        return fields

    @admin.display(description=_("answers filed"))
    def answers_filed(self, obj: SectionVerification):
        filed = Profile(**{k: v for k, v in obj.answers.items() if k in _PROFILE_FIELDS})
        rows = [
            (Profile._meta.get_field(name).verbose_name, profile_value_display(filed, name) or "-")
            for name in obj.answers
            if name in _PROFILE_FIELDS
        ]
        return format_html_join(mark_safe("<br>"), "{}: {}", rows)

    @admin.display(description=_("document"))
    def document_link(self, obj: SectionVerification):
        document = SectionVerificationDocument.objects.filter(verification=obj).only("size").first()
        if document is None:
            return None
        url = reverse("admin:accounts_sectionverification_document", args=[obj.pk])
        return format_html(
            '<a href="{}">{}</a> ({} KB)', url, _("Open the document"), document.size // 1024
        )

    def has_change_permission(self, request, obj=None) -> bool:
        if not request.user.has_perm("accounts.decide_sectionverification"):
            return False
        return obj is None or obj.status == SectionVerification.Status.PENDING

    def get_urls(self):
        document = self.admin_site.admin_view(self.document_view)
        return [
            path(
                "<int:verification_id>/document/",
                document,
                name="accounts_sectionverification_document",
            ),
            *super().get_urls(),
        ]

    def document_view(self, request, verification_id: int) -> HttpResponse:
        verification = SectionVerification.objects.filter(pk=verification_id).first()
        if not self.has_view_permission(request, verification):
            raise PermissionDenied
        document = SectionVerificationDocument.objects.filter(
            verification_id=verification_id
        ).first()
        if verification is None or document is None:
            raise Http404
        return evidence_response(document, filename=f"verification-{verification_id}")

    def save_model(self, request, obj, form, change) -> None:
        decision = form.cleaned_data.get("decision")
        if not decision:
            return
        try:
            services.section_verification_decide(
                verification=obj,
                approve=decision == "approve",
                reason=form.cleaned_data.get("decision_reason", ""),
                by=request.user,
            )
        except ServiceError as error:  # changed since the form was checked
            self.message_user(request, error.message, level=messages.ERROR)


_PROFILE_FIELDS = {f.name for f in Profile._meta.concrete_fields}
