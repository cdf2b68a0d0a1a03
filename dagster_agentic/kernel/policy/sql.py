"""SQL text for cohort predicates: safe quoting, checking a predicate given by hand, and
reading back which columns and tables a predicate uses."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from dagster_agentic.errors import GoalError
from dagster_agentic.kernel.policy.text import quote, word_set
from dagster_agentic.warehouse.connection import literal
from dagster_agentic.warehouse.models import TableProfile, WarehouseProfile

_PLAIN = re.compile(r"^[a-z_][a-z0-9_]*$")
# DuckDB's reserved keywords: as bare identifiers they would not parse.
_RESERVED = word_set(
    """
    all analyse analyze and any array as asc asymmetric both case cast check collate
    column constraint create default deferrable desc describe distinct do else end
    except false fetch for foreign from grant group having in initially intersect into
    lateral leading limit not null offset on only or order pivot placing primary qualify
    references returning select show some summarize symmetric table then to trailing
    true union unique unpivot using variadic when where window with
    """
)
_BOOLEAN_FUNCTIONS = frozenset(
    {"contains", "starts_with", "ends_with", "regexp_matches", "list_contains", "isnan", "isinf"}
)
_FIX = "set cohort to a boolean SQL predicate over the entity table, e.g. cohort=\"country = 'DE'\""


def ident(name: str) -> str:
    """An identifier, double-quoted unless it is a plain lower-case name."""
    if _PLAIN.match(name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def predicate(column: str, values: Sequence[str | int | float | bool]) -> str:
    """``column = v`` for one value, ``column IN (v, ...)`` for several."""
    if len(values) == 1:
        return f"{ident(column)} = {literal(values[0])}"
    return f"{ident(column)} IN ({', '.join(literal(v) for v in values)})"


def check_cohort_sql(sql: str, table: TableProfile, profile: WarehouseProfile | None = None) -> str:
    """Validate a cohort predicate over ``table``; return it stripped.

    The predicate compares columns of ``table``. One form of subquery is allowed, the one a
    cohort over a parent table takes: ``column IN (SELECT key FROM parent WHERE ...)`` where
    ``parent`` is a table of ``profile``, the subquery selects one of its columns, reads only
    its columns, and has no join, grouping, ordering, limit, set operation or nested
    subquery. Anything else is refused.
    """
    text = sql.strip()
    try:
        statements = sqlglot.parse(text, dialect="duckdb") if text else []
    except SqlglotError as error:
        reason = str(error).splitlines()[0]
        raise GoalError(
            f"overrides.cohort {quote(text)} is not valid SQL: {reason}", fix=_FIX
        ) from None
    if len(statements) != 1 or statements[0] is None:
        raise GoalError(
            f"overrides.cohort {quote(text)} must be exactly one SQL predicate", fix=_FIX
        )
    tree = statements[0]
    if not isinstance(tree, exp.Expression):
        raise GoalError(f"overrides.cohort {quote(text)} is not an expression", fix=_FIX)
    if not _is_boolean(tree, table):
        raise GoalError(
            f"overrides.cohort {quote(text)} is not a boolean expression (it reads as "
            f"{type(tree).__name__.lower()})",
            fix=_FIX,
        )
    outer: set[int] = set()
    for query in tree.find_all(exp.Query):
        if isinstance(query, exp.Subquery):
            continue
        if not isinstance(query, exp.Select):
            raise GoalError(
                f"overrides.cohort {quote(text)} contains a subquery that is not a plain SELECT",
                fix=_FIX,
            )
        if not _in_query(query):
            parent = _check_subquery(query, tree, table, profile, text)
            outer.update(id(c) for c in query.find_all(exp.Column))
            for column in query.find_all(exp.Column):
                _check_column(column, parent, text, " in the subquery")
    for column in tree.find_all(exp.Column):
        if id(column) not in outer:
            _check_column(column, table, text)
    return text


def _in_query(node: exp.Expression) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.Select | exp.SetOperation):
            return True
        parent = parent.parent
    return False


def _check_subquery(
    query: exp.Select,
    tree: exp.Expression,
    table: TableProfile,
    profile: WarehouseProfile | None,
    text: str,
) -> TableProfile:
    """The parent table of an allowed one-hop subquery; raise for any other subquery."""

    def refuse(why: str) -> GoalError:
        return GoalError(
            f"overrides.cohort {quote(text)} contains a subquery that is not allowed: {why}; "
            f"a subquery may only select a key of one profiled table, as in "
            f"fk IN (SELECT key FROM parent WHERE ...), and otherwise compare columns of "
            f"{table.name}",
            fix=_FIX,
        )

    holder = query.parent.parent if isinstance(query.parent, exp.Subquery) else query.parent
    if profile is None:
        raise refuse("no warehouse profile to check the table against")
    if not isinstance(holder, exp.In) or not isinstance(holder.this, exp.Column):
        raise refuse("it is not the right side of column IN (...)")
    if any(
        query.args.get(arg)
        for arg in (
            "joins",
            "group",
            "having",
            "order",
            "limit",
            "offset",
            "with",
            "qualify",
            "windows",
            "distinct",
        )
    ):
        raise refuse("it joins, groups, orders or limits")
    if any(isinstance(n, exp.Query) and n is not query for n in query.find_all(exp.Query)):
        raise refuse("it nests another query")
    if query.find(exp.AggFunc, exp.Window) is not None:
        raise refuse("it aggregates")
    source = query.args.get("from_") or query.args.get("from")
    named = source.this if source is not None else None
    if not isinstance(named, exp.Table) or not named.name:
        raise refuse("it does not read one table")
    parent = profile.table(named.name)
    schema = named.db
    if parent is None or (schema and schema.lower() != parent.schema_name.lower()):
        raise refuse(f"{named.sql(dialect='duckdb')} is not a profiled table")
    if named.catalog:
        raise refuse("it names a catalog")
    projections = query.expressions
    if len(projections) != 1 or not isinstance(projections[0], exp.Column):
        raise refuse("it must select exactly one column")
    if query.args.get("where") is not None and not _is_boolean(query.args["where"].this, parent):
        raise refuse("its WHERE clause is not a boolean expression")
    return parent


def _check_column(column: exp.Column, table: TableProfile, text: str, where: str = "") -> None:
    qualifier = column.table
    if qualifier and qualifier.lower() != table.name.lower():
        raise GoalError(
            f"overrides.cohort {quote(text)} references the table {qualifier!r}; it may only use "
            f"columns of the entity table {table.name}",
            fix=_FIX,
        )
    if table.column(column.name) is None:
        names = [c.name for c in table.columns]
        close = difflib.get_close_matches(column.name, names, n=3, cutoff=0.5)
        similar = f" (did you mean {', '.join(close)}?)" if close else ""
        raise GoalError(
            f"overrides.cohort references the column {column.name!r}{where}, which is not a "
            f"column of {table.name}{similar}",
            fix=f"use columns of {table.name}: {', '.join(names)}",
        )


def _is_boolean(tree: exp.Expression, table: TableProfile) -> bool:
    if isinstance(tree, exp.Paren):
        return _is_boolean(tree.this, table)
    if isinstance(tree, exp.Predicate | exp.Connector | exp.Not | exp.Boolean):
        return True
    if isinstance(tree, exp.Column):
        column = table.column(tree.name)
        return column is None or column.kind == "boolean"  # unknown columns are reported later
    if isinstance(tree, exp.Anonymous):
        return str(tree.name).lower() in _BOOLEAN_FUNCTIONS
    if isinstance(tree, exp.Func):
        return tree.sql_name().lower() in _BOOLEAN_FUNCTIONS or type(tree).__name__ in {
            "StartsWith",
            "EndsWith",
            "Contains",
        }
    return False


@dataclass(frozen=True)
class CohortColumn:
    """A column of the entity table the cohort predicate reads, and the values it selects
    (as text, the way ``CAST(column AS VARCHAR)`` shows them) when it compares to literals."""

    column: str
    values: tuple[str, ...] = ()


def cohort_columns(sql: str | None) -> tuple[CohortColumn, ...]:
    """The entity columns a cohort predicate reads, in order of first use (none for all rows).

    A one-hop clause (``fk IN (SELECT key FROM parent WHERE ...)``) reads the foreign key;
    the parent's columns inside the subquery are not the entity's.

    Parsed, never pattern-matched, so a hand-written predicate is read the same way as one
    the kernel wrote; an unparseable one names no column (the planner refuses those earlier).
    """
    if not sql:
        return ()
    try:
        tree = sqlglot.parse_one(sql, dialect="duckdb")
    except SqlglotError:
        return ()
    selected: dict[str, list[str]] = {}
    for column in tree.find_all(exp.Column):
        if not _in_subquery(column):
            selected.setdefault(column.name, [])
    for node in tree.find_all(exp.EQ, exp.In):
        if _in_subquery(node):
            continue  # a parent's column, read through the foreign key the IN names
        target = node.this if isinstance(node.this, exp.Column) else None
        if isinstance(node, exp.EQ):
            other = node.expression
            if target is None and isinstance(other, exp.Column):
                target, other = other, node.this
            options = [other]
        else:
            options = list(node.expressions)
        if target is None or not options or not all(_is_literal(o) for o in options):
            continue
        selected.setdefault(target.name, []).extend(_text(o) for o in options)
    return tuple(CohortColumn(c, tuple(dict.fromkeys(v))) for c, v in selected.items())


def cohort_tables(sql: str | None, schema: str = "main") -> frozenset[str]:
    """The parent tables a cohort predicate reads through a one-hop subquery, as
    ``schema.table`` (the form ``guardrails.sql_policy.check_select`` allows tables in)."""
    if not sql:
        return frozenset()
    try:
        tree = sqlglot.parse_one(sql, dialect="duckdb")
    except SqlglotError:
        return frozenset()
    return frozenset(f"{t.db or schema}.{t.name}" for t in tree.find_all(exp.Table) if t.name)


def _in_subquery(node: Any) -> bool:
    """Whether a node lies inside a subquery (it reads a parent table, not the entity)."""
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.Query | exp.Subquery):
            return True
        parent = parent.parent
    return False


def _is_literal(node: exp.Expression) -> bool:
    return isinstance(node, exp.Literal | exp.Boolean)


def _text(node: exp.Expression) -> str:
    if isinstance(node, exp.Boolean):
        return "true" if node.this else "false"
    return str(node.this)
