from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dagster_agentic.errors import GuardrailError
from dagster_agentic.guardrails.sql_policy import check_select

CASES = yaml.safe_load((Path(__file__).parent / "fixtures" / "sql_policy_cases.yaml").read_text())
ALLOWED = CASES["allowed_tables"]


@pytest.mark.parametrize("case", CASES["safe"], ids=lambda c: c["name"])
def test_safe_select_passes(case: dict[str, str]) -> None:
    tree = check_select(case["sql"], allowed_tables=ALLOWED, label=case["name"])
    assert tree.key == "select"


@pytest.mark.parametrize("case", CASES["unsafe"], ids=lambda c: c["name"])
def test_unsafe_sql_is_refused_with_a_reason_and_a_fix(case: dict[str, str]) -> None:
    with pytest.raises(GuardrailError) as caught:
        check_select(case["sql"], allowed_tables=ALLOWED, label=case["name"])
    assert case["error"] in caught.value.message
    assert caught.value.fix
    assert case["name"] in caught.value.message


# --- scope semantics: a CTE name stands for the CTE only where SQL makes it visible ---------
SCOPE_ALLOWED = {"main.events"}


def _rule(sql: str) -> str | None:
    try:
        check_select(sql, allowed_tables=SCOPE_ALLOWED, label="scope")
    except GuardrailError as error:
        return error.rule
    return None


@pytest.mark.parametrize(
    "sql",
    [
        "WITH t AS (SELECT 1 AS x) SELECT * FROM t",
        "WITH t AS (SELECT 1 AS x) SELECT * FROM (SELECT * FROM t) AS q",
        "WITH t AS (SELECT 1 AS x) SELECT * FROM (SELECT * FROM (SELECT * FROM t) AS a) AS b",
        "WITH t AS (SELECT 1 AS x) SELECT * FROM main.events WHERE event_id IN (SELECT x FROM t)",
        "WITH t AS (SELECT 1 AS x) SELECT (SELECT max(x) FROM t) FROM main.events",
        "WITH a AS (SELECT 1 AS x), b AS (SELECT x FROM a) SELECT * FROM b",
        "WITH t AS (SELECT 1 AS x) SELECT x FROM t UNION ALL SELECT x FROM t",
        "SELECT * FROM (WITH t AS (SELECT 1 AS x) SELECT * FROM (SELECT * FROM t) AS i) AS q",
        "WITH T AS (SELECT 1 AS x) SELECT * FROM t",  # DuckDB folds case
    ],
)
def test_a_cte_is_visible_in_its_scope_and_the_scopes_nested_in_it(sql: str) -> None:
    assert _rule(sql) is None


@pytest.mark.parametrize(
    "sql",
    [
        # parent scope: the CTE is defined in a derived table
        "SELECT * FROM (WITH t AS (SELECT 1) SELECT 1) AS q, t",
        # sibling scopes: defined in one subquery, read in another
        "SELECT (WITH t AS (SELECT 1) SELECT * FROM t), (SELECT * FROM t)",
        "SELECT * FROM main.events WHERE event_id IN (WITH t AS (SELECT 1) SELECT * FROM t)"
        " AND event_id IN (SELECT * FROM t)",
        # a later CTE of the same WITH, and a CTE nested in an earlier one
        "WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a",
        "WITH a AS (WITH i AS (SELECT 1) SELECT * FROM i), b AS (SELECT * FROM i) SELECT * FROM b",
        # a schema-qualified name is never a CTE
        "WITH t AS (SELECT 1) SELECT * FROM main.t",
    ],
)
def test_a_cte_is_not_visible_in_a_parent_or_sibling_scope(sql: str) -> None:
    assert _rule(sql) == "table"


def test_a_cte_shadowing_an_allowed_table_is_checked_as_its_body() -> None:
    assert _rule("WITH events AS (SELECT * FROM main.payments) SELECT * FROM events") == "table"
    # the outer `events` is the real (allowed) table: the inner CTE does not reach it
    sql = "SELECT * FROM (WITH events AS (SELECT 1 AS x) SELECT x FROM events) AS q, events"
    assert _rule(sql) is None


def test_every_refusal_names_its_rule() -> None:
    assert _rule("SELECT 1; SELECT 2") == "statement_count"
    assert _rule("WITH RECURSIVE r AS (SELECT 1 UNION ALL SELECT 1 FROM r) SELECT * FROM r") == (
        "recursion"
    )
    assert _rule("SELECT {{ x }} FROM main.events") == "jinja"
    assert _rule("SELECT '{{ x }}' AS \"{% y %}\" FROM main.events -- {# z #}") is None
    assert _rule("SELECT * FROM range(10)") == "table_function"
    assert _rule("SELECT * FROM 'x.csv'") == "file_read"
    assert _rule("SELECT * FROM other.main.events") == "catalog"
