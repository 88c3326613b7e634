from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from import_export.forms import ExportForm

from accounts.admin import ConsentGrantAdmin as LedgerAdmin
from accounts.models import ConsentGrant
from benefits.forms import JSONField
from benefits.models import (
    Benefit,
    BenefitUnlock,
    ErasureRequest,
    Goal,
    Partner,
    PartnerAnomaly,
    PartnerApiKey,
    PartnerAuthorization,
    PartnerQuery,
    PartnerStatusChange,
    Voucher,
)
from benefits.resources import BenefitResource, PartnerResource
from benefits.selectors import qualifying_preview
from benefits.services import benefit_publish, partner_access, partner_status_set
from sesame_portal.admin_mixins import DeleteOnly, NoAdd, ReadOnly, ReadOnlyAdmin
from sesame_portal.errors import ServiceError

PREVIEW_THRESHOLDS = [550, 600, 650, 700, 750, 800]


class StatusReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the partner's status history."),
    )


class BenefitInline(admin.TabularInline):
    model = Benefit
    extra = 0
    fields = ["title_zh", "category", "min_score", "status", "active_to", "quota"]
    readonly_fields = ["status"]
    show_change_link = True


class PartnerApiKeyInline(NoAdd, admin.TabularInline):
    """Keys are created from the API keys page, where the key is shown once."""

    model = PartnerApiKey
    extra = 0
    fields = ["prefix", "label", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True


class PartnerStatusChangeInline(NoAdd, admin.TabularInline):
    model = PartnerStatusChange
    extra = 0
    fields = ["changed_at", "status_from", "status_to", "reason", "changed_by"]
    readonly_fields = fields
    can_delete = False


class ReviewDueFilter(admin.SimpleListFilter):
    title = _("review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("due", _("Review due"))]

    def queryset(self, request, queryset):
        if self.value() == "due":
            return partners_review_due(queryset)
        return queryset


def partners_review_due(queryset):
    """Approved partners whose review date has come."""
    return queryset.filter(status=Partner.Status.APPROVED, review_due_on__lte=timezone.localdate())


@admin.register(Partner)
class PartnerAdmin(ImportExportModelAdmin):
    resource_classes = [PartnerResource]
    # The plain export form: the field-picking one relies on inline script, which the
    # Content Security Policy refuses.
    export_form_class = ExportForm
    change_list_template = "admin/benefits/partner/change_list.html"
    list_display = [
        "name",
        "status",
        "category",
        "licence_number",
        "status_changed_at",
        "review_due_on",
        "review_due",
        "benefit_count",
    ]
    list_filter = ["status", ReviewDueFilter, "category"]
    search_fields = ["name", "licence_number", "licence_authority"]
    readonly_fields = [
        "status",
        "status_changed_at",
        "status_changed_by",
        "approved_at",
        "review_due_on",
        "created_at",
    ]
    inlines = [BenefitInline, PartnerApiKeyInline, PartnerStatusChangeInline]
    actions = ["approve", "suspend", "return_to_review"]

    def get_queryset(self, request):
        # A stable order, so that the partner picker pages consistently.
        return (
            super()
            .get_queryset(request)
            .annotate(benefits_total=Count("benefits"))
            .order_by("name", "pk")
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:  # its limits, cached by the partner API (partner_access_changed)
            partner_access.partner_access_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        partner_access.partner_access_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        partner_access.partner_access_changed()

    @admin.display(description=_("benefits"), ordering="benefits_total")
    def benefit_count(self, obj) -> int:
        return obj.benefits_total

    @admin.display(description=_("review due"), boolean=True)
    def review_due(self, obj) -> bool:
        return obj.review_overdue

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        extra_context["review_due_count"] = partners_review_due(Partner.objects.all()).count()
        return super().changelist_view(request, extra_context)

    def _status_action(self, request, queryset, status: str, title: str):
        """Ask for a reason on an intermediate page, then change the status."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = StatusReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                changed = partner_status_set(
                    partners=list(queryset),
                    status=status,
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return None
            for partner in changed:
                self.log_change(
                    request,
                    partner,
                    f"{partner.get_status_display()}: {form.cleaned_data['reason']}",
                )
            self.message_user(
                request,
                _("%(count)d partner(s) changed to %(status)s.")
                % {"count": len(changed), "status": Partner.Status(status).label},
                messages.SUCCESS,
            )
            return None
        return render(
            request,
            "admin/benefits/partner/status_reason.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "form": form,
                "partners": queryset,
                "action": request.POST.get("action"),
                "opts": self.model._meta,
                "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            },
        )

    @admin.action(description=_("Approve selected partners"), permissions=["change"])
    def approve(self, request, queryset):
        return self._status_action(
            request, queryset, Partner.Status.APPROVED, _("Approve partners")
        )

    @admin.action(description=_("Suspend selected partners"), permissions=["change"])
    def suspend(self, request, queryset):
        return self._status_action(
            request, queryset, Partner.Status.SUSPENDED, _("Suspend partners")
        )

    @admin.action(description=_("Return selected partners to review"), permissions=["change"])
    def return_to_review(self, request, queryset):
        return self._status_action(
            request, queryset, Partner.Status.PENDING, _("Return partners to review")
        )


class AutocompleteSelect(widgets.AutocompleteSelect):
    """Django's autocomplete, which looks the submitted value up to show it again when
    the form is refused: a value that cannot be a primary key (`"abc"`, or a number past
    the column's range) would make that lookup a server error, so it shows no choice."""

    def optgroups(self, name, value, attr=None):
        pk = self.field.remote_field.model._meta.pk
        usable = []
        for choice in value:
            try:
                pk.run_validators(pk.to_python(choice))
            except ValidationError:
                continue
            usable.append(choice)
        return super().optgroups(name, usable, attr)


@admin.register(Benefit)
class BenefitAdmin(ImportExportModelAdmin):
    resource_classes = [BenefitResource]
    export_form_class = ExportForm
    change_form_template = "admin/benefits/benefit/change_form.html"
    list_display = [
        "title_zh",
        "status",
        "min_score",
        "partner",
        "category",
        "active_from",
        "active_to",
        "quota",
        "vouchers_out",
    ]
    list_filter = ["status", "category", "partner__status", "partner"]
    search_fields = ["title_zh", "title_en", "partner__name"]
    list_select_related = ["partner"]
    autocomplete_fields = ["partner"]
    readonly_fields = ["status", "published_at", "published_by", "qualifying_now"]
    formfield_overrides = {models.JSONField: {"form_class": JSONField}}
    actions = ["publish", "unpublish"]
    fieldsets = [
        (None, {"fields": ["partner", "category", "status", "published_at", "published_by"]}),
        (_("Texts"), {"fields": ["title_zh", "title_en", "terms_zh", "terms_en"]}),
        (
            _("Who qualifies"),
            {"fields": ["min_score", "min_subscores", "min_age", "regions", "qualifying_now"]},
        ),
        (_("Offer"), {"fields": ["active_from", "active_to", "quota", "voucher_days"]}),
    ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = AutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request):
        now = timezone.now()
        return (
            super()
            .get_queryset(request)
            .annotate(
                outstanding=Count(
                    "vouchers",
                    filter=Q(vouchers__redeemed_at__isnull=False) | Q(vouchers__expires_at__gt=now),
                )
            )
        )

    @admin.display(description=_("vouchers out"), ordering="outstanding")
    def vouchers_out(self, obj) -> int:
        return obj.outstanding

    @admin.display(description=_("would qualify now"))
    def qualifying_now(self, obj) -> str:
        if obj is None or obj.pk is None:
            return _("Save the benefit to see how many people would qualify.")
        preview = qualifying_preview(benefit=obj, thresholds=PREVIEW_THRESHOLDS)
        return render_to_string(
            "admin/benefits/benefit/preview.html", {"preview": preview, "benefit": obj}
        )

    def response_change(self, request, obj):
        for flag, publish in (("_publish", True), ("_unpublish", False)):
            if flag in request.POST:
                benefit_publish(benefit=obj, by=request.user, publish=publish)
                self.log_change(request, obj, obj.get_status_display())
                self.message_user(
                    request,
                    _("Published: people who qualify see it now.")
                    if publish
                    else _("Back to draft: it is no longer offered."),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    @admin.action(description=_("Publish selected benefits"), permissions=["change"])
    def publish(self, request, queryset):
        for benefit in queryset:
            benefit_publish(benefit=benefit, by=request.user)
            self.log_change(request, benefit, benefit.get_status_display())
        self.message_user(request, _("Published."), messages.SUCCESS)

    @admin.action(description=_("Return selected benefits to draft"), permissions=["change"])
    def unpublish(self, request, queryset):
        for benefit in queryset:
            benefit_publish(benefit=benefit, by=request.user, publish=False)
            self.log_change(request, benefit, benefit.get_status_display())
        self.message_user(request, _("Returned to draft."), messages.SUCCESS)


@admin.register(BenefitUnlock)
class BenefitUnlockAdmin(DeleteOnly, admin.ModelAdmin):
    list_display = ["benefit", "user", "unlocked_at", "score_at_unlock", "locked_at"]
    list_filter = [("locked_at", admin.EmptyFieldListFilter), "benefit__category"]
    list_select_related = ["benefit", "benefit__partner", "user"]
    date_hierarchy = "unlocked_at"


@admin.register(Voucher)
class VoucherAdmin(DeleteOnly, admin.ModelAdmin):
    list_display = ["code", "benefit", "user", "issued_at", "expires_at", "redeemed_at"]
    list_filter = [("redeemed_at", admin.EmptyFieldListFilter), "benefit__partner"]
    search_fields = ["code"]
    list_select_related = ["benefit", "benefit__partner", "user"]


class PartnerApiKeyForm(forms.ModelForm):
    class Meta:
        model = PartnerApiKey
        fields = ["partner", "label"]


# Where a new key waits, server-side, for the one page that shows it: never in the
# messages cookie, which the browser keeps and sends back with later requests.
NEW_KEY_SESSION_KEY = "partner_api_key_once"


@admin.register(PartnerApiKey)
class PartnerApiKeyAdmin(admin.ModelAdmin):
    """Keys are created here and shown once, on the key's page right after; only their
    hash is stored. Rotate by creating a new key, then revoking the old one."""

    form = PartnerApiKeyForm
    change_form_template = "admin/benefits/partnerapikey/change_form.html"
    list_display = ["prefix", "partner", "label", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "partner"]
    search_fields = ["prefix", "label", "partner__name"]
    list_select_related = ["partner"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            "partner",
            "label",
            "prefix",
            "created_at",
            "created_by",
            "last_used_at",
            "revoked_at",
        ]

    def save_model(self, request, obj, form, change):
        if change:
            return
        key, value = partner_access.api_key_create(
            partner=form.cleaned_data["partner"], label=form.cleaned_data["label"], by=request.user
        )
        obj.pk, obj.prefix = key.pk, key.prefix
        request.session[NEW_KEY_SESSION_KEY] = {"key": key.pk, "value": value}

    def response_add(self, request, obj, post_url_continue=None):
        # Straight to the key's own page, the one place its value is shown.
        self.message_user(request, _("The key was created."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:benefits_partnerapikey_change", args=[obj.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """Shows a key created just before, once: it leaves the session as it is shown."""
        pending = request.session.get(NEW_KEY_SESSION_KEY) or {}
        extra_context = dict(extra_context or {})
        if str(pending.get("key")) == str(object_id):
            extra_context["new_key"] = pending["value"]
            del request.session[NEW_KEY_SESSION_KEY]
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Revoke selected keys"), permissions=["change"])
    def revoke(self, request, queryset):
        for key in queryset:
            partner_access.api_key_revoke(key=key)
            self.log_change(request, key, "revoked")
        self.message_user(request, _("Revoked: they stop working at once."), messages.SUCCESS)


@admin.register(PartnerQuery)
class PartnerQueryAdmin(ReadOnlyAdmin):
    """The log is evidence."""

    list_display = ["created_at", "partner", "kind", "outcome", "status_code", "user", "purpose"]
    list_filter = ["kind", "outcome", "partner", "created_at"]
    search_fields = ["partner__name", "purpose", "outcome"]
    list_select_related = ["partner", "user"]
    date_hierarchy = "created_at"


@admin.register(Goal)
class GoalAdmin(ReadOnlyAdmin):
    """People's goals, read-only: a goal is the person's own to set."""

    list_display = ["user", "benefit", "target_score", "reached_at", "updated_at"]
    list_filter = ["reached_at"]
    search_fields = ["user__username"]
    list_select_related = ["user", "benefit"]


@admin.register(PartnerAnomaly)
class PartnerAnomalyAdmin(NoAdd, admin.ModelAdmin):
    list_display = ["detected_at", "partner", "kind", "suspended_partner", "resolved_at"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter), "kind", "partner"]
    readonly_fields = ["partner", "kind", "detail", "detected_at", "suspended_partner"]
    actions = ["resolve"]

    @admin.action(description=_("Mark selected anomalies resolved"), permissions=["change"])
    def resolve(self, request, queryset):
        queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())


class ErasureOverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue")), ("open", _("Open")), ("done", _("Done"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.overdue()
        if self.value() == "open":
            return queryset.open()
        if self.value() == "done":
            return queryset.filter(done_at__isnull=False)
        return queryset


@admin.register(ErasureRequest)
class ErasureRequestAdmin(ReadOnlyAdmin):
    """Evidence of what a partner was asked and when it answered: the partner closes a
    request through its API, never staff by hand. Never the person's token ids."""

    list_display = ["created_at", "partner", "user", "due_at", "overdue", "done_at"]
    list_filter = [ErasureOverdueFilter, "partner"]
    list_select_related = ["partner", "user"]
    search_fields = ["partner__name", "user__username"]
    date_hierarchy = "created_at"
    exclude = ["token_ids"]

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj) -> bool:
        return obj.is_overdue()


# The consent ledger's admin, with each sharing grant's partner and terms: accounts' own
# admin knows no partner, so benefits, above it, registers it again with them.


class AuthorizationInline(ReadOnly, admin.StackedInline):
    """A sharing grant's partner and terms: evidence, never edited; never the token's hash."""

    model = PartnerAuthorization
    fk_name = "grant"
    exclude = ["token_hash"]


admin.site.unregister(ConsentGrant)


@admin.register(ConsentGrant)
class ConsentGrantAdmin(LedgerAdmin):
    list_display = [
        "user",
        "purpose",
        "authorization_partner",
        "authorization_scope",
        "granted_at",
        "expires_at",
    ]
    list_filter = ["purpose", "authorization__scope", "channel"]
    search_fields = ["user__username", "authorization__partner__name"]
    list_select_related = ["user", "authorization__partner"]
    inlines = [*LedgerAdmin.inlines, AuthorizationInline]

    # Columns through a relation are named after the path ("Authorization  partner"),
    # whatever the language: these carry the related fields' own names.
    @admin.display(
        description=PartnerAuthorization._meta.get_field("partner").verbose_name,
        ordering="authorization__partner",
    )
    def authorization_partner(self, obj):
        return getattr(getattr(obj, "authorization", None), "partner", None)

    @admin.display(
        description=PartnerAuthorization._meta.get_field("scope").verbose_name,
        ordering="authorization__scope",
    )
    def authorization_scope(self, obj):
        authorization = getattr(obj, "authorization", None)
        return authorization.get_scope_display() if authorization else None


# Decision receipts and honour reports have their own admin module.
from benefits import admin_receipts  # noqa: E402, F401
