"""Keys made of two or three columns, and the foreign keys that reference them.

Some tables have no single identifying column: a weather table is keyed by (place, hour), a
label table with one row per entity and month by (entity, month), a price list by (store,
product, day). Such a key is found by its values alone, whatever the names: the columns are
never null, none is unique on its own, and together they are.

A child references a composite key when nearly all its distinct value tuples appear in it.
The time part may be *bucketed*: a flight's scheduled departure, truncated to the hour, is
the hour of the weather row it happened in; a timestamp read as a date is the day of a daily
table. Each parent time column is tried exact and, where its own values are aligned to an
hour or a day (the profile's min and max say so), truncated to that bucket.

Cost: each search is one batched query (``UNION ALL`` of one branch per candidate), and only
a bounded number of candidates is checked, the tightest first (the product of the columns'
distinct counts closest to the row count), so wide and large tables stay cheap. Tables that
have a single-column key are never searched.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations, product

import duckdb

from dagster_agentic.warehouse.connection import (
    INTEGER_TYPES,
    is_key_type,
    literal,
    qualified_name,
    quote_ident,
)
from dagster_agentic.warehouse.models import (
    ColumnProfile,
    CompositeRelationship,
    TableProfile,
    TimeBucket,
)

MAX_KEY_BRANCHES = 10
"""Column pairs (then triples) checked for joint uniqueness per table, the tightest first."""
MAX_BIG_TABLE_BRANCHES = 3
BIG_TABLE_ROWS = 1_000_000
"""Above this many rows only the tightest few candidates are checked (about 0.5 s each per
million rows on two cores)."""
MAX_KEY_COLUMNS = 6
"""Columns a triple is drawn from (the ones with the fewest distinct values)."""
MAX_COMPOSITE_ROWS = 5_000_000
"""Tables above this size are not searched: each branch hashes every row."""
SPREAD_SLACK = 0.9
"""Columns whose distinct counts multiply to less than this share of the rows cannot be a key."""
MIN_TUPLES = 20
"""Fewer distinct child tuples than this are too few to tell a reference from a coincidence."""
MAX_CHILD_COMBINATIONS = 8
"""Column combinations of one child tried against one parent key."""
MAX_REFERENCE_BRANCHES = 64


def _key_candidate(column: ColumnProfile, row_count: int) -> bool:
    return (
        column.null_fraction == 0.0
        and 2 <= column.distinct_count < row_count
        and (is_key_type(column.data_type) or column.kind == "temporal")
    )


def composite_keys(
    conn: duckdb.DuckDBPyConnection,
    source: str,
    columns: Sequence[ColumnProfile],
    row_count: int,
    *,
    prefix: str = "",
) -> tuple[tuple[str, ...], ...]:
    """Minimal column pairs, else triples, that are jointly unique and never null in ``source``.

    ``source`` is the SQL name of the relation; ``prefix`` a WITH clause that defines it (a
    view's columns materialised once, so the branches do not each re-run the view).
    """
    if not MIN_TUPLES <= row_count <= MAX_COMPOSITE_ROWS:
        return ()
    usable = [c for c in columns if _key_candidate(c, row_count)]
    found = _unique_sets(conn, prefix, source, usable, row_count, 2)
    if found:
        return found
    fewest = {c.name for c in sorted(usable, key=lambda c: c.distinct_count)[:MAX_KEY_COLUMNS]}
    few = [c for c in usable if c.name in fewest]  # in the table's order
    return _unique_sets(conn, prefix, source, few, row_count, 3)


def _unique_sets(
    conn: duckdb.DuckDBPyConnection,
    prefix: str,
    source: str,
    columns: Sequence[ColumnProfile],
    row_count: int,
    size: int,
) -> tuple[tuple[str, ...], ...]:
    def spread(group: tuple[ColumnProfile, ...]) -> int:
        total = 1
        for column in group:
            total *= column.distinct_count
        return total

    groups = sorted(
        # Distinct counts of big tables are estimates: a little slack, the check is exact.
        (g for g in combinations(columns, size) if spread(g) >= SPREAD_SLACK * row_count),
        key=lambda g: (spread(g), [c.name for c in g]),
    )[: MAX_KEY_BRANCHES if row_count <= BIG_TABLE_ROWS else MAX_BIG_TABLE_BRANCHES]
    if not groups:
        return ()
    branches = [
        f"SELECT {i} AS k, count(DISTINCT ({', '.join(quote_ident(c.name) for c in g)})) AS n "
        f"FROM {source}"
        for i, g in enumerate(groups)
    ]
    counts = dict(conn.execute(prefix + " UNION ALL ".join(branches)).fetchall())
    return tuple(
        tuple(c.name for c in g) for i, g in enumerate(groups) if int(counts[i]) == row_count
    )


def _hour_aligned(value: object) -> bool:
    return isinstance(value, str) and (len(value) == 10 or value.endswith(":00:00"))


def _day_aligned(value: object) -> bool:
    return isinstance(value, str) and (len(value) == 10 or value.endswith("T00:00:00"))


def _readings(child: ColumnProfile, key: ColumnProfile) -> list[TimeBucket | None]:
    """How ``child`` may be read to match ``key``: exactly, or truncated to the key's bucket."""
    a, b = child.data_type.upper(), key.data_type.upper()
    if child.kind == "temporal" and key.kind == "temporal":
        ways: list[TimeBucket | None] = []
        if a == b:
            ways.append(None)
        if b.startswith("DATE") or (_day_aligned(key.min) and _day_aligned(key.max)):
            ways.append("day")
        elif b.startswith("TIMESTAMP") and _hour_aligned(key.min) and _hour_aligned(key.max):
            ways.append("hour")
        return ways
    if (a in INTEGER_TYPES and b in INTEGER_TYPES) or (a == b and is_key_type(a)):
        lo, hi, key_lo, key_hi = child.min, child.max, key.min, key.max
        if (
            lo is not None
            and hi is not None
            and key_lo is not None
            and key_hi is not None
            and type(lo) is type(key_lo)
            and key_lo <= lo  # type: ignore[operator]
            and hi <= key_hi  # type: ignore[operator]
        ):
            return [None]
    return []


def read_sql(column_sql: str, bucket: TimeBucket | None) -> str:
    """A child column read as its composite-key part: as it is, or truncated to ``bucket``."""
    if bucket is None:
        return column_sql
    return f"date_trunc({literal(bucket)}, CAST({column_sql} AS TIMESTAMP))"


def discover_composite_relationships(
    conn: duckdb.DuckDBPyConnection,
    tables: Sequence[TableProfile],
    *,
    schema: str = "main",
    min_inclusion: float = 0.95,
) -> tuple[CompositeRelationship, ...]:
    """Child column tuples found in a parent's composite key (at most one per child and parent)."""
    candidates: list[tuple[TableProfile, TableProfile, tuple[str, ...], tuple, tuple]] = []
    for parent in tables:
        for key in parent.composite_keys:
            parts = [parent.column(name) for name in key]
            if any(p is None for p in parts):
                continue
            for child in tables:
                if child is parent:
                    continue
                options = []
                for part in parts:
                    assert part is not None
                    options.append(
                        [
                            (column.name, way)
                            for column in child.columns
                            if column.distinct_count > 0
                            for way in _readings(column, part)
                        ]
                    )
                combos = [
                    combo
                    for combo in product(*options)
                    if len({name for name, _ in combo}) == len(combo)
                ]
                # Exact readings first: a bucket is only tried where no exact match is possible.
                combos.sort(key=lambda combo: sum(way is not None for _, way in combo))
                for combo in combos[:MAX_CHILD_COMBINATIONS]:
                    names = tuple(name for name, _ in combo)
                    ways = tuple(way for _, way in combo)
                    candidates.append((child, parent, key, names, ways))
    candidates = candidates[:MAX_REFERENCE_BRANCHES]
    if not candidates:
        return ()
    branches = []
    for i, (child, parent, key, names, ways) in enumerate(candidates):
        reads = [read_sql(quote_ident(n), w) for n, w in zip(names, ways, strict=True)]
        values = ", ".join(f"{r} AS v{j}" for j, r in enumerate(reads))
        not_null = " AND ".join(f"{quote_ident(n)} IS NOT NULL" for n in names)
        keys = ", ".join(f"{quote_ident(k)} AS k{j}" for j, k in enumerate(key))
        on = " AND ".join(f"c.v{j} = p.k{j}" for j in range(len(key)))
        branches.append(
            f"SELECT {i} AS pair, count(*) AS n, count(p.k0) AS found "
            f"FROM (SELECT DISTINCT {values} FROM {qualified_name(schema, child.name)} "
            f"WHERE {not_null}) AS c "
            f"LEFT JOIN (SELECT {keys} FROM {qualified_name(schema, parent.name)}) AS p ON {on}"
        )
    rows = conn.execute(" UNION ALL ".join(branches)).fetchall()
    found: dict[tuple[str, str], CompositeRelationship] = {}
    for i, n, hits in sorted(rows):
        child, parent, key, names, ways = candidates[int(i)]
        if int(n) < MIN_TUPLES or int(hits) < min_inclusion * int(n):
            continue
        slot = (child.name, parent.name)
        if slot in found:  # exact readings were tried first
            continue
        found[slot] = CompositeRelationship(
            child_table=child.name,
            child_columns=names,
            parent_table=parent.name,
            parent_columns=key,
            buckets=ways,
            inclusion=round(int(hits) / int(n), 6),
        )
    return tuple(sorted(found.values(), key=lambda r: (r.child_table, r.parent_table)))
