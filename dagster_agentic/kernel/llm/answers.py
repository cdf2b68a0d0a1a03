"""What the model is shown for the plan, feature, diagnosis and repair decisions, the answers
it gives, and the checks that bound what an answer may change (see :mod:`.kernel`)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dagster_agentic.healing.diagnosis import Diagnosis
from dagster_agentic.kernel.llm.feature_ideas import FeatureIdea, compile_ideas
from dagster_agentic.kernel.llm.views import table_view
from dagster_agentic.kernel.protocol import (
    Diagnoses,
    FeatureDecision,
    FeatureSelection,
    PlanProposal,
    ProposePlanRequest,
    RepairProposal,
    RepairRequest,
    SelectFeaturesRequest,
    diagnosis_key,
)
from dagster_agentic.training.spec import Family
from dagster_agentic.warehouse.models import WarehouseProfile

SAFETY_RULES = frozenset({"leakage", "memory"})
"""Feature rules a model may never overrule: a near-copy of the label, a feature SHAP found
without value in an earlier version."""


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FeatureChoice(_Answer):
    column: str
    keep: bool
    reason: str = ""


class FeatureAnswer(_Answer):
    decisions: list[FeatureChoice]
    rationale: list[str] = Field(default_factory=list)


class PlanAnswer(_Answer):
    keep_groups: list[str] = Field(description="Names of the feature groups to build.")
    families: list[Family] = Field(description="Model families to try, in order.")
    new_features: list[FeatureIdea] = Field(
        default_factory=list,
        description="Feature hypotheses beyond the plan's, from the schema's meaning.",
    )
    rationale: list[str] = Field(default_factory=list)


class DiagnosisAnswer(_Answer):
    diagnoses: list[Diagnosis]


def screening_data(request: SelectFeaturesRequest, policy: FeatureSelection) -> dict[str, Any]:
    by_column = {d.column: d for d in policy.decisions}
    report = request.screening
    return {
        "goal": {
            "objective": request.goal.objective,
            "task": request.objective.task,
            "metric": request.objective.metric,
            "target": f"{request.objective.label_table}.{request.objective.target_column}",
        },
        "training_rows": report.rows,
        "false_discovery_rate": report.false_discovery_rate,
        "candidates": [
            {
                "column": s.column,
                "source": s.group,
                "kind": s.kind,
                "mutual_information_bits": round(s.best.mutual_information, 5),
                "p_value": float(f"{s.p_value:.3g}"),
                "q_value": float(f"{s.q_value:.3g}"),
                "policy_keep": by_column[s.column].keep,
                "policy_rule": by_column[s.column].rule,
            }
            for s in report.scores
        ],
    }


def accept_selection(answer: FeatureAnswer, policy: FeatureSelection, by: str) -> FeatureSelection:
    decided = {d.column: d for d in policy.decisions}
    chosen: dict[str, FeatureChoice] = {}
    for choice in answer.decisions:
        if choice.column not in decided:
            raise ValueError(f"{choice.column!r} is not a candidate feature")
        if choice.column in chosen:
            raise ValueError(f"{choice.column!r} is decided twice")
        chosen[choice.column] = choice
    missing = [c for c in decided if c not in chosen]
    if missing:
        raise ValueError(f"no decision for {', '.join(missing[:10])}: decide every candidate")
    for column, choice in chosen.items():
        rule = decided[column].rule
        if choice.keep and rule in SAFETY_RULES:
            raise ValueError(
                f"{column!r} was dropped by the {rule} rule ({decided[column].reason}), which no"
                " answer overrules"
            )
    if not any(c.keep for c in chosen.values()):
        raise ValueError("the answer keeps no feature: keep at least one")
    decisions = []
    for column, old in decided.items():
        new = chosen[column]
        if new.keep == old.keep:
            decisions.append(old)
        else:
            verb = "kept" if new.keep else "dropped"
            decisions.append(
                FeatureDecision(
                    column=column,
                    keep=new.keep,
                    rule=f"model_{verb}",
                    reason=f"{verb} by {by}: {one_line(new.reason)} (policy: {old.reason})",
                )
            )
    changed = sum(1 for d in decisions if d.rule.startswith("model_"))
    return FeatureSelection(
        decisions=tuple(decisions),
        rationale=(
            *policy.rationale,
            f"{by} changed {changed} of the policy's {len(decisions)} feature decisions",
            *(one_line(r) for r in answer.rationale[:5]),
        ),
    )


def plan_data(
    request: ProposePlanRequest, proposal: PlanProposal, sample_values: bool
) -> dict[str, Any]:
    profile = request.profile
    return {
        "goal": {
            "objective": request.goal.objective,
            "task": request.objective.task,
            "target": f"{request.objective.label_table}.{request.objective.target_column}",
        },
        "feature_groups": [
            {
                "name": g.name,
                "kind": g.kind,
                "source_table": g.source_table,
                "time_column": g.time_column,
                "features": [f.name for f in g.features[:40]],
                "feature_count": len(g.features),
            }
            for g in proposal.feature_groups
        ],
        "source_tables": [
            table_view(table, sample_values)
            for table in profile.tables
            if any(
                g.source_table == table.name and g.kind == "child_aggregates"
                for g in proposal.feature_groups
            )
        ],
        "model_families": [c.family for c in proposal.training.candidates],
        "policy_rationale": list(proposal.rationale),
    }


def accept_plan(
    answer: PlanAnswer, proposal: PlanProposal, profile: WarehouseProfile, by: str
) -> PlanProposal:
    names = [g.name for g in proposal.feature_groups]
    unknown = [g for g in answer.keep_groups if g not in names]
    if unknown:
        raise ValueError(f"no feature group is called {', '.join(map(repr, unknown))}")
    if not answer.keep_groups:
        raise ValueError("keep at least one feature group")
    families = [c.family for c in proposal.training.candidates]
    foreign = [f for f in answer.families if f not in families]
    if foreign or not answer.families:
        raise ValueError(
            f"choose model families from {', '.join(families)}"
            + (f" (not {', '.join(foreign)})" if foreign else "")
        )
    ideas = compile_ideas(answer.new_features, proposal.feature_groups, profile)
    groups = tuple(
        g.model_copy(update={"features": (*g.features, *ideas.get(g.name, ()))})
        for g in proposal.feature_groups
        if g.name in answer.keep_groups
    )
    lost = [i.name for i in answer.new_features if i.group not in answer.keep_groups]
    if lost:
        raise ValueError(f"feature ideas {', '.join(lost)} are in groups the answer leaves out")
    order = {family: i for i, family in enumerate(dict.fromkeys(answer.families))}
    candidates = sorted(
        (c for c in proposal.training.candidates if c.family in order),
        key=lambda c: order[c.family],
    )
    return proposal.model_copy(
        update={
            "feature_groups": groups,
            "training": proposal.training.model_copy(update={"candidates": tuple(candidates)}),
            "rationale": (
                *proposal.rationale,
                f"{by} kept {len(groups)} of {len(names)} feature groups, proposed"
                f" {len(answer.new_features)} features of its own and chose {', '.join(order)}",
                *(
                    f"{by}: {i.group}__{i.name}: {one_line(i.hypothesis)}"
                    for i in answer.new_features
                ),
                *(one_line(r) for r in answer.rationale[:5]),
            ),
        }
    )


def accept_diagnoses(
    answer: DiagnosisAnswer, policy: Diagnoses, evidence: dict[str, Any], by: str
) -> Diagnoses:
    """The model's diagnoses on what the evidence names; measured details stay the policy's."""
    text = json.dumps(evidence, default=str).lower()
    measured = {diagnosis_key(d): d for d in policy.diagnoses}
    kept: list[Diagnosis] = []
    for diagnosis in answer.diagnoses:
        for name in filter(None, (diagnosis.table, diagnosis.column)):
            if f'"{name.lower()}' not in text and f".{name.lower()}" not in text:
                raise ValueError(f"the evidence names no {name!r}: diagnose what it shows")
        if not 0.0 <= diagnosis.confidence <= 1.0:
            raise ValueError(f"confidence {diagnosis.confidence} is not in [0, 1]")
        known = measured.get(diagnosis_key(diagnosis))
        kept.append(
            diagnosis.model_copy(
                update={
                    "details": known.details if known else {},
                    "explanation": f"{one_line(diagnosis.explanation)} ({by})",
                    "remedy": one_line(diagnosis.remedy),
                }
            )
        )
    return Diagnoses(diagnoses=tuple(kept))


def repair_data(request: RepairRequest, proposal: RepairProposal) -> dict[str, Any]:
    plan = request.plan
    return {
        "goal": {"objective": request.goal.objective},
        "raw_tables": {t.name: [c.name for c in t.columns] for t in plan.raw_tables},
        "features": sorted(g.column_name(f) for g in plan.feature_groups for f in g.features),
        "sources": [s.model_dump(mode="json") for s in plan.sources],
        "training": plan.training.model_dump(mode="json"),
        "diagnoses": [d.model_dump(mode="json") for d in request.diagnoses],
        "measurements": request.measurements,
        "refused_fingerprints": list(request.refused),
        "policy_proposal": proposal.model_dump(mode="json"),
    }


def accept_repair(answer: RepairProposal, request: RepairRequest, by: str) -> RepairProposal:
    plan = request.plan
    if answer.fingerprint() in request.refused:
        raise ValueError("this repair was tried on the live version and refused by the gate")
    features = {g.column_name(f) for g in plan.feature_groups for f in g.features}
    unknown = [f for f in answer.drop_features if f not in features]
    if unknown:
        raise ValueError(f"the plan has no feature {', '.join(map(repr, unknown[:5]))}")
    tables = {t.name for t in plan.raw_tables}
    foreign = [s.table for s in answer.sources if s.table not in tables]
    if foreign:
        raise ValueError(f"the plan reads no raw table {', '.join(map(repr, foreign))}")
    if answer.action == "stabilise" and answer.training is None:
        raise ValueError("a 'stabilise' repair gives the new training settings")
    return answer.model_copy(
        update={"rationale": (f"proposed by {by}", *(one_line(r) for r in answer.rationale[:8]))}
    )


def one_line(text: str) -> str:
    """A model's free text as one printable line of at most 300 characters."""
    line = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return line[:300]
