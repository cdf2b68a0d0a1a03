"""``GoalComponent``: a goal declared in YAML, its asset graph built from the plan store.

A state-backed component: its state is the number of the accepted plan version. Refreshing
the state (``dg utils refresh-defs-state``, the GraphQL ``refreshComponentState`` mutation, or
``dagster dev`` start-up) plans if needed and pins the accepted version; run workers then build
exactly the graph the UI shows, from that version's bundle.

.. code-block:: yaml

    # defs/churn_goal/defs.yaml
    type: dagster_agentic.GoalComponent
    attributes:
      name: churn
      objective: Optimise the churn prediction model for 95% precision on European cohorts
      warehouse: data/warehouse.duckdb
"""

# No `from __future__ import annotations`: Dagster resolves the YAML schema from the real
# field annotations of this dataclass.
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import dagster as dg
from dagster.components import DefsStateConfig, DefsStateConfigArgs, ResolvedDefsStateConfig

from dagster_agentic.goals.loading import OVERRIDE_FIELDS, goal_from_attributes
from dagster_agentic.goals.spec import Goal


@dataclass
class GoalComponent(dg.StateBackedComponent, dg.Resolvable):
    """An ML goal over a DuckDB warehouse; the agent plans and builds its assets."""

    name: str
    objective: str
    warehouse: str
    task: str | None = None
    """binary_classification, multiclass_classification or regression (read from the words
    and the target column when unset)."""
    target: str | None = None
    entity_table: str | None = None
    metric: str | None = None
    threshold: float | None = None
    cohort: str | None = None
    exclude_columns: list[str] | None = None
    """Columns no feature may read ('table.column' or 'column'): recorded with or after the
    outcome, or not to be used."""
    budget: dict[str, Any] | None = None
    healing: dict[str, Any] | None = None
    kernel: dict[str, Any] | None = None
    """A language model that reasons for the goal: ``model`` (a litellm model string),
    ``api_base``, ``api_key_env`` (the variable holding the key), ``mode`` (hybrid or model),
    budgets ``max_calls``, ``max_tokens``, ``max_usd``; default: the offline policy kernel."""
    predictions: dict[str, Any] | None = None
    """Which entities ``<goal>/predictions`` scores: ``entities``, ``where``, ``as_of``."""
    telemetry: dict[str, Any] | None = None
    """Where the goal's runs export their spans: ``otlp_endpoint`` (OTLP/HTTP traces URL)."""
    state_dir: str | None = None
    defs_state: ResolvedDefsStateConfig = field(
        default_factory=DefsStateConfigArgs.local_filesystem
    )

    @classmethod
    def load(cls, attributes: Any, context: dg.ComponentLoadContext) -> Self:
        component = super().load(attributes, context)
        # Relative paths in defs.yaml are relative to the project, not to the process's cwd.
        # A plain attribute, not a field: fields become the YAML schema.
        component._project_root = context.project_root  # type: ignore[attr-defined]
        return component

    @property
    def defs_state_config(self) -> DefsStateConfig:
        return DefsStateConfig.from_args(self.defs_state, default_key=f"GoalComponent[{self.name}]")

    def goal(self) -> Goal:
        """The declaration as a ``Goal``; pydantic validates every field."""
        attributes = {
            name: getattr(self, name)
            for name in (
                "name",
                "objective",
                "warehouse",
                "budget",
                "healing",
                "state_dir",
                "exclude_columns",
                *OVERRIDE_FIELDS,
            )
        }
        if self.predictions is not None:
            attributes["predictions"] = self.predictions
        if self.kernel is not None:
            attributes["kernel"] = self.kernel
        if self.telemetry is not None:
            attributes["telemetry"] = self.telemetry
        return goal_from_attributes(attributes, getattr(self, "_project_root", None))

    def write_state_to_path(self, state_path: Path) -> None:
        from dagster_agentic.agent.planner import ensure_plan

        bundle = ensure_plan(self.goal())
        state_path.parent.mkdir(parents=True, exist_ok=True)
        state_path.write_text(json.dumps({"goal": self.name, "plan_version": bundle.version}))

    def build_defs_from_state(
        self, context: dg.ComponentLoadContext, state_path: Path | None
    ) -> dg.Definitions:
        from dagster_agentic.agent.planner import default_kernel, ensure_plan, is_current
        from dagster_agentic.orchestration.definitions import build_definitions
        from dagster_agentic.plan.store import PlanStore

        goal = self.goal()
        bundle = None
        if state_path is not None and state_path.exists():
            version = json.loads(state_path.read_text())["plan_version"]
            bundle = PlanStore(goal.resolved_state_dir, goal.name).load(version)
        if bundle is None or not is_current(bundle, goal, default_kernel(goal)):
            # No state yet, or the declaration changed since it was written.
            bundle = ensure_plan(goal)
        return build_definitions(goal, bundle)
