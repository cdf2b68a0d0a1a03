"""Key recovery: a key written another way is related to its parent again, never given up.

The normalisation is measured in real DuckDB tables of several shapes (integer parents, text
parents with a prefix, zero-padded codes); the diagnosis, the remedy and the rendered SQL are the
product's own. One end-to-end case heals the shop warehouse (a shape the mechanism was not
written for) after its item codes change case.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from dagster_agentic.expectations.models import DataExpectation, ExpectationResult
from dagster_agentic.features.adapters import normalised_key
from dagster_agentic.goals.spec import Goal, Healing
from dagster_agentic.healing.diagnosis import diagnose
from dagster_agentic.healing.evidence import Evidence, SchemaDiff
from dagster_agentic.healing.keys import recover_key
from dagster_agentic.healing.loop import failed_data_checks
from dagster_agentic.kernel.policy.remedies import propose_repair
from dagster_agentic.kernel.protocol import RepairRequest, diagnosis_key
from dagster_agentic.plan.store import PlanBundle, PlanStore
from dagster_agentic.runner import run_goal

from .conftest import loop_instance
from .shop_warehouse import OBJECTIVE, build_shop_warehouse


@pytest.fixture
def conn() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute("CREATE TABLE accounts AS SELECT (1000 + i)::BIGINT AS id FROM range(300) t(i)")
    c.execute(
        "CREATE TABLE codes AS SELECT 'SKU' || lpad(i::VARCHAR, 3, '0') AS code FROM range(60) t(i)"
    )
    c.execute(
        "CREATE TABLE padded AS SELECT lpad(i::VARCHAR, 7, '0') AS ref FROM range(1, 400) t(i)"
    )
    return c


def _child(conn: duckdb.DuckDBPyConnection, sql: str) -> str:
    conn.execute(f"CREATE OR REPLACE TABLE child AS {sql}")
    return "child"


@pytest.mark.parametrize(
    ("child", "parent", "steps"),
    [
        # an integer key that became a prefixed, zero-padded string
        (
            "SELECT 'C-' || lpad(id::VARCHAR, 8, '0') AS k FROM accounts",
            ("accounts", "id"),
            ("strip_prefix", "strip_suffix"),
        ),
        # an integer key that became a zero-padded string: a cast is enough
        ("SELECT lpad(id::VARCHAR, 9, '0') AS k FROM accounts", ("accounts", "id"), ()),
        # a suffix appended to the number
        (
            "SELECT id::VARCHAR || '/eu' AS k FROM accounts",
            ("accounts", "id"),
            ("strip_prefix", "strip_suffix"),
        ),
        # a case change of text codes
        ("SELECT lower(code) AS k FROM codes", ("codes", "code"), ("upper",)),
        # blanks around the code
        ("SELECT '  ' || code || ' ' AS k FROM codes", ("codes", "code"), ("trim",)),
        # the padding was dropped: integers against zero-padded text
        ("SELECT i::BIGINT AS k FROM range(1, 400) t(i)", ("padded", "ref"), ("pad",)),
    ],
)
def test_a_key_written_another_way_is_matched_again(
    conn: duckdb.DuckDBPyConnection, child: str, parent: tuple[str, str], steps: tuple[str, ...]
) -> None:
    table = _child(conn, child)
    found = recover_key(conn, table, "k", parent[0], parent[1])
    assert found is not None
    assert found.before < 0.5 and found.after >= 0.98
    # the first, simplest normalisation that works, in the parent's own type
    expected_type = conn.execute(f"DESCRIBE SELECT {parent[1]} FROM {parent[0]}").fetchall()[0][1]
    assert found.data_type == expected_type
    assert found.steps == steps
    # what is measured is what a repaired version reads: the rendered fix joins all rows
    expression = normalised_key("c.k", found.steps, found.data_type, found.width)
    joined = conn.execute(
        f"SELECT count(*) FROM child AS c JOIN {parent[0]} AS p ON {expression} = p.{parent[1]}"
    ).fetchone()
    rows = conn.execute("SELECT count(*) FROM child").fetchone()
    assert joined is not None and rows is not None and joined[0] == rows[0]


def test_padding_grew_is_undone_by_padding_to_the_parents_width(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    _child(conn, "SELECT lpad(ref, 10, '0') AS k FROM padded")
    found = recover_key(conn, "child", "k", "padded", "ref")
    assert found is not None and found.width == 7
    assert "strip_zeros" in found.steps and found.steps[-1] == "pad"


@pytest.mark.parametrize(
    "child",
    [
        # keys replaced by hashes: no normalisation relates them
        "SELECT md5(id::VARCHAR) AS k FROM accounts",
        # keys that already match: nothing to recover
        "SELECT id AS k FROM accounts",
        # stripping the letters would merge different keys (A1001 and B1001): not one-to-one
        "SELECT p || id::VARCHAR AS k FROM accounts, (VALUES ('A'), ('B')) v(p)",
        # hostile text in the keys is data, never SQL
        "SELECT 'x''); DROP TABLE accounts; --' || id::VARCHAR || '\"' AS k FROM accounts"
        " WHERE id % 7 = 0",
    ],
)
def test_no_normalisation_is_invented(conn: duckdb.DuckDBPyConnection, child: str) -> None:
    _child(conn, child)
    before = conn.execute("SELECT count(*) FROM accounts").fetchone()
    found = recover_key(conn, "child", "k", "accounts", "id")
    if "DROP TABLE" in child:
        # 'x'); ... 1007"' -> stripping the non-digit affixes leaves the number: a real match
        assert found is None or found.steps == ("strip_prefix", "strip_suffix")
    else:
        assert found is None
    assert conn.execute("SELECT count(*) FROM accounts").fetchone() == before


def test_the_fix_refuses_a_type_name_that_is_not_one() -> None:
    with pytest.raises(ValueError, match="not a column type"):
        normalised_key('"k"', ("trim",), "BIGINT); DROP TABLE x; --")


def _inclusion_failure(inclusion: float) -> ExpectationResult:
    e = DataExpectation(
        kind="foreign_key_inclusion",
        table="orders",
        column="account_ref",
        parent="accounts.id",
        min_value=0.98,
        critical=True,
    )
    return ExpectationResult(
        expectation=e,
        passed=False,
        message=f"{inclusion:.1%} of values found",
        observed={"inclusion": inclusion},
        failing_sample=("C-00001001",),
    )


def test_nearly_all_keys_unmatched_is_a_key_format_change_a_few_are_orphans() -> None:
    (changed,) = diagnose(Evidence(failed=(_inclusion_failure(0.0),), schema_diff=SchemaDiff()))
    assert changed.cause == "key_format_change" and changed.details["parent"] == "accounts.id"
    (orphans,) = diagnose(Evidence(failed=(_inclusion_failure(0.9),), schema_diff=SchemaDiff()))
    assert orphans.cause == "orphan_keys"


def test_the_remedy_normalises_when_measured_and_replans_otherwise(
    planned: PlanBundle,
) -> None:
    (d,) = diagnose(Evidence(failed=(_inclusion_failure(0.0),), schema_diff=SchemaDiff()))
    goal = Goal(name="churn", objective="x", warehouse=Path("w.duckdb"))
    facts = {"key_steps": ["strip_prefix", "strip_suffix"], "key_type": "BIGINT", "key_width": None}
    request = RepairRequest(
        goal=goal, plan=planned.plan, diagnoses=(d,), measurements={diagnosis_key(d): facts}
    )
    proposal = propose_repair(request)
    assert proposal.action == "adapt"
    (adapter,) = [a for a in proposal.sources if a.table == "orders"]
    (fix,) = adapter.columns
    assert fix.kind == "normalise_key" and fix.column == "account_ref"
    assert fix.steps == ("strip_prefix", "strip_suffix") and fix.data_type == "BIGINT"
    # Unrecoverable keys: only a re-plan is left, and the gate weighs what it loses.
    unmeasured = propose_repair(request.model_copy(update={"measurements": {}}))
    assert unmeasured.action == "replan"
    assert "no normalisation" in " ".join(unmeasured.rationale)


def _checksums(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as c:
        rows = c.execute("SELECT * FROM purchases ORDER BY ALL").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_the_shop_heals_a_key_case_change_by_normalising_with_nothing_lost(
    tmp_path: Path,
) -> None:
    warehouse = build_shop_warehouse(tmp_path / "shop.duckdb", members=600, leak=False)
    goal = Goal(
        name="lapse",
        objective=OBJECTIVE,
        warehouse=warehouse,
        healing=Healing(metric_tolerance=0.3),
    )
    with loop_instance() as instance:
        first = run_goal(goal, instance=instance, log_level="ERROR")
        assert first.success and not failed_data_checks(first), first.render()
        with duckdb.connect(str(warehouse)) as c:
            c.execute("UPDATE purchases SET item_code = lower(item_code)")
        raw = _checksums(warehouse)
        summary = run_goal(goal, instance=instance, log_level="ERROR")
    outcome = summary.healing
    assert outcome is not None and outcome.status == "repaired", outcome
    assert "key_format_change" in {d.cause for d in outcome.diagnoses}
    live = PlanStore(goal.resolved_state_dir, goal.name).load_accepted()
    assert live is not None and live.version == outcome.live_after > first.plan_version
    fixes = [f for a in live.plan.sources for f in a.columns if f.kind == "normalise_key"]
    assert [(f.column, f.steps) for f in fixes] == [("item_code", ("upper",))]
    (attempt,) = outcome.attempts
    assert attempt.loss is not None and not attempt.loss["tables"] and not attempt.loss["features"]
    report = outcome.report.read_text()
    assert "key normalisation upper to VARCHAR matches 100.0%" in report
    assert "nothing lost" in report
    assert summary.success and not failed_data_checks(summary)
    assert _checksums(warehouse) == raw, "a repair changed raw data"
    shutil.rmtree(goal.resolved_state_dir, ignore_errors=True)


def _type_failure(table: str, column: str, was: str, now: str) -> ExpectationResult:
    e = DataExpectation(kind="column_type", table=table, column=column, data_type=was)
    return ExpectationResult(
        expectation=e, passed=False, message=f"{now} (was {was})", observed={"data_type": now}
    )


def test_a_join_key_whose_type_changed_is_a_key_format_change_measured_in_the_warehouse(
    planned: PlanBundle, warehouse_copy: Path
) -> None:
    """The example's ticket ids become 'C-000100001': the type check fails on a key, and the
    measurement finds the normalisation that joins every ticket to its customer again."""
    from dagster_agentic.healing.keys import key_type_change
    from dagster_agentic.healing.measure import measure
    from dagster_agentic.warehouse.connection import Warehouse
    from example_churn.faults import apply_fault

    apply_fault(warehouse_copy, "key_format", seed=3)
    typed = _type_failure("support_tickets", "customer_id", "BIGINT", "VARCHAR")
    fk = DataExpectation(
        kind="foreign_key_inclusion",
        table="support_tickets",
        column="customer_id",
        parent="customers.customer_id",
        min_value=0.98,
    )
    not_evaluated = ExpectationResult(
        expectation=fk, passed=False, message="not evaluated: customer_id changed type"
    )
    evidence = Evidence(failed=(typed, not_evaluated), schema_diff=SchemaDiff())
    d = key_type_change(evidence, typed)
    assert d is not None and d.cause == "key_format_change"
    assert d.details["parent"] == "customers.customer_id"
    # a column no foreign key names is no key: its type change is another cause
    other = _type_failure("support_tickets", "priority", "VARCHAR", "INTEGER")
    assert key_type_change(evidence, other) is None
    facts = measure(Warehouse(warehouse_copy), planned.plan, [d])[diagnosis_key(d)]
    assert facts["key_steps"] == ["strip_prefix", "strip_suffix"]
    assert facts["key_type"] == "BIGINT" and facts["inclusion_after"] >= 0.98
    assert facts["inclusion_before"] == 0.0
    # text that reads as the same integers: a plain cast recovers them
    apply_fault(warehouse_copy, "key_as_text", seed=3)
    typed = _type_failure("payments", "customer_id", "BIGINT", "VARCHAR")
    fk = fk.model_copy(update={"table": "payments"})
    evidence = Evidence(
        failed=(typed, not_evaluated.model_copy(update={"expectation": fk})),
        schema_diff=SchemaDiff(),
    )
    d = key_type_change(evidence, typed)
    assert d is not None
    facts = measure(Warehouse(warehouse_copy), planned.plan, [d])[diagnosis_key(d)]
    assert facts["key_steps"] == [] and facts["key_type"] == "BIGINT"
