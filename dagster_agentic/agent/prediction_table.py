"""The predictions table: its columns from a model's output, how it is written, its checks.

One row per scored entity: ``entity_id``, ``score``, ``predicted``, ``plan_version``,
``scored_at`` and ``as_of`` (the prediction time the features were computed at). What
``score`` and ``predicted`` hold depends on the task:

* binary: ``score`` is P(target = positive value); ``predicted`` (BOOLEAN) is whether the
  score reaches the threshold the live version's verdict was measured at;
* multiclass: ``score`` is the probability of the most likely class, ``predicted`` that class's
  value (BOOLEAN, BIGINT or VARCHAR, from the classes' own type);
* regression: ``score`` and ``predicted`` are both the predicted value (DOUBLE), so a score
  is never NULL and sorting by it means the same for every task.

The table is replaced in one transaction and checked inside it before it commits: a check
that fails rolls the replacement back, and readers keep the previous scores.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from dagster_agentic.errors import DataError
from dagster_agentic.goals.objective import ClassValue
from dagster_agentic.guardrails.sql_policy import check_select
from dagster_agentic.warehouse.connection import (
    INTEGER_TYPES,
    literal,
    qualified_name,
    quote_ident,
)

PREDICTIONS_TABLE = "predictions"
COLUMNS = ("entity_id", "score", "predicted", "plan_version", "scored_at", "as_of")
_FRAME = "__agentic_scores"
"""The name the scored frame is registered under while the table is written from it."""
_KEY_TYPES = INTEGER_TYPES | {"VARCHAR", "UUID"}

CHECKS: tuple[tuple[str, bool, str], ...] = (
    ("row_count_matches_selection", True, "one row per selected entity, no more, no fewer"),
    ("entity_ids_unique", True, "no entity twice and no NULL entity id"),
    ("no_null_scores", True, "every row has a finite score"),
    ("scores_in_range", True, "probabilities in [0, 1] (a top class at least 1/k); values finite"),
    (
        "predicted_matches_score",
        True,
        "binary: predicted is score >= threshold; multiclass: one of the classes; regression:"
        " predicted equals score",
    ),
    ("plan_version_is_live", True, "every row was scored by the version live at commit time"),
    ("live_goal_met", False, "the live version met its goal (a warning when not)"),
)
"""(name, critical, description) of every check of the predictions table."""


@dataclass(frozen=True)
class PredictionCheck:
    name: str
    passed: bool
    critical: bool
    description: str
    observed: dict[str, Any]


def prediction_columns(
    task: str,
    output: np.ndarray,
    *,
    threshold: float | None = None,
    classes: Sequence[ClassValue] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """``score`` and ``predicted`` for each row, from a learner's output for ``task``.

    ``output`` is ``predict_proba`` for classification ((n,) for binary, (n, k) for
    multiclass, columns in the order of ``classes``) and ``predict`` for regression.
    """
    values = np.asarray(output, dtype="float64")
    if task == "binary_classification":
        if threshold is None or not math.isfinite(threshold):
            raise DataError(
                "a binary model's predictions need the threshold its verdict used",
                fix="run the goal so the live version's evaluation chooses one",
            )
        if values.ndim == 2 and values.shape[1] == 2:
            values = values[:, 1]  # (P(negative), P(positive)) columns
        score = values.reshape(-1)
        return score, np.asarray(score >= threshold, dtype=bool)
    if task == "multiclass_classification":
        if values.ndim != 2 or values.shape[1] != len(classes):
            raise DataError(
                f"the multiclass model gave output of shape {values.shape} for"
                f" {len(classes)} classes",
                fix="retrain the goal: the model and the plan's classes disagree",
            )
        top = values.argmax(axis=1) if len(values) else np.zeros(0, dtype=np.int64)
        score = values[np.arange(len(values)), top]
        return score, np.asarray(list(classes), dtype=object)[top]
    if task == "regression":
        score = values.reshape(-1)
        return score, score.copy()
    raise DataError(f"no predictions for a {task} task", fix="use a supported task")


def predicted_type(task: str, classes: Sequence[ClassValue]) -> str:
    """The SQL type of ``predicted``: BOOLEAN, the classes' type, or DOUBLE."""
    if task == "binary_classification":
        return "BOOLEAN"
    if task == "regression":
        return "DOUBLE"
    if classes and all(isinstance(c, bool) for c in classes):
        return "BOOLEAN"
    if classes and all(isinstance(c, int) and not isinstance(c, bool) for c in classes):
        return "BIGINT"
    return "VARCHAR"


def class_values(classes: Sequence[ClassValue]) -> list[ClassValue]:
    """The classes as ``predicted`` stores them: as they are when they share a type, else text."""
    if predicted_type("multiclass_classification", classes) == "VARCHAR":
        return [str(c) for c in classes]
    return list(classes)


def scored_frame(
    entity_ids: pd.Series,
    score: np.ndarray,
    predicted: np.ndarray,
    *,
    task: str,
    classes: Sequence[ClassValue],
    plan_version: int,
    scored_at: Any,
    as_of: Any,
) -> pd.DataFrame:
    """The rows of the predictions table, in :data:`COLUMNS` order."""
    if task == "multiclass_classification" and predicted_type(task, classes) == "VARCHAR":
        predicted = np.asarray([str(v) for v in predicted], dtype=object)
    n = len(entity_ids)
    return pd.DataFrame(
        {
            "entity_id": entity_ids.to_numpy(),
            "score": np.asarray(score, dtype="float64"),
            "predicted": predicted,
            "plan_version": np.full(n, plan_version, dtype="int64"),
            "scored_at": pd.Series([scored_at] * n, dtype="datetime64[us]"),
            "as_of": pd.Series([as_of] * n, dtype="datetime64[us]"),
        }
    )


def key_type(data_type: str | None) -> str | None:
    """The entity key's own type for ``entity_id`` when it is a key type DuckDB names plainly."""
    upper = (data_type or "").upper()
    return upper if upper in _KEY_TYPES else None


@dataclass(frozen=True)
class TableSpec:
    """Where the table goes and what its checks compare against."""

    schema: str
    task: str
    threshold: float | None
    classes: tuple[ClassValue, ...]
    entity_type: str | None
    expected_rows: int
    goal_met: bool

    @property
    def relation(self) -> str:
        return qualified_name(self.schema, PREDICTIONS_TABLE)


def write_table(
    conn: duckdb.DuckDBPyConnection,
    frame: pd.DataFrame,
    spec: TableSpec,
    live_version: Any,
) -> list[PredictionCheck]:
    """Replace the predictions table with ``frame`` and check it in the same transaction;
    commit only when every critical check passes. ``live_version()`` reads the accepted
    version at commit time. Returns the checks (the table is unchanged when one failed)."""
    entity = f"CAST(entity_id AS {spec.entity_type})" if spec.entity_type else "entity_id"
    select = (
        f"SELECT {entity} AS entity_id, CAST(score AS DOUBLE) AS score,"
        f" CAST(predicted AS {predicted_type(spec.task, spec.classes)}) AS predicted,"
        " CAST(plan_version AS INTEGER) AS plan_version,"
        " CAST(scored_at AS TIMESTAMP) AS scored_at, CAST(as_of AS TIMESTAMP) AS as_of"
        f" FROM {_FRAME} ORDER BY 1"
    )
    check_select(select, allowed_tables={_FRAME}, label="predictions table")
    conn.register(_FRAME, frame[list(COLUMNS)])
    try:
        conn.execute("BEGIN TRANSACTION")
        try:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(spec.schema)}")
            conn.execute(f"CREATE OR REPLACE TABLE {spec.relation} AS {select}")
            checks = table_checks(conn, spec, live_version())
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if all(c.passed for c in checks if c.critical):
            conn.execute("COMMIT")
        else:
            conn.execute("ROLLBACK")
    finally:
        conn.unregister(_FRAME)
    return checks


def table_checks(
    conn: duckdb.DuckDBPyConnection, spec: TableSpec, live: int | None
) -> list[PredictionCheck]:
    """Every check of :data:`CHECKS`, measured on the written table in the warehouse."""
    task = spec.task
    if task == "regression":
        in_range = "isfinite(score)"
        agrees = "predicted IS NOT DISTINCT FROM score"
    else:
        floor = 1.0 / len(spec.classes) - 1e-9 if task == "multiclass_classification" else 0.0
        in_range = f"score BETWEEN {floor!r} AND 1.0"
        if task == "binary_classification":
            agrees = f"predicted = (score >= {float(spec.threshold or 0.0)!r})"
        else:
            values = class_values(spec.classes)
            agrees = f"predicted IN ({', '.join(literal(v) for v in values) or 'NULL'})"
    row = conn.execute(
        "SELECT count(*), count(DISTINCT entity_id), count(entity_id),"
        " count(*) FILTER (WHERE score IS NULL OR NOT isfinite(score)),"
        f" count(*) FILTER (WHERE NOT coalesce({in_range}, FALSE)),"
        f" count(*) FILTER (WHERE NOT coalesce({agrees}, FALSE)),"
        " count(*) FILTER (WHERE plan_version IS DISTINCT FROM ?),"
        " min(score), max(score)"
        f" FROM {spec.relation}",
        [live],
    ).fetchone()
    rows, distinct, keyed, null_scores, outside, disagree, stale, low, high = (
        row if row else (0, 0, 0, 0, 0, 0, 0, None, None)
    )
    checks = [
        (rows == spec.expected_rows, {"rows": rows, "selected": spec.expected_rows}),
        (distinct == rows and keyed == rows, {"rows": rows, "distinct": distinct, "ids": keyed}),
        (null_scores == 0, {"null_or_non_finite": null_scores}),
        (outside == 0, {"outside": outside, "min": low, "max": high}),
        (disagree == 0, {"disagreeing": disagree, "threshold": spec.threshold}),
        (stale == 0 and live is not None, {"live_version": live, "other_rows": stale}),
        (spec.goal_met, {"goal_met": spec.goal_met}),
    ]
    return [
        PredictionCheck(name, bool(passed), critical, description, observed)
        for (name, critical, description), (passed, observed) in zip(CHECKS, checks, strict=True)
    ]


def check_dicts(checks: Sequence[PredictionCheck]) -> list[dict[str, Any]]:
    return [asdict(c) for c in checks]
