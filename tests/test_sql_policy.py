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
