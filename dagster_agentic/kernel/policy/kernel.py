"""The offline, deterministic policy kernel: statistics and rules, no model calls."""

from __future__ import annotations

from typing import Any

from dagster_agentic.goals.objective import Objective
from dagster_agentic.kernel.policy.expectations import group_expectations, training_set_spec
from dagster_agentic.kernel.policy.features import propose_feature_groups
from dagster_agentic.kernel.policy.objective import interpret_objective
from dagster_agentic.kernel.policy.selection import select_features
from dagster_agentic.kernel.protocol import (
    DiagnoseRequest,
    Diagnoses,
    FeatureSelection,
    InterpretGoalRequest,
    PlanProposal,
    ProposePlanRequest,
    RepairProposal,
    RepairRequest,
    SelectFeaturesRequest,
)
from dagster_agentic.training.spec import ModelSpec, TrainingSpec
from dagster_agentic.warehouse.models import WarehouseProfile

# Rows above which the MLP is left out: boosted trees are the stronger tabular learner and the
# MLP's epochs would spend the training budget for little.
MLP_MAX_ROWS = 500_000


class PolicyKernel:
    """The default kernel. Same request, same decision."""

    name = "policy"
    version = "9"
    """Bumped when the policy's decisions change, so accepted plans are planned again."""

    def interpret_goal(self, request: InterpretGoalRequest) -> Objective:
        return interpret_objective(request.goal.objective, request.profile, request.goal.overrides)

    @staticmethod
    def ground_reading(profile: WarehouseProfile, **fields: Any) -> Objective:
        """An objective from a reading decided elsewhere, field by field, checked against the
        warehouse as overrides are (``policy.grounding.ground_reading``): how a model kernel's
        reading becomes an objective."""
        from dagster_agentic.kernel.policy.grounding import ground_reading

        return ground_reading(profile, **fields)

    def propose_plan(self, request: ProposePlanRequest) -> PlanProposal:
        objective, profile = request.objective, request.profile
        groups = tuple(
            group.model_copy(update={"expectations": group_expectations(group, objective, profile)})
            for group in propose_feature_groups(objective, profile, request.semantics)
        )
        label_table = profile.table(objective.label_table)
        rows = label_table.row_count if label_table else 0
        return PlanProposal(
            feature_groups=groups,
            training_set=training_set_spec(objective, profile),
            training=self._training(request, rows),
            rationale=(
                f"{len(groups)} feature groups, "
                f"{sum(len(g.features) for g in groups)} candidate features, as SQL run in the"
                " warehouse",
                f"model candidates chosen for {rows:,} labelled rows",
            ),
        )

    def select_features(self, request: SelectFeaturesRequest) -> FeatureSelection:
        return select_features(request.screening, request.valueless)

    def diagnose(self, request: DiagnoseRequest) -> Diagnoses:
        from dagster_agentic.healing.diagnosis import diagnose

        found = diagnose(request.evidence)
        if request.evidence.training:
            from dagster_agentic.kernel.policy.training_repair import diagnose_divergence

            found = (*found, diagnose_divergence(request.evidence.training))
        return Diagnoses(diagnoses=found)

    def propose_repair(self, request: RepairRequest) -> RepairProposal:
        from dagster_agentic.kernel.policy.remedies import propose_repair

        return propose_repair(request)

    def _training(self, request: ProposePlanRequest, rows: int) -> TrainingSpec:
        budget = request.goal.budget
        objective = request.objective
        boosting = lightgbm_params(rows)
        mlp: dict[str, float | int | str | bool] = {"hidden_units": 64, "max_epochs": 80}
        candidates = [
            ModelSpec(family="lightgbm", params=boosting),
            ModelSpec(family="torch_mlp", params=mlp),
            ModelSpec(family="logistic"),
        ]
        if rows > MLP_MAX_ROWS:
            candidates = [c for c in candidates if c.family != "torch_mlp"]
        candidates = candidates[: budget.max_trials]
        # Small data: the mean of every family, first so that it is kept on a tie (a few dozen
        # validation rows often score several families alike), when the trial budget allows
        # each member twice (alone and in the mean).
        fits_twice = budget.max_trials >= 2 * len(candidates)
        if rows < ENSEMBLE_MAX_ROWS and len(candidates) > 1 and fits_twice:
            members: dict[str, dict[str, float | int | str | bool]] = {
                c.family: c.params for c in candidates
            }
            candidates.insert(0, ModelSpec(family="ensemble", params=ensemble_params(members)))
        seconds = budget.max_train_seconds / len(candidates)
        n_classes = len(objective.classes) if objective.task == "multiclass_classification" else 2
        return TrainingSpec(
            candidates=tuple(c.model_copy(update={"max_seconds": seconds}) for c in candidates),
            selection_metric="average_precision"
            if objective.metric in ("precision", "recall", "f1")
            else "roc_auc",
            task=objective.task,
            n_classes=n_classes,
        )


ENSEMBLE_MAX_ROWS = 1_000
"""Below this many labelled rows the mean of the families is a candidate too: the validation
split then holds a few dozen rows, too few to tell families apart, and on the corpus' small
sets their mean was as good as the best of them or better (training.ensemble). Candidates
are compared there by cross-validation (``training.fit.SELECTION_CV_MAX_ROWS``). Above it the
split tells families apart, and explaining an ensemble (SHAP over every member) costs several
times a single model's."""


def ensemble_params(
    members: dict[str, dict[str, float | int | str | bool]],
) -> dict[str, float | int | str | bool]:
    """The ensemble candidate's flat parameters: its members and each member's own."""
    params: dict[str, float | int | str | bool] = {"members": ",".join(members)}
    for family, own in members.items():
        params.update({f"{family}__{name}": value for name, value in own.items()})
    return params


SMALL_ROWS = 5_000
"""Below this many labelled rows boosted trees get smaller leaves and a slower rate."""


def lightgbm_params(rows: int) -> dict[str, float | int | str | bool]:
    """Boosting parameters scaled to the data: on a few thousand rows, 31 leaves of at least
    20 rows each cut the train split into cells too coarse to be stable, so the trees are
    smaller, need fewer rows per leaf and learn more slowly (early stopping still decides
    the rounds)."""
    if rows >= SMALL_ROWS:
        return {"n_estimators": 800, "learning_rate": 0.04, "num_leaves": 31}
    return {
        "n_estimators": 1500,
        "learning_rate": 0.02,
        "num_leaves": 15,
        "min_child_samples": max(5, min(20, rows // 200)),
        "colsample_bytree": 0.8,
    }
