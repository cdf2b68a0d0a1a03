"""Pairs of entity columns that together reproduce the label: arithmetic leakage.

A label is often computed from two columns of its own row: a delay is an actual time minus a
scheduled one, a margin is revenue minus cost, a "late" flag is a delivery date past a promised
date, a rate is an amount over another. Neither column alone says much about the label, so the
one-column copy check (:mod:`~dagster_agentic.warehouse.label_copies`) passes both, yet a model
given the two learns the arithmetic and scores far beyond what can be known before the
outcome, and the goal would be reported met on a leak.

The check is the copy check's, applied to derived values. For each pair of numeric or time
columns of the entity table, their difference (times and clock times in minutes, clock times
modulo a day), sum, ratio and product are bucketed into quantiles in the warehouse, and the
share of the label the buckets explain is measured, as for a single column. A pair is a
derivation when its share reaches the near-copy bar while the better of its two columns alone
explains at most ``1 - MIN_GAIN`` of that share: the signal is in the arithmetic, not in
either measurement. Both columns become leakage suspects: which of the two is recorded with
the outcome (the actual arrival, or the scheduled one) the data cannot say, and a leak costs
more than a lost feature. Only counts per bucket leave the warehouse, from a fixed sample.

A label may also be computed from two measurements under a code: an instalment fixes the
interest rate only together with the loan amount and the term (36 or 60 months), a price per
unit only within its currency. The ``MAX_WITHIN`` pairs that explain the most of the label
below the bar are measured again within each value of every code column of the table (at
most ``MAX_CODES`` values): their quantiles per code value. When that reaches the bar while
either column and the code each explain at most ``1 - MIN_GAIN`` of it, both
measurements are suspects (the code, recorded before the outcome like any category, stays a
feature).

A clock time held as an integer ``HHMM`` (``1435`` for 14:35, as transport and operations
systems often hold it) is recognised by its values (0 to 2400, minutes below 60) and read as
minutes since midnight, so that differences across an hour are right.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from dagster_agentic.goals.objective import Objective
from dagster_agentic.warehouse.connection import quote_ident
from dagster_agentic.warehouse.label_copies import (
    BUCKETS,
    copy_bar,
    expression_shares,
    labelled_rows_sql,
)
from dagster_agentic.warehouse.models import ColumnProfile, WarehouseProfile

SAMPLE_ROWS = 5_000
"""Labelled rows the pairs are measured on: a reservoir sample with a fixed seed, so the
check costs the same on any table and gives the same answer twice."""
SAMPLE_SEED = 17
MAX_EXPRESSIONS = 1_200
"""Derived values measured at most (one query): the columns with the most distinct values,
which is where measurements are, are paired first, as many as fit. A wider table's other
columns are only copy-checked."""
MIN_DISTINCT = 20
"""A label is computed from measurements; two codes of a few values each make no new value
the copy check of their own columns would miss."""
MIN_GAIN = 0.5
"""How much of a derivation's share neither column explains alone."""
MIN_ROWS = 50
"""Fewer labelled rows than this say nothing reliable about a pair."""
MAX_CODES = 12
"""Values of a code column a pair is measured within ('term': 36, 60)."""
MAX_WITHIN = 100
"""Pairs measured again within the codes: those that explain the most of the label alone."""
CLOCK_MIN_DISTINCT = 60
"""An ``HHMM`` clock column takes many values; a small integer code in 0..2400 is not one."""


@dataclass(frozen=True)
class _Operand:
    name: str
    sql: str
    """The column as a number: DOUBLE, minutes since midnight (clock) or epoch minutes."""
    unit: str  # "number", "clock" or "time"
    positive: bool


def _clock_columns(
    conn: duckdb.DuckDBPyConnection, labelled: str, candidates: list[ColumnProfile]
) -> set[str]:
    """The columns whose every value is a whole number that reads as an ``HHMM`` clock
    time."""
    if not candidates:
        return set()
    tests = ", ".join(
        f"bool_and({quote_ident(c.name)} % 100 < 60 AND {quote_ident(c.name)} BETWEEN 0 AND 2400"
        f" AND {quote_ident(c.name)} = floor({quote_ident(c.name)}))"
        for c in candidates
    )
    row = conn.execute(f"SELECT {tests} FROM ({labelled})").fetchone()
    return {c.name for c, ok in zip(candidates, row or (), strict=False) if ok}


def _operands(
    conn: duckdb.DuckDBPyConnection, labelled: str, columns: list[ColumnProfile]
) -> list[_Operand]:
    integers = [
        c
        for c in columns
        if c.kind == "numeric"
        and any(t in c.data_type for t in ("INT", "DECIMAL", "DOUBLE", "FLOAT", "REAL"))
        and c.distinct_count >= CLOCK_MIN_DISTINCT
        and isinstance(c.min, int | float)
        and isinstance(c.max, int | float)
        and c.min >= 0
        and 100 <= c.max <= 2400  # past one o'clock: a weight under 60 is no clock time
    ]
    clocks = _clock_columns(conn, labelled, integers)
    out = []
    for column in columns:
        ident = quote_ident(column.name)
        if column.kind == "temporal":
            sql = f"epoch(CAST({ident} AS TIMESTAMP)) / 60.0"
            out.append(_Operand(column.name, sql, "time", False))
        elif column.name in clocks:
            sql = f"(CAST({ident} AS BIGINT) // 100) * 60 + CAST({ident} AS BIGINT) % 100"
            out.append(_Operand(column.name, sql, "clock", False))
        elif column.kind == "numeric":
            positive = isinstance(column.min, int | float) and column.min > 0
            out.append(_Operand(column.name, f"CAST({ident} AS DOUBLE)", "number", positive))
    return out


def _derived(a: _Operand, b: _Operand) -> list[tuple[str, str]]:
    """(description, SQL) of the values a label could be computed as from ``a`` and ``b``."""
    if a.unit != b.unit:
        return []
    if a.unit == "clock":  # minutes between two clock times, wrapped into (-12 h, 12 h]
        return [("difference", f"((({a.sql}) - ({b.sql})) % 1440 + 2160) % 1440 - 720")]
    difference = [("difference", f"({a.sql}) - ({b.sql})")]
    if a.unit == "time":
        return difference
    out = [*difference, ("sum", f"({a.sql}) + ({b.sql})")]
    if a.positive and b.positive:
        out += [("ratio", f"({a.sql}) / ({b.sql})"), ("product", f"({a.sql}) * ({b.sql})")]
    return out


def _pairs(operands: list[_Operand]) -> list[tuple[_Operand, _Operand, str, str]]:
    """Every derived value of the first operands (most distinct first) that fit within
    ``MAX_EXPRESSIONS``, a column at a time so no column is paired with only some others."""
    out: list[tuple[_Operand, _Operand, str, str]] = []
    for i, b in enumerate(operands):
        more = [(a, b, how, sql) for a in operands[:i] for how, sql in _derived(a, b)]
        if len(out) + len(more) > MAX_EXPRESSIONS:
            break
        out += more
    return out


def label_derivations(
    conn: duckdb.DuckDBPyConnection,
    profile: WarehouseProfile,
    objective: Objective,
    usable: set[str],
    schema: str,
    table: str | None = None,
    join_column: str | None = None,
) -> list[tuple[str, str]]:
    """(column, evidence) for both columns of every pair among the ``usable`` numeric and
    time columns of the entity (or of ``table``, one row per entity, joined on
    ``join_column``) whose difference, sum, ratio or product determines the label while
    neither column does alone. Columns already found to be copies are not passed in."""
    owner = profile.table(table or objective.entity_table)
    assert owner is not None
    keys = (objective.target_column, objective.entity_key, join_column)
    columns = sorted(
        (
            c
            for c in owner.columns
            if c.name in usable
            and c.kind in ("numeric", "temporal")
            and c.distinct_count >= MIN_DISTINCT
            and c.name not in keys
        ),
        key=lambda c: (-c.distinct_count, c.name),
    )
    if len(columns) < 2:
        return []
    labelled = (
        f"SELECT * FROM ({labelled_rows_sql(profile, objective, schema, table, join_column)})"
        " USING SAMPLE "
        f"reservoir({SAMPLE_ROWS} ROWS) REPEATABLE ({SAMPLE_SEED})"
    )
    counted = conn.execute(f"SELECT count(*) FROM ({labelled})").fetchone()
    if not counted or int(counted[0]) < MIN_ROWS:
        return []
    operands = _operands(conn, labelled, columns)
    singles = expression_shares(conn, objective, labelled, [(o.sql, False) for o in operands])
    alone = {o.name: share for o, (share, _) in zip(operands, singles, strict=True)}
    pairs = _pairs(operands)
    shares = expression_shares(conn, objective, labelled, [(sql, False) for *_, sql in pairs])
    kind = "rank variance" if objective.task == "regression" else "entropy"
    found: dict[str, str] = {}
    near: list[tuple[_Operand, _Operand, str, str, float]] = []
    for (a, b, how, sql), (share, buckets) in zip(pairs, shares, strict=True):
        best_alone = max(alone[a.name], alone[b.name])
        bar = copy_bar(objective, buckets)
        if share < bar:
            near.append((a, b, how, sql, share))
            continue
        if best_alone > (1 - MIN_GAIN) * share:
            continue
        unit = {"clock": " (as clock times)", "time": " (as times)"}.get(a.unit, "")
        for this, other in ((a, b), (b, a)):
            found.setdefault(
                this.name,
                f"its {how} with {other.name}{unit} explains {share:.0%} of the label's {kind}"
                f" (the better of the two alone {best_alone:.0%}): the label is computed from"
                " them, so one is recorded with the outcome",
            )
    codes = [
        c
        for c in owner.columns
        if c.name in usable and 2 <= c.distinct_count <= MAX_CODES and c.name not in keys
    ]
    for a, b, how, code, share, alone_share, others in _within_codes(
        conn, objective, labelled, near, codes, alone
    ):
        for this, other in ((a, b), (b, a)):
            found.setdefault(
                this.name,
                f"its {how} with {other.name} within each value of {code} explains {share:.0%}"
                f" of the label's {kind} (the pair alone {alone_share:.0%}, the best of the two"
                f" columns and {code} alone {others:.0%}): the label"
                " is computed from them, so one is recorded with the outcome",
            )
    return sorted(found.items())


def _within_codes(
    conn: duckdb.DuckDBPyConnection,
    objective: Objective,
    labelled: str,
    near: list[tuple[_Operand, _Operand, str, str, float]],
    codes: list[ColumnProfile],
    alone: dict[str, float],
) -> list[tuple[_Operand, _Operand, str, str, float, float, float]]:
    """The pairs of ``near`` whose quantiles taken within each value of a code column reach
    the bar while either column and the code each explain at most ``1 - MIN_GAIN`` of it:
    (a, b, how, code, share, the pair's share alone, the best of the columns and the code)."""
    if not near or not codes:
        return []
    code_alone = expression_shares(
        conn, objective, labelled, [(quote_ident(c.name), True) for c in codes]
    )
    closest = sorted(near, key=lambda pair: -pair[4])[:MAX_WITHIN]
    cases = [
        (pair, code, single)
        for pair in closest
        for code, (single, _) in zip(codes, code_alone, strict=True)
    ][:MAX_EXPRESSIONS]
    expressions = []
    for (*_, sql, _share), code, _single in cases:
        ident = quote_ident(code.name)
        quantile = (
            f"floor(cume_dist() OVER (PARTITION BY {ident}, ({sql}) IS NULL ORDER BY ({sql}))"
            f" * {BUCKETS - 1})"
        )
        expressions.append(
            (f"CAST({ident} AS VARCHAR) || ':' || CAST({quantile} AS VARCHAR)", True)
        )
    shares = expression_shares(conn, objective, labelled, expressions)
    found = []
    for ((a, b, how, _sql, pair_share), code, single), (share, buckets) in zip(
        cases, shares, strict=True
    ):
        others = max(alone[a.name], alone[b.name], single)
        if share >= copy_bar(objective, buckets) and others <= (1 - MIN_GAIN) * share:
            found.append((a, b, how, code.name, share, pair_share, others))
    return found
