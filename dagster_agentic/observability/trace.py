"""An append-only trace of every kernel decision, in SQLite.

SQLite because several processes write at once (the code server plans, run workers train)
and it serialises writers with a file lock; JSONL appends from several processes can
interleave. Each record keeps the inputs and outputs whole, so a decision can be audited and
replayed. Each record also names the span it was written in (trace, span and parent span
ids, as exported to OpenTelemetry when that is configured), so the tree of a run can be
rebuilt from the file alone.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS trace (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at REAL NOT NULL,
    goal TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    actor TEXT NOT NULL,
    inputs TEXT NOT NULL,
    outputs TEXT NOT NULL,
    duration_ms REAL NOT NULL,
    plan_version INTEGER,
    trace_id TEXT,
    span_id TEXT,
    parent_span_id TEXT
)
"""
_SPAN_COLUMNS = ("trace_id", "span_id", "parent_span_id")
"""Added after the first files were written: a file without them gains them on first use."""
_COLUMNS = (
    "id, recorded_at, goal, kind, name, actor, inputs, outputs, duration_ms, plan_version, "
    + ", ".join(_SPAN_COLUMNS)
)

_INSERT = (
    "INSERT INTO trace (recorded_at, goal, kind, name, actor, inputs, outputs, duration_ms,"
    " plan_version, trace_id, span_id, parent_span_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, default=str)


@dataclass(frozen=True)
class TraceRecord:
    """One step: a kernel decision, a tool call or an action, with what went in and came out."""

    id: int
    recorded_at: float
    goal: str
    kind: str
    name: str
    actor: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    duration_ms: float
    plan_version: int | None
    trace_id: str | None = None
    span_id: str | None = None
    parent_span_id: str | None = None
    """The span the record was written in, and its parent (None in files written before
    spans were recorded, or outside any span)."""


class Trace:
    """The trace of one state directory. Cheap to construct; opens a connection per call."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30.0)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(_SCHEMA)
            _migrate(conn)
            with conn:
                yield conn

    def record(
        self,
        *,
        goal: str,
        kind: str,
        name: str,
        actor: str,
        inputs: dict[str, Any],
        outputs: dict[str, Any],
        duration_ms: float,
        plan_version: int | None = None,
        trace_id: str | None = None,
        span_id: str | None = None,
        parent_span_id: str | None = None,
    ) -> int:
        """Append one record; without ids, those of the span it is written in."""
        if span_id is None:
            from dagster_agentic.observability.context import current_ids

            trace_id, span_id, parent_span_id = current_ids()
        row = (time.time(), goal, kind, name, actor, _json(inputs), _json(outputs), duration_ms)
        with self._connect() as conn:
            cursor = conn.execute(_INSERT, (*row, plan_version, trace_id, span_id, parent_span_id))
            return int(cursor.lastrowid or 0)

    def record_many(self, rows: list[tuple[Any, ...]]) -> None:
        """Append records in one transaction (the SQL queries of a step: one commit, not one
        per query). Each row: recorded_at, goal, kind, name, actor, inputs, outputs,
        duration_ms, plan_version, trace_id, span_id, parent_span_id."""
        if not rows:
            return
        encoded = [(*r[:5], _json(r[5]), _json(r[6]), *r[7:]) for r in rows]
        with self._connect() as conn:
            conn.executemany(_INSERT, encoded)

    def records(self, *, goal: str | None = None, kind: str | None = None) -> list[TraceRecord]:
        if not self.path.exists():
            return []
        query, params = f"SELECT {_COLUMNS} FROM trace WHERE 1=1", list[str]()
        if goal is not None:
            query, params = query + " AND goal = ?", [*params, goal]
        if kind is not None:
            query, params = query + " AND kind = ?", [*params, kind]
        with self._connect() as conn:
            rows = conn.execute(query + " ORDER BY id", params).fetchall()
        return [
            TraceRecord(
                id=row[0],
                recorded_at=row[1],
                goal=row[2],
                kind=row[3],
                name=row[4],
                actor=row[5],
                inputs=json.loads(row[6]),
                outputs=json.loads(row[7]),
                duration_ms=row[8],
                plan_version=row[9],
                trace_id=row[10],
                span_id=row[11],
                parent_span_id=row[12],
            )
            for row in rows
        ]


def _migrate(conn: sqlite3.Connection) -> None:
    """Add the span columns to a trace written before they existed."""
    present = {row[1] for row in conn.execute("PRAGMA table_info(trace)")}
    for column in _SPAN_COLUMNS:
        if column not in present:
            try:
                conn.execute(f"ALTER TABLE trace ADD COLUMN {column} TEXT")
            except sqlite3.OperationalError as error:  # another process added it first
                if "duplicate column" not in str(error):
                    raise
