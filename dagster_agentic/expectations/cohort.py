"""Critical expectations that guard the goal's cohort on the entity table.

The goal's metric is judged on the cohort's rows only. If a cohort column changes type or its
values change spelling (country codes arriving as names, or in lower case), the cohort
predicate silently selects nothing, and the run would only fail late, in evaluation, with a
cohort that has no rows. So each column the predicate reads gets blocking expectations when
the plan is made: its type (a widening still passes), its values within the set it held, and
the cohort's share of the entity table within bounds, measured with the predicate itself.

A relabelled cohort column fails its ``accepted_values`` check like any relabelled category
and is repaired the same way, by mapping the new labels onto the old ones; a cohort that
shrinks while its values stay known fails ``cohort_share_between``, a named cause that no
mapping explains.
"""

from __future__ import annotations

import duckdb

from dagster_agentic.expectations.models import DataExpectation
from dagster_agentic.goals.objective import Objective
from dagster_agentic.guardrails.sql_policy import check_select
from dagster_agentic.kernel.policy.cohort import cohort_columns, cohort_tables
from dagster_agentic.warehouse.connection import qualified_name, quote_ident
from dagster_agentic.warehouse.models import TableProfile

UNKNOWN_COHORT_FRACTION = 0.01
OUTSIDE_FACTOR = 1.5
TOP_VALUES = 10
"""How many of a cohort column's most frequent values its value set names (at least as many
as the profile records): a column with more values bounds the share of rows holding the rest
at what it was when the plan was made, so that a relabel is caught and a repair that maps the
known values back is enough to pass."""
SHARE_LOW, SHARE_HIGH = 0.5, 2.0
"""The cohort's share of the entity table may halve or double before the check fails."""


def cohort_expectations(
    conn: duckdb.DuckDBPyConnection,
    table: TableProfile,
    objective: Objective,
    expectations: list[DataExpectation],
    schema: str = "main",
) -> list[DataExpectation]:
    """``expectations`` of the entity table with its cohort columns' checks made critical and
    complete, and the cohort's share added."""
    columns = [c for c in cohort_columns(objective.cohort_sql) if table.column(c.column)]
    if not columns or objective.cohort_sql is None:
        return expectations
    source = qualified_name(schema, table.name)
    guarded = {c.column for c in columns}
    out: list[DataExpectation] = []
    for e in expectations:
        if e.column in guarded and e.kind == "accepted_values":
            continue  # replaced by the complete value set below
        if e.column in guarded and e.kind == "column_type":
            e = e.model_copy(
                update={"critical": True, "reason": f"{e.reason}; the cohort predicate reads it"}
            )
        out.append(e)
    for cohort in columns:
        if cohort.column in table.candidate_keys:
            # A one-to-one child's cohort reads the entity's key (key IN (SELECT fk ...)):
            # a key's values grow with every row, so only the cohort's share guards it.
            continue
        profiled = table.column(cohort.column)
        top = max(TOP_VALUES, len(profiled.top_values) if profiled else 0)
        values, outside = top_text(conn, source, cohort.column, top)
        if not values:
            continue
        selected = ", ".join(v for v in cohort.values if v in values)
        rest = f"; {outside:.2%} of rows held other values" if outside else ""
        out.append(
            DataExpectation(
                kind="accepted_values",
                table=table.name,
                column=cohort.column,
                values=values,
                max_fraction=round(outside * OUTSIDE_FACTOR + UNKNOWN_COHORT_FRACTION, 6),
                reason=f"the cohort ({objective.cohort_description}) selects rows by"
                f" {cohort.column}{f' = {selected}' if selected else ''}: its values must stay"
                f" the ones the cohort was resolved against{rest}",
            )
        )
    share = cohort_share(conn, source, objective.cohort_sql)
    if share is None or share <= 0.0:
        return out
    out.append(
        DataExpectation(
            kind="cohort_share_between",
            table=table.name,
            column=columns[0].column,
            predicate=objective.cohort_sql,
            min_value=round(share * SHARE_LOW, 6),
            max_value=round(min(1.0, share * SHARE_HIGH), 6),
            reason=f"the cohort ({objective.cohort_description}) held {share:.1%} of"
            f" {table.name} when the plan was made: the goal is judged on its rows",
        )
    )
    return out


def top_text(
    conn: duckdb.DuckDBPyConnection, source: str, column: str, top: int
) -> tuple[tuple[str, ...], float]:
    """The ``top`` most frequent non-null values of ``column`` as the validation reads them
    (``CAST(... AS VARCHAR)``), ordered like the profile's top values, and the share of
    non-null rows holding any other value."""
    col = quote_ident(column)
    rows = conn.execute(
        f"SELECT v, n, sum(n) OVER () FROM (SELECT CAST({col} AS VARCHAR) AS v, count(*) AS n"
        f" FROM {source} WHERE {col} IS NOT NULL GROUP BY 1) ORDER BY n DESC, v LIMIT {int(top)}"
    ).fetchall()
    if not rows:
        return (), 0.0
    total = int(rows[0][2])
    kept = sum(int(row[1]) for row in rows)
    return tuple(str(row[0]) for row in rows), (total - kept) / total if total else 0.0


def cohort_share(conn: duckdb.DuckDBPyConnection, source: str, predicate: str) -> float | None:
    """The share of ``source``'s rows the cohort predicate selects (None for an empty table).

    ``predicate`` is the objective's cohort, checked when the objective was resolved (a
    boolean expression over the entity table's columns, or a key in a subquery over a table
    one foreign key away); it runs on the guarded connection like the training set that
    embeds it, and may read only the entity table and the tables its subquery names.
    """
    sql = (
        f"SELECT avg(CASE WHEN COALESCE(({predicate}), FALSE) THEN 1.0 ELSE 0.0 END) FROM {source}"
    )
    # The predicate is kept in the suite and run again by every validation: the statement is
    # checked by the SQL policy here, before it is stored, whichever kernel wrote it.
    allowed = {source.replace('"', ""), *cohort_tables(predicate)}
    check_select(sql, allowed_tables=allowed, label="the cohort's share")
    row = conn.execute(sql).fetchone()
    return None if not row or row[0] is None else float(row[0])
