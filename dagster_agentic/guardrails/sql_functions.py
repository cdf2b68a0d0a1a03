"""Which functions generated SQL may call: DuckDB's own built-ins, less those that look outside.

An allow-list first: a function must be one DuckDB ships as a scalar, aggregate, window or
macro function (listed from ``duckdb_functions()`` of an empty in-memory database), so a macro
defined in the warehouse or a function an extension would autoload is refused. Then a deny list
on top, for built-ins that read the environment, files, settings, the catalog or session state,
change state (sequences, the random seed, logging) or run SQL of their own.
"""

from __future__ import annotations

from functools import lru_cache

DENIED_PREFIXES: tuple[str, ...] = (
    "read_",  # read_csv, read_text, read_blob, read_json_objects ...
    "duckdb_",  # catalog, settings, secrets, logs, memory
    "pragma_",
    "sqlite_",
    "postgres_",
    "mysql_",
    "iceberg_",
    "delta_",
    "parquet_",  # parquet_scan, parquet_metadata ...
    "http_",
    "https_",
    "s3_",
    "azure_",
    "gcs_",
    "ducklake_",
    "json_execute",
    "json_serialize",
    "json_deserialize",
    "pg_",  # PostgreSQL catalog compatibility: pg_get_viewdef, pg_sleep ...
    "has_",  # has_table_privilege and friends: catalog look-ups
    "current_",  # current_setting, current_query, current_user ... (two exceptions below)
    "__internal",
    "enable_",
    "disable_",
    "register_",
    "deregister_",
    "create_",
    "destroy_",
    "truncate_",
    "force_",
    "test_",
    "load_",
    "install_",
    "icu_",
    "arrow_",
    "pandas_",
    "python_",
)

DENIED_NAMES = frozenset(
    {
        # environment, settings, session
        "getenv",
        "getvariable",
        "current_setting",
        "which_secret",
        "user",
        "session_user",
        "user_agent",
        "in_search_path",
        "extension_versions",
        "txid_current",
        "col_description",
        "obj_description",
        "shobj_description",
        "format_pg_type",
        "map_to_pg_oid",
        "map_type_id_to_pg_oid",
        "stats",
        "write_log",
        "parse_duckdb_log_message",
        # files, URLs, other databases, SQL of its own
        "glob",
        "query",
        "query_table",
        "sniff_csv",
        "scan_arrow_ipc",
        "seq_scan",
        "summary",
        "import_database",
        "copy_database",
        "database_list",
        "database_size",
        "show_databases",
        "checkpoint",
        "add_grammar_extension",
        "remove_grammar_extension",
        # state changes
        "nextval",
        "currval",
        "setval",
        "setseed",
        # generators and unbounded work (the product never needs them)
        "range",
        "generate_series",
        "repeat_row",
        # Output sized by an argument's value, not by rows: DuckDB folds constant calls while it
        # plans, before the watchdog can interrupt anything (``repeat('x', 1e9)`` planned for
        # 20 s here with a 2 s limit).
        "repeat",
        "lpad",
        "rpad",
        "list_resize",
        "array_resize",
        "bar",
        "histogram_values",
        "sleep_ms",
    }
)

ALLOWED_CURRENT = frozenset(
    {"current_database", "current_schema", "current_date", "current_timestamp", "current_time"}
)
"""``current_*`` functions that are fine: the names of the warehouse itself, the clock."""


@lru_cache(maxsize=1)
def builtin_functions() -> frozenset[str]:
    """Names of DuckDB's built-in scalar, aggregate, window and macro functions."""
    import duckdb

    with duckdb.connect(":memory:", config=_LOCKED) as conn:
        rows = conn.execute(
            "SELECT DISTINCT lower(function_name) FROM duckdb_functions()"
            " WHERE internal AND function_type IN ('scalar', 'aggregate', 'window', 'macro')"
        ).fetchall()
    return frozenset(str(row[0]) for row in rows)


_LOCKED: dict[str, str | bool | int | float | list[str]] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}
"""An in-memory DuckDB that can reach nothing: used only to list and parse, never for data."""


def denied(name: str) -> bool:
    """A function name on the deny list (whether or not DuckDB has it)."""
    folded = fold(name)
    if folded in ALLOWED_CURRENT:
        return False
    return folded in DENIED_NAMES or folded.startswith(DENIED_PREFIXES)


def function_refusal(name: str) -> str | None:
    """Why a call of ``name`` is refused, or None when it may be called."""
    folded = fold(name)
    if denied(folded):
        return f"function {name}() reads outside the query (environment, files, catalog, state)"
    if folded not in builtin_functions():
        return f"function {name}() is not a DuckDB built-in (a macro or an extension's?)"
    return None


def fold(name: str) -> str:
    """DuckDB folds identifier case in ASCII only; so does the policy (no Unicode casefold)."""
    return name.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
