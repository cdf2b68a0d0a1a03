"""What a table name in generated SQL may stand for: an allowed table, and nothing else.

DuckDB resolves a name that is not a table in several other ways: a file path or URL
(replacement scans: ``FROM 'x.csv'``, ``FROM "s3://b/k.parquet"``), a table of another attached
database (``other.main.t``, ``temp.t``, ``system.main.t``), a system view (``duckdb_tables``,
``information_schema.tables``, ``pg_catalog.pg_class``). Each is refused by its own rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from dagster_agentic.guardrails.sql_functions import denied, fold

DEFAULT_SCHEMA = "main"
SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "temp", "system", "memory"})
SYSTEM_VIEW_PREFIXES = ("duckdb_", "pragma_", "sqlite_", "pg_", "information_schema")

# A path separator, a drive or URL scheme, a glob, a home directory or a file extension.
_FILE_LIKE = re.compile(r"[./\\:*?~\[\]{}]")


def table_refusal(
    catalog: str, schema: str, name: str, allowed: set[str]
) -> tuple[str, str] | None:
    """``(rule, reason)`` when the table ``catalog.schema.name`` may not be read, else None.

    ``allowed`` holds folded ``schema.table`` names; an unqualified name means ``main.name``.
    """
    shown = ".".join(part for part in (catalog, schema, name) if part)
    if catalog:
        return "catalog", f"table {shown} names another database"
    folded_schema, folded_name = fold(schema), fold(name)
    if f"{folded_schema or DEFAULT_SCHEMA}.{folded_name}" in allowed:
        # A table of the warehouse's catalog, whatever its name holds: DuckDB reads a name as a
        # file (a replacement scan) only when no table of that name exists.
        return None
    if _FILE_LIKE.search(name):
        return "file_read", f"table name {name!r} reads a file or URL, not a table"
    if folded_schema in SYSTEM_SCHEMAS:
        return "catalog", f"table {shown} is a system view or another database"
    if not schema and (folded_name.startswith(SYSTEM_VIEW_PREFIXES) or denied(folded_name)):
        return "catalog", f"table {shown} is a system view"
    qualified = f"{folded_schema or DEFAULT_SCHEMA}.{folded_name}"
    if qualified in allowed or (not schema and folded_name in allowed):
        return None
    return "table", f"table {qualified} is not one the plan may read"


def fold_allowed(names: Iterable[str]) -> set[str]:
    """Allowed table names, folded the way DuckDB compares them (ASCII case only)."""
    return {fold(name) for name in names}
