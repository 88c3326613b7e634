from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from accounts.models import IncomeBand
from scoring.ml.scorecard import SCORE_MAX, SCORE_MIN
from scoring.models import ScoreProof
from sesame_portal.forms import TickBoxField
from sesame_portal.i18n import format_when_shown
from sesame_portal.uploads import EVIDENCE_MAX_MB, STATEMENT_MAX


class WhatIfForm(forms.Form):
    """Changes a person can try; only the ones filled in are applied. Given `levers`
    (what_if_levers_for), the form offers only those: nothing to repay, no such tick."""

    repay_overdue = TickBoxField(label=_("Repay what is overdue"), required=False)
    bills_paid_on_time = TickBoxField(label=_("Pay every utility bill on time"), required=False)
    work_email_verified = TickBoxField(label=_("Verify a work email"), required=False)
    complete_profile = TickBoxField(label=_("Complete my profile"), required=False)
    provident_fund_months = forms.IntegerField(
        label=_("Housing provident fund months"), required=False, min_value=0, max_value=600
    )
    income_band = forms.ChoiceField(
        label=_("Monthly income"),
        required=False,
        choices=[("", _("As it is")), *IncomeBand.choices],
    )
    card_utilisation = forms.IntegerField(
        label=_("Credit card use, in % of the limits"),
        required=False,
        min_value=0,
        max_value=100,
        help_text=_("For example 30: balances at 30% of your cards' limits."),
    )

    def __init__(self, *args, levers: tuple[str, ...] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if levers is not None:
            for name in list(self.fields):
                if name not in levers:
                    del self.fields[name]

    def changes(self) -> dict:
        data = self.cleaned_data
        changes = {
            name: True
            for name in (
                "repay_overdue",
                "bills_paid_on_time",
                "work_email_verified",
                "complete_profile",
            )
            if data.get(name)
        }
        if data.get("provident_fund_months") is not None:
            changes["provident_fund_months"] = data["provident_fund_months"]
        if data.get("income_band"):
            changes["income_band"] = data["income_band"]
        if data.get("card_utilisation") is not None:
            changes["card_utilisation"] = data["card_utilisation"] / 100
        return changes


class ProofForm(forms.Form):
    shows = forms.ChoiceField(
        label=_("What the merchant sees"),
        choices=ScoreProof.Shows.choices,
        widget=forms.RadioSelect,
        initial=ScoreProof.Shows.AT_LEAST,
    )
    threshold = forms.IntegerField(
        label=_("At least"),
        required=False,
        min_value=SCORE_MIN,
        max_value=SCORE_MAX,
        help_text=_("The merchant sees only yes or no, never your score."),
    )
    lifetime = forms.ChoiceField(
        label=_("Valid for"),
        choices=[
            ("1h", _("1 hour")),
            ("1d", _("1 day")),
            ("7d", _("7 days")),
            ("30d", _("30 days")),
        ],
        initial="1d",
    )
    show_name = TickBoxField(label=_("Also show my name, masked (like 李*龙)"), required=False)
    show_statement = TickBoxField(label=_("Also show my personal statement"), required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("shows") == ScoreProof.Shows.AT_LEAST and cleaned.get("threshold") is None:
            self.add_error("threshold", _("Say which score the merchant asks for."))
        return cleaned


class CreditStatementForm(ProofForm):
    """What a printed statement carries: the same choices as a proof (its QR code is one),
    valid for a month by default (a visa or a lease takes time)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["shows"].label = _("What the reader sees")
        self.fields["threshold"].help_text = _("The reader sees only yes or no, never your score.")
        self.fields["lifetime"].label = _("The QR code verifies it for")
        self.fields["lifetime"].initial = "30d"


class DisputeForm(forms.Form):
    statement = forms.CharField(
        label=_("What is wrong, and what is right"),
        max_length=STATEMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    attachment = forms.FileField(
        label=_("Evidence (optional)"),
        required=False,
        help_text=format_when_shown(
            ngettext_lazy(
                "A PDF, JPEG or PNG file of at most %(mb)d MB, such as a receipt.",
                "A PDF, JPEG or PNG file of at most %(mb)d MB, such as a receipt.",
                "mb",
            ),
            {"mb": EVIDENCE_MAX_MB},
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )


class StatementForm(forms.Form):
    text = forms.CharField(
        label=_("Personal statement"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Up to 300 characters, shown with your data. Leave empty to remove it."),
    )
