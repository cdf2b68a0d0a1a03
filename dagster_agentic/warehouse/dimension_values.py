"""Every value of a dimension's name columns, so that goals can name them.

The profile lists every value of a column with few distinct values (``ColumnProfile.values``)
so that a goal's words ("accounts in Texas", "United Air Lines flights") can be matched to what
the data holds. A dimension's name column is unique: one row per state, per airline, per
store. The top values of a unique column say nothing (every count is 1) and are not kept, yet
these are exactly the values people write. So for every table that other tables reference, a
unique text column of at most ``TEXT_VALUES_MAX`` values is listed in full. Only tables that
are referenced are read this way: a unique text column of an entity (e-mail addresses, names
of people) is no vocabulary and stays out of the profile.
"""

from __future__ import annotations

import duckdb

from dagster_agentic.warehouse.connection import qualified_name, quote_ident, to_scalar
from dagster_agentic.warehouse.models import TEXT_VALUES_MAX, Relationship, TableProfile, TopValue


def with_dimension_values(
    conn: duckdb.DuckDBPyConnection,
    tables: tuple[TableProfile, ...],
    relationships: tuple[Relationship, ...],
    schema: str,
    max_chars: int,
) -> tuple[TableProfile, ...]:
    """``tables`` with ``values`` filled in for the unique text columns of referenced tables
    (one query per such table, at most ``TEXT_VALUES_MAX`` rows back)."""
    referenced = {r.parent_table for r in relationships}
    out = []
    for table in tables:
        wanted = [
            c
            for c in table.columns
            if table.name in referenced
            and c.kind == "text"
            and not c.values
            and c.null_fraction == 0
            and 1 < c.distinct_count <= TEXT_VALUES_MAX
            and c.distinct_count >= table.row_count * 0.99
        ]
        if not wanted:
            out.append(table)
            continue
        found: dict[str, tuple[TopValue, ...]] = {}
        for column in wanted:
            q = quote_ident(column.name)
            rows = conn.execute(
                f"SELECT {q}, count(*) AS n FROM {qualified_name(schema, table.name)} WHERE {q}"
                f" IS NOT NULL AND length(CAST({q} AS VARCHAR)) <= {max_chars} GROUP BY {q}"
                f" ORDER BY n DESC, {q} LIMIT {TEXT_VALUES_MAX + 1}"
            ).fetchall()
            if len(rows) <= TEXT_VALUES_MAX:
                found[column.name] = tuple(
                    TopValue(value=to_scalar(v), count=int(n)) for v, n in rows
                )
        out.append(
            table.model_copy(
                update={
                    "columns": tuple(
                        c.model_copy(update={"values": found[c.name]}) if c.name in found else c
                        for c in table.columns
                    )
                }
            )
        )
    return tuple(out)
