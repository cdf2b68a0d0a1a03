"""Cohort clauses that no row can satisfy together: refused, never run.

'the turbocharged SUVs (not the ones that are both turbo- and supercharged)' can read as
``aspiration = 'Turbocharged' AND aspiration = 'Supercharged'``: each clause is a fair
reading of its words, yet together they select nothing, and the goal would be trained on an
empty cohort or fail late with a message about splits. A column holds one value per row, so
two clauses joined by AND that each pin the same column to values with nothing in common
(``=`` or ``IN`` a list) are a misreading: the objective is refused, naming both clauses and
how to say what was meant.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.kernel.policy.text import quote


def _pinned(sql: str) -> tuple[str, frozenset[str]] | None:
    """The column a clause pins and the values it allows: ``col = v`` or ``col IN (v, ...)``
    over plain literals of the entity's own column; None for any other clause."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except SqlglotError:
        return None
    if isinstance(tree, exp.Paren):
        tree = tree.this
    if isinstance(tree, exp.EQ):
        column, value = tree.this, tree.expression
        if isinstance(value, exp.Column) and isinstance(column, exp.Literal):
            column, value = value, column
        if isinstance(column, exp.Column) and isinstance(value, exp.Literal):
            return column.name, frozenset({value.this})
        return None
    in_list = isinstance(tree, exp.In) and not tree.args.get("query")
    if in_list and isinstance(tree.this, exp.Column):
        values = tree.expressions
        if values and all(isinstance(v, exp.Literal) for v in values):
            return tree.this.name, frozenset(v.this for v in values)
    return None


def refuse_contradictions(clauses: Sequence[tuple[str, str]], fix: str) -> None:
    """Raise when two clauses joined by AND (``(sql, description)`` each) pin one column to
    values they do not share."""
    seen: dict[str, tuple[frozenset[str], str]] = {}
    for sql, description in clauses:
        pinned = _pinned(sql)
        if pinned is None:
            continue
        name, values = pinned
        column = name.lower()
        if column not in seen:
            seen[column] = (values, description)
            continue
        allowed, first = seen[column]
        if not allowed & values:
            raise ObjectiveError(
                f"the cohort reads as {first} and as {description}: both restrict the column "
                f"{quote(name)}, which holds one value per row, so together they select no "
                f"row; if either is meant, join them with 'or', and if one is to be left out, "
                f"say 'not' before it",
                fix=fix,
            )
        seen[column] = (allowed & values, first)
