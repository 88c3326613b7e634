from __future__ import annotations

import datetime

from django import forms
from django.core.validators import MaxValueValidator
from django.forms.fields import InvalidJSONInput
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from accounts.validators import validate_no_control_characters
from benefits.models import MAX_QUERIES_LIMIT, Benefit, ConsentScope, Partner, UseLimitChoice
from benefits.selectors import SCOPE_DISCLOSES, benefits_offered
from benefits.services.partner_access import PARTNER_SHARING_MAX_DAYS, STATED_PURPOSE_MAX_LENGTH
from scoring.ml.scorecard import SCORE_MAX, SCORE_MIN
from sesame_portal.forms import TickBoxField
from sesame_portal.i18n import format_when_shown


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
    # The partner's own words, shown as such: plain text, nothing invisible.
    purpose = forms.CharField(
        max_length=STATED_PURPOSE_MAX_LENGTH, validators=[validate_no_control_characters]
    )
    benefit = forms.IntegerField(required=False, min_value=1)
    days = forms.IntegerField(min_value=1, max_value=PARTNER_SHARING_MAX_DAYS, initial=30)
    # Minimum disclosure: a link may ask for the exact score, but only a box the person
    # ticks themselves lets it through.
    show_score = TickBoxField(required=False)
    # Chosen by the person on the screen (a link may propose a limit, never the tick):
    # identity checks are off unless ticked; the limit defaults to the partner's usual.
    identity_check = TickBoxField(required=False)
    use_limit = forms.ChoiceField(choices=UseLimitChoice.choices, required=False)
    max_queries = forms.IntegerField(required=False, min_value=1, max_value=MAX_QUERIES_LIMIT)

    # What the person chooses on the screen, never carried over from the link as hidden.
    CHOSEN_ON_SCREEN = ("show_score", "identity_check", "use_limit", "max_queries")

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
        shows_score = "score" in SCOPE_DISCLOSES.get(cleaned.get("scope"), ())
        if self.confirming and shows_score and not cleaned.get("show_score"):
            self.add_error(
                "show_score",
                _("Tick the box to show your exact score, or share only whether you qualify."),
            )
        if (
            self.confirming
            and cleaned.get("use_limit") == UseLimitChoice.QUERIES
            and not cleaned.get("max_queries")
        ):
            self.add_error("max_queries", _("Say how many queries the partner may make."))
        return cleaned

    def use_limit_chosen(self) -> str | None:
        """The limit chosen (None: the partner's usual one)."""
        return (self.cleaned_data.get("use_limit") or None) if self.is_bound else None

    def max_queries_chosen(self) -> int | None:
        if self.cleaned_data.get("use_limit") != UseLimitChoice.QUERIES:
            return None
        return self.cleaned_data.get("max_queries")

    def expires_at(self) -> datetime.datetime:
        """The midnight that starts the day `days` from today, in the portal's time zone:
        the last whole day is the one before, and is shown so ("… (inclusive)")."""
        last = timezone.localdate() + datetime.timedelta(days=self.cleaned_data["days"])
        return timezone.make_aware(datetime.datetime.combine(last, datetime.time.min))


class PartnerChoiceField(forms.ModelChoiceField):
    """Partners by their name in the page's language."""

    def label_from_instance(self, obj: Partner) -> str:
        return obj.display_name


class PartnerConsentForm(forms.Form):
    partner = PartnerChoiceField(
        label=_("Partner"),
        queryset=Partner.objects.filter(status=Partner.Status.APPROVED),
        empty_label=_("Choose a partner"),
    )
    scope = forms.ChoiceField(
        label=_("What the partner may see"),
        choices=ConsentScope.choices,
        widget=forms.RadioSelect,
        initial=ConsentScope.ELIGIBILITY,
    )
    # An eligibility answer is always about one named benefit, never "any of them".
    benefit = forms.ModelChoiceField(
        label=_("Which benefit, for “only whether I qualify”"),
        queryset=Benefit.objects.none(),
        required=False,
        empty_label=_("Choose a benefit"),
    )
    stated_purpose = forms.CharField(
        label=_("For what purpose"),
        max_length=200,
        help_text=_("For example: a deposit-free car rental."),
    )
    expires_on = forms.DateField(
        label=_("Until (inclusive)"),
        widget=forms.DateInput(attrs={"type": "date"}),
        # The day after must exist too: expires_at() ends the chosen day at midnight.
        validators=[MaxValueValidator(datetime.date.max - datetime.timedelta(days=1))],
    )
    use_limit = forms.ChoiceField(
        label=_("How many times it may ask"),
        choices=[
            ("", _("The partner's usual: until one decision for a lender, otherwise no limit")),
            *UseLimitChoice.choices,
        ],
        widget=forms.RadioSelect,
        required=False,
        initial="",
    )
    max_queries = forms.IntegerField(
        label=_("Number of queries, for “A number of queries”"),
        required=False,
        min_value=1,
        max_value=MAX_QUERIES_LIMIT,
    )
    identity_check = TickBoxField(
        label=_(
            "The partner may ask whether a name and ID number it already holds are mine; "
            "only yes or no is answered."
        ),
        required=False,
        initial=False,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        benefit = self.fields["benefit"]
        benefit.queryset = (
            benefits_offered().select_related("partner").order_by("partner__name", "pk")
        )
        benefit.label_from_instance = lambda b: f"{b.partner.name}: {b.title}"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("use_limit") == UseLimitChoice.QUERIES and not cleaned.get("max_queries"):
            self.add_error("max_queries", _("Say how many queries the partner may make."))
        benefit, partner = cleaned.get("benefit"), cleaned.get("partner")
        if cleaned.get("scope") != ConsentScope.ELIGIBILITY:
            cleaned["benefit"] = None  # only an eligibility answer is about one benefit
        elif benefit is None:
            self.add_error("benefit", _("Choose the benefit the partner may check."))
        elif partner is not None and benefit.partner_id != partner.pk:
            self.add_error("benefit", _("Choose one of this partner's own benefits."))
        return cleaned

    def use_limit_chosen(self) -> str | None:
        """The limit chosen (None: the partner's usual one)."""
        return self.cleaned_data.get("use_limit") or None

    def max_queries_chosen(self) -> int | None:
        if self.cleaned_data.get("use_limit") != UseLimitChoice.QUERIES:
            return None
        return self.cleaned_data.get("max_queries")

    def expires_at(self) -> datetime.datetime:
        """The end of the chosen day in the portal's time zone."""
        day = self.cleaned_data["expires_on"] + datetime.timedelta(days=1)
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# The plan's actions (scoring.services.outlook.PLAN_LEVERS) as a person reads them.
PLAN_LEVER_LABELS = {
    "repay_overdue": _("Repay what is overdue"),
    "bills_paid_on_time": _("Pay every utility bill on time"),
    "card_utilisation": _("Bring credit card use under 30% of the limits"),
    "work_email_verified": _("Verify a work email"),
    "complete_profile": _("Complete my profile"),
}


class GoalForm(forms.Form):
    """A goal: a benefit on offer (its minimum score) or a score, and the actions the
    person commits to. The service checks the rest (benefits_offered, the score range)."""

    benefit = forms.TypedChoiceField(
        label=_("A benefit"), required=False, coerce=int, empty_value=None
    )
    target_score = forms.IntegerField(
        label=_("Or a score"),
        required=False,
        min_value=SCORE_MIN,
        max_value=SCORE_MAX,
        help_text=format_when_shown(
            ngettext_lazy("From %(min)d to %(max)d.", "From %(min)d to %(max)d.", "max"),
            {"min": SCORE_MIN, "max": SCORE_MAX},
        ),
    )
    levers = forms.MultipleChoiceField(
        label=_("I will"),
        required=False,
        choices=list(PLAN_LEVER_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, benefits=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["benefit"].choices = [
            ("", _("None: I choose a score")),
            *((b.pk, f"{b.title} ({b.min_score})") for b in benefits),
        ]

    def clean(self):
        cleaned = super().clean()
        if (cleaned.get("benefit") is None) == (cleaned.get("target_score") is None):
            raise forms.ValidationError(
                _("Choose either a benefit or a score as your goal, not both.")
            )
        return cleaned
