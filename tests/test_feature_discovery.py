"""Feature discovery on a warehouse the package has never seen: roles, relationships, depth-2
SQL features, point-in-time correctness, screening in the warehouse and selection."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from dagster_agentic import Goal
from dagster_agentic.agent.planner import Proposal, plan_goal, propose
from dagster_agentic.features.screening import inline_ref
from dagster_agentic.features.sql import feature_group_sql, training_set_sql, warehouse_ref
from dagster_agentic.kernel.policy.kernel import PolicyKernel
from dagster_agentic.kernel.policy.selection import REDUNDANT_RHO
from dagster_agentic.plan.store import PlanStore
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.profile import profile_warehouse

from .shop_warehouse import CUTOFF, OBJECTIVE, build_shop_warehouse, drop_rows_after_cutoff


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_shop_warehouse(tmp_path_factory.mktemp("shop") / "shop.duckdb")


def _goal(warehouse: Path, state: Path) -> Goal:
    return Goal(name="lapse", objective=OBJECTIVE, warehouse=warehouse, state_dir=state)


@pytest.fixture(scope="module")
def proposal(shop: Path, tmp_path_factory: pytest.TempPathFactory) -> Proposal:
    goal = _goal(shop, tmp_path_factory.mktemp("state"))
    return propose(goal, profile_warehouse(Warehouse(shop)), PolicyKernel())


def test_every_column_gets_a_semantic_role(proposal: Proposal) -> None:
    roles = {(c.table, c.column): c.role for c in proposal.semantics.columns}
    assert roles[("members", "member_key")] == "identifier"
    assert roles[("visits", "member_key")] == "foreign_key"
    assert roles[("purchases", "visit_no")] == "foreign_key"
    assert roles[("purchases", "item_code")] == "foreign_key"
    assert roles[("visits", "started")] == "event_time"
    assert roles[("purchases", "bought_at")] == "event_time"
    assert roles[("members", "joined_on")] == "timestamp"
    assert roles[("members", "region")] == "categorical"
    assert roles[("items", "brand")] == "categorical"
    assert roles[("purchases", "price")] == "numeric"
    assert roles[("outcomes", "lapsed")] == "label"
    assert roles[("outcomes", "as_of")] == "prediction_time"
    tables = {t.table: t.role for t in proposal.semantics.tables}
    assert tables == {
        "members": "entity",
        "outcomes": "label",
        "visits": "event",
        "purchases": "grandchild",
        "items": "dimension",
    }


def test_relationships_are_found_by_name_and_values_one_to_many(proposal: Proposal) -> None:
    links = {
        (r.child_table, r.child_column, r.parent_table, r.parent_column)
        for r in proposal.profile.relationships
    }
    assert ("visits", "member_key", "members", "member_key") in links
    assert ("purchases", "visit_no", "visits", "visit_no") in links
    assert ("purchases", "item_code", "items", "item_code") in links
    assert ("outcomes", "member_key", "members", "member_key") in links


def test_depth_two_paths_and_dimensions_become_sql_features(proposal: Proposal, shop: Path) -> None:
    path = next(g for g in proposal.candidates if g.kind == "path_aggregates")
    assert path.name == "purchases_via_visits" and path.via is not None
    assert (path.via.table, path.via.key_column) == ("visits", "visit_no")
    assert [lookup.table for lookup in path.lookups] == ["items"]
    sql = feature_group_sql(proposal.plan.objective, path, warehouse_ref("main", "x"))
    with duckdb.connect(str(shop), read_only=True) as conn:
        ours = conn.execute(sql).df().set_index("entity_id")
        raw = conn.execute(
            "SELECT v.member_key, p.price, p.bought_at, p.item_code, i.brand FROM purchases p"
            " JOIN visits v USING (visit_no) JOIN items i USING (item_code)"
            f" WHERE v.started < TIMESTAMP '{CUTOFF}' AND p.bought_at < TIMESTAMP '{CUTOFF}'"
        ).df()
    # The same features computed independently in pandas, as of the cutoff.
    by_member = raw.groupby("member_key")
    expected = pd.DataFrame(
        {
            "n_rows": by_member.size(),
            "sum_price": by_member["price"].sum(),
            "avg_price": by_member["price"].mean(),
            "min_price": by_member["price"].min(),
            "max_price": by_member["price"].max(),
            "std_price": by_member["price"].std(),
            "share_items_brand_acme": by_member["brand"].apply(lambda b: (b == "acme").mean()),
            "days_since_last": by_member["bought_at"]
            .max()
            .map(lambda t: (pd.Timestamp(CUTOFF) - t.normalize()).days),
        }
    )
    for feature, values in expected.items():
        column = f"{path.name}__{feature}"
        assert column in ours.columns, column
        got = ours.loc[values.index, column].astype(float)
        np.testing.assert_allclose(got, values.astype(float), rtol=1e-9, err_msg=column)
    members_without = ours.index.difference(expected.index)
    assert (ours.loc[members_without, f"{path.name}__n_rows"] == 0).all()


def test_features_are_point_in_time_where_leakage_would_change_the_answer(
    proposal: Proposal, shop: Path, tmp_path: Path
) -> None:
    # Lapsing members come back for visits after the cutoff: counting them reads the label.
    with duckdb.connect(str(shop), read_only=True) as conn:
        naive = conn.execute(
            "SELECT o.member_key, o.lapsed, count(v.visit_no) AS visits FROM outcomes o"
            " LEFT JOIN visits v USING (member_key) GROUP BY ALL"
        ).df()
    assert roc_auc_score(naive["lapsed"], naive["visits"]) > 0.85

    # Our features are identical on the warehouse as it was at the prediction time.
    as_of = tmp_path / "as_of.duckdb"
    shutil.copy(shop, as_of)
    drop_rows_after_cutoff(as_of)
    ref = warehouse_ref("main", "x")
    for group in proposal.candidates:
        sql = feature_group_sql(proposal.plan.objective, group, ref) + " ORDER BY entity_id"
        with duckdb.connect(str(shop), read_only=True) as conn:
            now = conn.execute(sql).df()
        with duckdb.connect(str(as_of), read_only=True) as conn:
            then = conn.execute(sql).df()
        pd.testing.assert_frame_equal(now, then, obj=group.name)
    visits = proposal.screening.score("visits__n_rows")
    assert visits is not None and (visits.all.auc or 0) < 0.75


def test_a_near_copy_of_the_label_is_a_leakage_suspect_and_never_a_feature(
    shop: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "shop.duckdb"
    shutil.copy(shop, copy)
    with duckdb.connect(str(copy)) as conn:
        conn.execute("ALTER TABLE members ADD COLUMN account_flag INTEGER")
        conn.execute(
            "UPDATE members SET account_flag = CASE WHEN hash(members.member_key) % 50 = 0"
            " THEN 1 - o.lapsed ELSE o.lapsed END FROM outcomes o"
            " WHERE o.member_key = members.member_key"
        )
    goal = _goal(copy, tmp_path / "state")
    proposal = propose(goal, profile_warehouse(Warehouse(copy)), PolicyKernel())
    flag = next(c for c in proposal.semantics.columns if c.column == "account_flag")
    assert flag.role == "leakage_suspect" and "near-copy of the label" in flag.evidence
    columns = {g.column_name(f) for g in proposal.candidates for f in g.features}
    assert not any("account_flag" in c for c in columns)


def test_screening_runs_on_the_train_split_and_its_scores_are_right(
    proposal: Proposal, shop: Path
) -> None:
    plan = proposal.plan
    candidates = plan.model_copy(update={"feature_groups": proposal.candidates})
    sql = training_set_sql(candidates, inline_ref(candidates, warehouse_ref("main", "x")))
    with duckdb.connect(str(shop), read_only=True) as conn:
        train = conn.execute(f"SELECT * FROM ({sql}) WHERE split = 'train'").df()
    report = proposal.screening
    assert report.rows == len(train) and report.positives == int(train["label"].sum())
    assert len(report.scores) == sum(len(g.features) for g in proposal.candidates)
    strongest = sorted(report.scores, key=lambda s: -(s.all.auc or 0))[:5]
    for score in strongest:
        values = train[score.column].astype(float).fillna(-1e12)
        exact = roc_auc_score(train["label"], values)
        assert abs(max(exact, 1 - exact) - (score.all.auc or 0)) < 0.03, score.column
    # Spend two tables away carries the planted signal.
    spend = report.score("purchases_via_visits__sum_price")
    assert spend is not None and spend.p_value < 1e-6 and (spend.all.auc or 0) > 0.7


def test_selection_drops_weak_and_redundant_features_with_reasons(proposal: Proposal) -> None:
    decisions = {d.column: d for d in proposal.selection.decisions}
    kept = {c for c, d in decisions.items() if d.keep}
    assert set(proposal.plan.feature_columns) == kept
    assert "purchases_via_visits__sum_price" in kept
    rules = {d.rule for d in decisions.values() if not d.keep}
    assert "no_signal" in rules
    partners = {(c.a, c.b): c.rho for c in proposal.screening.correlations}
    for decision in decisions.values():
        if decision.rule == "redundant":
            twin = decision.reason.split("redundant with ")[1].split(" ")[0]
            assert twin in kept
            rho = partners.get((decision.column, twin), partners.get((twin, decision.column)))
            assert rho is not None and abs(rho) >= REDUNDANT_RHO
        if decision.rule == "no_signal":
            score = proposal.screening.score(decision.column)
            assert score is not None and not score.significant


def test_features_shap_found_without_value_are_dropped_in_the_next_version(
    shop: Path, tmp_path: Path
) -> None:
    import json

    goal = _goal(shop, tmp_path / "state")
    first = plan_goal(goal)
    dropped = first.plan.feature_columns[-2:]
    store = PlanStore(goal.resolved_state_dir, goal.name)
    (store.artifacts_dir(first.version) / "importance.json").write_text(
        json.dumps({"valueless": list(dropped)})
    )
    second = plan_goal(goal, reason="refine")
    assert not set(dropped) & set(second.plan.feature_columns)
    screening = json.loads((second.path / "screening.json").read_text())
    memory = [d for d in screening["selection"]["decisions"] if d["rule"] == "memory"]
    assert {d["column"] for d in memory} == set(dropped)
    assert all(f"plan version {first.version}" in d["reason"] for d in memory)


def test_an_entity_with_nothing_to_learn_from_is_a_clear_error(tmp_path: Path) -> None:
    from dagster_agentic.errors import DataError

    path = tmp_path / "bare.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE things AS SELECT range AS thing_id FROM range(200)")
        conn.execute(
            "CREATE TABLE thing_labels AS SELECT range AS thing_id,"
            " (range % 2)::INTEGER AS broken FROM range(200)"
        )
    goal = Goal(
        name="broken",
        objective="Predict which things are broken, with a ROC AUC of at least 0.7",
        warehouse=path,
        state_dir=tmp_path / "state",
    )
    with pytest.raises(DataError, match="no candidate features for things") as error:
        plan_goal(goal)
    assert "reference the entity" in error.value.fix
    assert PlanStore(goal.resolved_state_dir, goal.name).versions() == []
