"""Checks a plan passes before it is kept: its SQL under the guardrails and a dry run, and
the size of the training matrix it would fetch."""

from __future__ import annotations

from dagster_agentic.errors import GuardrailError
from dagster_agentic.features.adapters import plan_ref
from dagster_agentic.features.sql import (
    feature_group_sql,
    model_name,
    training_set_sql,
    warehouse_ref,
)
from dagster_agentic.guardrails.cost import check_cost
from dagster_agentic.guardrails.sql_policy import check_select
from dagster_agentic.plan.models import Plan
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import WarehouseProfile


def expected_matrix_rows(plan: Plan, profile: WarehouseProfile) -> int:
    """Rows the training matrix will have: every labelled row, the training ones capped at
    ``max_train_rows`` (a lower bound before dbt runs: rows with a NULL label are dropped)."""
    table = profile.table(plan.objective.label_table)
    labelled = table.row_count if table is not None else 0
    spec = plan.training_set
    train = round(labelled * spec.train_fraction)
    return labelled - train + min(train, spec.max_train_rows)


def check_plan_sql(plan: Plan, warehouse: Warehouse) -> None:
    """Guardrails on every statement, then a dry run (EXPLAIN) of each feature query.

    The dry run binds every table and column in the warehouse itself, read-only, so a
    kernel that names a column that does not exist is refused before anything is written.
    """
    ref = plan_ref(plan, warehouse_ref(plan.warehouse_schema, plan.models_schema))
    raw = {f"{plan.warehouse_schema}.{t.name}".lower() for t in plan.raw_tables}
    models = {
        f"{plan.models_schema}.{model_name(plan.goal, g.name)}".lower() for g in plan.feature_groups
    }
    with warehouse.connect(read_only=True) as conn:
        for group in plan.feature_groups:
            sql = feature_group_sql(plan.objective, group, ref)
            check_select(sql, allowed_tables=raw, label=f"feature group {group.name!r}")
            try:
                check_cost(conn, sql, warehouse.limits, label=f"feature group {group.name!r}")
            except GuardrailError:
                raise
            except Exception as error:  # duckdb raises several error types for binding
                raise GuardrailError(
                    f"feature group {group.name!r} does not run in the warehouse: {error}",
                    fix="refer only to tables and columns that exist, with matching types",
                ) from error
    check_select(training_set_sql(plan, ref), allowed_tables=raw | models, label="training set")
