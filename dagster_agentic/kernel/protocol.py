"""The reasoning kernel: typed requests in, typed decisions out.

Two implementations share this protocol: the offline policy kernel (the default) and kernels
backed by a language model. Every decision is validated against the same pydantic models and
passes through ``TracedKernel``, which writes it to the trace before anything acts on it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from dagster_agentic.features.screening import ScreeningReport
from dagster_agentic.goals.objective import Objective
from dagster_agentic.goals.spec import Goal
from dagster_agentic.plan.models import FeatureGroup, TrainingSetSpec
from dagster_agentic.training.spec import TrainingSpec
from dagster_agentic.warehouse.models import WarehouseProfile
from dagster_agentic.warehouse.semantics import SchemaSemantics


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InterpretGoalRequest(_Message):
    goal: Goal
    profile: WarehouseProfile


class ProposePlanRequest(_Message):
    goal: Goal
    objective: Objective
    profile: WarehouseProfile
    semantics: SchemaSemantics


class PlanProposal(_Message):
    """The kernel's plan: features, data expectations and how to train."""

    feature_groups: tuple[FeatureGroup, ...]
    training_set: TrainingSetSpec
    training: TrainingSpec
    rationale: tuple[str, ...] = ()


class SelectFeaturesRequest(_Message):
    """The candidates as the warehouse scored them, and what earlier versions taught."""

    goal: Goal
    objective: Objective
    screening: ScreeningReport
    valueless: dict[str, int] = Field(
        default_factory=dict,
        description="Feature columns SHAP found without value, with the plan version that did.",
    )


class FeatureDecision(_Message):
    column: str
    keep: bool
    rule: str
    reason: str


class FeatureSelection(_Message):
    """One decision per candidate feature column, with the reason."""

    decisions: tuple[FeatureDecision, ...]
    rationale: tuple[str, ...] = ()

    @property
    def kept(self) -> frozenset[str]:
        return frozenset(d.column for d in self.decisions if d.keep)


@runtime_checkable
class Kernel(Protocol):
    """What a reasoning kernel decides. Implementations must be deterministic given a seed."""

    name: str

    def interpret_goal(self, request: InterpretGoalRequest) -> Objective: ...

    def propose_plan(self, request: ProposePlanRequest) -> PlanProposal: ...

    def select_features(self, request: SelectFeaturesRequest) -> FeatureSelection: ...
