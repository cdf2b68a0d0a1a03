"""The SQL policy: what generated SQL may do, decided on syntax trees, never on patterns.

Generated SQL must be exactly one read-only SELECT over the tables it was allowed. Checked in
order, each refusal naming its rule (``GuardrailError.rule``):

* ``size``: text over ``MAX_SQL_CHARS``;
* ``jinja``: a Jinja delimiter in the SQL itself, outside string literals, quoted names and
  comments. Those hold data (a category value, a column name), which the dbt project renders
  literally (``features.jinja``); Jinja anywhere else is a kernel writing code for dbt;
* ``parse`` / ``statement_count`` / ``statement``: not exactly one statement, or not a query;
* ``statement`` / ``node``: a statement or clause nested in the query that writes, changes
  settings or reads session state (``INTO``, ``FOR UPDATE``, parameters);
* ``recursion``: ``WITH RECURSIVE`` (unbounded cost; the product never recurses);
* ``table_function`` / ``function``: a function in ``FROM``; a call that is not a DuckDB
  built-in or that reads the environment, files, settings or the catalog (``sql_functions``);
* ``table`` / ``catalog`` / ``file_read`` / ``scope``: a table reference that is not an allowed
  table or a CTE *visible in its scope* (``sql_names``, sqlglot's scope analysis);
* then DuckDB's own parse of the same text is checked the same way (``duckdb_parse``), so a
  difference between the two parsers cannot hide anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import Scope, traverse_scope

from dagster_agentic.errors import GuardrailError
from dagster_agentic.guardrails.duckdb_parse import check_with_duckdb
from dagster_agentic.guardrails.sql_functions import denied, fold, function_refusal
from dagster_agentic.guardrails.sql_names import fold_allowed, table_refusal

MAX_SQL_CHARS = 1_000_000
JINJA_DELIMITERS = ("{{", "}}", "{%", "%}", "{#", "#}")
# What DuckDB reads as data, not code, scanned left to right as its lexer does: comments, string
# literals (E'' with backslash escapes, $tag$ dollar quotes) and quoted identifiers. Where this
# scan and DuckDB could disagree, more is left as code, so the check errs towards refusing.
_QUOTED = re.compile(
    r"--[^\n\r]*|/\*.*?\*/|[eE]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\""
    r"|\$([A-Za-z_]*)\$.*?\$\1\$",
    re.DOTALL,
)

_READ_ONLY = "features are computed by read-only SELECTs; writes happen only through dbt"
_TABLES_FIX = "read only warehouse tables the plan names"

# Statements, wherever sqlglot finds them (a CTE body, a subquery, the root).
_STATEMENT_NODES: tuple[type[exp.Expr], ...] = (
    exp.DDL,
    exp.DML,
    exp.Command,
    exp.Drop,
    exp.Alter,
    exp.Attach,
    exp.Detach,
    exp.Pragma,
    exp.Set,
    exp.Use,
    exp.TruncateTable,
    exp.LoadData,
    exp.Describe,
    exp.Show,
    exp.Summarize,
    exp.Install,
    exp.Export,
    exp.Grant,
    exp.Revoke,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Analyze,
    exp.Cache,
    exp.Uncache,
    exp.Refresh,
    exp.Kill,
    exp.Comment,
    exp.Declare,
    exp.Execute,
)
# Clauses of a query that write, lock, or read session state.
_FORBIDDEN_NODES: tuple[type[exp.Expr], ...] = (
    exp.Into,
    exp.Lock,
    exp.Placeholder,
    exp.Parameter,
    exp.SessionParameter,
)
# sqlglot's typed functions for DuckDB generators and readers, whatever their spelling.
_FORBIDDEN_FUNCTIONS: tuple[type[exp.Expr], ...] = (
    exp.GenerateSeries,
    exp.ExplodingGenerateSeries,
    exp.ReadCSV,
    exp.ReadParquet,
)


def check_select(sql: str, *, allowed_tables: Iterable[str], label: str) -> exp.Query:
    """Parse ``sql`` and refuse anything but one read-only SELECT over ``allowed_tables``.

    ``allowed_tables`` are ``schema.table`` or ``table`` names (compared in ASCII case); a CTE
    name stands for its CTE only in the scope that defines it and the scopes nested in it.
    Returns sqlglot's tree. Raises ``GuardrailError`` whose ``rule`` names what refused.

    Example::

        check_select("SELECT count(*) FROM main.events", allowed_tables={"main.events"},
                     label="feature group 'events'")
    """
    allowed = fold_allowed(allowed_tables)
    _check_text(sql, label)
    tree = _parse_one(sql, label)
    _check_nodes(tree, label)
    _check_functions(tree, label)
    _check_tables(tree, allowed, label)
    check_with_duckdb(sql, allowed, label)
    return tree


def _check_text(sql: str, label: str) -> None:
    if len(sql) > MAX_SQL_CHARS:
        raise GuardrailError(
            f"{label}: SQL of {len(sql)} characters is over the {MAX_SQL_CHARS} allowed",
            fix="generate smaller queries",
            rule="size",
        )
    code = _QUOTED.sub(" ", sql)
    found = [d for d in JINJA_DELIMITERS if d in code]
    if found:
        raise GuardrailError(
            f"{label}: SQL contains the Jinja delimiter {found[0]!r} outside a string literal;"
            " dbt would render it",
            fix="generate SQL without '{{', '}}', '{%', '%}', '{#' or '#}' (put text in"
            " string literals)",
            rule="jinja",
        )


def _parse_one(sql: str, label: str) -> exp.Query:
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except (SqlglotError, RecursionError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise GuardrailError(
            f"{label}: SQL does not parse: {first}",
            fix="generate a single valid DuckDB SELECT statement",
            rule="parse",
        ) from error
    if len(statements) != 1:
        raise GuardrailError(
            f"{label}: expected one SQL statement, found {len(statements)}",
            fix="generate exactly one SELECT statement, with no ';'-separated extras",
            rule="statement_count",
        )
    tree = statements[0]
    if not isinstance(tree, exp.Query) or isinstance(tree, _STATEMENT_NODES):
        raise GuardrailError(
            f"{label}: only SELECT queries are allowed, got {tree.key.upper()}",
            fix=_READ_ONLY,
            rule="statement",
        )
    return tree


def _check_nodes(tree: exp.Query, label: str) -> None:
    for node in tree.walk():
        if isinstance(node, _STATEMENT_NODES):
            raise GuardrailError(
                f"{label}: {node.key.upper()} is not allowed in generated SQL",
                fix=_READ_ONLY,
                rule="statement",
            )
        if isinstance(node, _FORBIDDEN_NODES):
            raise GuardrailError(
                f"{label}: {node.key.upper()} is not allowed in generated SQL",
                fix="generate a plain read-only SELECT with literal values",
                rule="node",
            )
        if isinstance(node, exp.With) and node.args.get("recursive"):
            raise GuardrailError(
                f"{label}: WITH RECURSIVE is not allowed in generated SQL",
                fix="compute features with joins and aggregates; recursion has unbounded cost",
                rule="recursion",
            )


def _check_functions(tree: exp.Query, label: str) -> None:
    for node in tree.find_all(exp.Func):
        name = _function_name(node)
        in_from = isinstance(node.parent, (exp.Table, exp.From, exp.Join, exp.Lateral))
        if in_from and node.arg_key == "this":
            raise GuardrailError(
                f"{label}: table function {name}() reads outside the plan's tables",
                fix=_TABLES_FIX,
                rule="table_function",
            )
        if isinstance(node, (exp.Anonymous, exp.AnonymousAggFunc)):
            why = function_refusal(name)
        elif isinstance(node, _FORBIDDEN_FUNCTIONS) or denied(name):
            why = f"function {name}() reads outside the warehouse or generates rows"
        else:
            why = None
        if why:
            raise GuardrailError(f"{label}: {why}", fix=_TABLES_FIX, rule="function")


def _function_name(node: exp.Func) -> str:
    if isinstance(node, (exp.Anonymous, exp.AnonymousAggFunc)):
        return str(node.name)
    return fold(node.sql_name())


def _check_tables(tree: exp.Query, allowed: set[str], label: str) -> None:
    """Every table reference, resolved in its own scope: a visible CTE or an allowed table."""
    try:
        scopes = traverse_scope(tree)
    except (SqlglotError, RecursionError) as error:
        raise GuardrailError(
            f"{label}: the policy cannot resolve the query's scopes: {error}",
            fix="generate plain SELECTs with CTEs, joins and subqueries",
            rule="scope",
        ) from error
    resolved: set[int] = set()
    for scope in scopes:
        for table in scope.tables:
            resolved.add(id(table))
            _check_table(table, scope, allowed, label)
    for table in tree.find_all(exp.Table):
        if id(table) not in resolved:
            raise GuardrailError(
                f"{label}: table {table.sql('duckdb')} is outside any scope the policy resolves",
                fix="generate plain SELECTs with CTEs, joins and subqueries",
                rule="scope",
            )


def _check_table(table: exp.Table, scope: Scope, allowed: set[str], label: str) -> None:
    if not isinstance(table.this, exp.Identifier):
        rule = "table_function" if isinstance(table.this, exp.Func) else "table"
        raise GuardrailError(
            f"{label}: {table.sql('duckdb')} is not a table the plan may read",
            fix=_TABLES_FIX,
            rule=rule,
        )
    catalog, schema, name = table.catalog, table.db, table.name
    if not (catalog or schema) and fold(name) in {fold(n) for n in scope.cte_sources}:
        return  # a CTE of this scope or of one around it
    refusal = table_refusal(catalog, schema, name, allowed)
    if refusal:
        rule, why = refusal
        fix = f"use one of: {', '.join(sorted(allowed))}" if rule == "table" else _TABLES_FIX
        raise GuardrailError(f"{label}: {why}", fix=fix, rule=rule)
