"""Admin of decision receipts (read only) and honour reports (answered here, within
HONOUR_ANSWER_WITHIN; the overdue ones are flagged and filterable)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from benefits.models import DecisionReceipt, HonourReport
from benefits.selectors_receipts import honour_reports_overdue
from benefits.services.receipts import honour_report_answer
from sesame_portal.admin_mixins import NoAdd, NoChange
from sesame_portal.errors import ServiceError


@admin.register(DecisionReceipt)
class DecisionReceiptAdmin(NoAdd, NoChange, admin.ModelAdmin):
    """What partners reported they decided; written by the partner API only."""

    list_display = ["id", "partner", "outcome", "reason_code", "limit", "reported_at", "dispute"]
    list_filter = ["outcome", "reason_code", "partner"]
    list_select_related = ["partner"]
    ordering = ["-reported_at"]


class OverdueFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pk__in=honour_reports_overdue().values("pk"))
        return queryset


class HonourReportAnswerForm(forms.ModelForm):
    """Staff answer through an outcome and the reason the person reads."""

    OUTCOMES = [
        ("", "---------"),
        (HonourReport.Status.UPHELD, HonourReport.Status.UPHELD.label),
        (HonourReport.Status.NOT_UPHELD, HonourReport.Status.NOT_UPHELD.label),
    ]
    outcome = forms.ChoiceField(label=_("Outcome"), choices=OUTCOMES, required=False)
    reply = forms.CharField(
        label=_("Answer for the person"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    class Meta:
        model = HonourReport
        fields: list[str] = []

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("outcome"):
            if not self.instance.is_open:
                raise forms.ValidationError(_("This report is answered already."))
            if not cleaned.get("reply", "").strip():
                raise forms.ValidationError(_("Write the answer the person will read."))
        return cleaned


@admin.register(HonourReport)
class HonourReportAdmin(NoAdd, admin.ModelAdmin):
    """People file honour reports; admins answer them before the deadline."""

    form = HonourReportAnswerForm
    list_display = ["id", "partner", "benefit", "status", "created_at", "due_at", "overdue"]
    list_filter = [OverdueFilter, "status", "partner"]
    list_select_related = ["partner", "benefit"]
    search_fields = ["partner__name"]
    ordering = ["due_at"]
    readonly_fields = [
        "user",
        "partner",
        "benefit",
        "voucher",
        "what_happened",
        "status",
        "created_at",
        "due_at",
        "answer",
        "answered_at",
        "answered_by",
    ]

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj: HonourReport) -> bool:
        return obj.is_overdue(timezone.now())

    def save_model(self, request, obj, form, change) -> None:
        outcome = form.cleaned_data.get("outcome")
        if not outcome:
            return
        try:
            honour_report_answer(
                report=obj,
                upheld=outcome == HonourReport.Status.UPHELD,
                answer=form.cleaned_data["reply"],
                by=request.user,
            )
        except ServiceError as error:  # answered meanwhile by another admin
            self.message_user(request, error.message, level="error")
