from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path
from django.utils.translation import gettext_lazy as _

from scoring.artifacts import ArtifactIntegrityError
from scoring.models import ModelVersion, RecomputeRun, ScoreSnapshot
from scoring.services import model_version_activate


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = [
        "version",
        "kind",
        "created_at",
        "is_active",
        "activated_at",
        "auc",
        "auc_ratio",
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
        "model_card",
    ]
    exclude = ["artifact", "card"]
    actions = ["activate"]

    def has_add_permission(self, request) -> bool:
        return False  # versions come from train_model or the retrain task

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
        features = [
            {
                **f,
                "rows": list(
                    zip(f["bins"], f["points"], f["counts"], f["bad_rates"], strict=False)
                ),
            }
            for f in obj.card.get("features", [])
        ]
        metrics = [
            (name, f"{value:.4f}" if isinstance(value, float) else value)
            for name, value in obj.card.get("metrics", {}).items()
        ]
        return render_to_string(
            "scoring/model_card.html",
            {"card": obj.card, "metrics": metrics, "features": features, "version": obj},
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


@admin.register(ScoreSnapshot)
class ScoreSnapshotAdmin(admin.ModelAdmin):
    list_display = ["user", "score", "band", "computed_at", "trigger", "model_version"]
    list_filter = ["band", "model_version"]
    search_fields = ["user__username"]
    list_select_related = ["user", "model_version"]
    readonly_fields = [f.name for f in ScoreSnapshot._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RecomputeRun)
class RecomputeRunAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "kind",
        "started_at",
        "finished_at",
        "progress_display",
        "users_done",
        "failures",
    ]
    list_filter = ["kind"]
    readonly_fields = [f.name for f in RecomputeRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("progress"))
    def progress_display(self, obj) -> str:
        return f"{obj.chunks_done}/{obj.chunks_total} ({obj.progress} %)"
