"""Reading times that did not arrive as DuckDB time types: strings and epoch numbers.

A point-in-time feature needs each row's event time. Sources deliver it as ``TIMESTAMP``, but
also as text (``'03/01/2025 10:00'``, ISO strings) or as seconds or milliseconds since 1970.
This module measures, in the warehouse, which reading fits a column: the share of its non-null
values (on a sample of at most :data:`SAMPLE_ROWS`) that parse with each format of a fixed
allow-list, or lie in the plausible range of an epoch (numbers only under a time-like name).
Only the winning format's name and the share leave the warehouse. A format is always one of
:data:`TIME_FORMATS`, never text taken from the data, and is written into SQL with ``literal``.
"""

from __future__ import annotations

import re
from typing import Literal

import duckdb
from pydantic import BaseModel, ConfigDict

from dagster_agentic.warehouse.connection import INTEGER_TYPES, column_kind, literal, quote_ident
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile

EpochUnit = Literal["s", "ms"]

TIME_FORMATS: tuple[str, ...] = (
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
    "%Y%m%d",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y",
    "%d %b %Y",
    "%b %d, %Y",
    "%d %B %Y",
)
"""Formats a text time column may be read with; ``None`` (not listed) is DuckDB's own cast,
which reads ISO 8601 text."""

EPOCH_RANGE: dict[EpochUnit, tuple[float, float]] = {
    "s": (315_532_800.0, 4_102_444_800.0),  # 1980-01-01 .. 2100-01-01
    "ms": (315_532_800_000.0, 4_102_444_800_000.0),
}
"""Numbers read as epochs only inside these bounds: a plausible time, not an id or an amount."""

MIN_PARSED_SHARE = 0.95
"""Share of non-null values that must parse for a column to be read as a time."""
SAMPLE_ROWS = 2000
_ID_LIKE = ("id", "key", "no", "num", "number", "code", "ref")
_TIME_NAME = re.compile(
    r"(time|_at$|date|_on$|stamp|epoch|_ts$|^ts$|created|updated|occurred|paid|start|end)",
    re.IGNORECASE,
)
"""Numbers are read as epochs only under a time-like name: a range alone is weak evidence
(counts and amounts can fall in it), while text that parses with a time format is strong."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TimeReading(_Frozen):
    """How a column that is not a DuckDB time type is read as one, with the evidence."""

    table: str
    column: str
    data_type: str
    format: str | None = None
    """One of TIME_FORMATS, or None for ISO text (DuckDB's cast) or an epoch."""
    epoch_unit: EpochUnit | None = None
    share: float
    """Share of the sampled non-null values that parse with this reading."""
    sampled: int

    @property
    def described(self) -> str:
        how = (
            f"epoch {'seconds' if self.epoch_unit == 's' else 'milliseconds'}"
            if self.epoch_unit
            else (f"text in the format {self.format}" if self.format else "ISO 8601 text")
        )
        return (
            f"{self.table}.{self.column} ({self.data_type}) holds times as {how}:"
            f" {self.share:.1%} of {self.sampled:,} sampled values parse"
        )


def time_expression(
    column_sql: str, *, format: str | None = None, epoch_unit: EpochUnit | None = None
) -> str:
    """SQL that reads ``column_sql`` as a TIMESTAMP (NULL where a value does not parse).

    Epochs are converted without a time zone (``epoch_ms``), as naive UTC, like the
    ``TIMESTAMP`` columns they stand for.
    """
    if epoch_unit is not None:
        number = f"TRY_CAST({column_sql} AS DOUBLE)"
        if epoch_unit == "s":
            number = f"{number} * 1000"
        return f"epoch_ms(CAST(round({number}) AS BIGINT))"
    if format is not None:
        if format not in TIME_FORMATS:
            raise ValueError(f"time format {format!r} is not in the allow-list")
        return f"try_strptime(CAST({column_sql} AS VARCHAR), {literal(format)})"
    return f"TRY_CAST({column_sql} AS TIMESTAMP)"


def _id_like(name: str) -> bool:
    lowered = name.lower()
    return any(lowered == w or lowered.endswith("_" + w) for w in _ID_LIKE)


def _numeric_unit(column: ColumnProfile) -> EpochUnit | None:
    """The epoch unit whose plausible range holds every value (from the profile's min/max)."""
    lo, hi = column.min, column.max
    if not isinstance(lo, int | float) or not isinstance(hi, int | float) or lo == hi:
        return None
    for unit, (low, high) in EPOCH_RANGE.items():
        if low <= lo and hi <= high:
            return unit
    return None


def candidates(table: TableProfile, keys: frozenset[str] = frozenset()) -> list[ColumnProfile]:
    """Columns that might hold times but are not time types: text, or plausible epochs."""
    found = []
    for column in table.columns:
        if column.kind not in ("text", "numeric") or column.name in keys:
            continue
        if column.null_fraction >= 1.0 or column.distinct_count < 2:
            continue
        if column.kind == "numeric" and (
            _id_like(column.name)
            or not _TIME_NAME.search(column.name)
            or _numeric_unit(column) is None
        ):
            continue
        found.append(column)
    return found


def read_times(
    conn: duckdb.DuckDBPyConnection,
    relation: str,
    table: str,
    columns: list[tuple[str, str]],
    *,
    sample_rows: int = SAMPLE_ROWS,
) -> tuple[TimeReading, ...]:
    """The best reading of each of ``columns`` ((name, type)) of ``relation`` that parses at
    least :data:`MIN_PARSED_SHARE` of a sample of its non-null values; one query."""
    if not columns:
        return ()
    branches: list[tuple[str, str, str | None, EpochUnit | None]] = []
    exprs = []
    for name, data_type in columns:
        col = quote_ident(name)
        exprs.append(f"count({col})")
        readings: list[tuple[str | None, EpochUnit | None]] = []
        if column_kind(data_type) == "text":
            readings += [(None, None), *((f, None) for f in TIME_FORMATS)]
            readings += [(None, "s"), (None, "ms")]
        elif data_type.upper() in INTEGER_TYPES or column_kind(data_type) == "numeric":
            readings += [(None, "s"), (None, "ms")]
        for fmt, unit in readings:
            parsed = time_expression(col, format=fmt, epoch_unit=unit)
            if unit is not None:
                low, high = EPOCH_RANGE[unit]
                number = f"TRY_CAST({col} AS DOUBLE)"
                condition = f"{number} BETWEEN {low!r} AND {high!r}"
            else:
                condition = f"{parsed} IS NOT NULL"
            exprs.append(f"count(*) FILTER (WHERE {col} IS NOT NULL AND {condition})")
            branches.append((name, data_type, fmt, unit))
    sample = f"(SELECT * FROM {relation} LIMIT {int(sample_rows)})"
    row = conn.execute(f"SELECT {', '.join(exprs)} FROM {sample} AS a").fetchone()
    assert row is not None
    values = list(row)
    out: list[TimeReading] = []
    index = 0
    for name, _ in columns:
        total = int(values[index])
        index += 1
        best: TimeReading | None = None
        for column, typ, fmt, unit in branches:
            if column != name:
                continue
            count = int(values[index])
            index += 1
            share = count / total if total else 0.0
            if share >= MIN_PARSED_SHARE and (best is None or share > best.share):
                best = TimeReading(
                    table=table,
                    column=name,
                    data_type=typ,
                    format=fmt,
                    epoch_unit=unit,
                    share=round(share, 6),
                    sampled=total,
                )
        if best is not None:
            out.append(best)
    return tuple(out)


def read_table_times(
    conn: duckdb.DuckDBPyConnection, relation: str, table: TableProfile, keys: frozenset[str]
) -> tuple[TimeReading, ...]:
    """Readings of the candidate columns of a profiled table (none when it has none)."""
    columns = [(c.name, c.data_type) for c in candidates(table, keys)]
    return read_times(conn, relation, table.name, columns)
