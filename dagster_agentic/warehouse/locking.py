"""One writer or many readers per warehouse file, across the processes of every goal.

DuckDB lets one process open a file read-write, and then no other process may open it at
all, not even read-only. dbt build writes (its own process), everything else of a run reads.
So the agent's processes agree through a lock beside the file, ``.<file>.agentic.lock``:
a dbt build holds it exclusively, planning and runs hold it shared. Two goals on one file
then take turns for the writes instead of failing on DuckDB's own lock; a wait longer than
``DAGSTER_AGENTIC_LOCK_TIMEOUT`` seconds (default 600) ends in a :class:`WarehouseError` that
names the holder and the fix. Processes that do not take the lock (a DuckDB shell, another
tool) still conflict with DuckDB's own lock, which :func:`lock_conflict` recognises.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster_agentic.errors import WarehouseError
from dagster_agentic.locks import FileLock, LockTimeout, describe, lock_timeout

DEFAULT_TIMEOUT = 600.0
_CONFLICT_MARKERS = ("could not set lock on file", "conflicting lock is held")


def lock_path(warehouse: Path, suffix: str = "agentic.lock") -> Path:
    """``.<name>.<suffix>`` beside ``warehouse`` (a file or a folder) when its directory is
    writable, else in the temp dir (same host only)."""
    path = Path(warehouse).expanduser().absolute()
    if os.access(path.parent, os.W_OK):
        return path.with_name(f".{path.name}.{suffix}")
    digest = hashlib.sha256(f"{path.resolve()}:{suffix}".encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / "dagster-agentic-locks" / f"{digest}.lock"


@contextmanager
def warehouse_lock(
    warehouse: Path, *, write: bool, purpose: str, timeout: float | None = None
) -> Iterator[None]:
    """Hold the warehouse's lock: exclusive to ``write``, shared to read."""
    lock = FileLock(lock_path(warehouse))
    wait = lock_timeout(DEFAULT_TIMEOUT) if timeout is None else timeout
    try:
        with lock.hold(exclusive=write, timeout=wait, purpose=purpose):
            yield
    except LockTimeout as error:
        mode = "write to" if write else "read"
        raise WarehouseError(
            f"could not {mode} warehouse {warehouse} for {purpose}: waited {error.waited:.0f} s"
            f" for {describe(error.holders)}",
            fix="wait for that run to finish (or stop it), then run again; raise"
            " DAGSTER_AGENTIC_LOCK_TIMEOUT to wait longer",
        ) from error


def lock_conflict(text: str) -> bool:
    """``text`` (an error, dbt's log) reports that another process holds DuckDB's file lock."""
    lowered = text.lower()
    return any(marker in lowered for marker in _CONFLICT_MARKERS)


def conflict_error(warehouse: Path, during: str, detail: str) -> WarehouseError:
    """The error for a DuckDB lock held by a process outside the agent's lock."""
    holder = ""
    for line in detail.splitlines():
        if "PID" in line or "pid" in line:
            holder = f" ({line.strip()[:300]})"
            break
    return WarehouseError(
        f"warehouse {warehouse} is locked by another process during {during}{holder}",
        fix="DuckDB allows one writing process per file: close the other program that has the"
        " file open (a DuckDB shell, a notebook, a second dbt), then run again",
    )
