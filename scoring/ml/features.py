"""The score's features, one documented group per dimension, computed from raw tables.

`features_compute` turns the raw rows of any number of people into one row of features
per person, vectorised with pandas: the nightly chunk, a single user and the synthetic
population all go through it, so a feature means the same thing everywhere. Missing
information stays NaN (a thin file): the scorecard gives "missing" its own points.

Gender, ethnicity and region are never features, and neither is age.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

DIMENSIONS = ("credit_history", "behaviour", "capacity", "identity", "connections")

HIGHER_IS_BETTER = "higher_is_better"
HIGHER_IS_WORSE = "higher_is_worse"
UNKNOWN_DIRECTION = "unknown"

EDUCATION_RANK = {
    "primary": 1,
    "junior_high": 2,
    "senior_high": 3,
    "associate": 4,
    "bachelor": 5,
    "master": 6,
    "doctorate": 7,
}
INCOME_RANK = {
    "lt3k": 1,
    "3k_5k": 2,
    "5k_8k": 3,
    "8k_12k": 4,
    "12k_20k": 5,
    "20k_50k": 6,
    "gt50k": 7,
}
VEHICLE_VALUE_POINTS = {"lt100k": 0.5, "100k_300k": 1.0, "gt300k": 1.5}
DELINQUENT_DAYS = 30  # a repayment this late counts as a delinquency
DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True)
class Feature:
    name: str
    dimension: str
    direction: str
    description: str


FEATURES: tuple[Feature, ...] = (
    # Credit history (信用历史): how past credit was repaid.
    Feature(
        "ch_on_time_rate",
        "credit_history",
        HIGHER_IS_BETTER,
        "Share of instalments due in the last 24 months that were paid on time.",
    ),
    Feature(
        "ch_worst_overdue_days",
        "credit_history",
        HIGHER_IS_WORSE,
        "Most days any instalment was overdue in the last 24 months.",
    ),
    Feature(
        "ch_overdue_unpaid",
        "credit_history",
        HIGHER_IS_WORSE,
        "Instalments past their due date and still unpaid today.",
    ),
    Feature(
        "ch_months_since_delinquency",
        "credit_history",
        HIGHER_IS_BETTER,
        "Months since an instalment was last 30+ days late (25 when none in 24 months).",
    ),
    Feature(
        "ch_oldest_account_months",
        "credit_history",
        HIGHER_IS_BETTER,
        "Age in months of the oldest credit account.",
    ),
    Feature(
        "ch_card_utilisation",
        "credit_history",
        HIGHER_IS_WORSE,
        "Balance over limit across open credit cards.",
    ),
    Feature(
        "ch_new_microloans_12m",
        "credit_history",
        HIGHER_IS_WORSE,
        "Online microloans opened in the last 12 months.",
    ),
    # Behaviour (行为偏好): how payments and bills are handled.
    Feature(
        "bh_active_months_12m",
        "behaviour",
        HIGHER_IS_BETTER,
        "Months with payment activity in the last 12.",
    ),
    Feature(
        "bh_spend_volatility",
        "behaviour",
        HIGHER_IS_WORSE,
        "Coefficient of variation of monthly spending (3+ active months).",
    ),
    Feature(
        "bh_categories_per_month",
        "behaviour",
        HIGHER_IS_BETTER,
        "Average number of spending categories used in an active month.",
    ),
    Feature(
        "bh_bills_on_time_rate",
        "behaviour",
        HIGHER_IS_BETTER,
        "Share of utility bills of the last 12 months paid by the due date "
        "(only with the utility-bills consent).",
    ),
    # Capacity (履约能力): the means to meet commitments.
    Feature(
        "cp_income_rank",
        "capacity",
        HIGHER_IS_BETTER,
        "Monthly income band, 1 (under ¥3,000) to 7 (over ¥50,000).",
    ),
    Feature(
        "cp_assets",
        "capacity",
        HIGHER_IS_BETTER,
        "Property (2, or 1 with a mortgage) plus vehicle value (0.5 to 1.5).",
    ),
    Feature(
        "cp_provident_fund_months",
        "capacity",
        HIGHER_IS_BETTER,
        "Months of housing provident fund contributions.",
    ),
    Feature(
        "cp_wealth_log10", "capacity", HIGHER_IS_BETTER, "log10 of 1 + the wealth products held."
    ),
    # Identity traits (身份特质): how much of the person is known and verified.
    Feature("id_verified", "identity", HIGHER_IS_BETTER, "1 when the real name is verified."),
    Feature("id_profile_completion", "identity", HIGHER_IS_BETTER, "Profile completion, 0 to 100."),
    Feature(
        "id_work_email_verified",
        "identity",
        HIGHER_IS_BETTER,
        "1 when a work email is verified with a code.",
    ),
    Feature("id_years_at_address", "identity", HIGHER_IS_BETTER, "Years at the current address."),
    Feature(
        "id_education_rank",
        "identity",
        HIGHER_IS_BETTER,
        "Highest education, 1 (primary) to 7 (doctorate).",
    ),
    # Connections (人脉关系): only with the social-connections consent.
    Feature("cn_verified_friends", "connections", HIGHER_IS_BETTER, "Number of verified friends."),
    Feature(
        "cn_friends_mean_score",
        "connections",
        HIGHER_IS_BETTER,
        "Mean score of those friends from the previous run (never the current one).",
    ),
    Feature(
        "cn_friends_court_list_share",
        "connections",
        HIGHER_IS_WORSE,
        "Share of those friends on the court list of dishonest judgment debtors.",
    ),
)
FEATURE_NAMES = tuple(feature.name for feature in FEATURES)
FEATURE_BY_NAME = {feature.name: feature for feature in FEATURES}


@dataclass
class RawTables:
    """Raw rows for a set of people, one frame per source; `people` is indexed by user_id.

    people: verified, education_level, work_email_verified, vehicle_owned, vehicle_value,
        property_owned, property_mortgaged, provident_fund_months, income_band,
        address_years, completion, consent_utility_bills, consent_social_connections;
        and, for real people, `declared` (the profile fields answered but not verified, a
        frozenset) and `completion_verified` (completion counting verified answers only).
        Without `declared` every answer counts as verified (the synthetic population).
    repayments: user_id, due_date, days_overdue, paid
    accounts: user_id, kind, opened_on, closed_on, credit_limit, balance
    activity: user_id, month, spend, transactions, categories
    bills: user_id, due_date, paid_date
    wealth: user_id, product, as_of, amount
    friends: user_id, friend_score, friend_on_court_list
    """

    people: pd.DataFrame
    repayments: pd.DataFrame
    accounts: pd.DataFrame
    activity: pd.DataFrame
    bills: pd.DataFrame
    wealth: pd.DataFrame
    friends: pd.DataFrame


def _months_before(as_of: np.datetime64, dates: pd.Series) -> pd.Series:
    return (as_of - dates).dt.days / DAYS_PER_MONTH


def _credit_history(t: RawTables, out: pd.DataFrame, as_of: np.datetime64) -> None:
    window = t.repayments[
        # Due before today: an instalment due today is not late yet.
        (t.repayments["due_date"] < as_of)
        & (t.repayments["due_date"] > as_of - np.timedelta64(730, "D"))
    ]
    by_user = window.groupby("user_id")
    out["ch_on_time_rate"] = (window["days_overdue"] == 0).groupby(window["user_id"]).mean()
    out["ch_worst_overdue_days"] = by_user["days_overdue"].max().astype(float)
    unpaid = (~window["paid"].astype(bool)).groupby(window["user_id"]).sum().astype(float)
    out["ch_overdue_unpaid"] = unpaid
    late = window[window["days_overdue"] >= DELINQUENT_DAYS]
    last_late = _months_before(as_of, late.groupby("user_id")["due_date"].max())
    has_history = out.index.isin(by_user.size().index)
    since = pd.Series(np.where(has_history, 25.0, np.nan), index=out.index)
    since.loc[last_late.index.intersection(out.index)] = last_late.clip(upper=25.0)
    out["ch_months_since_delinquency"] = since

    accounts = t.accounts
    out["ch_oldest_account_months"] = _months_before(
        as_of, accounts.groupby("user_id")["opened_on"].min()
    )
    cards = accounts[(accounts["kind"] == "credit_card") & accounts["closed_on"].isna()]
    totals = cards.groupby("user_id")[["balance", "credit_limit"]].sum()
    totals = totals[totals["credit_limit"] > 0]
    out["ch_card_utilisation"] = (totals["balance"] / totals["credit_limit"]).clip(0, 2)
    recent_micro = accounts[
        (accounts["kind"] == "microloan")
        & (accounts["opened_on"] > as_of - np.timedelta64(365, "D"))
    ]
    micro = recent_micro.groupby("user_id").size().astype(float)
    has_accounts = out.index.isin(accounts["user_id"].unique())
    out["ch_new_microloans_12m"] = np.where(has_accounts, 0.0, np.nan)
    out.loc[micro.index.intersection(out.index), "ch_new_microloans_12m"] = micro


def _behaviour(t: RawTables, out: pd.DataFrame, as_of: np.datetime64) -> None:
    activity = t.activity[
        (t.activity["month"] <= as_of)
        & (t.activity["month"] > as_of - np.timedelta64(365, "D"))
        & (t.activity["transactions"] > 0)
    ]
    by_user = activity.groupby("user_id")
    out["bh_active_months_12m"] = by_user.size().astype(float)
    out["bh_active_months_12m"] = out["bh_active_months_12m"].fillna(0.0)
    stats = by_user["spend"].agg(["mean", "std", "size"])
    stats = stats[(stats["size"] >= 3) & (stats["mean"] > 0)]
    out["bh_spend_volatility"] = (stats["std"] / stats["mean"]).clip(upper=3.0)
    out["bh_categories_per_month"] = by_user["categories"].mean().astype(float)

    bills = t.bills[
        (t.bills["due_date"] < as_of) & (t.bills["due_date"] > as_of - np.timedelta64(365, "D"))
    ]
    on_time = bills["paid_date"].notna() & (bills["paid_date"] <= bills["due_date"])
    rate = on_time.groupby(bills["user_id"]).mean().astype(float)
    out["bh_bills_on_time_rate"] = rate
    allowed = t.people["consent_utility_bills"].reindex(out.index).fillna(False).astype(bool)
    out.loc[~allowed, "bh_bills_on_time_rate"] = np.nan


def _capacity(t: RawTables, out: pd.DataFrame) -> None:
    people = t.people.reindex(out.index)
    out["cp_income_rank"] = people["income_band"].map(INCOME_RANK).astype(float)
    property_points = np.select(
        [people["property_owned"] == True, people["property_owned"] == False],  # noqa: E712
        [np.where(people["property_mortgaged"] == True, 1.0, 2.0), 0.0],  # noqa: E712
        default=np.nan,
    )
    vehicle_points = np.select(
        [people["vehicle_owned"] == True, people["vehicle_owned"] == False],  # noqa: E712
        [people["vehicle_value"].map(VEHICLE_VALUE_POINTS).fillna(0.5).to_numpy(), 0.0],
        default=np.nan,
    )
    answered = ~(np.isnan(property_points) & np.isnan(vehicle_points))
    assets = np.nan_to_num(property_points) + np.nan_to_num(vehicle_points)
    out["cp_assets"] = np.where(answered, assets, np.nan)
    out["cp_provident_fund_months"] = people["provident_fund_months"].astype(float)
    # Providers report holdings by statement date: count each product's latest only.
    latest = t.wealth.sort_values("as_of").drop_duplicates(["user_id", "product"], keep="last")
    wealth = latest.groupby("user_id")["amount"].sum()
    out["cp_wealth_log10"] = np.log10(1.0 + wealth.clip(lower=0)).astype(float)


def _identity(t: RawTables, out: pd.DataFrame) -> None:
    people = t.people.reindex(out.index)
    out["id_verified"] = people["verified"].fillna(0).astype(float)
    out["id_profile_completion"] = people["completion"].fillna(0).astype(float)
    out["id_work_email_verified"] = people["work_email_verified"].fillna(0).astype(float)
    out["id_years_at_address"] = people["address_years"].astype(float)
    out["id_education_rank"] = people["education_level"].map(EDUCATION_RANK).astype(float)


def _connections(t: RawTables, out: pd.DataFrame) -> None:
    by_user = t.friends.groupby("user_id")
    out["cn_verified_friends"] = by_user.size().astype(float)
    out["cn_verified_friends"] = out["cn_verified_friends"].fillna(0.0)
    out["cn_friends_mean_score"] = by_user["friend_score"].mean().astype(float)
    out["cn_friends_court_list_share"] = by_user["friend_on_court_list"].mean().astype(float)
    allowed = t.people["consent_social_connections"].reindex(out.index).fillna(False)
    for name in ("cn_verified_friends", "cn_friends_mean_score", "cn_friends_court_list_share"):
        out.loc[~allowed.astype(bool), name] = np.nan


def features_compute(tables: RawTables, *, as_of: datetime.date) -> pd.DataFrame:
    """One row of features per person in `tables.people`, in FEATURE_NAMES order."""
    day = np.datetime64(as_of, "D")
    out = pd.DataFrame(index=tables.people.index.copy())
    out.index.name = "user_id"
    _credit_history(tables, out, day)
    _behaviour(tables, out, day)
    _capacity(tables, out)
    _identity(tables, out)
    _connections(tables, out)
    return out[list(FEATURE_NAMES)].astype(float)


# Profile answers a person types in (people columns, named as the profile's fields): they
# count as declared until verified. A verified work email is verified by construction.
DECLARABLE_ANSWERS = (
    "education_level",
    "vehicle_owned",
    "vehicle_value",
    "property_owned",
    "property_mortgaged",
    "provident_fund_months",
    "income_band",
    "address_years",
)
# The features those answers (and the completion they make up) feed.
DECLARABLE_FEATURES = (
    "cp_income_rank",
    "cp_assets",
    "cp_provident_fund_months",
    "id_profile_completion",
    "id_years_at_address",
    "id_education_rank",
)


def features_verified_only(tables: RawTables, features: pd.DataFrame) -> pd.DataFrame | None:
    """`features` as they would be if the declared answers had not been given: what the
    verified data alone says, against which the declared answers' points are capped
    (scoring.ml.declared). None when the tables know of no declared answers."""
    people = tables.people
    if "declared" not in people.columns:
        return None
    trimmed = people.copy()
    for column in DECLARABLE_ANSWERS:
        declared = people["declared"].map(lambda fields, column=column: column in fields)
        trimmed[column] = trimmed[column].astype(object).where(~declared.astype(bool), None)
    trimmed["completion"] = people["completion_verified"]
    out = features.copy()
    partial = replace(tables, people=trimmed)
    _capacity(partial, out)
    _identity(partial, out)
    return out[list(FEATURE_NAMES)].astype(float)
