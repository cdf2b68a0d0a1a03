"""Profile a DuckDB warehouse in place: only aggregates leave the database.

Why it takes seconds, not minutes, on a table of 10 million rows:

* **One aggregate query per table** computes every per-column statistic (non-null count,
  min/max, mean/stddev and, on big tables, ``approx_count_distinct``), so DuckDB scans the table
  once, in parallel, whatever its width.
* **Exact distinct counts only where affordable**: up to :data:`EXACT_DISTINCT_MAX_ROWS` rows,
  exact counts for every column, so small tables give exact candidate keys. They run as one
  ``UNION ALL`` query of single-column branches: DuckDB evaluates many DISTINCT aggregates in one
  SELECT serially but plans each branch as its own pipeline (about four times faster on wide
  tables). Integer columns with a bounded range are counted with ``bitstring_agg`` (one bit per
  possible value), still exact and far cheaper than hashing. Above the threshold, HyperLogLog
  estimates, and only the columns that look unique are confirmed exactly against ``count(*)``.
* **One top-values query per table**: per-column ``GROUP BY ... ORDER BY count DESC, value LIMIT
  k`` branches joined with ``UNION ALL BY NAME``, so values keep their types and DuckDB's top-N
  operator never sorts whole groups. Unique columns are skipped (every count would be 1).
* **Relationships** are checked by joins inside DuckDB (see ``relationships.py``).

No table is ever fetched into Python: the largest result is ``top_k`` rows per column.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from dagster_agentic.errors import WarehouseError
from dagster_agentic.warehouse.composite import (
    composite_keys,
    discover_composite_relationships,
)
from dagster_agentic.warehouse.connection import (
    INTEGER_TYPES,
    ColumnKind,
    EgressLedger,
    Warehouse,
    column_kind,
    finite_float,
    is_key_type,
    iso_text,
    qualified_name,
    quote_ident,
    resolve_tables,
    table_columns,
    to_scalar,
)
from dagster_agentic.warehouse.dimension_values import with_dimension_values
from dagster_agentic.warehouse.models import (
    ALL_VALUES_MAX,
    TEXT_VALUES_MAX,
    ColumnProfile,
    ScalarValue,
    TableProfile,
    TopValue,
    WarehouseProfile,
)
from dagster_agentic.warehouse.relationships import discover_relationships, singular

EXACT_DISTINCT_MAX_ROWS = 1_000_000
LOW_CARDINALITY = 100
"""Numeric columns with at most this many distinct values get top values (codes, ratings)."""
MAX_TEXT_CHARS = 200
"""Text values in a profile are cut to this length: a profile is a summary, not a copy."""
BITMAP_MAX_SPAN = 1 << 27
"""Integer columns spanning fewer values are counted exactly with a bitmap (16 MiB at most)."""
LOOKS_UNIQUE = 0.9
"""Estimated distinct / rows above which a big-table column is checked exactly for a key."""


@dataclass
class _Stats:
    name: str
    data_type: str
    kind: ColumnKind
    non_null: int
    distinct: int
    min: ScalarValue = None
    max: ScalarValue = None
    mean: float | None = None
    stddev: float | None = None


_CTE = "__profiled_view"


@dataclass(frozen=True)
class _Source:
    """What a profiling query reads: a qualified table or view name."""

    sql: str
    is_view: bool

    def for_branches(self, columns: Sequence[str]) -> tuple[str, str]:
        """(WITH prefix, name to select from) for a UNION of per-column branches.

        Over a base table each branch reads one column, which is cheap; over a view each branch
        would re-run the view (joins and all), so the needed columns are materialised once,
        inside DuckDB.
        """
        if not self.is_view:
            return "", self.sql
        cols = ", ".join(quote_ident(c) for c in dict.fromkeys(columns))
        return f"WITH {_CTE} AS MATERIALIZED (SELECT {cols} FROM {self.sql}) ", _CTE


def profile_warehouse(
    warehouse: Warehouse,
    *,
    schema: str = "main",
    tables: Sequence[str] | None = None,
    top_k: int = 10,
    ledger: EgressLedger | None = None,
) -> WarehouseProfile:
    """Profile the tables and views of ``schema`` (or just ``tables``) and their relationships.

    The profile's serialised size is recorded in ``ledger`` as purpose ``"profile"`` with zero
    rows: no table row leaves the warehouse, only this summary.
    """
    with warehouse.connect(read_only=True) as conn:
        selected = resolve_tables(conn, schema, tables)
        profiles = tuple(profile_table(conn, t, schema=schema, top_k=top_k) for t in selected)
        relationships = discover_relationships(conn, profiles, schema=schema)
        composite = discover_composite_relationships(conn, profiles, schema=schema)
        profiles = with_dimension_values(conn, profiles, relationships, schema, MAX_TEXT_CHARS)
        row = conn.execute("SELECT current_database()").fetchone()
        database = str(row[0]) if row else ""
    profile = WarehouseProfile(
        tables=profiles,
        name=database if schema == "main" else f"{database} {schema}",
        relationships=relationships,
        composite_relationships=composite,
        fingerprint=schema_fingerprint(profiles),
    )
    if ledger is not None:
        ledger.record("profile", len(profile.model_dump_json().encode()), 0)
    return profile


def schema_fingerprint(tables: Sequence[TableProfile]) -> str:
    """sha256 of the sorted (table, column, type) triples, first 16 hex characters."""
    return triples_fingerprint((t.name, c.name, c.data_type) for t in tables for c in t.columns)


def catalog_triples(warehouse: Warehouse, *, schema: str = "main") -> set[tuple[str, str, str]]:
    """(table, column, type) of every column of ``schema``, from the catalog alone (cheap)."""
    with warehouse.connect(read_only=True) as conn:
        return {
            (name, column, data_type)
            for table in resolve_tables(conn, schema)
            for name, columns, _ in [table_columns(conn, table, schema)]
            for column, data_type in columns
        }


def triples_fingerprint(triples: Iterable[tuple[str, str, str]]) -> str:
    """sha256 of the sorted (table, column, type) triples, first 16 hex characters."""
    return hashlib.sha256(json.dumps(sorted(triples)).encode()).hexdigest()[:16]


def profile_table(
    conn: duckdb.DuckDBPyConnection, table: str, *, schema: str = "main", top_k: int = 10
) -> TableProfile:
    """Profile one table or view with four aggregate queries, whatever its size or width."""
    name, columns, is_view = table_columns(conn, table, schema)
    try:
        source = _Source(qualified_name(schema, name), is_view)
        return _profile(conn, name, schema, columns, source, top_k)
    except duckdb.Error as exc:  # a view over a dropped table, an unreadable column type, ...
        raise WarehouseError(
            f"cannot profile {schema}.{name}: {exc}",
            fix="repair or drop the table or view, or leave it out with tables=[...]",
        ) from exc


def _profile(
    conn: duckdb.DuckDBPyConnection,
    name: str,
    schema: str,
    columns: list[tuple[str, str]],
    source: _Source,
    top_k: int,
) -> TableProfile:
    row_count = int(_one(conn, f"SELECT count(*) FROM {source.sql}")[0])
    exact = row_count <= EXACT_DISTINCT_MAX_ROWS
    stats = _column_stats(conn, source, columns, estimate_distinct=not exact)
    if exact:
        for s, count in zip(stats, _exact_distinct(conn, source, stats), strict=True):
            s.distinct = count
    keys = _candidate_keys(conn, source, name, stats, row_count, exact)
    # One query lists the top values and, for low-cardinality columns, every value.
    everything = max(top_k, ALL_VALUES_MAX, TEXT_VALUES_MAX) if top_k > 0 else 0
    tops = _top_values(conn, source, stats, everything, top_k)
    table_comment, column_comments = _comments(conn, schema, name)
    columns_out = []
    for s in stats:
        found = tops.get(s.name, ())
        limit = TEXT_VALUES_MAX if s.kind == "text" else ALL_VALUES_MAX
        complete = 0 < s.distinct <= limit and len(found) >= s.distinct
        columns_out.append(
            _column_profile(s, row_count, found[:top_k]).model_copy(
                update={
                    "values": found if complete else (),
                    "comment": column_comments.get(s.name),
                }
            )
        )
    composite: tuple[tuple[str, ...], ...] = ()
    if not keys:
        prefix, target = source.for_branches([s.name for s in stats])
        composite = composite_keys(conn, target, columns_out, row_count, prefix=prefix)
    return TableProfile(
        name=name,
        schema_name=schema,
        row_count=row_count,
        comment=table_comment,
        columns=tuple(columns_out),
        candidate_keys=keys,
        composite_keys=composite,
    )


def _comments(
    conn: duckdb.DuckDBPyConnection, schema: str, table: str
) -> tuple[str | None, dict[str, str]]:
    """The catalog's comments on the table and its columns (``COMMENT ON``), trimmed."""
    row = conn.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = ? AND table_name = ? "
        "UNION ALL SELECT comment FROM duckdb_views() WHERE schema_name = ? AND view_name = ?",
        [schema, table, schema, table],
    ).fetchone()
    columns = conn.execute(
        "SELECT column_name, comment FROM duckdb_columns() "
        "WHERE schema_name = ? AND table_name = ? AND comment IS NOT NULL",
        [schema, table],
    ).fetchall()
    return _trim(row[0] if row else None), {
        str(c): text for c, comment in columns if (text := _trim(comment)) is not None
    }


def _trim(comment: object) -> str | None:
    if not isinstance(comment, str) or not comment.strip():
        return None
    return " ".join(comment.split())[:MAX_TEXT_CHARS]


def _one(conn: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    row = conn.execute(sql).fetchone()
    assert row is not None  # an aggregate without GROUP BY always returns one row
    return tuple(row)


def _column_stats(
    conn: duckdb.DuckDBPyConnection,
    source: _Source,
    columns: list[tuple[str, str]],
    *,
    estimate_distinct: bool,
) -> list[_Stats]:
    """Every per-column aggregate of the table in one query (one scan)."""
    exprs = [
        expr
        for i, (name, data_type) in enumerate(columns)
        for expr in _aggregates(i, quote_ident(name), column_kind(data_type), estimate_distinct)
    ]
    cursor = conn.execute(f"SELECT {', '.join(exprs)} FROM {source.sql}")
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    assert row is not None
    values = dict(zip(names, row, strict=True))
    stats = []
    for i, (name, data_type) in enumerate(columns):
        kind = column_kind(data_type)
        non_null = int(values[f"nn_{i}"])
        convert = iso_text if kind == "temporal" else to_scalar
        stats.append(
            _Stats(
                name=name,
                data_type=data_type,
                kind=kind,
                non_null=non_null,
                # HyperLogLog may overshoot; exact counts replace this when affordable.
                distinct=min(int(values.get(f"nd_{i}") or 0), non_null),
                min=convert(values.get(f"lo_{i}")),
                max=convert(values.get(f"hi_{i}")),
                mean=finite_float(values.get(f"mean_{i}")),
                stddev=finite_float(values.get(f"sd_{i}")),
            )
        )
    return stats


def _aggregates(i: int, q: str, kind: ColumnKind, estimate_distinct: bool) -> list[str]:
    """SQL aggregates of one column, aliased by column position."""
    exprs = [f"count({q}) AS nn_{i}"]
    if estimate_distinct:
        exprs.append(f"approx_count_distinct({q}) AS nd_{i}")
    if kind == "numeric":
        exprs += [f"min({q}) AS lo_{i}", f"max({q}) AS hi_{i}"]
        exprs += [f"avg({q})::DOUBLE AS mean_{i}", f"stddev_samp({q})::DOUBLE AS sd_{i}"]
    elif kind == "temporal":
        # Cast in SQL: DuckDB's text survives dates Python cannot represent (infinity, year 10000).
        exprs += [f"CAST(min({q}) AS VARCHAR) AS lo_{i}", f"CAST(max({q}) AS VARCHAR) AS hi_{i}"]
    elif kind == "text":
        exprs += [f"left(CAST(min({q}) AS VARCHAR), {MAX_TEXT_CHARS}) AS lo_{i}"]
        exprs += [f"left(CAST(max({q}) AS VARCHAR), {MAX_TEXT_CHARS}) AS hi_{i}"]
    return exprs


def _exact_distinct(
    conn: duckdb.DuckDBPyConnection, source: _Source, stats: Sequence[_Stats]
) -> list[int]:
    """Exact distinct non-null counts, one UNION ALL branch per column (see module docstring)."""
    if not stats:
        return []

    prefix, target = source.for_branches([s.name for s in stats])

    def run(use_bitmaps: bool) -> list[int]:
        branches = [
            f"SELECT {i} AS col, {_distinct_expr(s, use_bitmaps)} AS n FROM {target}"
            for i, s in enumerate(stats)
        ]
        counts = dict(conn.execute(prefix + " UNION ALL ".join(branches)).fetchall())
        return [int(counts[i]) for i in range(len(stats))]

    try:
        return run(use_bitmaps=True)
    except duckdb.OutOfRangeException:
        # A value outside the profiled min/max: the table changed between two queries.
        return run(use_bitmaps=False)


def _distinct_expr(s: _Stats, use_bitmaps: bool) -> str:
    q = quote_ident(s.name)
    lo, hi = s.min, s.max
    if (
        use_bitmaps
        and s.data_type in INTEGER_TYPES
        and isinstance(lo, int)
        and isinstance(hi, int)
        and hi - lo < BITMAP_MAX_SPAN
    ):
        # One bit per possible value, OR-ed across threads: exact, and about ten times faster
        # than hashing (0.2 s instead of 2-4 s for 10 million ids).
        return f"bit_count(bitstring_agg({q}, {lo}, {hi}))"
    return f"count(DISTINCT {q})"


def _candidate_keys(
    conn: duckdb.DuckDBPyConnection,
    source: _Source,
    table: str,
    stats: list[_Stats],
    row_count: int,
    exact: bool,
) -> tuple[str, ...]:
    """Unique, never-null identifier columns, id-like names first; exact on big tables too."""
    threshold = row_count if exact else LOOKS_UNIQUE * row_count
    possible = [
        s
        for s in stats
        if 0 < row_count == s.non_null and is_key_type(s.data_type) and s.distinct >= threshold
    ]
    if possible and not exact:
        for s, count in zip(possible, _exact_distinct(conn, source, possible), strict=True):
            s.distinct = count  # now exact, for keys and near-misses alike
        possible = [s for s in possible if s.distinct == row_count]
    own_id = f"{singular(table)}_id"

    def preference(s: _Stats) -> tuple[bool, bool]:
        lower = s.name.lower()
        return lower not in ("id", own_id), not lower.endswith("id")

    return tuple(s.name for s in sorted(possible, key=preference))


def _top_values(
    conn: duckdb.DuckDBPyConnection,
    source: _Source,
    stats: list[_Stats],
    top_k: int,
    unique_max: int,
) -> dict[str, tuple[TopValue, ...]]:
    """Most frequent values of the eligible columns, in one ``UNION ALL BY NAME`` query; a
    unique column only when it has at most ``unique_max`` values (a dimension's names are
    listed in full by ``dimension_values`` instead)."""
    chosen = [(i, s) for i, s in enumerate(stats) if top_k > 0 and _wants_top_values(s, unique_max)]
    if not chosen:
        return {}
    prefix, target = source.for_branches([s.name for _, s in chosen])
    branches = []
    for i, s in chosen:
        q = quote_ident(s.name)
        # A value longer than the profile keeps is no category: cut, it would be written into
        # feature SQL and expectations as a literal that no row holds.
        fits = f" AND length(CAST({q} AS VARCHAR)) <= {MAX_TEXT_CHARS}" if s.kind == "text" else ""
        # ORDER BY + LIMIT per branch lets DuckDB use its top-N operator, never a full sort.
        branches.append(
            f"(SELECT {i} AS col, {q} AS v{i}, count(*) AS n FROM {target} "
            f"WHERE {q} IS NOT NULL{fits} GROUP BY {q} ORDER BY n DESC, v{i} LIMIT {top_k})"
        )
    cursor = conn.execute(prefix + " UNION ALL BY NAME ".join(branches))
    names = [d[0] for d in cursor.description]
    found: dict[int, list[tuple[int, Any]]] = {}
    for row in cursor.fetchall():
        record = dict(zip(names, row, strict=True))
        i = int(record["col"])
        found.setdefault(i, []).append((int(record["n"]), record[f"v{i}"]))
    # UNION ALL keeps no order: restore each branch's own (count desc, value asc).
    return {
        stats[i].name: tuple(
            TopValue(value=to_scalar(value), count=n)
            for n, value in sorted(pairs, key=lambda p: (-p[0], p[1]))
        )
        for i, pairs in found.items()
    }


def _wants_top_values(s: _Stats, top_k: int) -> bool:
    if s.non_null == 0 or (s.distinct == s.non_null and s.distinct > top_k):
        return False  # empty, or unique: every count would be 1
    if s.kind in ("text", "boolean"):
        return True
    return s.kind == "numeric" and s.distinct <= LOW_CARDINALITY


def _column_profile(s: _Stats, row_count: int, tops: tuple[TopValue, ...]) -> ColumnProfile:
    return ColumnProfile(
        name=s.name,
        data_type=s.data_type,
        kind=s.kind,
        null_fraction=(row_count - s.non_null) / row_count if row_count else 0.0,
        distinct_count=s.distinct,
        min=s.min,
        max=s.max,
        mean=s.mean,
        stddev=s.stddev,
        top_values=tops,
    )
