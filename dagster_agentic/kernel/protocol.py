"""The reasoning kernel: typed requests in, typed decisions out.

Two implementations share this protocol: the offline policy kernel (the default) and kernels
backed by a language model. Every decision is validated against the same pydantic models and
passes through ``TracedKernel``, which writes it to the trace before anything acts on it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from dagster_agentic.features.screening import ScreeningReport
from dagster_agentic.goals.objective import Objective
from dagster_agentic.goals.spec import Goal
from dagster_agentic.healing.diagnosis import Diagnosis
from dagster_agentic.healing.evidence import Evidence
from dagster_agentic.plan.models import FeatureGroup, Plan, SourceAdapter, TrainingSetSpec
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


class DiagnoseRequest(_Message):
    """What went wrong, as evidence: failed expectations, schema and profile diffs, samples,
    and (for a failed training run) the training curves."""

    goal: Goal
    evidence: Evidence


class Diagnoses(_Message):
    diagnoses: tuple[Diagnosis, ...]


class RepairRequest(_Message):
    """The live plan, what is wrong with it, and what the warehouse measured for a remedy."""

    goal: Goal
    plan: Plan
    diagnoses: tuple[Diagnosis, ...]
    measurements: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Per diagnosis key (see ``diagnosis_key``): facts measured in the warehouse,"
        " e.g. the window of a null burst or the moment a clock shifted.",
    )
    refused: tuple[str, ...] = Field(
        default=(),
        description="Fingerprints of repairs already tried on this live version and refused by"
        " the gate: never proposed again.",
    )


RepairAction = Literal["adapt", "replan", "stabilise", "refuse"]


class RepairProposal(_Message):
    """A remedy, to be written as a new plan version and gated, or a reasoned refusal.

    * ``adapt``: the live plan with ``sources`` (how each raw table is read) replaced and the
      features in ``drop_features`` (and their expectations) left out.
    * ``replan``: plan again from the current warehouse (re-screen features, retrain).
    * ``stabilise``: the live plan with ``training`` replaced (a diverged training run).
    * ``refuse``: no safe remedy; the live version stays and the goal is degraded.
    """

    action: RepairAction
    sources: tuple[SourceAdapter, ...] = ()
    drop_features: tuple[str, ...] = Field(
        default=(), description="Feature columns to leave out (their source column is gone)."
    )
    drop_expectations: tuple[str, ...] = Field(
        default=(), description="'table.column' whose expectations no longer apply."
    )
    training: TrainingSpec | None = None
    rationale: tuple[str, ...] = ()

    def fingerprint(self) -> str:
        payload = self.model_dump(mode="json", exclude={"rationale"})
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def diagnosis_key(diagnosis: Diagnosis) -> str:
    target = f"{diagnosis.table}.{diagnosis.column}" if diagnosis.column else diagnosis.table
    return f"{diagnosis.cause}:{target}"


@runtime_checkable
class Kernel(Protocol):
    """What a reasoning kernel decides. Implementations must be deterministic given a seed."""

    name: str

    def interpret_goal(self, request: InterpretGoalRequest) -> Objective: ...

    def propose_plan(self, request: ProposePlanRequest) -> PlanProposal: ...

    def select_features(self, request: SelectFeaturesRequest) -> FeatureSelection: ...

    def diagnose(self, request: DiagnoseRequest) -> Diagnoses: ...

    def propose_repair(self, request: RepairRequest) -> RepairProposal: ...
