"""A training run that diverges is healed like a failed check: the curves are the evidence, and
the repaired version retrains with a lower learning rate and clipped gradients."""

from __future__ import annotations

from pathlib import Path

from dagster_agentic.healing.loop import failed_data_checks
from dagster_agentic.kernel.policy.kernel import PolicyKernel
from dagster_agentic.kernel.protocol import ProposePlanRequest
from dagster_agentic.plan.store import PlanStore
from dagster_agentic.runner import run_goal
from dagster_agentic.training.spec import ModelSpec, TrainingSpec

from .conftest import loop_instance, make_goal


class RecklessKernel(PolicyKernel):
    """The policy's plan, trained by an MLP alone with a learning rate that makes it diverge."""

    def _training(self, request: ProposePlanRequest, rows: int) -> TrainingSpec:
        return TrainingSpec(
            candidates=(ModelSpec(family="torch_mlp", params={"lr": 3.0, "max_epochs": 30}),),
            selection_metric="average_precision",
        )


def test_a_diverged_training_run_is_retrained_with_a_lower_learning_rate(
    warehouse_copy: Path,
) -> None:
    goal = make_goal(warehouse_copy)
    with loop_instance() as instance:
        summary = run_goal(goal, instance=instance, kernel=RecklessKernel(), log_level="ERROR")
    outcome = summary.healing
    assert outcome is not None, summary.render()
    assert outcome.detected == ("step churn__model failed",)
    (diagnosis,) = outcome.diagnoses
    assert diagnosis.cause == "training_divergence" and diagnosis.details["lr"] == 3.0
    assert outcome.accepted, outcome.report.read_text()
    assert summary.success and not failed_data_checks(summary)
    live = PlanStore(goal.resolved_state_dir, goal.name).load_accepted()
    assert live is not None and live.version == outcome.live_before + 1
    params = live.plan.training.candidates[0].params
    assert params["lr"] < 3.0 and params["clip_grad_norm"] > 0
    assert "training_divergence" in outcome.report.read_text()
