"""Predictions: the live model scores the selected entities into ``<agent schema>.predictions``.

One real run of the example goal (the session's) is copied per test: its live model scores in
the warehouse through the same feature SQL it was trained on, the table is checked before it
commits, and hostile selections are refused with nothing written.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from dagster_agentic.agent.predict import (
    PredictionsRefused,
    live_model,
    model_frame,
    predict_goal,
)
from dagster_agentic.agent.prediction_sql import scoring_sql
from dagster_agentic.agent.prediction_table import (
    CHECKS,
    PredictionCheck,
    TableSpec,
    prediction_columns,
    scored_frame,
    write_table,
)
from dagster_agentic.cli import main
from dagster_agentic.errors import DataError, GoalError, GuardrailError
from dagster_agentic.features.sql import spine_cte, warehouse_ref
from dagster_agentic.goals.spec import Goal, Predictions
from dagster_agentic.orchestration.definitions import build_definitions, job_name
from dagster_agentic.orchestration.predictions import predictions_key
from dagster_agentic.plan.store import PlanStore
from dagster_agentic.runner import RunSummary
from dagster_agentic.warehouse.connection import Warehouse, goal_warehouse

TABLE = "agentic_churn.predictions"
NOW = datetime(2026, 7, 1, 12, 0, 0)
"""A fixed prediction time the day after the example's latest label cutoff."""
CRITICAL = {name for name, critical, _ in CHECKS if critical}


@pytest.fixture
def trained(goal_run: RunSummary, session_goal: Goal, tmp_path: Path) -> Goal:
    """A private copy of the session's trained goal (warehouse and plan store)."""
    assert goal_run.success, goal_run.render()
    root = tmp_path / "goal"
    shutil.copytree(
        session_goal.warehouse.parent, root, ignore=shutil.ignore_patterns("*.lock", "*.holders")
    )
    return Goal(
        name=session_goal.name,
        objective=session_goal.objective,
        warehouse=root / session_goal.warehouse.name,
    )


def _table(goal: Goal) -> pd.DataFrame:
    with duckdb.connect(str(goal.warehouse), read_only=True) as conn:
        return conn.execute(f"SELECT * FROM {TABLE} ORDER BY entity_id").df()


def _has_table(goal: Goal) -> bool:
    with duckdb.connect(str(goal.warehouse), read_only=True) as conn:
        found = conn.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'agentic_churn'"
            " AND table_name = 'predictions'"
        ).fetchone()
    return bool(found and found[0])


def _scalar(goal: Goal, sql: str) -> int:
    with duckdb.connect(str(goal.warehouse), read_only=True) as conn:
        row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def test_the_live_model_scores_every_entity_as_it_scored_its_training_rows(
    trained: Goal,
) -> None:
    outcome = predict_goal(trained, now=NOW)
    live = live_model(trained)
    plan = live.bundle.plan
    assert outcome.plan_version == live.bundle.version == 1
    assert all(c.passed for c in outcome.checks if c.critical), outcome.render()
    assert outcome.rows == _scalar(trained, "SELECT count(*) FROM customers")
    assert outcome.egress_bytes > 0 and outcome.as_of == NOW

    table = _table(trained)
    assert list(table.columns) == [
        "entity_id",
        "score",
        "predicted",
        "plan_version",
        "scored_at",
        "as_of",
    ]
    assert len(table) == outcome.rows and table["entity_id"].is_unique
    assert (table["plan_version"] == 1).all() and (table["as_of"] == NOW).all()
    assert table["score"].between(0, 1).all()
    assert live.threshold is not None
    assert (table["predicted"] == (table["score"] >= live.threshold)).all()

    # The rows are the model's own scores on the features the plan computes as of NOW.
    ref = warehouse_ref(plan.warehouse_schema, plan.models_schema)
    sample = table.sample(50, random_state=0)
    ids = ", ".join(str(int(i)) for i in sample["entity_id"])
    spine = (
        "s AS (SELECT customer_id AS entity_id, TIMESTAMP '2026-07-01 12:00:00' AS cutoff_at"
        f" FROM main.customers WHERE customer_id IN ({ids}))"
    )
    matrix = goal_warehouse(trained).fetch_df(scoring_sql(plan, spine, ref), purpose="test")
    expected = live.learner.predict_proba(model_frame(matrix, plan))
    mine = sample.set_index("entity_id").loc[matrix["entity_id"], "score"].to_numpy()
    # Within float32 rounding: a network's output moves in the 8th digit with the batch size.
    assert np.allclose(mine, expected, rtol=0, atol=1e-6)

    # No skew between training and scoring: the labelled spine reproduces the training scores.
    labelled = goal_warehouse(trained).fetch_df(
        scoring_sql(plan, spine_cte(plan.objective, ref), ref), purpose="test"
    )
    again = pd.DataFrame(
        {
            "entity_id": labelled["entity_id"],
            "again": live.learner.predict_proba(model_frame(labelled, plan)),
        }
    )
    trained_scores = pd.read_csv(live.artifacts / "predictions.csv").merge(again, on="entity_id")
    assert len(trained_scores) == len(labelled) > 1000
    assert np.abs(trained_scores["score"] - trained_scores["again"]).max() < 1e-6


def test_unlabelled_entities_narrowed_by_a_predicate_are_scored(trained: Goal) -> None:
    selection = Predictions(entities="unlabelled", where="country IN ('DE', 'FR')")
    outcome = predict_goal(trained, selection=selection, now=NOW)
    expected = _scalar(
        trained,
        "SELECT count(*) FROM customers AS c WHERE country IN ('DE', 'FR') AND NOT EXISTS"
        " (SELECT 1 FROM churn_labels AS l WHERE l.customer_id = c.customer_id"
        " AND l.churned IS NOT NULL)",
    )
    assert 0 < outcome.rows == expected == len(_table(trained))
    labelled = _scalar(
        trained,
        f"SELECT count(*) FROM {TABLE} AS p JOIN churn_labels AS l ON l.customer_id = p.entity_id",
    )
    assert labelled == 0
    assert "without a label where country IN ('DE', 'FR')" in outcome.render()

    # A selection that matches nothing writes an empty table, and its checks still hold.
    nobody = predict_goal(trained, selection=Predictions(where="country = 'nowhere'"), now=NOW)
    assert nobody.rows == 0 and _table(trained).empty
    assert all(c.passed for c in nobody.checks if c.critical)


@pytest.mark.parametrize(
    ("where", "error", "words"),
    [
        ("1 = 1; DROP TABLE customers", GoalError, "exactly one predicate"),
        ("country = 'DE' OR (SELECT count(*) FROM churn_labels) > 0", GoalError, "without queries"),
        ("{{ config(materialized='table') }}", GoalError, "template delimiter"),
        ("country = '{% raw %}DE{% endraw %}'", GoalError, "template delimiter"),
        ("churn_labels.churned = 1", GoalError, "reads the table 'churn_labels'"),
        ("no_such_column = 1", GoalError, "not a column of customers"),
        ("read_csv('/etc/passwd') IS NOT NULL", GuardrailError, "function"),
        ("country = 'DE') OR (1 = 1", GoalError, "not valid SQL"),
        ("amount > 0", GoalError, "not a column of customers"),
    ],
)
def test_a_hostile_predicate_is_refused_and_nothing_is_written(
    trained: Goal, where: str, error: type[Exception], words: str
) -> None:
    predict_goal(trained, now=NOW)
    before = _table(trained)
    with pytest.raises(error) as raised:
        predict_goal(trained, selection=Predictions(where=where), now=datetime(2026, 8, 1))
    assert words in str(raised.value)
    pd.testing.assert_frame_equal(_table(trained), before)
    assert _scalar(trained, "SELECT count(*) FROM customers") == len(before)


def test_the_predictions_asset_materialises_with_its_checks_outside_the_goal_job(
    trained: Goal,
) -> None:
    bundle = PlanStore(trained.resolved_state_dir, trained.name).load(1)
    defs = build_definitions(trained, bundle)
    key = predictions_key("churn")
    graph = defs.resolve_asset_graph()
    assert set(graph.get(key).parent_keys) == {dg.AssetKey(["churn"])}
    assert key not in defs.resolve_job_def(job_name("churn")).asset_layer.selected_asset_keys
    assert graph.get(key).automation_condition is None
    with dg.instance_for_test() as instance:
        result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=instance, asset_selection=[key], raise_on_error=False
        )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    metadata = event.step_materialization_data.materialization.metadata
    assert metadata["plan_version"].value == 1
    assert metadata["dagster/row_count"].value == len(_table(trained))
    checks = {
        e.event_specific_data.check_name: e.event_specific_data.passed  # type: ignore[union-attr]
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    }
    assert set(checks) == {name for name, _, _ in CHECKS}
    assert all(checks[name] for name in CRITICAL)


def test_predict_on_the_command_line_prints_a_summary(
    trained: Goal, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "goal.yaml"
    path.write_text(
        yaml.safe_dump(
            {"name": "churn", "objective": trained.objective, "warehouse": str(trained.warehouse)}
        )
    )
    assert main(["predict", str(path), "--entities", "unlabelled", "--as-of", "2026-07-01"]) == 0
    out = capsys.readouterr().out
    table = _table(trained)
    assert f"churn: {len(table):,} entities scored (entities without a label)" in out
    assert "agentic_churn.predictions" in out and "plan version 1 (live)" in out
    assert (table["as_of"] == datetime(2026, 7, 1)).all()

    assert main(["predict", str(path), "--where", "1=1; DROP TABLE customers"]) == 2
    assert "predictions.where" in capsys.readouterr().err
    assert len(_table(trained)) == len(table)


def test_a_refused_candidate_never_scores_and_broken_sources_are_not_scored(
    trained: Goal,
) -> None:
    from example_churn.faults import apply_fault

    store = PlanStore(trained.resolved_state_dir, trained.name)
    live = store.load(1)

    def render(path: Path, _: object) -> None:
        shutil.copytree(live.dbt_dir, path / "dbt")

    candidate = store.write_version(live.plan, render, parent=1, reason="repair", provisional=True)
    store.settle(candidate.version)  # refused by its gate: history, never live
    assert store.accepted_version() == 1
    outcome = predict_goal(trained, now=NOW)
    assert outcome.plan_version == 1 and (_table(trained)["plan_version"] == 1).all()

    before = _table(trained)
    apply_fault(trained.warehouse, "rename_column")  # a column the live version reads
    with pytest.raises(DataError, match="critical expectation"):
        predict_goal(trained, now=datetime(2026, 8, 1))
    pd.testing.assert_frame_equal(_table(trained), before)


def test_members_of_another_warehouse_without_an_outcome_yet_are_scored(tmp_path: Path) -> None:
    """Other names (``member_key``, ``outcomes``, ``as_of``), spend two tables away: the members
    whose outcome is not known yet are scored, as of the day after the labels' cutoff, and the
    labelled spine reproduces the training scores."""
    from dagster_agentic.runner import run_goal

    from .shop_warehouse import OBJECTIVE, build_shop_warehouse

    warehouse = build_shop_warehouse(tmp_path / "shop.duckdb", members=700, leak=False)
    with duckdb.connect(str(warehouse)) as conn:  # the newest members' outcomes are unknown
        conn.execute("DELETE FROM outcomes WHERE member_key >= 5640")
    goal = Goal(name="lapse", objective=OBJECTIVE, warehouse=warehouse)
    with dg.instance_for_test() as instance:
        summary = run_goal(goal, instance=instance, log_level="ERROR", heal=False)
    assert summary.success, summary.render()
    outcome = predict_goal(
        goal, selection=Predictions(entities="unlabelled"), now=datetime(2026, 1, 2)
    )
    assert outcome.rows == 60 and all(c.passed for c in outcome.checks if c.critical)
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rows = conn.execute(
            "SELECT min(entity_id), max(entity_id), count(*) FROM agentic_lapse.predictions"
        ).fetchone()
    assert rows == (5640, 5699, 60)
    live = live_model(goal)
    plan = live.bundle.plan
    assert any(g.via is not None for g in plan.feature_groups)  # purchases, through visits
    ref = warehouse_ref(plan.warehouse_schema, plan.models_schema)
    labelled = goal_warehouse(goal).fetch_df(
        scoring_sql(plan, spine_cte(plan.objective, ref), ref), purpose="test"
    )
    again = live.learner.predict_proba(model_frame(labelled, plan))
    trained_scores = pd.read_csv(live.artifacts / "predictions.csv").merge(
        pd.DataFrame({"entity_id": labelled["entity_id"], "again": again}), on="entity_id"
    )
    assert len(trained_scores) == 640
    assert np.abs(trained_scores["score"] - trained_scores["again"]).max() < 1e-6


def test_a_goal_without_a_live_model_is_a_clear_error(tmp_path: Path) -> None:
    goal = Goal(name="churn", objective="o", warehouse=tmp_path / "w.duckdb")
    with pytest.raises(GoalError, match="no accepted plan version"):
        predict_goal(goal)


def test_what_is_scored_is_not_part_of_the_plan() -> None:
    plain = Goal(name="churn", objective="o", warehouse=Path("/w.duckdb"))
    narrowed = plain.model_copy(update={"predictions": Predictions(entities="unlabelled")})
    assert plain.model_dump(mode="json") == narrowed.model_dump(mode="json")


# --- the table's columns and checks for every task, on real learners -------------------------


def _frame(seed: int = 0, n: int = 900) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {"spend": rng.normal(size=n), "plan": rng.choice(["basic", "pro", "team"], size=n)}
    )
    tier = (frame["spend"] > 0.4).astype(int) + (frame["plan"] == "team").astype(int)
    return frame, tier.to_numpy()


def _fitted(task: str, y: np.ndarray, frame: pd.DataFrame, n_classes: int = 2) -> Any:
    from dagster_agentic.training.learners import make_learner
    from dagster_agentic.training.spec import ModelSpec

    learner = make_learner(
        ModelSpec(family="lightgbm", params={"n_estimators": 40}), task, n_classes
    )
    learner.fit(frame[:600], y[:600], frame[600:], y[600:], seed=3)
    return learner


def _write(
    tmp_path: Path, frame: pd.DataFrame, spec: TableSpec, live: int = 4
) -> list[PredictionCheck]:
    warehouse = Warehouse(tmp_path / "w.duckdb")
    with warehouse.connect(read_only=False) as conn:
        return list(write_table(conn, frame, spec, lambda: live))


def _spec(task: str, rows: int, **fields: Any) -> TableSpec:
    values: dict[str, Any] = {
        "schema": "agentic_g",
        "task": task,
        "threshold": None,
        "classes": (),
        "entity_type": "BIGINT",
        "expected_rows": rows,
        "goal_met": True,
        **fields,
    }
    return TableSpec(**values)


def test_multiclass_rows_hold_the_top_class_and_its_probability(tmp_path: Path) -> None:
    frame, tier = _frame()
    classes = ("bronze", "silver", "gold")
    learner = _fitted("multiclass_classification", tier, frame, n_classes=3)
    proba = learner.predict_proba(frame)
    score, predicted = prediction_columns("multiclass_classification", proba, classes=classes)
    assert np.allclose(score, proba.max(axis=1))
    assert list(predicted[:20]) == [classes[i] for i in proba.argmax(axis=1)[:20]]
    rows = scored_frame(
        pd.Series(np.arange(len(frame))),
        score,
        predicted,
        task="multiclass_classification",
        classes=classes,
        plan_version=4,
        scored_at=NOW,
        as_of=NOW,
    )
    spec = _spec("multiclass_classification", len(frame), classes=classes)
    checks = _write(tmp_path, rows, spec)
    assert all(c.passed for c in checks)
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
        kinds = {r[0]: r[1] for r in conn.execute("DESCRIBE agentic_g.predictions").fetchall()}
        counts = dict(
            conn.execute(
                "SELECT predicted, count(*) FROM agentic_g.predictions GROUP BY 1"
            ).fetchall()
        )
    assert set(counts) <= set(classes) and sum(counts.values()) == len(frame)
    assert (tier == 2).mean() > 0.05 and counts.get("gold", 0) > 0
    assert kinds == {
        "entity_id": "BIGINT",
        "score": "DOUBLE",
        "predicted": "VARCHAR",
        "plan_version": "INTEGER",
        "scored_at": "TIMESTAMP",
        "as_of": "TIMESTAMP",
    }


def test_regression_rows_hold_the_value_as_score_and_prediction(tmp_path: Path) -> None:
    frame, _ = _frame(seed=1)
    value = 1000.0 + 250.0 * frame["spend"].to_numpy()
    learner = _fitted("regression", value, frame)
    predicted_values = learner.predict(frame)
    score, predicted = prediction_columns("regression", predicted_values)
    assert np.array_equal(score, predicted) and abs(np.mean(score) - 1000.0) < 60.0
    rows = scored_frame(
        pd.Series(np.arange(len(frame))),
        score,
        predicted,
        task="regression",
        classes=(),
        plan_version=4,
        scored_at=NOW,
        as_of=None,
    )
    assert all(c.passed for c in _write(tmp_path, rows, _spec("regression", len(frame))))


def test_a_failed_check_rolls_the_new_table_back(tmp_path: Path) -> None:
    score, predicted = prediction_columns(
        "binary_classification", np.array([0.1, 0.7, 0.9]), threshold=0.5
    )
    assert predicted.tolist() == [False, True, True]

    def rows(ids: list[int], version: int = 4) -> pd.DataFrame:
        return scored_frame(
            pd.Series(ids),
            score,
            predicted,
            task="binary_classification",
            classes=(),
            plan_version=version,
            scored_at=NOW,
            as_of=NOW,
        )

    spec = _spec("binary_classification", 3, threshold=0.5)
    assert all(c.passed for c in _write(tmp_path, rows([1, 2, 3]), spec))
    failed = {c.name for c in _write(tmp_path, rows([7, 7, 8]), spec) if not c.passed}
    assert failed == {"entity_ids_unique"}
    # The live version moved on while scoring: the rows of the old one are refused.
    stale = {c.name for c in _write(tmp_path, rows([7, 8, 9]), spec, live=5) if not c.passed}
    assert stale == {"plan_version_is_live"}
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
        kept = conn.execute("SELECT entity_id FROM agentic_g.predictions ORDER BY 1").fetchall()
    assert kept == [(1,), (2,), (3,)]
    with pytest.raises(DataError, match="threshold"):
        prediction_columns("binary_classification", np.array([0.2]))
    assert PredictionsRefused.__mro__[1] is DataError
