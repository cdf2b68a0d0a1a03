"""dagster-agentic: declare an ML goal; an agent builds, checks and runs its Dagster assets.

The public API is named here and nowhere else. Names are imported on first use, so
``import dagster_agentic`` stays fast and pulls in neither Dagster, dbt nor torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Importing the package changes nothing in the process's environment. The offline switches are
# given to what needs them: dbt's subprocesses (``features.dbt_project.dbt_environment`` and
# dagster-dbt's own), litellm's import (``kernel.llm.client.litellm_module``) and Great
# Expectations' ephemeral context (``expectations.gx_frame``).

__version__ = "0.1.0"

_EXPORTS = {
    "AgenticError": "dagster_agentic.errors",
    "ArtifactStore": "dagster_agentic.orchestration.resources",
    "Budget": "dagster_agentic.goals.spec",
    "DataError": "dagster_agentic.errors",
    "DbtError": "dagster_agentic.errors",
    "Goal": "dagster_agentic.goals.spec",
    "GoalComponent": "dagster_agentic.orchestration.component",
    "GoalError": "dagster_agentic.errors",
    "GoalOverrides": "dagster_agentic.goals.spec",
    "Healing": "dagster_agentic.goals.spec",
    "HealingOutcome": "dagster_agentic.healing.loop",
    "GuardrailError": "dagster_agentic.errors",
    "Kernel": "dagster_agentic.kernel.protocol",
    "LLMKernel": "dagster_agentic.kernel.llm.kernel",
    "ModelKernelResource": "dagster_agentic.orchestration.kernel_resource",
    "ModelKernelSpec": "dagster_agentic.goals.kernel_spec",
    "Objective": "dagster_agentic.goals.objective",
    "ObjectiveError": "dagster_agentic.errors",
    "Plan": "dagster_agentic.plan.models",
    "PlanStore": "dagster_agentic.plan.store",
    "PlanStoreError": "dagster_agentic.errors",
    "PolicyKernel": "dagster_agentic.kernel.policy.kernel",
    "Predictions": "dagster_agentic.goals.spec",
    "RunSummary": "dagster_agentic.runner",
    "Telemetry": "dagster_agentic.goals.spec",
    "Trace": "dagster_agentic.observability.trace",
    "TraceRecord": "dagster_agentic.observability.trace",
    "Warehouse": "dagster_agentic.warehouse.connection",
    "WarehouseResource": "dagster_agentic.orchestration.resources",
    "WarehouseError": "dagster_agentic.errors",
    "build_definitions": "dagster_agentic.orchestration.definitions",
    "ensure_plan": "dagster_agentic.agent.planner",
    "goal_definitions": "dagster_agentic.orchestration.definitions",
    "heal": "dagster_agentic.healing.loop",
    "read_health": "dagster_agentic.healing.health",
    "load_goal_file": "dagster_agentic.goals.loading",
    "plan_goal": "dagster_agentic.agent.planner",
    "predict_goal": "dagster_agentic.agent.predict",
    "profile_warehouse": "dagster_agentic.warehouse.profile",
    "run_goal": "dagster_agentic.runner",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dagster_agentic' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


if TYPE_CHECKING:
    from dagster_agentic.agent.planner import ensure_plan, plan_goal
    from dagster_agentic.agent.predict import predict_goal
    from dagster_agentic.errors import (
        AgenticError,
        DataError,
        DbtError,
        GoalError,
        GuardrailError,
        ObjectiveError,
        PlanStoreError,
        WarehouseError,
    )
    from dagster_agentic.goals.loading import load_goal_file
    from dagster_agentic.goals.objective import Objective
    from dagster_agentic.goals.spec import (
        Budget,
        Goal,
        GoalOverrides,
        Healing,
        Predictions,
        Telemetry,
    )
    from dagster_agentic.healing.health import read_health
    from dagster_agentic.healing.loop import HealingOutcome, heal
    from dagster_agentic.kernel.policy.kernel import PolicyKernel
    from dagster_agentic.kernel.protocol import Kernel
    from dagster_agentic.observability.trace import Trace, TraceRecord
    from dagster_agentic.orchestration.component import GoalComponent
    from dagster_agentic.orchestration.definitions import build_definitions, goal_definitions
    from dagster_agentic.orchestration.resources import ArtifactStore, WarehouseResource
    from dagster_agentic.plan.models import Plan
    from dagster_agentic.plan.store import PlanStore
    from dagster_agentic.runner import RunSummary, run_goal
    from dagster_agentic.warehouse.connection import Warehouse
    from dagster_agentic.warehouse.profile import profile_warehouse
