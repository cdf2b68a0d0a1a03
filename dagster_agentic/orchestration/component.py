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
from typing import Annotated, Any, Self

import dagster as dg
from dagster.components import DefsStateConfig, DefsStateConfigArgs, ResolvedDefsStateConfig
from pydantic import BaseModel

from dagster_agentic.goals.kernel_spec import ModelKernelSpec
from dagster_agentic.goals.loading import OVERRIDE_FIELDS, goal_from_attributes
from dagster_agentic.goals.objective import Metric, TaskType
from dagster_agentic.goals.spec import Budget, Goal, Healing, Predictions, Telemetry
from dagster_agentic.orchestration.component_scaffold import GoalScaffolder
from dagster_agentic.orchestration.component_schema import Described, Nested, described

_RELATIVE = " A relative path is relative to the project root."


@dg.scaffold_with(GoalScaffolder)
@dataclass
class GoalComponent(dg.StateBackedComponent, dg.Resolvable):
    """An ML goal over a DuckDB warehouse; the agent plans and builds its assets."""

    name: Annotated[str, Described("name")]
    objective: Annotated[str, Described("objective")]
    warehouse: Annotated[str, dg.Resolver.default(description=described("warehouse") + _RELATIVE)]
    task: Annotated[TaskType | None, Described("task")] = None
    target: Annotated[str | None, Described("target")] = None
    entity_table: Annotated[str | None, Described("entity_table")] = None
    metric: Annotated[Metric | None, Described("metric")] = None
    threshold: Annotated[float | None, Described("threshold")] = None
    cohort: Annotated[str | None, Described("cohort")] = None
    exclude_columns: Annotated[list[str] | None, Described("exclude_columns")] = None
    # Mappings of the goal's models' fields: YAML is checked against those models' copies
    # (component_schema), the goal validates them when the component loads.
    budget: Annotated[dict[str, Any] | None, Nested(Budget, "budget")] = None
    healing: Annotated[dict[str, Any] | None, Nested(Healing, "healing")] = None
    kernel: Annotated[dict[str, Any] | str | None, Nested(ModelKernelSpec, "kernel", text=True)] = (
        None
    )
    predictions: Annotated[dict[str, Any] | None, Nested(Predictions, "predictions")] = None
    state_dir: Annotated[
        str | None, dg.Resolver.default(description=described("state_dir") + _RELATIVE)
    ] = None
    telemetry: Annotated[dict[str, Any] | None, Nested(Telemetry, "telemetry")] = None
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
            name: _plain(getattr(self, name))
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
            attributes["predictions"] = _plain(self.predictions)
        if self.kernel is not None:
            attributes["kernel"] = _plain(self.kernel)
        if self.telemetry is not None:
            attributes["telemetry"] = _plain(self.telemetry)
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
            bundle = PlanStore.of(goal).load(version)
        if bundle is None or not is_current(bundle, goal, default_kernel(goal)):
            # No state yet, or the declaration changed since it was written.
            bundle = ensure_plan(goal)
        return build_definitions(goal, bundle)


def _plain(value: Any) -> Any:
    """A nested block given as its model, as the mapping of the fields that were set."""
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_unset=True)
    return value
