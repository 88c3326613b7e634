from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from scoring.explain.breakdown import snapshot_breakdown
from scoring.explain.model_card import model_card_context
from scoring.ml.artifacts import ArtifactIntegrityError
from scoring.ml.declared import DECLARED_POINTS_CAP
from scoring.models import (
    CourtListEntry,
    CourtListImport,
    CourtListOverride,
    Dispute,
    DisputeAttachment,
    DisputeEvent,
    DisputeEvidenceAccess,
    ModelVersion,
    RecomputeRun,
    ScoreSnapshot,
)
from scoring.models.disputes import UNCOUNTED
from scoring.services.court_list import court_list_import, csv_text
from scoring.services.disputes import dispute_transition, dispute_transition_check
from scoring.services.scores import model_version_activate
from sesame_portal.admin_mixins import DeleteOnly, NoAdd, NoChange
from sesame_portal.errors import ServiceError


@admin.register(ModelVersion)
class ModelVersionAdmin(NoAdd, admin.ModelAdmin):
    """Versions come from train_model or the retrain task."""

    list_display = [
        "version",
        "kind",
        "created_at",
        "is_active",
        "activated_at",
        "auc",
        "auc_ratio",
        "integrity_failed_at",
    ]
    list_filter = ["kind", "is_active"]
    readonly_fields = [
        "version",
        "kind",
        "created_at",
        "sha256",
        "is_active",
        "activated_at",
        "activated_by",
        "integrity_failed_at",
        "integrity_error",
        "model_card",
    ]
    exclude = ["artifact", "card", "points_layout"]
    actions = ["activate"]

    def get_urls(self):
        card_json = self.admin_site.admin_view(self.card_json)
        return [
            path("<int:pk>/card.json", card_json, name="scoring_modelversion_card"),
            *super().get_urls(),
        ]

    def card_json(self, request, pk: int) -> JsonResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        version = get_object_or_404(ModelVersion, pk=pk)
        response = JsonResponse(
            {"version": version.version, "sha256": version.sha256, **version.card},
            json_dumps_params={"indent": 2},
        )
        response["Content-Disposition"] = f'attachment; filename="{version.version}.json"'
        return response

    @admin.display(description=_("test AUC"))
    def auc(self, obj) -> str:
        value = obj.card.get("metrics", {}).get("auc")
        return f"{value:.4f}" if value is not None else "-"

    @admin.display(description=_("AUC / true AUC"))
    def auc_ratio(self, obj) -> str:
        value = obj.card.get("metrics", {}).get("auc_ratio_to_true")
        return f"{value:.3f}" if value is not None else "-"

    @admin.display(description=_("model card"))
    def model_card(self, obj) -> str:
        return render_to_string(
            "scoring/model_card.html",
            {**model_card_context(obj.card), "version": obj, "declared_cap": DECLARED_POINTS_CAP},
        )

    @admin.action(description=_("Activate the selected version (one per kind)"))
    def activate(self, request, queryset) -> None:
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one version."), messages.ERROR)
            return
        try:
            version = model_version_activate(model_version=queryset.get(), by=request.user)
        except ArtifactIntegrityError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        self.message_user(request, _("%(version)s is now active.") % {"version": version})


# Shown decoded, as points by feature, not as bytes.
SNAPSHOT_ARRAYS = ("feature_points", "feature_values")


@admin.register(ScoreSnapshot)
class ScoreSnapshotAdmin(DeleteOnly, admin.ModelAdmin):
    list_display = ["user", "score", "band", "computed_at", "trigger", "model_version"]
    list_filter = ["band", "model_version"]
    search_fields = ["user__username"]
    list_select_related = ["user", "model_version"]
    exclude = SNAPSHOT_ARRAYS
    readonly_fields = [
        *(f.name for f in ScoreSnapshot._meta.fields if f.name not in SNAPSHOT_ARRAYS),
        "points_by_feature",
    ]

    @admin.display(description=_("points by feature"))
    def points_by_feature(self, obj: ScoreSnapshot) -> str:
        points = snapshot_breakdown(obj).points
        return ", ".join(f"{name} {value:+g}" for name, value in points.items()) or "-"


@admin.register(RecomputeRun)
class RecomputeRunAdmin(DeleteOnly, admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "started_at",
        "finished_at",
        "progress_display",
        "users_done",
        "users_changed",
        "failures",
    ]
    list_filter = ["kind"]
    readonly_fields = [f.name for f in RecomputeRun._meta.fields]

    @admin.display(description=_("progress"))
    def progress_display(self, obj) -> str:
        return f"{obj.chunks_done}/{obj.chunks_total} ({obj.progress} %)"


class DisputeAnswerForm(forms.ModelForm):
    """An admin answers through the status and a note; the rest is the person's."""

    note = forms.CharField(
        label=_("Note for the person (required to reject)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    class Meta:
        model = Dispute
        fields = ["status"]

    def clean(self):
        cleaned = super().clean()
        status, note = cleaned.get("status"), cleaned.get("note", "")
        if status and (status != self.instance.status or note.strip()):
            try:
                dispute_transition_check(current=self.instance.status, status=status, note=note)
            except ServiceError as error:
                raise forms.ValidationError(error.message) from error
        return cleaned


class DisputeEventInline(NoAdd, NoChange, admin.TabularInline):
    """The timeline is written by the transitions, never edited by hand."""

    model = DisputeEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "status", "note"]


class DisputeDeadlineFilter(admin.SimpleListFilter):
    """Overdue: past the deadline and still unanswered (their record does not count)."""

    title = _("deadline")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("Overdue, unanswered")),
            ("answered_late", _("Answered after the deadline")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.filter(UNCOUNTED)
        if self.value() == "answered_late":
            return queryset.filter(overdue_at__isnull=False).exclude(status__in=Dispute.OPEN)
        return queryset


@admin.register(Dispute)
class DisputeAdmin(NoAdd, admin.ModelAdmin):
    """People file disputes; admins answer them."""

    form = DisputeAnswerForm
    list_display = [
        "id",
        "user",
        "kind",
        "record_summary",
        "status",
        "due_at",
        "days_left",
        "overdue",
    ]
    list_filter = [DisputeDeadlineFilter, "status", "kind"]
    search_fields = ["user__username", "record_summary"]
    ordering = ["due_at"]
    readonly_fields = [
        "user",
        "kind",
        "record_id",
        "field",
        "record_summary",
        "statement",
        "evidence",
        "evidence_openings",
        "created_at",
        "due_at",
        "overdue_at",
        "resolved_at",
        "resolution",
    ]
    inlines = [DisputeEventInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    @admin.display(description=_("days left"))
    def days_left(self, obj: Dispute):
        if not obj.is_open:
            return None
        return (obj.due_at - timezone.now()).days

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj: Dispute) -> bool:
        return obj.is_overdue

    @admin.display(description=_("evidence"))
    def evidence(self, obj: Dispute):
        attachment = DisputeAttachment.objects.filter(dispute=obj).only("name", "size").first()
        if attachment is None:
            return None
        url = reverse("scoring:dispute_attachment", args=[obj.pk])
        return format_html(
            '<a href="{}">{}</a> ({} KB)', url, attachment.name, attachment.size // 1024
        )

    @admin.display(description=_("evidence openings"))
    def evidence_openings(self, obj: Dispute):
        """Who opened the evidence and when (the person sees staff by role only)."""
        openings = DisputeEvidenceAccess.objects.filter(dispute=obj).select_related("accessed_by")
        return (
            format_html_join(
                mark_safe("<br>"),
                "{} · {} ({})",
                (
                    (
                        timezone.localtime(o.at).strftime("%Y-%m-%d %H:%M"),
                        o.get_role_display(),
                        o.accessed_by or "-",
                    )
                    for o in openings
                ),
            )
            or None
        )

    def save_model(self, request, obj, form, change) -> None:
        # Checked by the form; the transition writes the status, the timeline and, on a
        # correction, queues the recompute.
        dispute_transition(
            dispute=obj, status=form.cleaned_data["status"], note=form.cleaned_data["note"]
        )


class CourtListUploadForm(forms.ModelForm):
    upload = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns name and id_number (or 姓名 and 身份证号), UTF-8 or GB 18030. Only keyed "
            "hashes of the ID numbers are kept."
        ),
    )

    class Meta:
        model = CourtListImport
        fields = []

    MAX_MB = 20
    MAX_BYTES = MAX_MB * 1024 * 1024

    def clean_upload(self):
        upload = self.cleaned_data["upload"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB.") % {"mb": self.MAX_MB}
            )
        try:
            self.text = csv_text(upload.read())
        except ServiceError as exc:
            raise forms.ValidationError(exc.message) from None
        return upload


@admin.register(CourtListImport)
class CourtListImportAdmin(NoChange, admin.ModelAdmin):
    list_display = [
        "file_name",
        "imported_at",
        "imported_by",
        "rows_total",
        "rows_added",
        "rows_removed",
        "rows_kept_off",
        "rows_bad",
    ]
    readonly_fields = [*list_display, "refused_rows"]
    exclude = ["errors"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = CourtListUploadForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    @admin.display(description=_("refused rows"))
    def refused_rows(self, obj) -> str:
        return render_to_string("admin/scoring/courtlistimport/errors.html", {"obj": obj})

    def save_model(self, request, obj, form, change):
        try:
            record = court_list_import(
                text=form.text, file_name=form.cleaned_data["upload"].name, by=request.user
            )
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            record = None
        # The admin's own save is replaced by the import; point it at the created record.
        if record is not None:
            obj.pk = record.pk
            self.message_user(
                request,
                _(
                    "%(total)d rows read: %(added)d added, %(removed)d no longer on the list "
                    "removed, %(kept)d kept off after a corrected dispute, %(bad)d refused."
                )
                % {
                    "total": record.rows_total,
                    "added": record.rows_added,
                    "removed": record.rows_removed,
                    "kept": record.rows_kept_off,
                    "bad": record.rows_bad,
                },
                messages.WARNING if record.rows_bad else messages.SUCCESS,
            )

    def response_add(self, request, obj, post_url_continue=None):
        if obj.pk is None:
            return HttpResponseRedirect(reverse("admin:scoring_courtlistimport_add"))
        return HttpResponseRedirect(reverse("admin:scoring_courtlistimport_change", args=[obj.pk]))


@admin.register(CourtListEntry)
class CourtListEntryAdmin(DeleteOnly, admin.ModelAdmin):
    """Entries are hashes: nothing to read, but an admin removes one when a court does."""

    list_display = ["id", "imported_at", "source"]
    list_filter = ["source"]
    search_fields = ["=id_number_hash"]
    readonly_fields = ["id_number_hash", "imported_at", "source"]


@admin.register(CourtListOverride)
class CourtListOverrideAdmin(DeleteOnly, admin.ModelAdmin):
    """Matches corrected through a dispute. Deleting one lets the next import list the
    person again."""

    list_display = ["id", "created_at", "dispute"]
    readonly_fields = ["id_number_hash", "entry_hash", "dispute", "created_at"]
    search_fields = ["=id_number_hash"]
