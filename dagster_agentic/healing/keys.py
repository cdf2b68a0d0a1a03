"""Key recovery: when a child's keys stopped matching their parent, find the normalisation that
makes them match again, measured in DuckDB, before any repair gives the child table up.

A source that changes how it writes a key (``123`` becomes ``'C-000123'``, an integer becomes a
zero-padded string, ``'SKU001'`` becomes ``'sku001'``) breaks every join on it: the foreign-key
check fails, or the column's type check does, and a re-plan that can no longer relate the table
drops it. The keys are usually all still there, written another way. This module tries a fixed
list of normalisations (:data:`CHAINS`; each step is SQL written in
:func:`~dagster_agentic.features.adapters.normalised_key`, never taken from data) on the
distinct child keys and keeps the simplest one under which at least ``at_least`` of them are
found in the parent, one-to-one (two different keys never become one). The chosen steps become a
``normalise_key`` column fix: the repaired version reads the key in the parent's format and
type, and the table keeps its features.

The causes are here too, as pure functions of the evidence like every diagnosis:
:func:`key_format_change` (a foreign-key check finds almost no child key in the parent) and
:func:`key_type_change` (the type of a column a foreign-key check names changed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from dagster_agentic.expectations.models import ExpectationResult
from dagster_agentic.features.adapters import normalised_key
from dagster_agentic.healing.causes import Diagnosis
from dagster_agentic.healing.evidence import Evidence
from dagster_agentic.plan.models import KeyStep
from dagster_agentic.warehouse.connection import quote_ident

CHAINS: tuple[tuple[KeyStep, ...], ...] = (
    (),
    ("trim",),
    ("upper",),
    ("lower",),
    ("trim", "upper"),
    ("trim", "lower"),
    ("strip_zeros",),
    ("pad",),
    ("strip_zeros", "pad"),
    ("strip_prefix", "strip_suffix"),
    ("strip_prefix", "strip_suffix", "strip_zeros"),
    ("strip_prefix", "strip_suffix", "pad"),
    ("trim", "strip_prefix", "strip_suffix"),
)
"""The normalisations tried, simplest first (``()`` is a plain cast to the parent's type)."""
KEY_FORMAT_MAX_INCLUSION = 0.5
"""Fewer child keys than this share found in the parent: not a few strays but (nearly) all keys
written another way, so a key normalisation is measured before any row is given up."""
MIN_RECOVERED = 0.98
"""Share of distinct child keys that must match the parent after normalising (when the check
that failed names no share of its own)."""
MIN_DISTINCT = 0.999
"""Normalised keys per raw key: a normalisation that merges different keys is not a format
change but a loss of identity, and is never chosen."""


@dataclass(frozen=True)
class KeyRecovery:
    """A normalisation that relates a child's keys to its parent again, and its evidence."""

    steps: tuple[KeyStep, ...]
    data_type: str
    width: int | None
    keys: int
    before: float
    after: float

    def facts(self) -> dict[str, Any]:
        """The measurement as a remedy reads it (``RepairRequest.measurements``)."""
        return {
            "key_steps": list(self.steps),
            "key_type": self.data_type,
            "key_width": self.width,
            "keys": self.keys,
            "inclusion_before": round(self.before, 6),
            "inclusion_after": round(self.after, 6),
        }


def recover_key(
    conn: duckdb.DuckDBPyConnection,
    child: str,
    column: str,
    parent: str,
    parent_column: str,
    *,
    at_least: float = MIN_RECOVERED,
) -> KeyRecovery | None:
    """The simplest normalisation of ``child.column`` (a SQL relation and a column) under which
    at least ``at_least`` of its distinct keys are found in ``parent.parent_column``, or None.

    None also when the keys already match as they are, in the parent's type (nothing to
    recover); keys of another type that match as text are recovered by a plain cast.
    """
    p = quote_ident(parent_column)
    described = conn.execute(f"DESCRIBE SELECT {p} FROM {parent}").fetchall()
    if not described:
        return None
    data_type = str(described[0][1])
    width = _common_width(conn, parent, p) if _is_text(data_type) else None
    raw = f"c.{quote_ident(column)}"
    child_type = conn.execute(f"DESCRIBE SELECT {quote_ident(column)} FROM {child}").fetchall()
    same_type = bool(child_type) and str(child_type[0][1]) == data_type
    if same_type:
        keys, before = _inclusion(conn, child, column, parent, p, raw)
    else:  # compared as text: the keys as they are, before any reading
        keys, before = _inclusion(
            conn,
            child,
            column,
            f"(SELECT CAST({p} AS VARCHAR) AS {p} FROM {parent})",
            p,
            f"CAST({raw} AS VARCHAR)",
        )
    if not keys or (same_type and before >= at_least):
        return None
    for steps in CHAINS:
        if "pad" in steps and width is None:
            continue
        try:
            expression = normalised_key(raw, steps, data_type, width)
        except ValueError:
            return None  # a parent type the fix cannot name
        n, after = _inclusion(conn, child, column, parent, p, expression)
        if after >= at_least and _one_to_one(conn, child, column, expression, n):
            return KeyRecovery(steps, data_type, width, n, before, after)
    return None


def _inclusion(
    conn: duckdb.DuckDBPyConnection,
    child: str,
    column: str,
    parent: str,
    parent_column: str,
    expression: str,
) -> tuple[int, float]:
    """(distinct non-null child keys, share of them whose ``expression`` is a parent key)."""
    col = quote_ident(column)
    try:
        row = conn.execute(
            f"SELECT count(*), count(p.k) FROM (SELECT DISTINCT {col} FROM {child}"
            f" WHERE {col} IS NOT NULL) AS c LEFT JOIN (SELECT DISTINCT {parent_column} AS k"
            f" FROM {parent}) AS p ON {expression} = p.k"
        ).fetchone()
    except duckdb.Error:
        return 0, 0.0  # not comparable as they are (text against numbers, say)
    n, found = (int(row[0]), int(row[1])) if row else (0, 0)
    return n, (found / n if n else 0.0)


def _one_to_one(
    conn: duckdb.DuckDBPyConnection, child: str, column: str, expression: str, keys: int
) -> bool:
    col = quote_ident(column)
    row = conn.execute(
        f"SELECT count(DISTINCT {expression}) FROM (SELECT DISTINCT {col} FROM {child}"
        f" WHERE {col} IS NOT NULL) AS c"
    ).fetchone()
    return row is not None and keys > 0 and int(row[0]) >= MIN_DISTINCT * keys


def _common_width(conn: duckdb.DuckDBPyConnection, parent: str, column: str) -> int | None:
    """The length most parent keys have, when at least 95% share it (else padding is no rule)."""
    row = conn.execute(
        f"SELECT mode(length({column})), avg(CASE WHEN length({column}) ="
        f" (SELECT mode(length({column})) FROM {parent}) THEN 1.0 ELSE 0.0 END)"
        f" FROM {parent} WHERE {column} IS NOT NULL"
    ).fetchone()
    if not row or row[0] is None or float(row[1] or 0.0) < 0.95:
        return None
    width = int(row[0])
    return width if 1 <= width <= 64 else None


def _is_text(data_type: str) -> bool:
    return data_type.upper().startswith(("VARCHAR", "TEXT", "STRING", "CHAR"))


# --- the causes: pure functions of the evidence, as every diagnosis is -------------------


def key_type_change(evidence: Evidence, result: ExpectationResult) -> Diagnosis | None:
    """A failed ``column_type`` on a join key (its foreign-key check names a parent): the key is
    written another way (an integer id now prefixed text, say), so the cause is a key format
    change, repaired by a measured normalisation, not a re-plan that could no longer relate the
    table. None when the column is no key of the suite."""
    e = result.expectation
    parent = next(
        (
            r.expectation.parent
            for r in evidence.failed
            if r.expectation.kind == "foreign_key_inclusion"
            and r.expectation.table == e.table
            and r.expectation.column == e.column
            and r.expectation.parent
        ),
        None,
    )
    if parent is None:
        return None
    now = result.observed.get("data_type")
    return Diagnosis(
        cause="key_format_change",
        table=e.table,
        column=e.column,
        confidence=0.8,
        explanation=f"the key {e.table}.{e.column} is now {now} (was {e.data_type}), so it no"
        f" longer joins {parent} as it is",
        remedy=f"normalise {e.column} to the format and type of {parent} (measured), or keep the"
        " last good version",
        details={"parent": parent, "from_type": e.data_type, "to_type": now},
    )


def key_format_change(result: ExpectationResult, inclusion: float) -> Diagnosis:
    """Most keys match no parent: the source writes its keys another way (a prefix, padding,
    case, a type). Quarantining the orphans would quarantine the table, so the remedy is a
    normalisation measured in the warehouse (``healing.keys``), or a refusal without one."""
    e = result.expectation
    return Diagnosis(
        cause="key_format_change",
        table=e.table,
        column=e.column,
        confidence=0.8,
        explanation=f"only {inclusion:.1%} of {e.table}.{e.column} values are found in"
        f" {e.parent}: the keys are written another way, not a few strays",
        remedy=f"normalise {e.column} to the format and type of {e.parent} (measured), or keep"
        " the last good version",
        details={"inclusion": inclusion, "parent": e.parent, "sample": list(result.failing_sample)},
    )
