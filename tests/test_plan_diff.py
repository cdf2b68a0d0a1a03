"""The plan diff as the goal asset shows it: Markdown of sets added and removed, fields changed."""

from __future__ import annotations

from dagster_agentic.plan.diff import plan_diff
from dagster_agentic.plan.models import Expectation, FeatureSpec, Plan


def _with_feature(plan: Plan, name: str) -> Plan:
    group = plan.feature_groups[0]
    hostile = FeatureSpec(name=name, expression="count(*)", hypothesis="![x](http://h/p.png) | y")
    grown = group.model_copy(update={"features": (*group.features, hostile)})
    return plan.model_copy(update={"feature_groups": (grown, *plan.feature_groups[1:])})


def test_the_same_plan_has_no_diff(sample_plan: Plan) -> None:
    diff = plan_diff(sample_plan, sample_plan)
    assert diff.empty and diff.markdown() == "No change to the plan."


def test_added_and_removed_features_tables_and_changed_fields_are_named(
    sample_plan: Plan,
) -> None:
    group = sample_plan.feature_groups[0]
    new = _with_feature(sample_plan, "extra_count")
    objective = new.objective.model_copy(update={"threshold": 0.9, "cohort_description": "EU"})
    training = new.training.model_copy(update={"candidates": new.training.candidates[:1]})
    new = new.model_copy(
        update={"objective": objective, "training": training, "raw_tables": new.raw_tables[:-1]}
    )
    diff = plan_diff(sample_plan, new)
    assert diff.features_added == (f"{group.name}__extra_count",)
    assert diff.features_removed == ()
    assert diff.tables_removed == (sample_plan.raw_tables[-1].name,)
    assert {c.field for c in diff.objective} == {"threshold", "cohort_description"}
    assert diff.models_added == () and len(diff.models_removed) == (
        len(sample_plan.training.candidates) - 1
    )
    text = diff.markdown()
    assert "**features added** (1):" in text and "**tables removed** (1):" in text
    assert "**threshold**: 0.95 → 0.9" in text and "**models removed**" in text
    # The reverse diff removes what this one added.
    assert plan_diff(new, sample_plan).features_removed == diff.features_added


def test_expectation_changes_are_listed(sample_plan: Plan) -> None:
    spec = sample_plan.training_set
    extra = Expectation(check="not_null", column="label", reason="a label on every row")
    new = sample_plan.model_copy(
        update={
            "training_set": spec.model_copy(update={"expectations": (*spec.expectations, extra)})
        }
    )
    diff = plan_diff(sample_plan, new)
    assert (diff.expectations_added, diff.expectations_removed) == (
        ("not_null(training_set.label)",),
        (),
    )
    assert "**expectations added** (1): not\\_null\\(training\\_set.label\\)" in diff.markdown()


def test_names_from_the_warehouse_stay_text_in_the_markdown(sample_plan: Plan) -> None:
    old = sample_plan.model_copy(update={"rationale": ()})
    objective = old.objective.model_copy(update={"cohort_description": "![x](http://h/p.png)|"})
    diff = plan_diff(old, old.model_copy(update={"objective": objective}))
    text = diff.markdown()
    assert "![x](" not in text and "\\!\\[x\\]\\(http" in text and "\\|" in text
