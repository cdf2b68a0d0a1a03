"""Screening for every task, on small and wide data, in real DuckDB warehouses built here."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from dagster_agentic.features.label import label_sql, labelled_sql
from dagster_agentic.features.screening import COLUMNS_PER_QUERY, score_columns
from dagster_agentic.features.screening_report import (
    FALSE_DISCOVERY_RATE,
    SMALL_DATA_FALSE_DISCOVERY_RATE,
    ScreeningReport,
    false_discovery_rate,
)
from dagster_agentic.features.screening_stats import benjamini_hochberg
from dagster_agentic.goals.objective import Objective
from dagster_agentic.kernel.policy.selection import select_features
from dagster_agentic.warehouse.connection import quote_ident


def _warehouse(path: Path, frame: pd.DataFrame, table: str) -> duckdb.DuckDBPyConnection:
    """A DuckDB file holding ``frame`` as ``table``, and a TEMP copy of its train rows in the
    shape the screening reads (``label``, ``in_cohort``)."""
    conn = duckdb.connect(str(path))
    conn.register("frame", frame)
    conn.execute(f"CREATE TABLE {quote_ident(table)} AS SELECT * FROM frame")
    conn.unregister("frame")
    return conn


def _columns(frame: pd.DataFrame, skip: set[str]) -> list[tuple[str, str, str, Any]]:
    return [
        ("Customers", c, c, "numeric" if pd.api.types.is_numeric_dtype(frame[c]) else "categorical")
        for c in frame.columns
        if c not in skip
    ]


def _report(scored: Any, task: str) -> ScreeningReport:
    return ScreeningReport(
        rows=scored.rows,
        positives=scored.positives,
        cohort_rows=scored.cohort_rows,
        buckets=scored.buckets,
        false_discovery_rate=scored.level,
        task=task,
        class_counts=scored.class_counts,
        target_distinct=scored.target_distinct,
        scores=tuple(scored.scores),
        correlations=(),
        seconds=0.0,
        egress_bytes=scored.egress,
    )


def test_the_label_sql_encodes_each_task_and_leaves_unlabelled_rows_out(tmp_path: Path) -> None:
    values = ["Gold", "O'Brien", "Iron", "other", None, "Gold"]
    prices = [1.5, float("nan"), float("inf"), None, 3.0, 4.0]
    frame = pd.DataFrame({"Tier": values, "Price": prices})
    base = {"entity_table": "t", "entity_key": "k", "label_table": "t", "label_key": "k"}
    multi = Objective(
        **base,
        task="multiclass_classification",
        target_column="Tier",
        classes=("Iron", "O'Brien", "Gold"),
        metric="macro_f1",
        threshold=0.5,
    )
    regression = Objective(
        **base, task="regression", target_column="Price", metric="rmse", threshold=1.0
    )
    with _warehouse(tmp_path / "labels.duckdb", frame, "Sales") as conn:
        for objective, column, expected in (
            (multi, "Tier", [2, 1, 0, 2]),
            (regression, "Price", [1.5, 3.0, 4.0]),
        ):
            target = quote_ident(column)
            got = conn.execute(
                f"SELECT {label_sql(objective, target)} FROM Sales"
                f" WHERE {labelled_sql(objective, target)} ORDER BY rowid"
            ).fetchall()
            assert [v for (v,) in got] == expected


def _multiclass(rng: np.random.Generator, n: int) -> pd.DataFrame:
    usage = rng.normal(size=n)
    plan = rng.choice(["basic", "Pro", "team-plus"], n)
    logits = np.stack([0 * usage, 0.5 * usage, -0.5 * usage + 0.7 * (plan == "Pro")], axis=1)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    label = (rng.random(n)[:, None] > p.cumsum(axis=1)).sum(axis=1)
    return pd.DataFrame(
        {
            "UsageHours": usage,
            "PlanCode": plan,
            "noise_a": rng.normal(size=n),
            "noise_cat": rng.choice(["x", "y", "z"], n),
            "label": label,
            "in_cohort": rng.random(n) < 0.4,
        }
    )


def test_multiclass_screening_ranks_real_signal_above_noise(tmp_path: Path) -> None:
    frame = _multiclass(np.random.default_rng(1), 1500)
    columns = _columns(frame, {"label", "in_cohort"})
    with _warehouse(tmp_path / "m.duckdb", frame, "accounts") as conn:
        scored = score_columns(
            conn, "accounts", columns, task="multiclass_classification", classes=3
        )
    by = {s.column: s for s in scored.scores}
    assert by["UsageHours"].significant and by["PlanCode"].significant
    assert not by["noise_a"].significant and not by["noise_cat"].significant
    assert by["UsageHours"].all.mutual_information > by["noise_a"].all.mutual_information
    assert by["UsageHours"].all.cramers_v is not None and by["UsageHours"].all.auc is None
    assert sum(scored.class_counts) == 1500 and len(scored.class_counts) == 3
    expected = benjamini_hochberg([s.combined_p_value for s in scored.scores])
    assert [s.q_value for s in scored.scores] == pytest.approx(expected)


def test_regression_screening_ranks_signal_and_catches_a_copy(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    n = 1200
    size = rng.gamma(3, 40, n)
    zone = rng.choice(["N", "S", "E", "W"], n)
    price = np.exp(10 + 0.004 * size + 0.3 * (zone == "S") + rng.normal(0, 0.4, n))
    frame = pd.DataFrame(
        {
            "living_area": size,
            "zone_code": zone,
            "lot_noise": rng.normal(size=n),
            "listed_price": price * 1.01,  # the sale price, restated: a copy of the target
            "label": price,
            "in_cohort": True,
        }
    )
    columns = _columns(frame, {"label", "in_cohort"})
    with _warehouse(tmp_path / "r.duckdb", frame, "HouseSales") as conn:
        scored = score_columns(conn, "HouseSales", columns, task="regression", classes=0)
    by = {s.column: s for s in scored.scores}
    area, zone_score = by["living_area"], by["zone_code"]
    assert area.significant and zone_score.significant and not by["lot_noise"].significant
    assert area.all.rank_correlation is not None and area.all.rank_correlation > 0.3
    assert area.all.uncertainty > zone_score.all.uncertainty > by["lot_noise"].all.uncertainty
    assert scored.target_distinct == n
    expected = benjamini_hochberg([s.combined_p_value for s in scored.scores])
    assert [s.q_value for s in scored.scores] == pytest.approx(expected)
    decisions = {d.column: d for d in select_features(_report(scored, "regression"), {}).decisions}
    assert decisions["listed_price"].rule == "leakage"
    assert decisions["living_area"].keep and "Spearman" in decisions["living_area"].reason


def test_the_false_discovery_rate_scales_with_rows_and_candidates() -> None:
    assert false_discovery_rate(1_000, 30) == SMALL_DATA_FALSE_DISCOVERY_RATE
    assert false_discovery_rate(100_000, 30) == FALSE_DISCOVERY_RATE
    assert false_discovery_rate(1_000, 500) == FALSE_DISCOVERY_RATE  # candidates crowd rows
    middle = false_discovery_rate(6_000, 30)
    assert FALSE_DISCOVERY_RATE < middle < SMALL_DATA_FALSE_DISCOVERY_RATE


def _small(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, list[str]]:
    """Ten modest signals (monotone, U-shaped, skewed, categorical) and twenty noise columns."""
    real: dict[str, Any] = {}
    z = np.zeros(n)
    for i in range(6):
        v = rng.normal(size=n)
        real[f"metric_{i}"] = 3 * v + 10
        z += 0.5 * v * (1 if i % 2 else -1)
    v = rng.normal(size=n)
    real["tenure_u"], z = v, z + 0.35 * (v**2 - 1)
    v = rng.gamma(2, size=n)
    real["spend_skew"], z = v, z + 0.35 * np.log(v)
    tier = rng.choice(["Gold", "Silver", "Bronze", "Iron"], n)
    real["tier"] = tier
    z += np.select([tier == "Gold", tier == "Iron"], [0.5, -0.5], 0)
    region = rng.choice(["north-east", "south", "west"], n)
    real["region"], z = region, z + np.where(region == "south", 0.45, 0)
    noise: dict[str, Any] = {f"attr_{i:02d}": rng.normal(size=n) for i in range(17)}
    noise |= {f"flag_{i}": rng.choice(["x", "y", "z"], n) for i in range(3)}
    label = (rng.random(n) < 1 / (1 + np.exp(-(z - 0.6)))).astype(int)
    return pd.DataFrame({**real, **noise, "label": label}), list(real)


def _cv_auc(frame: pd.DataFrame, columns: list[str]) -> float:
    import lightgbm as lgb
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    X = frame[columns].copy()
    for c in X.columns:
        if not pd.api.types.is_numeric_dtype(X[c]):
            X[c] = X[c].astype("category")
    y = frame["label"].to_numpy()
    pred = np.zeros(len(y))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
        model = lgb.LGBMClassifier(n_estimators=150, learning_rate=0.05, n_jobs=1, verbose=-1)
        model.fit(X.iloc[train], y[train])
        pred[test] = np.asarray(model.predict_proba(X.iloc[test]))[:, 1]
    return float(roc_auc_score(y, pred))


def test_small_data_keeps_most_real_signals_and_matches_lightgbm_on_all_columns(
    tmp_path: Path,
) -> None:
    """1,000 rows, 10 modest signals and 20 noise columns: screening on the 700 train rows keeps
    most real signals (at a strict fixed level it kept about half), and LightGBM on the kept
    columns is within noise of LightGBM on all of them (cross-validated on every row)."""
    rng = np.random.default_rng(4)
    frame, real = _small(rng, 1000)
    frame["in_cohort"] = True
    train = frame[rng.random(len(frame)) < 0.7]
    with _warehouse(tmp_path / "small.duckdb", train, "Members") as conn:
        scored = score_columns(conn, "Members", _columns(train, {"label", "in_cohort"}))
    assert scored.level == SMALL_DATA_FALSE_DISCOVERY_RATE
    selection = select_features(_report(scored, "binary_classification"), {})
    kept = [d.column for d in selection.decisions if d.keep]
    assert sum(c in real for c in kept) >= 8, kept
    assert sum(c not in real for c in kept) <= 3, kept
    strict = [s.column for s in scored.scores if s.q_value < FALSE_DISCOVERY_RATE / 50]
    assert len(strict) < sum(c in real for c in kept)  # what a p < 0.001 bar would keep
    features = [c for c in frame.columns if c not in ("label", "in_cohort")]
    everything, selected = _cv_auc(frame, features), _cv_auc(frame, kept)
    assert selected >= everything - 0.02, (selected, everything)


class _Counting:
    """A DuckDB connection that counts the statements run through it."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn, self.statements = conn, 0

    def execute(self, sql: str, *args: Any) -> Any:
        self.statements += 1
        return self.conn.execute(sql, *args)


@pytest.mark.parametrize("task", ["binary_classification", "regression"])
def test_a_wide_table_is_screened_in_a_bounded_number_of_queries(tmp_path: Path, task: str) -> None:
    rng = np.random.default_rng(6)
    n = 2000
    frame = pd.DataFrame({f"Col{i:03d}": rng.normal(size=n) for i in range(500)})
    signal = rng.normal(size=n)
    frame["TrendScore"] = signal + rng.normal(size=n)
    frame["label"] = (signal > 0).astype(int) if task != "regression" else signal
    frame["in_cohort"] = rng.random(n) < 0.5
    columns = _columns(frame, {"label", "in_cohort"})
    with _warehouse(tmp_path / "wide.duckdb", frame, "wide_events") as conn:
        counting = _Counting(conn)
        started = time.perf_counter()
        scored = score_columns(counting, "wide_events", columns, task=task, classes=2)  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
    batches = math.ceil(len(columns) / COLUMNS_PER_QUERY)
    assert counting.statements <= batches + 3 and scored.queries == counting.statements
    assert seconds < 60, seconds
    by = {s.column: s for s in scored.scores}
    assert by["TrendScore"].significant and by["TrendScore"].q_value < 1e-10
    assert sum(s.significant for s in scored.scores) <= 3


@pytest.mark.parametrize("task", ["multiclass_classification", "regression"])
def test_label_copies_are_found_for_every_task(tmp_path: Path, task: str) -> None:
    """The schema analysis names an entity column that restates the target, whatever the
    task, and leaves a column with real but partial signal alone."""
    from dagster_agentic.warehouse.connection import Warehouse
    from dagster_agentic.warehouse.profile import profile_warehouse
    from dagster_agentic.warehouse.semantics import analyse_schema

    rng = np.random.default_rng(8)
    n = 800
    signal = rng.normal(size=n)
    if task == "regression":
        target: Any = np.round(np.exp(11 + 0.3 * signal + rng.normal(0, 0.3, n)), 2)
        copy: Any = np.round(target * 0.97, 2)  # "AssessedValue": the sale price, restated
        extra: dict[str, Any] = {"metric": "rmse", "threshold": 1000.0}
    else:
        target = np.array(["Bronze", "Silver", "Gold"])[
            np.digitize(signal + rng.normal(0, 1, n), [-0.5, 0.5])
        ]
        copy = np.char.lower(target.astype(str))  # "AssessedValue": the tier in lower case
        extra = {"metric": "macro_f1", "threshold": 0.5, "classes": ("Bronze", "Silver", "Gold")}
    frame = pd.DataFrame(
        {
            "MemberRef": np.arange(n) + 7000,
            "VisitScore": signal,
            "AssessedValue": copy,
            "Outcome": target,
        }
    )
    path = tmp_path / "copies.duckdb"
    _warehouse(path, frame, "Members").close()
    objective = Objective(
        task=task,
        entity_table="Members",
        entity_key="MemberRef",
        label_table="Members",
        label_key="MemberRef",
        target_column="Outcome",
        **extra,
    )
    warehouse = Warehouse(path)
    profile = profile_warehouse(warehouse)
    with warehouse.connect(read_only=True) as conn:
        semantics = analyse_schema(conn, profile, objective)
    suspects = {c.column: c.evidence for c in semantics.columns if c.role == "leakage_suspect"}
    assert "AssessedValue" in suspects, suspects
    assert "VisitScore" not in suspects
    assert ("rank variance" if task == "regression" else "entropy") in suspects["AssessedValue"]


def test_a_regression_goal_is_screened_end_to_end_on_its_readable_targets(
    tmp_path: Path,
) -> None:
    """Through the planner: the training set reads the target as a DOUBLE, rows with a
    non-finite target are left out and counted, and the screening ranks by rank statistics."""
    from dagster_agentic import Goal
    from dagster_agentic.agent.planner import propose
    from dagster_agentic.kernel.policy.kernel import PolicyKernel
    from dagster_agentic.warehouse.connection import Warehouse
    from dagster_agentic.warehouse.profile import profile_warehouse

    rng = np.random.default_rng(9)
    n = 1200
    area = rng.gamma(3, 40, n)
    price = np.exp(10 + 0.004 * area + rng.normal(0, 0.3, n))
    price[:15] = np.nan
    price[15:20] = np.inf
    frame = pd.DataFrame(
        {
            "HouseId": np.arange(n) + 1,
            "LivingArea": area,
            "Noise": rng.normal(size=n),
            "Region": rng.choice(["n", "s"], n),
            "SalePrice": price,
        }
    )
    path = tmp_path / "houses.duckdb"
    _warehouse(path, frame, "Houses").close()
    goal = Goal(
        name="price",
        objective="Predict the sale price of each house with an RMSE below 30000",
        warehouse=path,
        state_dir=tmp_path / "state",
    )
    proposal = propose(goal, profile_warehouse(Warehouse(path)), PolicyKernel())
    report = proposal.screening
    assert report.task == "regression" and report.unlabelled_rows == 5  # the infinities
    assert report.target_distinct == report.rows
    area_score = next(s for s in report.scores if "livingarea" in s.column.lower())
    assert area_score.significant and (area_score.all.rank_correlation or 0) > 0.5
    assert "5 label rows whose target is not a finite number" in proposal.selection.rationale[0]


def test_an_unlearnable_target_is_refused_with_its_reason(tmp_path: Path) -> None:
    from dagster_agentic.errors import DataError
    from dagster_agentic.features.screening import refuse_unlearnable_target

    frame = pd.DataFrame({"x": np.arange(300.0), "label": 5.0, "in_cohort": True})
    base = {"entity_table": "t", "entity_key": "k", "label_table": "t", "label_key": "k"}
    with _warehouse(tmp_path / "c.duckdb", frame, "Flat") as conn:
        flat = score_columns(
            conn, "Flat", _columns(frame, {"label", "in_cohort"}), task="regression"
        )
        frame["label"] = np.arange(300) % 2  # classes 0 and 1 only: the third never appears
        conn.execute("DROP TABLE Flat")
        conn.register("frame", frame)
        conn.execute("CREATE TABLE Flat AS SELECT * FROM frame")
        two = score_columns(
            conn,
            "Flat",
            _columns(frame, {"label", "in_cohort"}),
            task="multiclass_classification",
            classes=3,
        )
    regression = Objective(
        **base, task="regression", target_column="Price", metric="r2", threshold=0.5
    )
    with pytest.raises(DataError, match=r"takes a single value .* a constant target"):
        refuse_unlearnable_target(_report(flat, "regression"), regression, "g")
    multi = Objective(
        **base,
        task="multiclass_classification",
        target_column="Tier",
        classes=("low", "mid", "high"),
        metric="accuracy",
        threshold=0.5,
    )
    with pytest.raises(DataError, match="no row of class\\(es\\) 'high' of 'Tier'"):
        refuse_unlearnable_target(_report(two, "multiclass_classification"), multi, "g")
    refuse_unlearnable_target(_report(two, "binary_classification"), multi, "g")  # not checked


def test_a_multiclass_goal_is_screened_end_to_end_with_every_class_counted(
    tmp_path: Path,
) -> None:
    from dagster_agentic import Goal
    from dagster_agentic.agent.planner import propose
    from dagster_agentic.kernel.policy.kernel import PolicyKernel
    from dagster_agentic.warehouse.connection import Warehouse
    from dagster_agentic.warehouse.profile import profile_warehouse

    rng = np.random.default_rng(10)
    n = 1200
    usage = rng.normal(size=n)
    tier = np.array(["basic", "plus", "premium"])[
        np.digitize(usage + rng.normal(0, 1, n), [-0.5, 0.5])
    ]
    frame = pd.DataFrame(
        {
            "account_code": [f"A{i:05d}" for i in range(n)],
            "usage_score": usage,
            "noise_level": rng.normal(size=n),
            "service_tier": tier,
        }
    )
    path = tmp_path / "tiers.duckdb"
    _warehouse(path, frame, "accounts").close()
    goal = Goal(
        name="tier",
        objective="Classify each account's service tier with a macro-F1 of at least 0.5",
        warehouse=path,
        state_dir=tmp_path / "state",
    )
    proposal = propose(goal, profile_warehouse(Warehouse(path)), PolicyKernel())
    report, objective = proposal.screening, proposal.plan.objective
    assert report.task == "multiclass_classification" and len(objective.classes) == 3
    assert sum(report.class_counts) == report.rows and min(report.class_counts) > 0
    by = {s.column: s for s in report.scores}
    usage_score = next(s for c, s in by.items() if "usage_score" in c)
    noise = next(s for c, s in by.items() if "noise_level" in c)
    assert usage_score.significant and not noise.significant
    assert usage_score.all.uncertainty > 0.05 > noise.all.uncertainty
