"""An append-only trace of every kernel decision, in SQLite.

SQLite because several processes write at once (the code server plans, run workers train)
and it serialises writers with a file lock; JSONL appends from several processes can
interleave. Each record keeps the inputs and outputs whole, so a decision can be audited and
replayed.
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
    plan_version INTEGER
)
"""


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
    ) -> int:
        with self._connect() as conn:
            cursor = conn.execute(
                "INSERT INTO trace (recorded_at, goal, kind, name, actor, inputs, outputs,"
                " duration_ms, plan_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    time.time(),
                    goal,
                    kind,
                    name,
                    actor,
                    json.dumps(inputs, sort_keys=True, default=str),
                    json.dumps(outputs, sort_keys=True, default=str),
                    duration_ms,
                    plan_version,
                ),
            )
            return int(cursor.lastrowid or 0)

    def records(self, *, goal: str | None = None, kind: str | None = None) -> list[TraceRecord]:
        if not self.path.exists():
            return []
        query, params = "SELECT * FROM trace WHERE 1=1", list[str]()
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
            )
            for row in rows
        ]
