"""``plan_diff``: what one plan changes relative to another, over a real planned plan."""

from __future__ import annotations

from dagster_agentic.plan.diff import expectations_of, models_of, plan_diff
from dagster_agentic.plan.models import ColumnFix, Expectation, Plan, SourceAdapter
from dagster_agentic.training.spec import ModelSpec


def test_the_same_plan_has_no_change(sample_plan: Plan) -> None:
    diff = plan_diff(sample_plan, sample_plan)
    assert diff.empty and diff.features_added == () and diff.objective == ()


def test_features_objective_models_expectations_and_repairs_are_told_apart(
    sample_plan: Plan,
) -> None:
    first, *rest = sample_plan.feature_groups
    dropped = first.features[0]
    shrunk = first.model_copy(
        update={
            "features": first.features[1:],
            "expectations": (
                *first.expectations,
                Expectation(check="not_null", column="entity_id", severity="error"),
            ),
        }
    )
    objective = sample_plan.objective.model_copy(update={"threshold": 0.9, "metric": "recall"})
    training = sample_plan.training.model_copy(
        update={"candidates": (ModelSpec(family="logistic", params={"C": 0.5}),)}
    )
    repair = SourceAdapter(
        table="payments", columns=(ColumnFix(kind="rename", column="amount", source="amt"),)
    )
    changed = sample_plan.model_copy(
        update={
            "feature_groups": (shrunk, *rest),
            "objective": objective,
            "training": training,
            "sources": (repair,),
            "kernel": "llm:openai/gpt-4.1-mini",
        }
    )
    diff = plan_diff(sample_plan, changed)
    assert not diff.empty
    assert diff.features_removed == (first.column_name(dropped),) and diff.features_added == ()
    assert {(c.field, c.old, c.new) for c in diff.objective} == {
        ("threshold", sample_plan.objective.threshold, 0.9),
        ("metric", sample_plan.objective.metric, "recall"),
    }
    assert diff.models_added == ('logistic {"C": 0.5}',)
    assert set(diff.models_removed) == set(models_of(sample_plan))
    assert diff.expectations_added == (f"not_null({first.name}.entity_id)",)
    assert diff.expectations_removed == ()
    assert diff.sources_changed == ("payments",)
    assert [(c.field, c.new) for c in diff.other] == [("kernel", "llm:openai/gpt-4.1-mini")]
    # The other way round, additions are removals.
    back = plan_diff(changed, sample_plan)
    assert back.features_added == diff.features_removed
    assert back.expectations_removed == diff.expectations_added
    assert len(expectations_of(changed)) == len(expectations_of(sample_plan)) + 1
