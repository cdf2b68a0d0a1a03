"""Entity columns that copy the label: leakage suspects found from binned counts in DuckDB.

A column whose buckets determine the label (or, for regression, explain nearly all of the
target's rank variance) is a near-copy of the outcome, recorded with it rather than before
it; it never becomes a feature. Only counts per bucket leave the warehouse.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import duckdb

from dagster_agentic.goals.objective import Objective
from dagster_agentic.warehouse.connection import qualified_name, quote_ident
from dagster_agentic.warehouse.models import WarehouseProfile

NEAR_COPY_UNCERTAINTY = 0.8
"""Share of the label's entropy a column's buckets must remove to be a near-copy."""
BUCKETS = 20


def labelled_rows_sql(
    profile: WarehouseProfile,
    objective: Objective,
    schema: str,
    table: str | None = None,
    join_column: str | None = None,
) -> str:
    """Every labelled row of ``table`` (default: the entity; another table holds at most one
    row per entity, its ``join_column`` holding the entity's id) with its label ``y``
    (encoded as training encodes it) and, for regression, ``__agentic_target_rank``: the
    target's midrank scaled into (0, 1), robust to skew and outliers."""
    from dagster_agentic.features.label import label_sql, labelled_sql

    name = table or objective.entity_table
    join = join_column or objective.entity_key
    labels = qualified_name(schema, objective.label_table)
    target = f"l.{quote_ident(objective.target_column)}"
    base = (
        f"SELECT {label_sql(objective, target)} AS y, e.* FROM {labels} AS l JOIN "
        f"{qualified_name(schema, name)} AS e "
        f"ON e.{quote_ident(join)} = l.{quote_ident(objective.label_key)} "
        f"WHERE {labelled_sql(objective, target)}"
    )
    if objective.task != "regression":
        return base
    return (
        "SELECT *, (rank() OVER (ORDER BY y) + (count(*) OVER (PARTITION BY y) - 1) / 2.0"
        f" - 0.5) / count(*) OVER () AS __agentic_target_rank FROM ({base})"
    )


def expression_shares(
    conn: duckdb.DuckDBPyConnection,
    objective: Objective,
    labelled: str,
    expressions: Sequence[tuple[str, bool]],
) -> list[tuple[float, int]]:
    """Per ``(sql, categorical)`` expression over the rows of ``labelled`` (SQL from
    :func:`labelled_rows_sql`, possibly sampled): the share of the label its buckets explain
    (entropy for classes, rank variance for regression) and its number of buckets. A
    categorical expression is bucketed by value, a numeric one into ``BUCKETS`` quantiles; NULL
    is a bucket of its own. One query, one scan of the materialised rows per expression."""
    from dagster_agentic.features.label import class_count
    from dagster_agentic.features.screening_stats import explained_share, merge

    if not expressions:
        return []
    regression = objective.task == "regression"
    stats = (
        "sum(__agentic_target_rank), sum(__agentic_target_rank * __agentic_target_rank)"
        if regression
        else "y, 0"
    )
    group = "b" if regression else "b, y"
    branches = []
    for i, (expression, categorical) in enumerate(expressions):
        value = f"({expression})"
        bucket = (
            f"CAST({value} AS VARCHAR)"
            if categorical
            else f"CAST(floor(cume_dist() OVER (PARTITION BY {value} IS NULL ORDER BY {value})"
            f" * {BUCKETS - 1}) AS VARCHAR)"
        )
        branches.append(
            f"SELECT {i} AS c, b, count(*) AS n, {stats} FROM (SELECT *, CASE WHEN {value} IS"
            f" NULL THEN 'null' ELSE {bucket} END AS b FROM labelled) GROUP BY {group}"
        )
    rows = conn.execute(
        f"WITH labelled AS MATERIALIZED ({labelled}) " + " UNION ALL ".join(branches)
    ).fetchall()
    classes = class_count(objective)
    cells: dict[int, list[tuple[str, int, tuple[float, ...]]]] = defaultdict(list)
    for c, b, n, first, second in rows:
        if regression:
            cells[int(c)].append((str(b), int(n), (float(first), float(second))))
        else:
            counts = tuple(float(n) if k == int(first) else 0.0 for k in range(classes))
            cells[int(c)].append((str(b), int(n), counts))
    out = []
    for i in range(len(expressions)):
        merged = merge(cells[i])
        out.append((explained_share(merged, regression=regression), len(merged)))
    return out


def copy_bar(objective: Objective, buckets: int) -> float:
    """The share a near-copy reaches: ``NEAR_COPY_UNCERTAINTY`` of the label's entropy, or
    for regression 90% of what an exact copy cut into ``buckets`` explains (``1 - 1/k**2``)."""
    if objective.task == "regression":
        return 0.9 * (1 - 1 / max(2, buckets) ** 2)
    return NEAR_COPY_UNCERTAINTY


def label_copies(
    conn: duckdb.DuckDBPyConnection,
    profile: WarehouseProfile,
    objective: Objective,
    usable: set[str],
    schema: str,
    table: str | None = None,
    join_column: str | None = None,
) -> list[tuple[str, str]]:
    """(column, evidence) of the ``usable`` columns of the entity (or of ``table``, one row
    per entity, joined on ``join_column``) whose binned values determine the label, for every
    task: the share of the label's entropy the buckets remove (classification, the label
    encoded as training encodes it) or of the target's rank variance they explain
    (regression, where a copy cut into k equal buckets explains ``1 - 1/k**2`` of it, so the
    bar is a share of that)."""
    owner = profile.table(table or objective.entity_table)
    assert owner is not None
    columns = [c for c in owner.columns if c.name in usable]
    expressions = [(quote_ident(c.name), c.kind in ("text", "boolean")) for c in columns]
    labelled = labelled_rows_sql(profile, objective, schema, table, join_column)
    shares = expression_shares(conn, objective, labelled, expressions)
    regression = objective.task == "regression"
    return [
        (
            column.name,
            f"explains {share:.0%} of the label's"
            f" {'rank variance' if regression else 'entropy'}: a near-copy of the label",
        )
        for column, (share, buckets) in zip(columns, shares, strict=True)
        if share >= copy_bar(objective, buckets)
    ]
