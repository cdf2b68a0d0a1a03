"""What leaves the warehouse for training: compact codes, decoded exactly, within the budget."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from dagster_agentic import Goal
from dagster_agentic.agent.steps import load_training_set
from dagster_agentic.errors import GuardrailError
from dagster_agentic.features.dbt_project import training_set_model
from dagster_agentic.plan.models import FeatureGroup, FeatureSpec, Plan
from dagster_agentic.runner import RunSummary
from dagster_agentic.warehouse.connection import EgressLedger, Warehouse


def _in_warehouse(goal: Goal, plan: Plan) -> dict[str, object]:
    relation = f"{plan.models_schema}.{training_set_model(plan.goal)}"
    with duckdb.connect(str(goal.warehouse), read_only=True) as conn:
        return dict(conn.execute(f"SELECT split, count(*) FROM {relation} GROUP BY 1").fetchall())


def _with_country(goal: Goal, plan: Plan, directory: Path) -> tuple[Goal, Plan]:
    """A copy of the built warehouse whose training set also holds a categorical feature."""
    copy = directory / "warehouse.duckdb"
    shutil.copy(goal.warehouse, copy)
    relation = f"{plan.models_schema}.{training_set_model(plan.goal)}"
    with duckdb.connect(str(copy)) as conn:
        conn.execute(f"ALTER TABLE {relation} ADD COLUMN customers__country VARCHAR")
        conn.execute(
            f"UPDATE {relation} AS t SET customers__country = c.country FROM main.customers AS c"
            " WHERE c.customer_id = t.entity_id AND t.entity_id % 7 <> 0"
        )
    country = FeatureGroup(
        name="customers",
        kind="entity_attributes",
        source_table="customers",
        join_column="customer_id",
        features=(
            FeatureSpec(name="country", expression="t.country", hypothesis="h", kind="categorical"),
        ),
    )
    plan = plan.model_copy(update={"feature_groups": (country, *plan.feature_groups)})
    return goal.model_copy(update={"warehouse": copy}), plan


def test_the_matrix_decodes_to_exactly_what_the_warehouse_holds(
    goal_run: RunSummary, session_goal: Goal, sample_plan: Plan, tmp_path: Path
) -> None:
    goal, plan = _with_country(session_goal, sample_plan, tmp_path)
    assert plan.categorical_columns[0] == "customers__country"
    ledger = EgressLedger()
    frame = load_training_set(plan, Warehouse(goal.warehouse), ledger)
    relation = f"{plan.models_schema}.{training_set_model(plan.goal)}"
    with duckdb.connect(str(goal.warehouse), read_only=True) as conn:
        truth = conn.execute(f"SELECT * FROM {relation} ORDER BY entity_id, cutoff_at").df()
    assert list(frame["entity_id"]) == list(truth["entity_id"])
    assert list(frame["split"]) == list(truth["split"])
    assert list(frame["label"]) == list(truth["label"])
    expected = truth["customers__country"].astype(object).where(truth["customers__country"].notna())
    got = frame["customers__country"].astype(object).where(frame["customers__country"].notna())
    assert got.isna().sum() > 0 and list(got.fillna("-")) == list(expected.fillna("-"))
    for column in set(plan.feature_columns) - set(plan.categorical_columns):
        assert (frame[column].isna() == truth[column].isna()).all(), column
    # Codes, not strings, crossed the boundary: at most 4 bytes per feature cell, 8 per id.
    cells = len(frame) * (len(plan.feature_columns) + 3)
    assert ledger.bytes_by_purpose()["training matrix"] <= cells * 4 + len(frame) * 8
    assert ledger.bytes_by_purpose()["category dictionary"] < 5_000


def test_large_training_splits_are_sampled_stably_and_the_rest_fetched_whole(
    goal_run: RunSummary, session_goal: Goal, sample_plan: Plan
) -> None:
    counts = _in_warehouse(session_goal, sample_plan)
    cap = 1_000
    assert counts["train"] > cap
    plan = sample_plan.model_copy(
        update={"training_set": sample_plan.training_set.model_copy(update={"max_train_rows": cap})}
    )
    warehouse = Warehouse(session_goal.warehouse)
    first = load_training_set(plan, warehouse, EgressLedger())
    second = load_training_set(plan, warehouse, EgressLedger())
    assert list(first["entity_id"]) == list(second["entity_id"])
    sizes = first["split"].value_counts().to_dict()
    assert sizes["valid"] == counts["valid"] and sizes["test"] == counts["test"]
    assert abs(sizes["train"] - cap) < 0.15 * cap


def test_a_matrix_over_the_egress_budget_is_refused_before_anything_moves(
    goal_run: RunSummary, session_goal: Goal, sample_plan: Plan
) -> None:
    plan = sample_plan.model_copy(
        update={"budget": sample_plan.budget.model_copy(update={"max_egress_bytes": 1000})}
    )
    ledger = EgressLedger()
    with pytest.raises(GuardrailError, match="over the budget") as error:
        load_training_set(plan, Warehouse(session_goal.warehouse), ledger)
    assert "max_egress_bytes" in error.value.fix
    assert ledger.total_bytes == 0
