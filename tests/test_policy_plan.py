"""The policy kernel's candidate features on the example warehouse, and point-in-time SQL."""

from __future__ import annotations

from pathlib import Path

import duckdb

from dagster_agentic import Goal, Kernel, PolicyKernel
from dagster_agentic.agent.planner import Proposal, propose
from dagster_agentic.features.sql import feature_group_sql, warehouse_ref
from dagster_agentic.goals.objective import Objective
from dagster_agentic.kernel.policy.features import aggregate_group
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.profile import profile_warehouse
from dagster_agentic.warehouse.semantics import analyse_schema


def _proposal(goal: Goal) -> Proposal:
    return propose(goal, profile_warehouse(Warehouse(goal.warehouse)), PolicyKernel())


def test_the_policy_kernel_is_a_kernel_and_deterministic(session_goal: Goal) -> None:
    assert isinstance(PolicyKernel(), Kernel)
    first, second = _proposal(session_goal), _proposal(session_goal)
    assert first.plan.fingerprint() == second.plan.fingerprint()
    assert first.selection == second.selection


def test_every_related_table_becomes_a_candidate_group_with_hypotheses(session_goal: Goal) -> None:
    proposal = _proposal(session_goal)
    groups = {g.name: g for g in proposal.candidates}
    assert set(groups) == {"customers", "events", "payments", "subscriptions", "support_tickets"}
    assert groups["customers"].kind == "entity_attributes"
    assert groups["events"].time_column == "event_time"
    assert groups["payments"].time_column == "paid_at"
    for group in proposal.candidates:
        assert group.features and all(f.hypothesis for f in group.features)
    # The label table is never a feature source, and the label never a feature.
    assert "churn_labels" not in {g.source_table for g in proposal.candidates}
    columns = {g.column_name(f) for g in proposal.candidates for f in g.features}
    assert not any("churned" in column for column in columns)
    # Aggregations, windows, recency, trend, ratios, date parts and encodings are all proposed.
    names = {f.name for g in proposal.candidates for f in g.features}
    for expected in (
        "n_rows",
        "n_last_7d",
        "n_last_90d",
        "days_since_last",
        "trend_30d_vs_prior_60d",
        "recent_share_30d",
        "avg_amount",
        "min_amount",
        "std_amount",
        "n_distinct_event_type",
        "share_status_failed",
        "signup_date_month",
        "weekend_share",
    ):
        assert expected in names, expected
    # The plan keeps a screened subset of the candidates, and says so.
    assert set(proposal.plan.feature_columns) <= columns
    assert 0 < len(proposal.plan.feature_columns) < len(columns)
    assert any("screened" in line for line in proposal.plan.rationale)


def test_state_columns_of_rows_with_an_end_time_are_left_out(session_goal: Goal) -> None:
    proposal = _proposal(session_goal)
    subscriptions = next(g for g in proposal.candidates if g.name == "subscriptions")
    names = {f.name for f in subscriptions.features}
    assert not any("status" in name for name in names)
    assert "n_ended_at_before_cutoff" in names
    assert "leakage suspects" in subscriptions.rationale and "status" in subscriptions.rationale
    roles = {(c.table, c.column): c.role for c in proposal.semantics.columns}
    assert roles[("subscriptions", "ended_at")] == "leakage_suspect"
    assert roles[("subscriptions", "status")] == "leakage_suspect"
    # Payments rows carry no end time: their status is fixed when written, so it is used.
    assert roles[("payments", "status")] == "categorical"
    payments = next(g for g in proposal.candidates if g.name == "payments")
    assert "n_status_failed" in {f.name for f in payments.features}


def _objective() -> Objective:
    return Objective(
        entity_table="customers",
        entity_key="customer_id",
        label_table="labels",
        label_key="customer_id",
        target_column="churned",
        cutoff_column="cutoff_date",
        metric="precision",
        threshold=0.9,
    )


def test_features_ignore_everything_recorded_at_or_after_the_cutoff(tmp_path: Path) -> None:
    path = tmp_path / "pit.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE customers AS SELECT * FROM (VALUES (1), (2)) t(customer_id);"
            "CREATE TABLE labels AS SELECT * FROM (VALUES (1, DATE '2026-06-30', 1),"
            " (2, DATE '2026-03-31', 0)) t(customer_id, cutoff_date, churned);"
            "CREATE TABLE events AS SELECT * FROM (VALUES"
            " (1, TIMESTAMP '2026-06-01 10:00', 5.0), (1, TIMESTAMP '2026-06-29 23:59', 7.0),"
            " (1, TIMESTAMP '2026-06-30 00:00', 1000.0), (1, TIMESTAMP '2026-07-15', 1000.0),"
            " (2, TIMESTAMP '2026-03-01', 3.0), (2, TIMESTAMP '2026-05-01', 1000.0))"
            " t(customer_id, event_time, amount);"
        )
    warehouse = Warehouse(path)
    profile = profile_warehouse(warehouse)
    events = profile.table("events")
    assert events is not None
    with warehouse.connect() as conn:
        semantics = analyse_schema(conn, profile, _objective())
    group = aggregate_group(_objective(), events, "customer_id", profile, semantics)
    sql = feature_group_sql(_objective(), group, warehouse_ref("main", "agentic"))
    with duckdb.connect(str(path), read_only=True) as conn:
        frame = conn.execute(sql + " ORDER BY entity_id").df().set_index("entity_id")
    assert frame.loc[1, "events__n_rows"] == 2
    assert frame.loc[1, "events__max_amount"] == 7.0
    assert frame.loc[1, "events__days_since_last"] == 1
    assert frame.loc[1, "events__n_last_30d"] == 2
    assert frame.loc[2, "events__n_rows"] == 1  # its own, earlier cutoff
    assert frame.loc[2, "events__sum_amount"] == 3.0
    assert frame.loc[2, "events__days_since_last"] == 30
