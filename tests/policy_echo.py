"""A model that answers as the policy kernel decided: the mode in which the whole example goal
runs through litellm, so its outcome can be compared with the policy kernel's own run.

In hybrid mode every request shows the policy's decision; this "model" hands it back in the
answer's structured form (a cohort predicate becomes conditions, parsed with sqlglot).
"""

from __future__ import annotations

import json
from typing import Any

import sqlglot
from sqlglot import exp

from tests.model_provider import data_of, schema_name

_OPS = {exp.EQ: "=", exp.NEQ: "!=", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}


def policy_echo(body: dict[str, Any]) -> str:
    data, name = data_of(body), schema_name(body)
    if name == "ReadingAnswer":
        reading = data["policy_reading"]
        return json.dumps(
            {
                "target": f"{reading['label_table']}.{reading['target_column']}",
                "task": reading["task"],
                "metric": reading["metric"],
                "threshold": reading["threshold"],
                "positive_value": reading["positive_value"],
                "entity_table": reading["entity_table"],
                "cohort": conditions(reading["cohort_sql"], reading["entity_table"]),
                "cohort_description": reading["cohort_description"],
                "rationale": {"target": "as the policy read it"},
            }
        )
    if name == "PlanAnswer":
        return json.dumps(
            {
                "keep_groups": [g["name"] for g in data["feature_groups"]],
                "families": data["model_families"],
            }
        )
    if name == "FeatureAnswer":
        return json.dumps(
            {
                "decisions": [
                    {"column": c["column"], "keep": c["policy_keep"]} for c in data["candidates"]
                ]
            }
        )
    if name == "DiagnosisAnswer":
        return json.dumps({"diagnoses": data["policy_diagnoses"]["diagnoses"]})
    if name == "RepairProposal":
        return json.dumps(data["policy_proposal"])
    raise AssertionError(f"unexpected decision {name}")


def conditions(sql: str | None, table: str) -> list[dict[str, Any]]:
    """The policy's cohort predicate (conjunctions of comparisons and IN lists) as conditions."""
    if sql is None:
        return []
    tree = sqlglot.parse_one(sql, dialect="duckdb")
    parts = list(tree.flatten()) if isinstance(tree, exp.And) else [tree]
    found = []
    for part in parts:
        negated = isinstance(part, exp.Not)
        inner = part.this if negated else part
        if isinstance(inner, exp.In):
            values = [_value(v) for v in inner.expressions]
            op = "not in" if negated else "in"
        elif type(inner) in _OPS and not negated:
            values, op = [_value(inner.expression)], _OPS[type(inner)]
        else:
            raise AssertionError(f"the echo reads no {part.sql()}")
        found.append({"column": f"{table}.{inner.this.name}", "op": op, "values": values})
    return found


def _value(node: exp.Expression) -> Any:
    assert isinstance(node, exp.Literal), node.sql()
    if node.is_string:
        return node.this
    number = float(node.this)
    return int(number) if number.is_integer() else number
