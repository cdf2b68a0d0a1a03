"""The policy's remedies: one proposal from several diagnoses, refusals that win, and memory
of repairs the gate refused."""

from __future__ import annotations

from pathlib import Path

from dagster_agentic.goals.spec import Goal
from dagster_agentic.healing.diagnosis import Diagnosis
from dagster_agentic.kernel.policy.remedies import features_reading, propose_repair
from dagster_agentic.kernel.protocol import RepairRequest
from dagster_agentic.plan.models import Plan
from dagster_agentic.training.spec import ModelSpec, TrainingSpec

from .conftest import make_goal


def _d(cause: str, table: str, column: str | None = None, **details: object) -> Diagnosis:
    return Diagnosis(
        cause=cause,  # type: ignore[arg-type]
        table=table,
        column=column,
        confidence=float(details.pop("confidence", 0.9)),  # type: ignore[arg-type]
        explanation="because",
        remedy="fix it",
        details=details,
    )


def _request(plan: Plan, *diagnoses: Diagnosis, **fields: object) -> RepairRequest:
    goal: Goal = make_goal(Path("/nowhere/warehouse.duckdb"))
    return RepairRequest(goal=goal, plan=plan, diagnoses=diagnoses, **fields)  # type: ignore[arg-type]


def test_adaptations_of_one_table_merge_into_its_adapter(sample_plan: Plan) -> None:
    proposal = propose_repair(
        _request(
            sample_plan,
            _d("renamed_column", "payments", "amount", **{"from": "amount", "to": "amount_eur"}),
            _d("relabelled_categories", "payments", "status", mapping={"paid": "succeeded"}),
            _d("duplicated_rows", "payments", "payment_id"),
            measurements={"duplicated_rows:payments.payment_id": {"columns": ["payment_id", "x"]}},
        )
    )
    assert proposal.action == "adapt"
    (adapter,) = proposal.sources
    assert adapter.table == "payments" and adapter.dedupe_on == "payment_id"
    assert [(c.kind, c.column) for c in adapter.columns] == [
        ("rename", "amount"),
        ("relabel", "status"),
    ]
    assert len(adapter.reasons) == 3 and len(proposal.rationale) == 3


def test_a_refusal_wins_over_every_remedy(sample_plan: Plan) -> None:
    proposal = propose_repair(
        _request(
            sample_plan,
            _d("renamed_column", "payments", "amount", **{"from": "amount", "to": "amount_eur"}),
            _d("partial_load", "events"),
        )
    )
    assert proposal.action == "refuse" and not proposal.sources
    assert "partial load" in proposal.rationale[0]


def test_drift_replans_and_a_guess_is_not_acted_on(sample_plan: Plan) -> None:
    assert (
        propose_repair(_request(sample_plan, _d("distribution_drift", "payments", "amount"))).action
        == "replan"
    )
    unsure = propose_repair(
        _request(
            sample_plan,
            _d(
                "renamed_column",
                "payments",
                "amount",
                confidence=0.4,
                **{"from": "amount", "to": "x"},
            ),
        )
    )
    assert unsure.action == "refuse" and "too low" in unsure.rationale[0]


def test_a_remedy_without_its_measurement_is_refused(sample_plan: Plan) -> None:
    proposal = propose_repair(_request(sample_plan, _d("null_burst", "events", "duration_seconds")))
    assert proposal.action == "refuse" and "located in time" in proposal.rationale[0]


def test_a_removed_column_drops_exactly_the_features_that_read_it(sample_plan: Plan) -> None:
    group = next(g for g in sample_plan.feature_groups if g.source_table == "events")
    column = "duration_seconds"
    expected = [group.column_name(f) for f in group.features if column in f.expression]
    assert features_reading(sample_plan, "events", column) == expected
    proposal = propose_repair(_request(sample_plan, _d("removed_column", "events", column)))
    if expected:
        assert proposal.action == "adapt" and list(proposal.drop_features) == expected
        assert proposal.drop_expectations == (f"events.{column}",)
    else:
        assert proposal.action == "replan"


def test_a_repair_the_gate_refused_is_not_proposed_again(sample_plan: Plan) -> None:
    rename = _d("renamed_column", "payments", "amount", **{"from": "amount", "to": "amount_eur"})
    first = propose_repair(_request(sample_plan, rename))
    again = propose_repair(_request(sample_plan, rename, refused=(first.fingerprint(),)))
    assert again.action == "refuse" and "refused by the gate" in again.rationale[-1]


def test_divergence_lowers_the_learning_rate(sample_plan: Plan) -> None:
    spec = TrainingSpec(candidates=(ModelSpec(family="torch_mlp", params={"lr": 0.5}),))
    plan = sample_plan.model_copy(update={"training": spec})
    proposal = propose_repair(
        _request(plan, _d("training_divergence", "training_set", family="torch_mlp"))
    )
    assert proposal.action == "stabilise" and proposal.training is not None
    params = proposal.training.candidates[0].params
    assert params["lr"] == 0.05 and params["clip_grad_norm"] == 1.0
