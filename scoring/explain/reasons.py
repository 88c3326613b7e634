"""Plain-language reasons. A snapshot stores codes and point impacts; the text is
rendered in the reader's language when shown."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext_lazy

from scoring.ml.features import DELINQUENT_DAYS
from sesame_portal.i18n import format_when_shown

# feature -> (why it helped, why it hurt, why it hurt because the information is missing)
REASON_TEXTS = {
    "ch_on_time_rate": (
        _("You repaid your instalments on time."),
        _("Some instalments were repaid late."),
        _("There is no repayment history yet."),
    ),
    "ch_worst_overdue_days": (
        _("None of your repayments ran long overdue."),
        _("A repayment ran many days overdue."),
        _("There is no repayment history yet."),
    ),
    "ch_overdue_unpaid": (
        _("Nothing you owe is overdue."),
        _("An instalment is overdue and still unpaid."),
        _("There is no repayment history yet."),
    ),
    "ch_months_since_delinquency": (
        _("No repayment has been seriously late for a long time."),
        format_when_shown(
            ngettext_lazy(
                "A repayment was %(days)d or more day late recently.",
                "A repayment was %(days)d or more days late recently.",
                "days",
            ),
            {"days": DELINQUENT_DAYS},
        ),
        _("There is no repayment history yet."),
    ),
    "ch_oldest_account_months": (
        _("You have had credit for a long time."),
        _("Your credit history is still short."),
        _("You have no credit account yet."),
    ),
    "ch_card_utilisation": (
        _("You use little of your credit card limits."),
        _("Your credit cards are used close to their limits."),
        _("There is no credit card usage to show."),
    ),
    "ch_new_microloans_12m": (
        _("You have not relied on online microloans."),
        _("You opened online microloans in the last year."),
        _("There is no credit account information."),
    ),
    "bh_active_months_12m": (
        _("You use payments regularly, month after month."),
        _("Your payment activity is irregular."),
        _("There is no payment activity yet."),
    ),
    "bh_spend_volatility": (
        _("Your monthly spending is steady."),
        _("Your monthly spending swings a lot."),
        _("There is not enough spending history yet."),
    ),
    "bh_categories_per_month": (
        _("You use payments for many everyday needs."),
        _("You use payments for few kinds of spending."),
        _("There is no spending history yet."),
    ),
    "bh_bills_on_time_rate": (
        _("You pay utility bills on time."),
        _("Some utility bills were paid late."),
        _("Utility bills are not counted (no bills, or no consent)."),
    ),
    "cp_income_rank": (
        _("Your declared income counts in your favour."),
        _("Your declared income is low."),
        _("You have not declared your income."),
    ),
    "cp_assets": (
        _("You own property or a vehicle."),
        _("You have few declared assets."),
        _("You have not declared property or a vehicle."),
    ),
    "cp_provident_fund_months": (
        _("You have contributed to the housing provident fund for a long time."),
        _("You have few housing provident fund contributions."),
        _("You have not declared housing fund contributions."),
    ),
    "cp_wealth_log10": (
        _("You hold savings and wealth products."),
        _("You hold few savings."),
        _("There are no savings or wealth products on record."),
    ),
    "id_verified": (
        _("Your real name is verified."),
        _("Your real name is not verified."),
        _("Your real name is not verified."),
    ),
    "id_profile_completion": (
        _("Your profile is complete."),
        _("Your profile is incomplete."),
        _("Your profile is incomplete."),
    ),
    "id_work_email_verified": (
        _("Your work email is verified."),
        _("Your work email is not verified."),
        _("Your work email is not verified."),
    ),
    "id_years_at_address": (
        _("You have lived at your address for years."),
        _("You moved recently."),
        _("You have not declared your address."),
    ),
    "id_education_rank": (
        _("Your education counts in your favour."),
        _("Your declared education counts little."),
        _("You have not declared your education."),
    ),
    "cn_verified_friends": (
        _("You have verified friends."),
        _("You have few verified friends."),
        _("Connections are not counted (no consent)."),
    ),
    "cn_friends_mean_score": (
        _("Your friends have good scores."),
        _("Your friends' scores are low."),
        _("Your friends have no scores yet."),
    ),
    "cn_friends_court_list_share": (
        _("None of your friends is on the court list."),
        _("Some of your friends are on the court list."),
        _("Connections are not counted."),
    ),
}

DIMENSION_LABELS = {
    "credit_history": _("Credit history"),
    "behaviour": _("Behaviour"),
    "capacity": _("Capacity to fulfil"),
    "identity": _("Identity traits"),
    "connections": _("Connections"),
}

# Each feature's name, as a change in points is explained by it.
FEATURE_LABELS = {
    "ch_on_time_rate": _("Instalments repaid on time"),
    "ch_worst_overdue_days": _("Longest overdue repayment"),
    "ch_overdue_unpaid": _("Overdue and unpaid instalments"),
    "ch_months_since_delinquency": _("Time since a serious delay"),
    "ch_oldest_account_months": _("Length of credit history"),
    "ch_card_utilisation": _("Credit card use of limits"),
    "ch_new_microloans_12m": _("New online microloans"),
    "bh_active_months_12m": _("Regular payment activity"),
    "bh_spend_volatility": _("Steadiness of spending"),
    "bh_categories_per_month": _("Variety of everyday spending"),
    "bh_bills_on_time_rate": _("Utility bills paid on time"),
    "cp_income_rank": _("Declared income"),
    "cp_assets": _("Property and vehicle"),
    "cp_provident_fund_months": _("Housing provident fund"),
    "cp_wealth_log10": _("Savings and wealth products"),
    "id_verified": _("Real-name verification"),
    "id_profile_completion": _("Profile completion"),
    "id_work_email_verified": _("Verified work email"),
    "id_years_at_address": _("Years at your address"),
    "id_education_rank": _("Education"),
    "cn_verified_friends": _("Verified friends"),
    "cn_friends_mean_score": _("Friends' scores"),
    "cn_friends_court_list_share": _("Friends on the court list"),
}

# Short names where space is tight (the radar's axes).
DIMENSION_SHORT_LABELS = {
    "credit_history": pgettext_lazy("dimension, short", "Credit history"),
    "behaviour": pgettext_lazy("dimension, short", "Behaviour"),
    "capacity": pgettext_lazy("dimension, short", "Capacity"),
    "identity": pgettext_lazy("dimension, short", "Identity"),
    "connections": pgettext_lazy("dimension, short", "Connections"),
}

GENERIC = (
    _("This information helped your score."),
    _("This information lowered your score."),
    _("This information is missing."),
)


def reason_text(code: str) -> str:
    feature, _sep, kind = code.rpartition(".")
    up, down, missing = REASON_TEXTS.get(feature, GENERIC)
    return str({"up": up, "down": down, "missing": missing}.get(kind, down))


def reasons_top(rows: list[dict], top: int = 3) -> tuple[list[dict], list[dict]]:
    """What helped most and what hurt most (each at most `top`, zero impacts left out)."""
    helped = [row for row in rows if row["impact"] > 0][:top]
    hurt = [row for row in reversed(rows) if row["impact"] < 0][:top]
    return helped, hurt


TRIGGER_TEXTS = {
    "identity_verified": _("Real name verified"),
    "profile:work_email_verified": _("Work email verified"),
    "profile": _("Profile updated"),
    "profile_verified": _("Profile answers verified"),
    "consent": _("Consent granted"),
    "consent_revoked": _("Consent withdrawn"),
    "nightly_run": _("Nightly update"),
    "manual_run": _("Update of everyone"),
    "import": _("New data from sources"),
    "asked": _("You asked for it"),
    "dispute_corrected": _("A disputed record was corrected"),
    "dispute_overdue": _("Dispute deadline passed: the disputed record no longer counts"),
    "dispute_answered_late": _("Late dispute answered: the disputed record counts again"),
    "identity_appeal": _("An identity appeal was decided"),
}


def trigger_text(trigger: str) -> str:
    """What caused a snapshot, in words: 'profile:education_level' reads as its kind."""
    exact = TRIGGER_TEXTS.get(trigger)
    if exact is None:
        exact = TRIGGER_TEXTS.get(trigger.partition(":")[0], _("Update"))
    return str(exact)
