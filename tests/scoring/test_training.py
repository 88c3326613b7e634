"""Training: any labelled CSV with a mapping file (train_model --from-csv, then score_csv),
bad input refused with a clear message and nothing written, the synthetic population and
its model card, and generate_population."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from accounts.models import ConsentGrant, ConsentPurpose, User
from scoring.ml.features import FEATURE_BY_NAME, FEATURE_NAMES
from scoring.ml.scorecard import BASE_ODDS, BASE_SCORE, PDO, FeatureSpec, scorecard_fit
from scoring.ml.training import dataset_synthetic, model_train
from scoring.models import (
    ActivityMonth,
    CreditAccount,
    ModelVersion,
    SyntheticOutcome,
)
from scoring.services.scores import score_recompute

REGION_EFFECT = {"urban": 0.0, "suburb": 0.5, "rural": 1.0}
MAPPING = {
    "target": "defaulted",
    "bad_value": "yes",
    "id": "customer_id",
    "features": {
        "monthly_income": {
            "dimension": "capacity",
            "kind": "numeric",
            "direction": "higher_is_better",
        },
        "utilisation": {
            "dimension": "credit_history",
            "kind": "numeric",
            "direction": "higher_is_worse",
        },
        "months_as_customer": {
            "dimension": "behaviour",
            "kind": "numeric",
            "direction": "unknown",
        },
        "area": {"dimension": "identity", "kind": "categorical", "direction": "unknown"},
    },
}


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def labelled_rows(n: int, seed: int, *, areas=tuple(REGION_EFFECT)) -> pd.DataFrame:
    """Rows from a known process: income helps, utilisation hurts, tenure helps (the mapping
    does not say so), and the area matters; a few cells are garbage."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(9, 0.5, size=n)
    utilisation = rng.beta(2, 3, size=n)
    tenure = rng.integers(0, 240, size=n)
    area = rng.choice(list(areas), size=n)
    logit = (
        -3.0
        - 1.6 * (np.log(income) - 9)
        + 3.0 * (utilisation - 0.4)
        - 0.008 * (tenure - 120)
        + np.array([REGION_EFFECT.get(a, 0.5) for a in area])
    )
    p = _sigmoid(logit)
    frame = pd.DataFrame(
        {
            "customer_id": [f"{seed:02d}{i:06d}" for i in range(n)],  # leading zeros kept
            "monthly_income": np.round(income, 2).astype(str),
            "utilisation": np.round(utilisation, 4).astype(str),
            "months_as_customer": tenure.astype(str),
            "area": area,
            "notes": "ignored",
            "defaulted": np.where(rng.random(n) < p, "yes", "no"),
            "p_true": p,
        }
    )
    frame.loc[rng.random(n) < 0.03, "monthly_income"] = "n/a"
    frame.loc[rng.random(n) < 0.02, "utilisation"] = ""
    frame.loc[rng.random(n) < 0.02, "months_as_customer"] = "??"
    return frame


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)
    return path


def write_json(path: Path, document) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def quiet(*args, **options) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


@pytest.fixture
def training_files(tmp_path):
    rows = labelled_rows(3000, seed=1)
    return (
        write_csv(tmp_path / "train.csv", rows.drop(columns="p_true")),
        write_json(tmp_path / "mapping.json", MAPPING),
    )


@pytest.fixture
def csv_model(db, training_files) -> ModelVersion:
    data, mapping = training_files
    quiet(
        "train_model", from_csv=str(data), mapping=str(mapping), activate=True, no_challenger=True
    )
    return ModelVersion.objects.get()


def read_output(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


# --- The CSV path -----------------------------------------------------------------------------


def test_a_model_trained_on_a_csv_scores_a_csv_with_the_contract_columns(csv_model, tmp_path):
    incoming = labelled_rows(1500, seed=2)
    source = write_csv(tmp_path / "score.csv", incoming.drop(columns=["p_true", "defaulted"]))
    out = tmp_path / "scores.csv"

    quiet("score_csv", csv=str(source), out=str(out))

    header, rows = read_output(out)
    assert header == ["id", "p_default", "score"]
    assert [r[0] for r in rows] == list(incoming["customer_id"])
    p = np.array([float(r[1]) for r in rows])
    scores = np.array([int(r[2]) for r in rows])
    assert ((p > 0) & (p < 1)).all()
    assert ((scores >= 350) & (scores <= 950)).all()
    # Riskier rows (by the true probability) score lower on average, and p agrees.
    risk = incoming["p_true"].to_numpy()
    riskiest, safest = risk >= np.quantile(risk, 2 / 3), risk <= np.quantile(risk, 1 / 3)
    assert scores[riskiest].mean() < scores[safest].mean() - 20
    assert p[riskiest].mean() > p[safest].mean()
    # p is the score read back through the documented scaling: a higher score, a lower p.
    order = np.argsort(scores, kind="stable")
    assert (np.diff(p[order]) <= 1e-6).all()


def test_the_csv_model_is_stored_as_an_active_external_version_with_its_mapping(csv_model):
    assert csv_model.kind == ModelVersion.Kind.EXTERNAL
    assert csv_model.is_active
    assert csv_model.card["source"]["kind"] == "csv"
    assert csv_model.card["source"]["mapping"] == MAPPING
    names = [f["name"] for f in csv_model.card["features"]]
    assert names == list(MAPPING["features"])


def test_an_unknown_direction_is_learned_and_known_directions_are_kept(csv_model):
    directions = {f["name"]: f["direction"] for f in csv_model.card["features"]}

    assert directions["months_as_customer"] == "higher_is_better"  # learned
    assert directions["monthly_income"] == "higher_is_better"
    assert directions["utilisation"] == "higher_is_worse"
    points = next(f for f in csv_model.card["features"] if f["name"] == "utilisation")["points"]
    assert points == sorted(points, reverse=True)


def test_the_champion_is_not_worse_than_the_plain_woe_baseline_and_a_challenger_is_reported(
    db, training_files
):
    data, mapping = training_files
    quiet("train_model", from_csv=str(data), mapping=str(mapping))
    card = ModelVersion.objects.get().card

    assert card["metrics"]["auc"] >= card["comparisons"]["baseline_woe_logistic"]["auc"] - 0.005
    assert card["metrics"]["auc"] > 0.7
    assert "challenger_gradient_boosting_monotone" in card["comparisons"]


def test_categorical_levels_unseen_in_training_score_without_error(csv_model, tmp_path):
    incoming = labelled_rows(200, seed=3, areas=("island", "urban", "orbit"))
    incoming.loc[0, "area"] = ""
    source = write_csv(tmp_path / "new-levels.csv", incoming.drop(columns=["p_true"]))
    out = tmp_path / "scores.csv"

    quiet("score_csv", csv=str(source), out=str(out))

    _, rows = read_output(out)
    assert len(rows) == 200
    assert all(350 <= int(r[2]) <= 950 and 0 < float(r[1]) < 1 for r in rows)


def test_score_csv_refuses_a_file_without_the_models_columns_and_writes_nothing(
    csv_model, tmp_path
):
    incoming = labelled_rows(50, seed=4).drop(columns=["p_true", "utilisation"])
    out = tmp_path / "scores.csv"

    with pytest.raises(CommandError, match="utilisation"):
        quiet("score_csv", csv=str(write_csv(tmp_path / "short.csv", incoming)), out=str(out))

    assert not out.exists()


def test_score_csv_without_an_active_model_says_so(db, tmp_path):
    source = write_csv(tmp_path / "any.csv", labelled_rows(10, seed=5))

    with pytest.raises(CommandError, match="No model is active"):
        quiet("score_csv", csv=str(source), out=str(tmp_path / "out.csv"))


# --- Bad training input: a clear error, nothing written ---------------------------------------


def _mapping(**changes) -> dict:
    mapping = json.loads(json.dumps(MAPPING))
    for column, spec in changes.items():
        mapping["features"][column] = spec
    return mapping


def _one_class(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(defaulted="no")


def _garbage_values(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(
        monthly_income="¥¥¥", utilisation="?", months_as_customer="-", defaulted="maybe"
    )


BAD_MAPPINGS = {
    "missing column": (_mapping(salary={"dimension": "capacity"}), "salary"),
    "missing id column": ({**MAPPING, "id": "passport"}, "passport"),
    "missing target": ({**MAPPING, "target": "bad_flag"}, "bad_flag"),
    "invalid dimension": (
        _mapping(utilisation={"dimension": "wealth", "kind": "numeric"}),
        "dimension",
    ),
    "invalid kind": (_mapping(utilisation={"dimension": "capacity", "kind": "text"}), "kind"),
    "invalid direction": (
        _mapping(utilisation={"dimension": "capacity", "direction": "upwards"}),
        "direction",
    ),
    "no features": ({**MAPPING, "features": {}}, "features"),
    "not an object": ([1, 2, 3], "target"),
}


@pytest.mark.parametrize("case", list(BAD_MAPPINGS))
def test_a_bad_mapping_is_refused_clearly_and_creates_no_version(db, training_files, case):
    data, mapping_path = training_files
    mapping, words = BAD_MAPPINGS[case]
    write_json(mapping_path, mapping)

    with pytest.raises(CommandError, match=words):
        quiet("train_model", from_csv=str(data), mapping=str(mapping_path), activate=True)

    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "mapping"),
        ("", "mapping"),
        (b"\xff\xfe\x00{\x00}", "mapping"),
    ],
)
def test_an_unreadable_mapping_file_is_refused_and_creates_no_version(
    db, training_files, content, words
):
    data, mapping_path = training_files
    mapping_path.write_bytes(content.encode() if isinstance(content, str) else content)

    with pytest.raises(CommandError, match=words):
        quiet("train_model", from_csv=str(data), mapping=str(mapping_path), activate=True)

    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (_one_class, "at least 5 bad"),
        (_garbage_values, "at least 5 bad"),
        (lambda frame: frame.head(30), "at least 5 bad"),
    ],
    ids=["one class", "garbage values", "too few rows"],
)
def test_a_target_without_both_classes_is_refused_and_creates_no_version(
    db, tmp_path, training_files, make, words
):
    _, mapping_path = training_files
    data = write_csv(tmp_path / "bad.csv", make(labelled_rows(600, seed=6).drop(columns="p_true")))

    with pytest.raises(CommandError, match=words):
        quiet("train_model", from_csv=str(data), mapping=str(mapping_path), activate=True)

    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xd8\xff" * 40, "CSV"),
        (b"", "CSV"),
        (b"customer_id,defaulted\n1,2,3,4,5\n6,7\n", "CSV|missing"),
        (b"lorem ipsum dolor\nsit amet\n", "missing"),
    ],
    ids=["binary", "empty", "ragged", "prose"],
)
def test_a_csv_of_garbage_is_refused_and_creates_no_version(
    db, tmp_path, training_files, content, words
):
    _, mapping_path = training_files
    data = tmp_path / "garbage.csv"
    data.write_bytes(content)

    with pytest.raises(CommandError, match=words):
        quiet("train_model", from_csv=str(data), mapping=str(mapping_path), activate=True)

    assert not ModelVersion.objects.exists()


def test_from_csv_needs_a_mapping(db, training_files):
    data, _ = training_files

    with pytest.raises(CommandError, match="--mapping"):
        quiet("train_model", from_csv=str(data))

    assert not ModelVersion.objects.exists()


# --- The scorecard ----------------------------------------------------------------------------


def test_bins_have_bad_rates_that_move_the_documented_way(trained):
    for bins in trained.scorecard.features:
        rates = np.diff(bins.bad_rates)
        if FEATURE_BY_NAME[bins.name].direction == "higher_is_better":
            assert (rates <= 0).all(), (bins.name, bins.bad_rates)
        else:
            assert (rates >= 0).all(), (bins.name, bins.bad_rates)


def test_points_move_the_documented_way_when_bad_rates_do():
    # Three bins, bad rates 5 %, 5 %, 3 % (monotone for higher_is_better); the middle one small.
    x = np.repeat([1.0, 2.0, 3.0], [1000, 100, 1000])
    y = np.concatenate(
        [np.repeat([1, 0], [50, 950]), np.repeat([1, 0], [5, 95]), np.repeat([1, 0], [30, 970])]
    )
    spec = FeatureSpec("years", "identity", "numeric", "higher_is_better")

    card = scorecard_fit(pd.DataFrame({"years": x}), y, [spec])

    (bins,) = card.features
    assert np.all(np.diff(bins.bad_rates) <= 0)
    assert bins.points == sorted(bins.points), bins.points


def test_scaling_gives_19_to_1_odds_at_650_and_doubles_them_every_45_points(trained):
    card = trained.scorecard
    p = card.p_default(np.array([BASE_SCORE, BASE_SCORE + PDO, BASE_SCORE - PDO]))
    odds = (1 - p) / p

    assert (BASE_SCORE, BASE_ODDS, PDO) == (650, 19.0, 45)
    assert odds == pytest.approx([19, 38, 9.5])
    assert card.scaling == {"base_score": 650, "base_odds": 19.0, "pdo": 45, "min": 350, "max": 950}


# --- The synthetic population -----------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic_card() -> dict:
    """20,000 people, train_model's default seed. The issue's 0.98 bar is measured at 200,000
    in benchmarks/; at this size the 6,000-row test split moves the ratio by about 0.005 from
    seed to seed (seeds 1-8 give 0.983-0.993). The challenger is left out: it is slow on a
    busy machine and the CSV tests cover it."""
    return model_train(dataset_synthetic(users=20000, seed=2026), challenger=False).card


def test_synthetic_training_reaches_98_percent_of_the_best_achievable_auc(synthetic_card):
    metrics = synthetic_card["metrics"]

    assert metrics["auc_ratio_to_true"] >= 0.98
    assert metrics["auc_ratio_to_true"] == pytest.approx(
        metrics["auc"] / metrics["true_probability_auc"]
    )
    assert metrics["gini"] == pytest.approx(2 * metrics["auc"] - 1)
    assert 0 < metrics["ks"] < 1
    assert metrics["test_rows"] == 6000


def test_the_model_card_reports_what_the_issue_lists(synthetic_card):
    card = synthetic_card
    json.dumps(card, allow_nan=False)  # stored as JSON: no NaN or numpy types

    assert {"auc", "ks", "gini", "psi_test_vs_train"} <= set(card["metrics"])
    assert card["metrics"]["psi_test_vs_train"] < 0.1
    assert [b["band"] for b in card["bands"]] == ["poor", "fair", "good", "very_good", "excellent"]
    for band in card["bands"]:
        assert {"count", "observed_default_rate", "predicted_default_rate"} <= set(band)
    rates = [b["observed_default_rate"] for b in card["bands"] if b["count"] >= 200]
    assert rates[0] > rates[-1]  # lower bands default more
    gender = card["fairness"]["gender"]
    assert set(gender["mean_score"]) == {"M", "F"}
    assert gender["gap_male_minus_female"] == pytest.approx(
        gender["mean_score"]["M"] - gender["mean_score"]["F"]
    )
    assert len(card["fairness"]["age_band"]) == 5
    assert [f["name"] for f in card["features"]] == list(FEATURE_NAMES)
    for feature in card["features"]:
        assert len(feature["bins"]) == len(feature["points"]) >= 1
        assert isinstance(feature["missing_points"], int)
    assert 0.5 < card["comparisons"]["baseline_woe_logistic"]["auc"] < 1
    assert card["metrics"]["auc"] >= card["comparisons"]["baseline_woe_logistic"]["auc"] - 0.005


def test_train_model_on_the_synthetic_population_stores_an_active_portal_version(db):
    output = quiet("train_model", users=2000, seed=4, activate=True, no_challenger=True)

    version = ModelVersion.objects.get()
    assert (version.kind, version.is_active) == (ModelVersion.Kind.PORTAL, True)
    assert version.card["source"] == {
        "kind": "synthetic",
        "users": 2000,
        "seed": 4,
        "as_of": version.card["source"]["as_of"],
    }
    assert version.sha256 in output


def test_train_model_without_activate_leaves_the_active_version_alone(db, active_model):
    quiet("train_model", users=1000, seed=5, no_challenger=True)

    assert ModelVersion.objects.count() == 2
    assert list(ModelVersion.objects.filter(is_active=True)) == [active_model]


def test_the_retrain_task_stores_a_new_version_for_admins_to_activate(db, active_model):
    """The product's retrain task (Celery `scoring.retrain`, schedulable under Periodic
    tasks): a new portal version on a fresh synthetic population, active only if asked."""
    from scoring.tasks import model_retrain

    kwargs = {"users": 2000, "seed": 6, "challenger": False}
    name = model_retrain.apply(kwargs=kwargs).get()

    version = ModelVersion.objects.get(version=name)
    assert (version.kind, version.is_active) == (ModelVersion.Kind.PORTAL, False)
    assert version.card["source"] == {**version.card["source"], "users": 2000, "seed": 6}
    assert list(ModelVersion.objects.filter(is_active=True)) == [active_model]

    name = model_retrain.apply(kwargs={**kwargs, "seed": 7, "activate": True}).get()

    assert ModelVersion.objects.get(kind=ModelVersion.Kind.PORTAL, is_active=True).version == name


def test_train_model_refuses_a_population_too_small_to_learn_from(db):
    with pytest.raises(CommandError, match="at least 1,000"):
        quiet("train_model", users=999)

    assert not ModelVersion.objects.exists()


def test_generate_population_creates_people_with_records_and_outcomes(db, active_model):
    quiet("generate_population", users=200, seed=9)

    people = User.objects.filter(username__startswith="pop9-")
    assert people.count() == 200
    assert SyntheticOutcome.objects.filter(user__in=people, seed=9).count() == 200
    outcomes = SyntheticOutcome.objects.values_list("p_default", flat=True)
    assert all(0 < p < 1 for p in outcomes)
    assert CreditAccount.objects.filter(user__in=people).values("user").distinct().count() > 100
    assert ActivityMonth.objects.filter(user__in=people).exists()
    assert (
        ConsentGrant.objects.filter(user__in=people, purpose=ConsentPurpose.SCORING).count() == 200
    )
    # Generated people are real portal users: they can be scored.
    for user in people.order_by("pk")[:3]:
        snapshot = score_recompute(user=user, trigger="test")
        assert snapshot is not None
        assert 350 <= snapshot.score <= 950


def test_generate_population_twice_with_one_seed_is_refused_and_saves_nothing(db):
    quiet("generate_population", users=50, seed=9)
    counts = (User.objects.count(), CreditAccount.objects.count())

    with pytest.raises(CommandError, match="Nothing was saved"):
        quiet("generate_population", users=50, seed=9)

    assert (User.objects.count(), CreditAccount.objects.count()) == counts


def test_a_synthetic_population_is_the_same_for_the_same_seed():
    first = dataset_synthetic(users=500, seed=21)
    second = dataset_synthetic(users=500, seed=21)

    pd.testing.assert_frame_equal(first.frame, second.frame)
    assert np.array_equal(first.y, second.y)
    assert all(math.isfinite(p) and 0 < p < 1 for p in first.p_true)
