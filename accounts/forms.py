from __future__ import annotations

import datetime

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from accounts.models import DataUseAlerts, Profile
from accounts.validators import (
    EARLIEST_GRADUATION_YEAR,
    MAX_ADDRESS_YEARS,
    MAX_PROVIDENT_FUND_MONTHS,
    PROFILE_OPTIONAL_FIELDS,
    profile_field_validators,
    profile_section_clean,
)
from sesame_portal.forms import TickBoxField
from sesame_portal.i18n import format_when_shown
from sesame_portal.uploads import EVIDENCE_MAX_MB, STATEMENT_MAX


class SignupForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
        help_text=_("Letters, digits and @/./+/-/_ only."),
    )
    password1 = forms.CharField(
        label=_("Password"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=format_when_shown(
            ngettext_lazy(
                "At least %(count)d character, not only digits, not a common password.",
                "At least %(count)d characters, not only digits, not a common password.",
                "count",
            ),
            {"count": settings.PASSWORD_MIN_LENGTH},
        ),
    )
    password2 = forms.CharField(
        label=_("Repeat the password"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return cleaned


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's form (old password, new one twice), the new password's rule said as on
    the sign-up page rather than as Django's list of validators."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = SignupForm.base_fields["password1"].help_text


class IdentityForm(forms.Form):
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        help_text=_("As printed on your resident ID card."),
    )
    id_number = forms.CharField(
        label=_("Resident ID number"),
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "inputmode": "text",
                "autocapitalize": "characters",
                "spellcheck": "false",
            }
        ),
        help_text=_("18 characters; the last may be X."),
    )


class IdentityAppealForm(IdentityForm):
    """The verification's name and number again, with the evidence and a statement."""

    evidence = forms.FileField(
        label=_("Photo or scan of your ID card"),
        help_text=format_when_shown(
            ngettext_lazy(
                "A PDF, JPEG or PNG file of at most %(mb)d MB showing both sides of the card.",
                "A PDF, JPEG or PNG file of at most %(mb)d MB showing both sides of the card.",
                "mb",
            ),
            {"mb": EVIDENCE_MAX_MB},
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    statement = forms.CharField(
        label=_("Why this ID number is yours"),
        max_length=STATEMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("For example: when you lost the card, or who may have used it."),
    )


class SectionVerificationForm(forms.Form):
    """A document proving one section's answers; for education, a CHSI code instead."""

    document = forms.FileField(
        label=_("Document"),
        required=False,
        help_text=format_when_shown(
            ngettext_lazy(
                "A PDF, JPEG or PNG file of at most %(mb)d MB.",
                "A PDF, JPEG or PNG file of at most %(mb)d MB.",
                "mb",
            ),
            {"mb": EVIDENCE_MAX_MB},
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    code = forms.CharField(
        label=_("CHSI online verification code"),
        required=False,
        max_length=40,
        help_text=_(
            "From the online verification report of your degree on chsi.com.cn (学信网). "
            "Our staff look it up there."
        ),
    )

    def __init__(self, *args, section: str, **kwargs):
        super().__init__(*args, **kwargs)
        if section != "education":
            del self.fields["code"]


# Profile sections. Each form reads one section's answers from a post and shows the
# profile's rules (accounts/validators.py) beside its fields; the profile service checks
# the same rules again before it saves.

YES_NO = [("True", _("Yes")), ("False", _("No"))]


def _yes_no_field(label) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda value: value == "True",
        widget=forms.RadioSelect,
        empty_value=None,
    )


def _blank_choice_label(field: forms.Field) -> None:
    """A select's empty first option says "Choose…" instead of Django's "---------"."""
    if isinstance(field, forms.ChoiceField) and not isinstance(field.widget, forms.RadioSelect):
        choices = list(field.choices)
        if choices and choices[0][0] in ("", None):
            field.choices = [("", _("Choose…")), *choices[1:]]


class ProfileSectionForm(forms.ModelForm):
    """A section of the profile. `birth_date` (from the verified identity, if any) bounds
    the years and months a person can plausibly claim."""

    section: str

    def __init__(self, *args, birth_date: datetime.date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.birth_date = birth_date
        self.today = timezone.localdate()
        for name, field in self.fields.items():
            field.required = name not in PROFILE_OPTIONAL_FIELDS
            rules = profile_field_validators(name, today=self.today)
            # A number's bounds are said in the rules' words, not in Django's.
            numeric = isinstance(field, forms.IntegerField)
            field.validators = rules if numeric else [*field.validators, *rules]
            _blank_choice_label(field)

    def clean(self):
        cleaned = super().clean()
        try:
            cleaned.update(
                profile_section_clean(
                    self.section, cleaned, birth_date=self.birth_date, today=self.today
                )
            )
        except ValidationError as error:
            for name, errors in error.error_dict.items():
                self.add_error(name, errors)
        return cleaned


class EducationForm(ProfileSectionForm):
    section = "education"

    class Meta:
        model = Profile
        fields = ["education_level", "school", "graduation_year"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["graduation_year"].widget.attrs.update(
            {"min": EARLIEST_GRADUATION_YEAR, "max": self.today.year, "inputmode": "numeric"}
        )


class OccupationForm(ProfileSectionForm):
    section = "occupation"

    class Meta:
        model = Profile
        fields = ["occupation", "employer", "work_email"]
        help_texts = {
            "work_email": _(
                "Optional. We mail a six-digit code to verify it; personal "
                "mailboxes such as QQ or 163 are not accepted."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["work_email"].widget.attrs.update(
            {"autocomplete": "email", "inputmode": "email", "autocapitalize": "none"}
        )


class VehicleForm(ProfileSectionForm):
    section = "vehicle"
    vehicle_owned = _yes_no_field(_("Do you own a vehicle?"))

    class Meta:
        model = Profile
        fields = ["vehicle_owned", "vehicle_value"]


class PropertyForm(ProfileSectionForm):
    section = "property"
    property_owned = _yes_no_field(_("Do you own a home or other property?"))
    property_mortgaged = _yes_no_field(_("Is there a mortgage on it?"))

    class Meta:
        model = Profile
        fields = ["property_owned", "property_mortgaged"]


class ProvidentFundForm(ProfileSectionForm):
    section = "provident_fund"

    class Meta:
        model = Profile
        fields = ["provident_fund_months"]
        help_texts = {"provident_fund_months": _("Enter 0 if you have never contributed.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provident_fund_months"].widget.attrs.update(
            {"min": 0, "max": MAX_PROVIDENT_FUND_MONTHS, "inputmode": "numeric"}
        )


class IncomeForm(ProfileSectionForm):
    section = "income"

    class Meta:
        model = Profile
        fields = ["income_band"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["income_band"].widget = forms.RadioSelect(
            choices=self.fields["income_band"].choices[1:]
        )


class AddressForm(ProfileSectionForm):
    section = "address"

    class Meta:
        model = Profile
        fields = ["address", "address_years"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["address"].widget.attrs["autocomplete"] = "street-address"
        self.fields["address_years"].widget.attrs.update(
            {"min": 0, "max": MAX_ADDRESS_YEARS, "inputmode": "numeric"}
        )


class PhoneForm(ProfileSectionForm):
    section = "phone"

    class Meta:
        model = Profile
        fields = ["phone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Typed with spaces, dashes or +86: the rules make it eleven digits.
        phone = self.fields["phone"]
        phone.max_length = 30
        phone.validators = []
        phone.widget.attrs.update({"autocomplete": "tel", "inputmode": "tel", "maxlength": 30})


PROFILE_FORMS: dict[str, type[ProfileSectionForm]] = {
    "education": EducationForm,
    "occupation": OccupationForm,
    "vehicle": VehicleForm,
    "property": PropertyForm,
    "provident_fund": ProvidentFundForm,
    "income": IncomeForm,
    "address": AddressForm,
    "phone": PhoneForm,
}


class WorkEmailCodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Six-digit code"),
        regex=r"^\s*[0-9]{6}\s*$",
        max_length=20,
        error_messages={"invalid": _("Enter the six digits from the email.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class NotificationEmailForm(forms.Form):
    """Email on or off; asks for an address only when the account has none."""

    by_email = TickBoxField(label=_("Email me when my score or benefits change"), required=False)
    data_use_alerts = forms.ChoiceField(
        label=_("When a partner uses my data, tell me"),
        choices=DataUseAlerts.choices,
        initial=DataUseAlerts.EACH,
        widget=forms.RadioSelect,
        help_text=_(
            "Score queries, identity checks and voucher redemptions; by email too when "
            "emails are on."
        ),
        required=False,  # left out: unchanged
    )
    email = forms.EmailField(
        label=_("Email address"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autocapitalize": "none"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user.email:
            del self.fields["email"]

    def clean(self):
        cleaned = super().clean()
        missing = "email" in self.fields and not cleaned.get("email")
        if cleaned.get("by_email") and missing and not self.has_error("email"):
            self.add_error("email", _("Enter the email address to send them to."))
        return cleaned


class HelperInviteForm(forms.Form):
    """Invite a trusted helper: who, what they may do, for how long."""

    MONTHS = ((1, _("1 month")), (3, _("3 months")), (6, _("6 months")), (12, _("1 year")))

    name = forms.CharField(label=_("Helper's name"), max_length=100)
    email = forms.EmailField(
        label=_("Helper's email (optional, for your records)"), required=False, max_length=254
    )
    level = forms.ChoiceField(
        label=_("What they may do"),
        choices=(
            ("read_only", _("See my score, history, consents and who checked my score")),
            ("revoke_only", _("The same, and withdraw my consents and partner authorisations")),
        ),
        widget=forms.RadioSelect,
        initial="read_only",
    )
    months = forms.TypedChoiceField(label=_("For how long"), choices=MONTHS, coerce=int, initial=3)

    def expires_at(self) -> datetime.datetime:
        now = timezone.now()
        months = self.cleaned_data["months"]
        # A year is 365 days (the longest a helper may be given); a month 30.
        return now + datetime.timedelta(days=365 if months == 12 else 30 * months)
