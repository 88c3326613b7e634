from __future__ import annotations

import datetime

from django import forms
from django.forms.fields import InvalidJSONInput
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ConsentScope
from accounts.services.consent import PARTNER_SHARING_MAX_DAYS
from benefits.models import Benefit, Partner
from benefits.selectors import benefits_offered
from sesame_portal.forms import TickBoxField


class JSONField(forms.JSONField):
    """Django's JSON form field, refusing as invalid JSON what the decoder rejects with
    something other than a JSONDecodeError: a document nested deeper than Python's
    recursion limit (`[[[[...]]]]`, a RecursionError) or a number of more than 4,300
    digits (a ValueError). Either escaped as a server error instead of a message."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except (RecursionError, ValueError):
            raise forms.ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            ) from None

    def bound_data(self, data, initial):
        try:
            return super().bound_data(data, initial)
        except (RecursionError, ValueError):
            return InvalidJSONInput(data)  # shown back as typed, like any invalid JSON


class PartnerLinkForm(forms.Form):
    """The terms a partner's link proposes (query string), confirmed by the user (POST)."""

    scope = forms.ChoiceField(choices=ConsentScope.choices, initial=ConsentScope.ELIGIBILITY)
    purpose = forms.CharField(max_length=200)
    benefit = forms.IntegerField(required=False, min_value=1)
    days = forms.IntegerField(min_value=1, max_value=PARTNER_SHARING_MAX_DAYS, initial=30)
    # Minimum disclosure: a link may ask for the exact score, but only a box the person
    # ticks themselves lets it through.
    show_score = TickBoxField(required=False)

    def __init__(self, *args, partner: Partner, confirming: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.partner = partner
        self.confirming = confirming

    def clean_benefit(self) -> Benefit | None:
        benefit_id = self.cleaned_data.get("benefit")
        if benefit_id is None:
            return None
        benefit = benefits_offered().filter(pk=benefit_id, partner=self.partner).first()
        if benefit is None:
            raise forms.ValidationError(_("This partner offers no such benefit."))
        return benefit

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") == ConsentScope.ELIGIBILITY and not cleaned.get("benefit"):
            self.add_error("benefit", _("The link must name the benefit it is about."))
        shows_score = cleaned.get("scope") in (
            ConsentScope.SCORE,
            ConsentScope.SCORE_AND_SUBSCORES,
        )
        if self.confirming and shows_score and not cleaned.get("show_score"):
            self.add_error(
                "show_score",
                _("Tick the box to show your exact score, or share only whether you qualify."),
            )
        return cleaned

    def expires_at(self) -> datetime.datetime:
        """The end of the last day, in the portal's time zone."""
        last = timezone.localdate() + datetime.timedelta(days=self.cleaned_data["days"])
        return timezone.make_aware(datetime.datetime.combine(last, datetime.time.min))
