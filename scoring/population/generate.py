"""The synthetic population: people with realistic, correlated records drawn from a
documented latent-risk process that also gives each person a true default probability.

The process, per person:
1. Latent traits: z (financial responsibility), a (affluence, correlated 0.35 with z),
   e (digital engagement), all standard normal; age 18-70; gender (never used below).
2. Records follow the traits: thin files (no credit account) are likelier when young and
   less engaged; late repayments and late bills get likelier as z falls; card
   utilisation rises as z falls; microloans cluster at low z; income, education,
   assets, wealth and provident-fund months rise with a (and age); activity with e;
   friends are chosen among people of similar z; the lowest-z 1.5 % are on the court list.
3. Profile sections are answered, identities verified and optional consents given at
   rates that rise with engagement.
4. The features are computed from those records by `features_compute`, the same code that
   scores real users, and the true log-odds of a default within 12 months is the sum of
   documented monotone terms of those features (`TRUE_LOGIT_TERMS`), so the best any
   model can do is to recover them: the AUC of the true probabilities is the ceiling.
5. The 12-month outcome is drawn from that probability.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.utils import timezone

from accounts.profile_sections import completion_of_values
from scoring.ml.features import RawTables, features_compute
from scoring.ml.scorecard import SCORE_MAX, SCORE_MIN, score_from_odds

INTERCEPT = -1.65

# feature -> (function of the feature values, value used when the feature is missing)
TRUE_LOGIT_TERMS = {
    "ch_on_time_rate": (lambda x: 2.6 * (1 - x), 0.35),
    "ch_worst_overdue_days": (lambda x: 0.011 * np.minimum(x, 120), 0.0),
    "ch_overdue_unpaid": (lambda x: 0.55 * np.minimum(x, 3), 0.0),
    "ch_months_since_delinquency": (lambda x: -0.03 * np.minimum(x, 25), -0.25),
    "ch_oldest_account_months": (lambda x: -0.004 * np.minimum(x, 120), 0.0),
    "ch_card_utilisation": (lambda x: 1.1 * np.minimum(x, 1.2), 0.2),
    "ch_new_microloans_12m": (lambda x: 0.35 * np.minimum(x, 4), 0.0),
    "bh_active_months_12m": (lambda x: -0.06 * x, 0.0),
    "bh_spend_volatility": (lambda x: 0.8 * np.minimum(x, 2), 0.25),
    "bh_categories_per_month": (lambda x: -0.12 * np.minimum(x, 8), 0.0),
    "bh_bills_on_time_rate": (lambda x: -1.4 * (x - 0.85), 0.0),
    "cp_income_rank": (lambda x: -0.16 * (x - 3), 0.15),
    "cp_assets": (lambda x: -0.22 * x, 0.0),
    "cp_provident_fund_months": (lambda x: -0.006 * np.minimum(x, 120), 0.0),
    "cp_wealth_log10": (lambda x: -0.14 * x, 0.0),
    "id_verified": (lambda x: -0.45 * x, 0.0),
    "id_profile_completion": (lambda x: -0.006 * x, 0.0),
    "id_work_email_verified": (lambda x: -0.25 * x, 0.0),
    "id_years_at_address": (lambda x: -0.03 * np.minimum(x, 15), 0.0),
    "id_education_rank": (lambda x: -0.1 * (x - 3), 0.05),
    "cn_verified_friends": (lambda x: -0.03 * np.minimum(x, 10), 0.0),
    "cn_friends_mean_score": (lambda x: -0.005 * (np.clip(x, SCORE_MIN, SCORE_MAX) - 620), 0.0),
    "cn_friends_court_list_share": (lambda x: 1.6 * x, 0.0),
}

REGIONS = (
    "110101",
    "110102",
    "110105",
    "120101",
    "310101",
    "310104",
    "320102",
    "330102",
    "370102",
    "420102",
    "440103",
    "440104",
    "500103",
    "510104",
    "610102",
)
EDUCATION = (
    "primary",
    "junior_high",
    "senior_high",
    "associate",
    "bachelor",
    "master",
    "doctorate",
)
INCOME = ("lt3k", "3k_5k", "5k_8k", "8k_12k", "12k_20k", "20k_50k", "gt50k")
ACCOUNT_KINDS = ("credit_card", "consumer_loan", "car_loan", "mortgage", "microloan")


@dataclass
class Population:
    seed: int
    as_of: datetime.date
    traits: pd.DataFrame  # index user position; z, a, e, age, gender, court_listed
    profiles: pd.DataFrame  # profile field values per person
    tables: RawTables
    features: pd.DataFrame
    p_default: np.ndarray
    defaulted: np.ndarray


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def true_logit(features: pd.DataFrame) -> np.ndarray:
    logit = np.full(len(features), INTERCEPT)
    for name, (term, when_missing) in TRUE_LOGIT_TERMS.items():
        values = features[name].to_numpy(dtype=float)
        contribution = term(np.nan_to_num(values))
        logit += np.where(np.isnan(values), when_missing, contribution)
    return logit


def _score_like(p: np.ndarray) -> np.ndarray:
    """What a person's score roughly was in the previous run (for their friends)."""
    return score_from_odds(np.clip((1 - p) / p, 1e-6, None), raw=True)


def _profiles(rng, n, z, a, e, age) -> pd.DataFrame:
    answer = lambda shift: rng.random(n) < _sigmoid(shift + 0.9 * e)  # noqa: E731
    education = np.clip(np.round(3.2 + 1.2 * a + 0.2 * rng.normal(size=n)), 1, 7).astype(int)
    income = np.clip(
        np.round(3 + 1.3 * a + 0.02 * (age - 35) + 0.6 * rng.normal(size=n)), 1, 7
    ).astype(int)
    occupation = np.where(
        age < 23,
        "student",
        np.where(
            age > 62,
            "retired",
            np.where(
                rng.random(n) < _sigmoid(1.6 + 0.5 * z),
                "employee",
                rng.choice(["self_employed", "freelancer", "not_working", "civil_servant"], size=n),
            ),
        ),
    )
    employed = np.isin(occupation, ["employee", "civil_servant", "self_employed"])
    vehicle = rng.random(n) < _sigmoid(-1.0 + 1.0 * a + 0.02 * (age - 30))
    owns_property = rng.random(n) < _sigmoid(-1.2 + 0.9 * a + 0.05 * (age - 30))
    fund_months = np.where(
        employed,
        np.clip(rng.poisson(np.clip((age - 22) * 12 * _sigmoid(a + 0.5), 0, None)), 0, 600),
        0,
    )
    fund_months = np.minimum(fund_months, np.maximum(0, age - 16) * 12)
    years_here = np.clip(rng.exponential(3 + 0.08 * age + 1.5 * _sigmoid(z)), 0, age).round()
    frame = pd.DataFrame(
        {
            "education_level": np.where(answer(0.6), np.array(EDUCATION)[education - 1], ""),
            "school": "",
            "graduation_year": np.nan,
            "occupation": np.where(answer(0.9), occupation, ""),
            "employer": np.where(employed, "示例公司", ""),
            "work_email_verified": (
                employed & (rng.random(n) < _sigmoid(-0.6 + 0.8 * e + 0.4 * a))
            ).astype(float),
            "vehicle_owned": np.where(answer(0.2), vehicle, None),
            "vehicle_value": np.where(
                vehicle,
                rng.choice(["lt100k", "100k_300k", "gt300k"], size=n, p=[0.45, 0.4, 0.15]),
                "",
            ),
            "property_owned": np.where(answer(0.1), owns_property, None),
            "property_mortgaged": np.where(owns_property, rng.random(n) < 0.55, None),
            "provident_fund_months": np.where(answer(-0.1), fund_months, np.nan),
            "income_band": np.where(answer(0.4), np.array(INCOME)[income - 1], ""),
            "address": np.where(answer(0.3), "示例地址", ""),
            "address_years": np.nan,
            "phone": np.where(answer(1.0), "13800138000", ""),
        }
    )
    frame["occupation"] = np.where(frame["occupation"] == "", "", frame["occupation"])
    frame.loc[frame["occupation"] == "", "employer"] = ""
    frame["address_years"] = np.where(frame["address"] != "", years_here, np.nan)
    education_answered = frame["education_level"] != ""
    frame.loc[education_answered, "school"] = "示例大学"
    frame.loc[education_answered, "graduation_year"] = 2000
    frame.loc[frame["vehicle_owned"].isna(), "vehicle_value"] = ""
    frame.loc[frame["property_owned"].isna(), "property_mortgaged"] = None
    return frame


def _completion(profiles: pd.DataFrame) -> np.ndarray:
    rows = profiles.replace({"": None}).to_dict("records")
    return np.array([completion_of_values(row) for row in rows], dtype=float)


def _accounts(rng, ids, z, a, e, age, as_of):
    thin = rng.random(len(ids)) < _sigmoid(0.2 - 0.06 * (age - 18) - 0.6 * e)
    counts = np.where(thin, 0, 1 + rng.poisson(np.exp(-0.2 + 0.35 * a + 0.15 * e)))
    owner = np.repeat(np.arange(len(ids)), counts)
    oz, oa, oage = z[owner], a[owner], age[owner]
    weights = np.stack(
        [
            np.full(len(owner), 0.5),
            np.full(len(owner), 0.2),
            0.1 * _sigmoid(2 * oa),
            0.12 * _sigmoid(2 * oa) * (oage > 25),
            0.25 * _sigmoid(-1.5 * oz),
        ],
        axis=1,
    )
    weights /= weights.sum(axis=1, keepdims=True)
    kind = np.array([rng.choice(5, p=w) for w in weights]) if len(owner) else np.array([], int)
    max_months = np.clip((oage - 18) * 12, 1, 240)
    months_open = np.ceil(rng.random(len(owner)) * max_months).astype(int)
    opened = np.datetime64(as_of, "D") - (months_open * 30.4375).astype("timedelta64[D]")
    limit = np.round(np.exp(np.log(8000) + 0.6 * oa + 0.3 * rng.normal(size=len(owner))), -2)
    limit = np.where(kind == 3, limit * 40, np.where(kind == 2, limit * 8, limit))
    utilisation = rng.beta(
        2 * _sigmoid(-0.2 - 1.0 * oz) * 4 + 0.3, 2 * (1 - _sigmoid(-0.2 - 1.0 * oz)) * 4 + 0.3
    )
    accounts = pd.DataFrame(
        {
            "user_id": ids[owner],
            "kind": np.array(ACCOUNT_KINDS)[kind] if len(owner) else [],
            "opened_on": opened,
            "closed_on": pd.NaT,
            "credit_limit": limit,
            "balance": np.round(limit * utilisation, 2),
        }
    )
    instalments = np.minimum(months_open, 24)
    row_account = np.repeat(np.arange(len(owner)), instalments)
    offset = np.concatenate([np.arange(k) for k in instalments]) if len(owner) else np.array([])
    due = np.datetime64(as_of, "D") - ((offset + 1) * 30.4375).astype("timedelta64[D]")
    rz = oz[row_account]
    late = rng.random(len(row_account)) < _sigmoid(-3.4 - 1.4 * rz)
    days = np.where(late, np.minimum(1 + rng.geometric(0.08, size=len(row_account)), 180), 0)
    repayments = pd.DataFrame(
        {
            "user_id": ids[owner][row_account],
            "account": row_account,
            "due_date": due,
            "amount": np.round(np.maximum(limit[row_account] * 0.05, 100), 2),
            "days_overdue": days.astype(int),
            # A late instalment of the last two months may still be unpaid.
            "paid": ~(late & (offset < 2) & (rng.random(len(row_account)) < 0.5)),
        }
    )
    return accounts, repayments


def _activity(rng, ids, z, a, e, as_of):
    n = len(ids)
    rows = np.repeat(np.arange(n), 12)
    month_index = np.tile(np.arange(12), n)
    first = np.datetime64(as_of.replace(day=1), "M")
    months = (first - month_index.astype("timedelta64[M]")).astype("datetime64[D]")
    active = rng.random(len(rows)) < _sigmoid(0.8 + 1.3 * e[rows])
    volatility = 0.15 + 0.6 * _sigmoid(-1.2 * z[rows])
    spend = np.exp(np.log(3000) + 0.5 * a[rows] + volatility * rng.normal(size=len(rows)))
    categories = 1 + rng.poisson(1.5 + 2.0 * _sigmoid(e[rows] + 0.5 * z[rows]))
    keep = active
    return pd.DataFrame(
        {
            "user_id": ids[rows][keep],
            "month": months[keep],
            "spend": np.round(spend[keep], 2),
            "transfers_in": np.round(spend[keep] * 1.1, 2),
            "transactions": (5 + rng.poisson(20, size=len(rows)))[keep],
            "categories": np.minimum(categories[keep], 12),
        }
    )


def _bills(rng, ids, z, as_of):
    n = len(ids)
    counts = np.where(rng.random(n) < 0.85, rng.integers(4, 13, size=n), 0)
    rows = np.repeat(np.arange(n), counts)
    offset = np.concatenate([np.arange(k) for k in counts]) if len(rows) else np.array([])
    due = np.datetime64(as_of, "D") - ((offset * 30.4375) + 5).astype("timedelta64[D]")
    late = rng.random(len(rows)) < _sigmoid(-2.6 - 1.2 * z[rows])
    paid = due + np.where(
        late, rng.integers(1, 40, size=len(rows)), -rng.integers(0, 5, size=len(rows))
    ).astype("timedelta64[D]")
    return pd.DataFrame(
        {
            "user_id": ids[rows],
            "kind": rng.choice(["water", "power", "gas", "phone"], size=len(rows)),
            "due_date": due,
            "amount": np.round(rng.uniform(30, 400, size=len(rows)), 2),
            "paid_date": paid,
        }
    )


def _wealth(rng, ids, z, a, as_of):
    has = rng.random(len(ids)) < _sigmoid(-0.6 + 1.0 * a + 0.4 * z)
    holders = np.flatnonzero(has)
    return pd.DataFrame(
        {
            "user_id": ids[holders],
            "product": rng.choice(
                ["money_market", "fund", "deposit", "insurance"], size=len(holders)
            ),
            "amount": np.round(
                np.exp(np.log(20000) + a[holders] + rng.normal(size=len(holders))), 2
            ),
            "as_of": np.datetime64(as_of, "D"),
        }
    )


def _friend_pairs(rng, n, z, e):
    """Each person befriends people of similar responsibility (homophily)."""
    order = np.argsort(z + 0.7 * rng.normal(size=n))
    rank = np.empty(n, dtype=int)
    rank[order] = np.arange(n)
    degree = rng.poisson(1.5 + 2.5 * _sigmoid(e))
    source = np.repeat(np.arange(n), degree)
    step = rng.integers(1, 30, size=len(source)) * rng.choice([-1, 1], size=len(source))
    target = order[np.clip(rank[source] + step, 0, n - 1)]
    pairs = np.unique(np.stack([source, target], axis=1), axis=0)
    return pairs[pairs[:, 0] != pairs[:, 1]]


def population_draw(
    *, users: int, seed: int, as_of: datetime.date | None = None, first_id: int = 1
) -> Population:
    """Draw a population; ids are positions starting at `first_id` (or real user ids
    once saved). Deterministic for a seed."""
    # The portal's day (Asia/Shanghai), as everything else counts days, not the host's.
    as_of = as_of or timezone.localdate()
    rng = np.random.default_rng(seed)
    n = users
    ids = np.arange(first_id, first_id + n)
    z = rng.normal(size=n)
    a = 0.35 * z + np.sqrt(1 - 0.35**2) * rng.normal(size=n)
    e = rng.normal(size=n)
    age = rng.integers(18, 71, size=n)
    gender = np.where(rng.random(n) < 0.5, "M", "F")

    verified = rng.random(n) < _sigmoid(2.2 + 0.5 * e)
    # The court list is matched on verified ID numbers, so only verified people are on it.
    court_listed = (z < np.quantile(z, 0.015)) & verified
    profiles = _profiles(rng, n, z, a, e, age)
    people = pd.DataFrame(
        {
            "verified": verified.astype(float),
            "education_level": profiles["education_level"].to_numpy(),
            "work_email_verified": profiles["work_email_verified"].to_numpy(),
            "vehicle_owned": profiles["vehicle_owned"].to_numpy(),
            "vehicle_value": profiles["vehicle_value"].to_numpy(),
            "property_owned": profiles["property_owned"].to_numpy(),
            "property_mortgaged": profiles["property_mortgaged"].to_numpy(),
            "provident_fund_months": profiles["provident_fund_months"].to_numpy(dtype=float),
            "income_band": profiles["income_band"].to_numpy(),
            "address_years": profiles["address_years"].to_numpy(dtype=float),
            "completion": _completion(profiles),
            "consent_utility_bills": rng.random(n) < _sigmoid(1.0 + 0.5 * e),
            "consent_social_connections": rng.random(n) < _sigmoid(0.5 + 0.5 * e),
        },
        index=pd.Index(ids, name="user_id"),
    )
    accounts, repayments = _accounts(rng, ids, z, a, e, age, as_of)
    pairs = _friend_pairs(rng, n, z, e)
    tables = RawTables(
        people=people,
        repayments=repayments,
        accounts=accounts,
        activity=_activity(rng, ids, z, a, e, as_of),
        bills=_bills(rng, ids, z, as_of),
        wealth=_wealth(rng, ids, z, a, as_of),
        friends=pd.DataFrame(
            {
                "user_id": ids[pairs[:, 0]],
                "friend": ids[pairs[:, 1]],
                "friend_score": np.nan,
                "friend_on_court_list": court_listed[pairs[:, 1]].astype(float),
            }
        ),
    )
    # Friends' previous scores follow their risk before connections are counted.
    first_pass = features_compute(tables, as_of=as_of)
    p_first = _sigmoid(true_logit(first_pass))
    previous = _score_like(p_first) + rng.normal(scale=15, size=n)
    tables.friends["friend_score"] = np.round(previous[pairs[:, 1]])
    features = features_compute(tables, as_of=as_of)
    p_default = _sigmoid(true_logit(features))
    defaulted = rng.random(n) < p_default
    traits = pd.DataFrame(
        {"z": z, "a": a, "e": e, "age": age, "gender": gender, "court_listed": court_listed},
        index=pd.Index(ids, name="user_id"),
    )
    profiles.index = pd.Index(ids, name="user_id")
    return Population(
        seed=seed,
        as_of=as_of,
        traits=traits,
        profiles=profiles,
        tables=tables,
        features=features,
        p_default=p_default,
        defaulted=defaulted,
    )
