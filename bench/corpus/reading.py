"""Was a goal read correctly? The product's reading against goals.yaml, field by field.

The reading is the product's public interpretation: ``interpret_objective`` on
``profile_warehouse``, with no overrides. A cohort is compared by the entity keys it selects
(run in the warehouse through the product's guarded, read-only connection), so any SQL that
means the same rows is right. An objective the product refuses is a misreading with its message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.corpus.goals import CorpusGoal, Expected


@dataclass
class Reading:
    goal_id: str
    correct: bool
    differs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per differing field: {"expected": ..., "read": ...}."""
    read: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "correct": self.correct,
            "differs": self.differs,
            "read": self.read,
            "error": self.error,
            "seconds": round(self.seconds, 3),
        }


def _q(name: str) -> str:
    from dagster_agentic.warehouse.connection import quote_ident

    return quote_ident(name)


def _keys(warehouse: Path, entity: str, key: str, where: str | None) -> set[Any]:
    from dagster_agentic.warehouse.connection import Warehouse

    sql = f"SELECT {_q(key)} FROM {_q(entity)}"
    if where:
        sql += f" WHERE COALESCE(({where}), FALSE)"
    with Warehouse(warehouse).connect(read_only=True) as conn:
        return {row[0] for row in conn.execute(sql).fetchall()}


def objective_fields(objective: Any) -> dict[str, Any]:
    """What the product read, in goals.yaml's terms."""
    return {
        "task": objective.task,
        "target": f"{objective.label_table}.{objective.target_column}",
        "positive": None
        if objective.task != "binary_classification"
        else str(objective.positive_value),
        "classes": sorted(str(c) for c in objective.classes),
        "entity": objective.entity_table,
        "key": objective.entity_key,
        "metric": objective.metric,
        "threshold": float(objective.threshold),
        "cohort_sql": objective.cohort_sql,
        "cohort": objective.cohort_description,
    }


def compare(expected: Expected, read: dict[str, Any], warehouse: Path) -> dict[str, Any]:
    """The fields that differ: {field: {"expected": e, "read": r}}; empty when read correctly."""
    want: dict[str, Any] = {
        "task": expected.task,
        "target": expected.target,
        "entity": expected.entity,
        "key": expected.key,
        "metric": expected.metric,
    }
    if expected.positive is not None:
        want["positive"] = expected.positive
    if expected.classes:
        want["classes"] = sorted(expected.classes)
    differs = {
        name: {"expected": value, "read": read.get(name)}
        for name, value in want.items()
        if read.get(name) != value
    }
    if not math.isclose(float(read["threshold"]), expected.threshold, rel_tol=1e-9):
        differs["threshold"] = {"expected": expected.threshold, "read": read["threshold"]}
    differs.update(_cohort_differs(expected, read, warehouse, "entity" in differs))
    return differs


def _cohort_differs(
    expected: Expected, read: dict[str, Any], warehouse: Path, other_entity: bool
) -> dict[str, Any]:
    meant = expected.cohort
    sql = read.get("cohort_sql")
    if meant is None and not sql:
        return {}
    described = {"expected": meant.means if meant else "every row", "read": read.get("cohort")}
    if meant is None or not sql or other_entity:
        return {"cohort": {**described, "read_sql": sql}}
    try:
        got = _keys(warehouse, expected.entity, expected.key, sql)
    except Exception as error:  # the product's predicate does not run on the entity table
        return {"cohort": {**described, "read_sql": sql, "error": str(error)[:300]}}
    want = _keys(warehouse, expected.entity, expected.key, meant.where)
    if got == want:
        return {}
    return {
        "cohort": {
            **described,
            "read_sql": sql,
            "expected_rows": len(want),
            "read_rows": len(got),
            "rows_in_both": len(got & want),
        }
    }


def read_goal(goal: CorpusGoal, warehouse: Path, profile: Any = None) -> Reading:
    """Interpret ``goal`` with no overrides and compare; an error is a misreading."""
    import time

    started = time.perf_counter()
    try:
        from dagster_agentic.goals.spec import GoalOverrides
        from dagster_agentic.kernel.policy.objective import interpret_objective
        from dagster_agentic.warehouse.connection import Warehouse
        from dagster_agentic.warehouse.profile import profile_warehouse

        profile = profile or profile_warehouse(Warehouse(warehouse))
        objective = interpret_objective(goal.objective, profile, GoalOverrides())
    except Exception as error:  # ObjectiveError, GoalError, or a defect: recorded either way
        message = f"{type(error).__name__}: {error}"
        fix = getattr(error, "fix", None)
        if fix and str(fix) not in message:
            message += f" (fix: {fix})"
        return Reading(
            goal.id,
            False,
            {"error": {"expected": "a reading", "read": message}},
            error=message,
            seconds=time.perf_counter() - started,
        )
    read = objective_fields(objective)
    differs = compare(goal.expect, read, warehouse)
    return Reading(goal.id, not differs, differs, read, seconds=time.perf_counter() - started)
