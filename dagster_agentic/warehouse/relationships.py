"""Foreign keys discovered from names and values, for warehouses never seen before.

A relationship is always child (many) -> parent (one), where the parent column is a candidate
key of the parent table. Two kinds of evidence:

* **name**: the child column is named after the parent (``customer_id`` -> ``customers.id`` or
  ``customers.customer_id``; plural table names are singularised).
* **values**: nearly all distinct non-null child values appear in the parent key.

Inclusion is computed in DuckDB: the distinct child values are left-joined to the parent key and
counted, so only two integers per pair leave the warehouse, and all pairs go in one query.
Value-only matches are guarded against coincidences that small integers make easy (a ``quantity``
in 1..5 is "included" in every id column): the child needs >= 20 distinct values or a key-like
name, its range must lie within the parent's, and, for integers, span at least half of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import duckdb

from dagster_agentic.warehouse.connection import (
    INTEGER_TYPES,
    is_key_type,
    qualified_name,
    quote_ident,
)
from dagster_agentic.warehouse.models import ColumnProfile, Relationship, TableProfile

GENERIC_KEY_NAMES = frozenset({"id", "key", "pk", "uuid", "code", "name", "value"})
KEY_SUFFIXES = ("_id", "_key", "_code", "_ref", "_fk", "_uuid", "id")
TABLE_PREFIXES = ("dim_", "fact_", "fct_", "stg_", "raw_", "tbl_", "src_")
MIN_DISTINCT_FOR_VALUES = 20
MIN_SPAN_COVERAGE = 0.5
NAME_ONLY_MIN_INCLUSION = 0.5
"""A name match with fewer child values found than this is a naming coincidence, not a key."""

_STRONG_NAME, _SAME_NAME = 2, 1

Evidence = Literal["name", "values", "name_and_values"]
_EVIDENCE_RANK: dict[str, int] = {"name_and_values": 3, "name": 2, "values": 1}


def singular(word: str) -> str:
    """English singular of a table name: companies -> company, addresses -> address."""
    w = word.lower()
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("sses", "xes", "ches", "shes", "zes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def table_stems(table: str) -> frozenset[str]:
    """Names a column may use to refer to ``table``: the name, its singular, unprefixed forms."""
    names = {table.lower()}
    names |= {
        name[len(prefix) :]
        for name in names
        for prefix in TABLE_PREFIXES
        if name.startswith(prefix)
    }
    return frozenset(names | {singular(name) for name in names})


def strip_key_suffix(column: str) -> str:
    """``customer_id`` -> ``customer``; names without a key suffix are returned unchanged."""
    c = column.lower()
    for suffix in KEY_SUFFIXES:
        if c.endswith(suffix) and len(c) > len(suffix):
            return c[: -len(suffix)].rstrip("_")
    return c


def has_key_name(column: str) -> bool:
    """``*_id``, ``*_key``, ``customerId``...; a bare ``id`` suffix is not enough (``paid``)."""
    c = column.lower()
    camel_id = column.endswith(("Id", "ID")) and len(column) > 2 and column[-3].isalpha()
    return c in GENERIC_KEY_NAMES or c.endswith(KEY_SUFFIXES[:-1]) or camel_id


def name_match(column: str, parent_table: str, parent_key: str) -> int:
    """Strength of the naming evidence that ``column`` refers to ``parent_table.parent_key``.

    2: the column names the parent table (``customer_id`` -> customers.id / .customer_id, also
    role-playing ``billing_customer_id``); 1: same non-generic column name (``sku`` -> ``sku``);
    0: no naming evidence.
    """
    col, key = column.lower(), parent_key.lower()
    stems = table_stems(parent_table)
    for stem in stems:
        if col in (f"{stem}_{key}", f"{stem}{key}") or col.endswith(f"_{stem}_{key}"):
            return _STRONG_NAME
    if key in GENERIC_KEY_NAMES or not (col == key or col.endswith(f"_{key}")):
        return 0
    return _STRONG_NAME if strip_key_suffix(key) in stems else _SAME_NAME


@dataclass(frozen=True)
class _Pair:
    child: TableProfile
    column: ColumnProfile
    parent: TableProfile
    key: ColumnProfile
    name_strength: int


def discover_relationships(
    conn: duckdb.DuckDBPyConnection,
    tables: Sequence[TableProfile],
    *,
    schema: str = "main",
    min_inclusion: float = 0.95,
) -> tuple[Relationship, ...]:
    """Many-to-one relationships among ``tables``, at most one parent per child column."""
    pairs = _candidate_pairs(tables, min_inclusion)
    inclusions = _inclusions(conn, pairs, schema)
    best: dict[tuple[str, str], tuple[tuple[int, int, float, int], Relationship]] = {}
    for pair, inclusion in zip(pairs, inclusions, strict=True):
        relationship = _judge(pair, inclusion, min_inclusion)
        if relationship is None:
            continue
        rank = _EVIDENCE_RANK[relationship.evidence]
        # Tie-break on the smallest parent: values found in a smaller key set are stronger evidence.
        score = (rank, pair.name_strength, inclusion, -pair.key.distinct_count)
        slot = (pair.child.name, pair.column.name)
        if slot not in best or score > best[slot][0]:
            best[slot] = (score, relationship)
    found = [relationship for _, relationship in best.values()]
    return tuple(sorted(found, key=lambda r: (r.child_table, r.child_column, r.parent_table)))


def _judge(pair: _Pair, inclusion: float, min_inclusion: float) -> Relationship | None:
    evidence: Evidence
    if pair.name_strength:
        if inclusion < NAME_ONLY_MIN_INCLUSION:
            return None
        evidence = "name_and_values" if inclusion >= min_inclusion else "name"
    elif inclusion >= min_inclusion:
        evidence = "values"
    else:
        return None
    return Relationship(
        child_table=pair.child.name,
        child_column=pair.column.name,
        parent_table=pair.parent.name,
        parent_column=pair.key.name,
        inclusion=round(inclusion, 6),
        evidence=evidence,
    )


def _candidate_pairs(tables: Sequence[TableProfile], min_inclusion: float) -> list[_Pair]:
    """Pairs worth an inclusion query; value-only pairs only for columns without a name match."""
    parents = [
        (table, key)
        for table in tables
        for name in table.candidate_keys
        if (key := table.column(name)) is not None
    ]
    pairs: list[_Pair] = []
    for child in tables:
        for column in child.columns:
            if column.distinct_count == 0 or not is_key_type(column.data_type):
                continue
            named, valued = [], []
            for parent, key in parents:
                if parent is child and key.name == column.name:
                    continue
                if not _compatible(column, key):
                    continue
                strength = name_match(column.name, parent.name, key.name)
                if column.name in child.candidate_keys and not _extension_ok(child, column, parent):
                    continue
                pair = _Pair(child, column, parent, key, strength)
                if strength:
                    named.append(pair)
                elif _values_plausible(column, key, min_inclusion):
                    valued.append(pair)
            pairs.extend(named or valued)
    return pairs


def _compatible(column: ColumnProfile, key: ColumnProfile) -> bool:
    a, b = column.data_type.upper(), key.data_type.upper()
    return (a in INTEGER_TYPES and b in INTEGER_TYPES) or a == b


def _extension_ok(child: TableProfile, column: ColumnProfile, parent: TableProfile) -> bool:
    """A unique child column is a 1-1 extension only when it names the parent, not the child."""
    if parent is child:
        return False
    stem = strip_key_suffix(column.name)
    return stem in table_stems(parent.name) and stem not in table_stems(child.name)


def _values_plausible(column: ColumnProfile, key: ColumnProfile, min_inclusion: float) -> bool:
    """Cheap filters from the profiles, before any SQL: most value-only pairs stop here."""
    if not (has_key_name(column.name) or column.distinct_count >= MIN_DISTINCT_FOR_VALUES):
        return False
    # Approximate distinct counts (big tables) get 5% slack.
    if column.distinct_count * min_inclusion > key.distinct_count * 1.05:
        return False
    return _range_fits(column, key)


def _range_fits(column: ColumnProfile, key: ColumnProfile) -> bool:
    """The child's range lies within the parent's; integers must also span half of it, since
    any small-integer column fits inside a dense 1..n id range."""
    bounds = (column.min, column.max, key.min, key.max)
    ints = [v for v in bounds if isinstance(v, int) and not isinstance(v, bool)]
    if len(ints) == 4:
        lo, hi, key_lo, key_hi = ints
        key_span = key_hi - key_lo
        covers = key_span == 0 or hi - lo >= MIN_SPAN_COVERAGE * key_span
        return key_lo <= lo and hi <= key_hi and covers
    texts = [v for v in bounds if isinstance(v, str)]
    if len(texts) == 4:
        return texts[2] <= texts[0] and texts[1] <= texts[3]
    return False


def _inclusions(conn: duckdb.DuckDBPyConnection, pairs: list[_Pair], schema: str) -> list[float]:
    """Share of each pair's distinct non-null child values found in the parent key (one query)."""
    if not pairs:
        return []
    branches = []
    for i, pair in enumerate(pairs):
        col, key = quote_ident(pair.column.name), quote_ident(pair.key.name)
        branches.append(
            f"SELECT {i} AS pair, count(*) AS n, count(p.k) AS found "
            f"FROM (SELECT DISTINCT {col} AS v FROM {qualified_name(schema, pair.child.name)} "
            f"WHERE {col} IS NOT NULL) AS c "
            f"LEFT JOIN (SELECT {key} AS k FROM {qualified_name(schema, pair.parent.name)}) AS p "
            "ON c.v = p.k"
        )
    rows = conn.execute(" UNION ALL ".join(branches)).fetchall()
    by_pair = {int(i): (int(found) / int(n) if n else 0.0) for i, n, found in rows}
    return [by_pair.get(i, 0.0) for i in range(len(pairs))]
