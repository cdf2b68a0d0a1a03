"""Entity columns that copy the label: leakage suspects found from binned counts in DuckDB.

A column whose buckets determine the label (or, for regression, explain nearly all of the
target's rank variance) is a near-copy of the outcome, recorded with it rather than before
it; it never becomes a feature. Only counts per bucket leave the warehouse.
"""

from __future__ import annotations

from collections import defaultdict

import duckdb

from dagster_agentic.goals.objective import Objective
from dagster_agentic.warehouse.connection import qualified_name, quote_ident
from dagster_agentic.warehouse.models import WarehouseProfile

NEAR_COPY_UNCERTAINTY = 0.8
"""Share of the label's entropy a column's buckets must remove to be a near-copy."""
BUCKETS = 20


def label_copies(
    conn: duckdb.DuckDBPyConnection,
    profile: WarehouseProfile,
    objective: Objective,
    usable: set[str],
    schema: str,
) -> list[tuple[str, str]]:
    """(column, evidence) of the entity's ``usable`` columns whose binned values determine
    the label, for every task: the share of
    the label's entropy the buckets remove (classification, the label encoded as training
    encodes it) or of the target's rank variance they explain (regression, where a copy cut
    into k equal buckets explains ``1 - 1/k**2`` of it, so the bar is a share of that)."""
    from dagster_agentic.features.label import class_count, label_sql, labelled_sql
    from dagster_agentic.features.screening_stats import explained_share, merge

    entity = profile.table(objective.entity_table)
    assert entity is not None
    columns = [c for c in entity.columns if c.name in usable]
    if not columns:
        return []
    labels = qualified_name(schema, objective.label_table)
    target = f"l.{quote_ident(objective.target_column)}"
    regression = objective.task == "regression"
    base = (
        f"SELECT {label_sql(objective, target)} AS y, e.* FROM {labels} AS l JOIN "
        f"{qualified_name(schema, entity.name)} AS e "
        f"ON e.{quote_ident(objective.entity_key)} = l.{quote_ident(objective.label_key)} "
        f"WHERE {labelled_sql(objective, target)}"
    )
    if regression:  # the target's midrank, scaled into (0, 1): robust to skew and outliers
        base = (
            "SELECT *, (rank() OVER (ORDER BY y) + (count(*) OVER (PARTITION BY y) - 1) / 2.0"
            f" - 0.5) / count(*) OVER () AS __agentic_target_rank FROM ({base})"
        )
    stats = (
        "sum(__agentic_target_rank), sum(__agentic_target_rank * __agentic_target_rank)"
        if regression
        else "y, 0"
    )
    group = "b" if regression else "b, y"
    branches = []
    for i, column in enumerate(columns):
        col = quote_ident(column.name)
        bucket = (
            f"CAST({col} AS VARCHAR)"
            if column.kind in ("text", "boolean")
            else f"CAST(floor(cume_dist() OVER (PARTITION BY {col} IS NULL ORDER BY {col})"
            f" * {BUCKETS - 1}) AS VARCHAR)"
        )
        branches.append(
            f"SELECT {i} AS c, b, count(*) AS n, {stats} FROM (SELECT *, CASE WHEN {col} IS NULL"
            f" THEN 'null' ELSE {bucket} END AS b FROM labelled) GROUP BY {group}"
        )
    rows = conn.execute(f"WITH labelled AS ({base}) " + " UNION ALL ".join(branches)).fetchall()
    classes = class_count(objective)
    cells: dict[int, list[tuple[str, int, tuple[float, ...]]]] = defaultdict(list)
    for c, b, n, first, second in rows:
        if regression:
            cells[int(c)].append((str(b), int(n), (float(first), float(second))))
        else:
            counts = tuple(float(n) if k == int(first) else 0.0 for k in range(classes))
            cells[int(c)].append((str(b), int(n), counts))
    found = []
    for i, column in enumerate(columns):
        merged = merge(cells[i])
        u = explained_share(merged, regression=regression)
        bar = NEAR_COPY_UNCERTAINTY
        if regression:
            bar = 0.9 * (1 - 1 / max(2, len(merged)) ** 2)
        if u >= bar:
            found.append(
                (
                    column.name,
                    f"explains {u:.0%} of the label's"
                    f" {'rank variance' if regression else 'entropy'}: a near-copy of the label",
                )
            )
    return found
