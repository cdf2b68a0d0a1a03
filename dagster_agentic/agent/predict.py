"""Score entities with the goal's live model and write the scores back into the warehouse.

The live version is the accepted one in the plan store: a refused healing candidate is never
accepted, so it never scores, and a degraded goal scores with its last good version. Nothing
is planned or trained here.

Which entities (``Goal.predictions``): ``entities: all`` (every row of the entity table) or
``unlabelled`` (entities with no labelled row yet), narrowed by ``where``, a boolean SQL
predicate over the entity table's columns checked as a cohort override is. The features are
the live plan's own feature SQL over a spine of those entities at one prediction time
(``as_of``, default now; plans without a cutoff column compute them as they were trained,
without one), run in the warehouse through the guarded connection, the SQL policy and the
cost guard. Only the feature matrix leaves the warehouse, counted against the egress budget;
the scores go back as ``<agent schema>.predictions`` (see :mod:`.prediction_table`), checked
before they commit. Before anything is scored, the raw tables must pass the live version's
critical expectations: data the gate would refuse is not scored either.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dagster_agentic.agent.prediction_sql import (
    allowed_tables,
    check_where,
    describe_selection,
    scoring_sql,
    selection_spine,
)
from dagster_agentic.agent.prediction_table import (
    PredictionCheck,
    TableSpec,
    check_dicts,
    key_type,
    prediction_columns,
    scored_frame,
    write_table,
)
from dagster_agentic.errors import DataError, GoalError, GuardrailError
from dagster_agentic.goals.spec import Goal, Predictions
from dagster_agentic.plan.models import Plan
from dagster_agentic.plan.store import PlanBundle, PlanStore
from dagster_agentic.warehouse.connection import (
    EgressLedger,
    Warehouse,
    goal_warehouse,
)

MODEL_DIR, EVALUATION_FILE = "model", "evaluation.json"


class PredictionsRefused(DataError):
    """The scores failed a critical check of the predictions table: nothing was written."""

    def __init__(self, message: str, *, fix: str, checks: list[PredictionCheck]) -> None:
        self.checks = checks
        super().__init__(message, fix=fix)


@dataclass(frozen=True)
class LiveModel:
    """The accepted version of a goal, its trained model and the threshold its verdict used."""

    bundle: PlanBundle
    learner: Any
    threshold: float | None
    verdict: str | None
    artifacts: Path


@dataclass(frozen=True)
class PredictionOutcome:
    """What one scoring wrote, and its checks."""

    goal: str
    plan_version: int
    table: str
    task: str
    selection: str
    rows: int
    scored_at: datetime
    as_of: datetime | None
    threshold: float | None
    verdict: str | None
    egress_bytes: int
    seconds: float
    checks: list[PredictionCheck]
    distribution: dict[str, Any] = field(default_factory=dict)
    latest_cutoff: str | None = None
    """The latest prediction time among the labels: how far ``as_of`` lies beyond training."""
    notes: tuple[str, ...] = ()

    def render(self) -> str:
        failed = [c.name for c in self.checks if not c.passed]
        as_of = (
            "no cutoff (as trained)" if self.as_of is None else f"{self.as_of:%Y-%m-%d %H:%M:%S}"
        )
        lines = [
            f"goal          {self.goal}: {self.rows:,} entities scored ({self.selection})",
            f"table         {self.table}",
            f"model         plan version {self.plan_version} (live), {self.task}"
            + (f", threshold {self.threshold:.4g}" if self.threshold is not None else "")
            + (f", verdict {self.verdict}" if self.verdict else ""),
            f"as of         {as_of}; scored at {self.scored_at:%Y-%m-%d %H:%M:%S} UTC"
            + (f"; latest label cutoff {self.latest_cutoff}" if self.latest_cutoff else ""),
            f"scores        {_distribution_line(self.distribution)}",
            f"checks        {len(self.checks) - len(failed)} passed, {len(failed)} failed"
            + (f" ({', '.join(failed)})" if failed else ""),
            f"data gravity  {self.egress_bytes:,} bytes left the warehouse",
            f"wall time     {self.seconds:.1f} s",
        ]
        return "\n".join([*lines, *(f"note          {n}" for n in self.notes)])

    def to_dict(self) -> dict[str, Any]:
        return {
            "goal": self.goal,
            "plan_version": self.plan_version,
            "table": self.table,
            "task": self.task,
            "selection": self.selection,
            "rows": self.rows,
            "scored_at": self.scored_at.isoformat(),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "threshold": self.threshold,
            "verdict": self.verdict,
            "egress_bytes": self.egress_bytes,
            "checks": check_dicts(self.checks),
            "distribution": self.distribution,
            "latest_cutoff": self.latest_cutoff,
            "notes": list(self.notes),
        }


def _distribution_line(distribution: dict[str, Any]) -> str:
    if not distribution:
        return "none"
    return ", ".join(
        f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in distribution.items()
    )


def live_model(goal: Goal) -> LiveModel:
    """The live version's saved model (and, for a binary goal, its verdict's threshold)."""
    from dagster_agentic.training.artifacts import LEARNER_FILE, load_learner

    store = PlanStore.of(goal)
    bundle = store.load_accepted()
    if bundle is None:
        raise GoalError(
            f"goal {goal.name!r} has no accepted plan version: there is no model to score with",
            fix="run the goal first: dagster-agentic run <goal.yaml>",
        )
    artifacts = store.artifacts_dir(bundle.version)
    if not (artifacts / MODEL_DIR / LEARNER_FILE).exists():
        raise DataError(
            f"plan version {bundle.version} of goal {goal.name!r} (live) has no trained model",
            fix="run the goal (dagster-agentic run <goal.yaml>) so its live version trains",
        )
    evaluation: dict[str, Any] = {}
    if (artifacts / EVALUATION_FILE).exists():
        evaluation = json.loads((artifacts / EVALUATION_FILE).read_text())
    threshold = None
    if bundle.plan.objective.task == "binary_classification":
        chosen = (evaluation.get("threshold") or {}).get("threshold")
        if chosen is None:
            raise DataError(
                f"plan version {bundle.version} of goal {goal.name!r} has no evaluation: the"
                " threshold of its verdict is not known",
                fix="run the goal so the live version's evaluation chooses its threshold",
            )
        threshold = float(chosen)
    learner = load_learner(artifacts / MODEL_DIR)
    if list(learner.feature_columns) != list(bundle.plan.feature_columns):
        raise DataError(
            f"the model of plan version {bundle.version} was trained on other features than"
            " the version's plan",
            fix="run the goal again so the live version's model is retrained",
        )
    verdict = (evaluation.get("cohort_test") or {}).get("verdict")
    return LiveModel(bundle, learner, threshold, verdict, artifacts)


def _checked(sql: str, plan: Plan, warehouse: Warehouse, label: str) -> str:
    from dagster_agentic.guardrails.cost import check_cost
    from dagster_agentic.guardrails.sql_policy import check_select

    check_select(sql, allowed_tables=allowed_tables(plan), label=label)
    with warehouse.connect(read_only=True) as conn:
        try:
            check_cost(conn, sql, warehouse.limits, label=label)
        except GuardrailError:
            raise
        except Exception as error:  # duckdb raises several error types for binding
            raise GoalError(
                f"{label} does not run in the warehouse: {error}",
                fix="check predictions.where against the entity table's columns and types",
            ) from error
    return sql


def _source_failures(bundle: PlanBundle, warehouse: Warehouse) -> list[str]:
    """The live version's critical raw-table expectations that fail now."""
    from dagster_agentic.agent.planner import load_suite
    from dagster_agentic.expectations.validate import validate_table
    from dagster_agentic.features.adapters import adapted_sources

    suite = load_suite(bundle)
    relations = adapted_sources(bundle.plan)
    failed = []
    with warehouse.connect(read_only=True) as conn:
        for table in suite.tables:
            for result in validate_table(conn, suite, table, relations=relations):
                if result.expectation.critical and not result.passed:
                    failed.append(f"{table}: {result.expectation.name} ({result.message})")
    return failed


def predict_goal(
    goal: Goal, *, selection: Predictions | None = None, now: datetime | None = None
) -> PredictionOutcome:
    """Score the selected entities with the live model into ``<agent schema>.predictions``.

    ``selection`` defaults to ``goal.predictions``; ``now`` (UTC) to the clock. Raises
    ``GoalError`` for a selection that cannot be read, ``DataError`` when there is no live
    model or the raw tables fail the live version's critical expectations, and
    :class:`PredictionsRefused` when the written scores fail a critical check (they are
    rolled back). Nothing is written in any of those cases.
    """
    from dagster_agentic.agent.planner import agent_schema, latest_prediction_time
    from dagster_agentic.features.adapters import plan_ref
    from dagster_agentic.features.sql import warehouse_ref
    from dagster_agentic.warehouse.locking import warehouse_lock

    started = time.perf_counter()
    selection = selection or goal.predictions
    clock = now or datetime.now(UTC)
    clock = clock.replace(tzinfo=UTC) if clock.tzinfo is None else clock  # naive: UTC already
    scored_at = clock.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    live = live_model(goal)
    plan = live.bundle.plan
    objective = plan.objective
    warehouse = goal_warehouse(goal)
    as_of = (selection.as_of or scored_at) if objective.cutoff_column else None
    if as_of is not None and as_of.tzinfo is not None:
        as_of = as_of.astimezone(UTC).replace(tzinfo=None)
    ref = plan_ref(plan, warehouse_ref(plan.warehouse_schema, plan.models_schema))
    label = f"predictions of goal {goal.name!r}"
    notes: list[str] = []
    if selection.as_of is not None and as_of is None:
        notes.append(
            "as_of was ignored: the plan has no cutoff column, so its features are computed"
            " as they were trained, without a prediction time"
        )
    ledger = EgressLedger()
    with warehouse_lock(goal.warehouse, write=False, purpose=f"goal {goal.name}: predictions"):
        if selection.where:
            relation = ref("source", objective.entity_table)
            with warehouse.connect(read_only=True) as conn:
                described = conn.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
            where = check_where(
                selection.where, objective.entity_table, [str(r[0]) for r in described]
            )
            selection = selection.model_copy(update={"where": where})
        failing = _source_failures(live.bundle, warehouse)
        if failing:
            raise DataError(
                f"the raw tables fail {len(failing)} critical expectation(s) of live version"
                f" {live.bundle.version}: {'; '.join(failing[:5])}; nothing was scored",
                fix="run the goal (dagster-agentic run) so healing repairs the pipeline, then"
                " predict again",
            )
        spine = selection_spine(plan, selection, ref, as_of)
        count_sql = _checked(f"WITH {spine}\nSELECT count(*) AS n FROM s", plan, warehouse, label)
        with warehouse.connect(read_only=True) as conn:
            row = conn.execute(count_sql).fetchone()
            latest = latest_prediction_time(conn, objective)
        expected = int(row[0]) if row else 0
        sql = _checked(scoring_sql(plan, spine, ref), plan, warehouse, label)
        matrix = warehouse.fetch_df(
            sql,
            purpose="scoring matrix",
            ledger=ledger,
            max_bytes=plan.budget.max_egress_bytes,
        )
        features = model_frame(matrix, plan)
        score, predicted = _score(live, features)
        frame = scored_frame(
            matrix["entity_id"],
            score,
            predicted,
            task=objective.task,
            classes=objective.classes,
            plan_version=live.bundle.version,
            scored_at=scored_at,
            as_of=as_of,
        )
        store = PlanStore.of(goal)
        entity_raw = next((t for t in plan.raw_tables if t.name == objective.entity_table), None)
        entity_type = (
            next((c.data_type for c in entity_raw.columns if c.name == objective.entity_key), None)
            if entity_raw
            else None
        )
        spec = TableSpec(
            schema=agent_schema(goal),
            task=objective.task,
            threshold=live.threshold,
            classes=tuple(objective.classes),
            entity_type=key_type(entity_type),
            expected_rows=expected,
            goal_met=live.verdict == "met",
        )
        with (
            warehouse_lock(goal.warehouse, write=True, purpose=f"goal {goal.name}: predictions"),
            warehouse.connect(read_only=False) as conn,
        ):
            checks = write_table(conn, frame, spec, store.accepted_version)
    broken = [c for c in checks if c.critical and not c.passed]
    if broken:
        raise PredictionsRefused(
            f"the predictions of goal {goal.name!r} fail "
            + "; ".join(f"{c.name} ({c.observed})" for c in broken)
            + f"; {spec.relation} was left as it was",
            fix="see the failed checks; a live version that changed while scoring needs a new"
            " scoring run",
            checks=checks,
        )
    if not spec.goal_met:
        notes.append(f"the live version's verdict is {live.verdict or 'unknown'}, not met")
    outcome = PredictionOutcome(
        goal=goal.name,
        plan_version=live.bundle.version,
        table=f"{spec.schema}.predictions",
        task=objective.task,
        selection=describe_selection(selection),
        rows=len(frame),
        scored_at=scored_at,
        as_of=as_of,
        threshold=live.threshold,
        verdict=live.verdict,
        egress_bytes=ledger.total_bytes,
        seconds=time.perf_counter() - started,
        checks=checks,
        distribution=_distribution(objective.task, score, predicted),
        latest_cutoff=latest,
        notes=tuple(notes),
    )
    _trace(goal, outcome)
    return outcome


def model_frame(matrix: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """The features as the model saw them in training: categories as text, NULL kept."""
    frame = matrix[list(plan.feature_columns)].copy()
    for column in set(plan.categorical_columns) & set(plan.feature_columns):
        values = frame[column].to_numpy(dtype=object)
        decoded = np.full(len(values), None, dtype=object)
        known = ~pd.isna(values)
        decoded[known] = values[known]
        frame[column] = pd.Series(decoded, dtype="str")
    return frame


def _score(live: LiveModel, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    objective = live.bundle.plan.objective
    if features.empty:
        empty = np.zeros(0, dtype="float64")
        shape = (
            (0, len(objective.classes)) if objective.task == "multiclass_classification" else (0,)
        )
        return prediction_columns(
            objective.task,
            empty.reshape(shape),
            threshold=live.threshold,
            classes=objective.classes,
        )
    output = (
        live.learner.predict(features)
        if objective.task == "regression"
        else live.learner.predict_proba(features)
    )
    return prediction_columns(
        objective.task, output, threshold=live.threshold, classes=objective.classes
    )


def _distribution(task: str, score: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    if not len(score):
        return {}
    summary: dict[str, Any] = {
        "mean": float(np.mean(score)),
        "min": float(np.min(score)),
        "max": float(np.max(score)),
    }
    if task == "binary_classification":
        summary["predicted positive"] = int(np.sum(predicted))
    elif task == "multiclass_classification":
        values, counts = np.unique(np.asarray(predicted, dtype=str), return_counts=True)
        top = sorted(zip(counts.tolist(), values.tolist(), strict=True), reverse=True)[:5]
        summary["top classes"] = ", ".join(f"{v}: {c}" for c, v in top)
    return summary


def _trace(goal: Goal, outcome: PredictionOutcome) -> None:
    from dagster_agentic.agent.planner import trace_for

    trace_for(goal).record(
        goal=goal.name,
        kind="action",
        name="score_entities",
        actor="predictions",
        inputs={"selection": outcome.selection, "as_of": outcome.to_dict()["as_of"]},
        outputs={
            "table": outcome.table,
            "rows": outcome.rows,
            "egress_bytes": outcome.egress_bytes,
        },
        duration_ms=outcome.seconds * 1000.0,
        plan_version=outcome.plan_version,
    )
