"""Forms of decision receipts (add one to a dispute) and honour reports."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from benefits.services.receipts import WHAT_HAPPENED_MAX


class HonourReportForm(forms.Form):
    benefit = forms.TypedChoiceField(label=_("Which benefit"), coerce=int)
    what_happened = forms.CharField(
        label=_("What happened"),
        max_length=WHAT_HAPPENED_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("When and where, and what the partner said. No ID numbers, please."),
    )

    def __init__(self, *args, benefits=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["benefit"].choices = [
            (b.pk, f"{b.partner.display_name}: {b.title}") for b in benefits
        ]


class DecisionDisputeForm(forms.Form):
    dispute = forms.TypedChoiceField(label=_("Add it to my dispute"), coerce=int)

    def __init__(self, *args, disputes=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["dispute"].choices = [(d.pk, d.record_summary) for d in disputes]
