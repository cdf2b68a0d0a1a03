"""The per-goal planning lock: one process at a time plans (or heals) a goal.

Planning takes seconds to minutes (profiling, screening, dbt parse), so it has its own lock,
not the plan store's, which is only held for the moments that allocate, accept or reclaim a
version. It lies beside the state dir (``.<state dir>.<goal>.plan.lock``), not in it: a goal
refused while it is planned leaves no state behind. Whoever takes the planning lock re-reads the
accepted version first: a process that waited while another planned the same declaration
uses that plan instead of writing a second version.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster_agentic.errors import PlanStoreError
from dagster_agentic.locks import FileLock, LockTimeout, describe, lock_timeout
from dagster_agentic.warehouse.locking import lock_path

DEFAULT_TIMEOUT = 1800.0


@contextmanager
def planning_lock(state_dir: Path, goal: str, *, purpose: str = "planning") -> Iterator[None]:
    """Hold goal ``goal``'s planning lock (re-entrant within a process)."""
    lock = FileLock(lock_path(state_dir, suffix=f"{goal}.plan.lock"))
    try:
        with lock.hold(exclusive=True, timeout=lock_timeout(DEFAULT_TIMEOUT), purpose=purpose):
            yield
    except LockTimeout as error:
        raise PlanStoreError(
            f"goal {goal!r} is being planned or healed by another process: waited"
            f" {error.waited:.0f} s for {describe(error.holders)}",
            fix="wait for that run to finish (or stop it), then run again; raise"
            " DAGSTER_AGENTIC_LOCK_TIMEOUT to wait longer",
        ) from error
