"""What ``make bench-healing`` keeps apart from the goal: the raw tables' checksums (a run
and its repairs must leave them unchanged) and the capture of dbt's and Dagster's output."""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb


def raw_checksums(warehouse: Path, *, wait_s: float = 120.0) -> dict[str, str]:
    """sha256 of every base table in schema ``main``, its rows ordered by all columns.

    Waits (up to ``wait_s``) while another process still holds the file's write lock.
    """
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return _checksums(warehouse)
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or time.monotonic() > deadline:
                raise
            time.sleep(2.0)


def _checksums(warehouse: Path) -> dict[str, str]:
    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        conn.execute("SET enable_progress_bar = false")
        names = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name"
            ).fetchall()
        ]
        for name in names:
            digest = hashlib.sha256()
            columns = conn.execute(f'SELECT * FROM main."{name}" LIMIT 0').description or []
            digest.update(repr([c[0] for c in columns]).encode())
            conn.execute(f'SELECT * FROM main."{name}" ORDER BY ALL')
            while batch := conn.fetchmany(50_000):
                digest.update(repr(batch).encode())
            out[name] = digest.hexdigest()
    return out


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Tables whose rows changed, appeared or disappeared."""
    return sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))


@contextmanager
def captured(log: Path | None) -> Iterator[None]:
    """Send everything written to stdout and stderr (dbt's output, Dagster's error logs, by
    this process and its children) to ``log``, so the progress lines stay readable."""
    if log is None:
        yield
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log.open("ab") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
