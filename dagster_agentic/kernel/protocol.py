"""The reasoning kernel: typed requests in, typed decisions out.

Two implementations share this protocol: the offline policy kernel (the default) and kernels
backed by a language model. Every decision is validated against the same pydantic models and
passes through ``TracedKernel``, which writes it to the trace before anything acts on it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from dagster_agentic.goals.objective import Objective
from dagster_agentic.goals.spec import Goal
from dagster_agentic.plan.models import FeatureGroup, TrainingSetSpec
from dagster_agentic.training.spec import TrainingSpec
from dagster_agentic.warehouse.models import WarehouseProfile


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InterpretGoalRequest(_Message):
    goal: Goal
    profile: WarehouseProfile


class ProposePlanRequest(_Message):
    goal: Goal
    objective: Objective
    profile: WarehouseProfile


class PlanProposal(_Message):
    """The kernel's plan: features, data expectations and how to train."""

    feature_groups: tuple[FeatureGroup, ...]
    training_set: TrainingSetSpec
    training: TrainingSpec
    rationale: tuple[str, ...] = ()


@runtime_checkable
class Kernel(Protocol):
    """What a reasoning kernel decides. Implementations must be deterministic given a seed."""

    name: str

    def interpret_goal(self, request: InterpretGoalRequest) -> Objective: ...

    def propose_plan(self, request: ProposePlanRequest) -> PlanProposal: ...
