"""What pulling a table out of the warehouse whole would cost, measured in the warehouse.

The peer of the agent's egress: a pipeline that loads the raw tables into pandas moves
about this many bytes (8 per fixed-width value, the bytes of each string). One aggregate
query per table; nothing but the total leaves.
"""

from __future__ import annotations

import duckdb

from dagster_agentic.warehouse.connection import quote_ident
from dagster_agentic.warehouse.models import TableProfile

_FIXED_WIDTH = 8


def table_memory_bytes(
    conn: duckdb.DuckDBPyConnection, table: TableProfile, *, schema: str = "main"
) -> int:
    text = [c.name for c in table.columns if c.kind == "text"]
    fixed = len(table.columns) - len(text)
    string_bytes = (
        " + ".join(f"coalesce(sum(strlen(CAST({quote_ident(c)} AS VARCHAR))), 0)" for c in text)
        or "0"
    )
    row = conn.execute(
        f"SELECT count(*) * {fixed * _FIXED_WIDTH} + {string_bytes}"
        f" FROM {quote_ident(schema)}.{quote_ident(table.name)}"
    ).fetchone()
    return int(row[0]) if row else 0
