"""The cost guard: what one agent query may cost, checked before it runs and bounded while it runs.

Two layers, both in the warehouse's own terms:

* **before**: ``EXPLAIN (FORMAT JSON)`` gives DuckDB's plan with its cardinality estimates;
  a plan any of whose operators is estimated above ``max_rows`` rows is refused
  (:func:`check_cost`). A cross product carries no estimate of its own, so it counts as the
  product of its inputs: a self cross join is refused however the SQL spells it.
* **while**: a watchdog thread interrupts the query when it outlives ``max_seconds``
  (``connection.interrupt()``, :class:`Watchdog`); the connection stays usable afterwards.

Estimates cannot see what a scalar function does with its arguments (``repeat('x', 1e9)``,
``range(1e9)`` as a list): the watchdog and the connection's memory limit bound those.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dagster_agentic.errors import GuardrailError

if TYPE_CHECKING:  # goals import QueryLimits: keep `import dagster_agentic` free of duckdb
    import duckdb


@dataclass(frozen=True, kw_only=True)
class QueryLimits:
    """What one agent query may use; every DuckDB connection the agent opens is set from it."""

    max_seconds: float = 600.0
    """Wall time of one query; the watchdog interrupts it then."""
    max_rows: int = 10_000_000_000
    """Largest cardinality DuckDB may estimate for any operator of a query's plan."""
    memory_mb: int = 8192
    """DuckDB's ``memory_limit`` for the connection."""
    threads: int | None = None
    """DuckDB's ``threads`` (None: DuckDB's default, one per core)."""


def estimated_rows(conn: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> int:
    """The largest cardinality any operator of ``sql``'s plan is estimated to produce."""
    rows = conn.execute(f"EXPLAIN (FORMAT JSON) {sql}", params or []).fetchall()
    plans = [json.loads(row[1]) for row in rows if len(row) > 1 and row[1]]
    return max((_largest(node) for plan in plans for node in _as_list(plan)), default=0)


def _as_list(plan: Any) -> list[dict[str, Any]]:
    return plan if isinstance(plan, list) else [plan]


def _estimate(node: dict[str, Any]) -> int:
    """A node's own estimate; a cross product without one is the product of its inputs."""
    children = node.get("children") or []
    info = node.get("extra_info") or {}
    own = info.get("Estimated Cardinality") if isinstance(info, dict) else None
    if own is not None:
        try:
            return int(float(own))
        except ValueError:
            pass
    inputs = [_estimate(child) for child in children]
    name = str(node.get("name", "")).upper()
    if "CROSS_PRODUCT" in name or "NESTED_LOOP" in name:
        return math.prod(max(value, 1) for value in inputs)
    return max(inputs, default=0)


def _largest(node: dict[str, Any]) -> int:
    return max([_estimate(node), *(_largest(c) for c in node.get("children") or [])])


def check_cost(
    conn: duckdb.DuckDBPyConnection,
    sql: str,
    limits: QueryLimits,
    *,
    label: str,
    params: Any = None,
) -> int:
    """Refuse ``sql`` when its plan is estimated above ``limits.max_rows``; return the estimate."""
    estimate = estimated_rows(conn, sql, params)
    if estimate > limits.max_rows:
        raise GuardrailError(
            f"{label}: DuckDB estimates {estimate:,} rows for one step of this query, over the"
            f" budget of {limits.max_rows:,}",
            fix="join on keys rather than across whole tables, or raise budget.max_query_rows",
            rule="cost",
        )
    return estimate


class Watchdog:
    """Interrupts the connection's running query once ``seconds`` have passed."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, seconds: float) -> None:
        self._conn = conn
        self._seconds = seconds
        self._done = threading.Event()
        self.fired = False
        self._thread = threading.Thread(target=self._watch, name="agentic-watchdog", daemon=True)

    def _watch(self) -> None:
        if not self._done.wait(self._seconds):
            self.fired = True
            self._conn.interrupt()

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()


@contextmanager
def bounded(conn: duckdb.DuckDBPyConnection, limits: QueryLimits, label: str) -> Iterator[None]:
    """Run the body's query under the watchdog; an interrupted query is a ``GuardrailError``."""
    import duckdb

    started = time.monotonic()
    with Watchdog(conn, limits.max_seconds) as dog:
        try:
            yield
        except duckdb.InterruptException as error:
            if not dog.fired:
                raise
            raise GuardrailError(
                f"{label}: interrupted after {time.monotonic() - started:.1f} s, over the limit"
                f" of {limits.max_seconds:g} s for one query",
                fix="raise budget.max_query_seconds, or make the query cheaper",
                rule="timeout",
            ) from error
