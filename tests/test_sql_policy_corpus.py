"""The SQL policy against its corpus: every unsafe statement refused by a named rule, every
statement the product generates accepted (``tests/fixtures/sql_policy``)."""

from __future__ import annotations

from collections import Counter

import pytest

from dagster_agentic.errors import GuardrailError
from dagster_agentic.guardrails.sql_policy import check_select
from tests.sql_corpus import CORPUS as CORPUS_DIR
from tests.sql_corpus import UNSAFE_ALLOWED, CorpusStatement, load_corpus, load_file

CORPUS = load_corpus()
COST_GUARDED = "resource_abuse"
"""Refused in part by the policy, in full by the cost guard (tested with it)."""
SAFE = [s for s in CORPUS if s.kind == "safe"]
UNSAFE = [s for s in CORPUS if s.kind == "unsafe" and s.family != COST_GUARDED]


def test_the_corpus_is_large_enough() -> None:
    families = Counter(s.family for s in CORPUS if s.kind == "unsafe")
    assert len(UNSAFE) + families[COST_GUARDED] >= 300
    assert len(SAFE) >= 60
    assert len({s.family for s in SAFE}) >= 3  # harvested from several warehouses
    expected = {
        "ddl_dml",
        "multi_statement",
        "duckdb_statements",
        "file_url_reads",
        "env_settings_catalog",
        "outside_allow_list",
        "tricks",
        "scoping",
        "jinja",
        COST_GUARDED,
    }
    assert expected <= set(families)


@pytest.mark.parametrize("statement", UNSAFE, ids=lambda s: s.id)
def test_unsafe_statement_is_refused_by_its_rule(statement: CorpusStatement) -> None:
    with pytest.raises(GuardrailError) as caught:
        check_select(statement.sql, allowed_tables=statement.allowed, label=statement.source)
    assert caught.value.rule and caught.value.rule != "guardrail", caught.value
    if statement.expect:
        assert caught.value.rule == statement.expect, caught.value
    assert caught.value.fix


@pytest.mark.parametrize("statement", SAFE, ids=lambda s: s.id)
def test_generated_statement_passes(statement: CorpusStatement) -> None:
    assert statement.allowed, "a harvested statement names the tables it was checked against"
    check_select(statement.sql, allowed_tables=statement.allowed, label=statement.source)


def test_cost_guarded_statements_are_refused_by_rule_when_refused() -> None:
    """The policy refuses recursion and generators there; what it lets pass is the cost
    guard's to refuse, but where the corpus names the policy's rule it must be that one."""
    for statement in (s for s in CORPUS if s.family == COST_GUARDED and s.expect):
        with pytest.raises(GuardrailError) as caught:
            check_select(statement.sql, allowed_tables=statement.allowed, label=statement.source)
        assert caught.value.rule == statement.expect, statement.source


def _jinja_as_data() -> list[CorpusStatement]:
    return load_file(CORPUS_DIR / "jinja_as_data.sql", "safe")


@pytest.mark.parametrize("statement", _jinja_as_data(), ids=lambda s: s.id)
def test_jinja_inside_literals_names_and_comments_is_data(statement: CorpusStatement) -> None:
    """Values and names from the warehouse may hold Jinja: the policy passes them, and the dbt
    project renders them literally (tests/test_jinja_injection.py shows dbt does)."""
    check_select(statement.sql, allowed_tables=UNSAFE_ALLOWED, label=statement.id)


def test_jinja_as_data_has_cases() -> None:
    assert len(_jinja_as_data()) >= 15
