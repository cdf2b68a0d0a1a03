"""Names and small parts every asset of a goal shares: keys, the job name, the automation
condition, how core errors reach the UI, the plan's identity as metadata."""

# No `from __future__ import annotations`: Dagster inspects annotations of what it wraps.
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg

from dagster_agentic.errors import AgenticError
from dagster_agentic.expectations.models import dagster_name
from dagster_agentic.plan.store import PlanBundle


def raw_key(table: str) -> dg.AssetKey:
    """The asset of a raw table. Dagster derives op input names from asset keys and allows only
    ``[A-Za-z0-9_]`` in them: other names get those characters replaced and a short digest of
    the real name, so two tables never share a key."""
    part = dagster_name(table)
    if part != table:
        part += "_" + hashlib.sha256(table.encode()).hexdigest()[:8]
    return dg.AssetKey(["raw", part])


def model_key(goal: str) -> dg.AssetKey:
    return dg.AssetKey([goal, "model"])


def evaluation_key(goal: str) -> dg.AssetKey:
    return dg.AssetKey([goal, "evaluation"])


def goal_key(goal: str) -> dg.AssetKey:
    return dg.AssetKey([goal])


def job_name(goal: str) -> str:
    return f"{goal}__goal"


def automation_condition() -> dg.AutomationCondition:
    """Materialise when upstream updated or when the code (the SQL, the plan) changed; never on a
    failed check alone, which without a code change would only fail again."""
    return dg.AutomationCondition.eager() | dg.AutomationCondition.code_version_changed()


@contextmanager
def reported_as_failure() -> Iterator[None]:
    """Errors of the core reach the UI as a ``Failure`` whose description carries the fix."""
    try:
        yield
    except AgenticError as error:
        raise dg.Failure(
            description=str(error), metadata={"error": type(error).__name__}
        ) from error


def plan_metadata(bundle: PlanBundle) -> dict[str, Any]:
    return {"plan_version": bundle.version, "plan_fingerprint": bundle.meta["plan_fingerprint"]}
