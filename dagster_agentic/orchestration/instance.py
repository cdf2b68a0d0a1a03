"""The Dagster instance of a headless run: ``$DAGSTER_HOME`` if set, else an ephemeral one.

Two processes that create a fresh ``DAGSTER_HOME`` with SQLite storage at the same moment can
both create and stamp its schema, leaving two alembic heads, after which no process can open
the instance again. So the first opening of a home, which creates its databases, happens
under a file lock in the home (``.dagster-agentic-instance.lock``): the first process creates
the schema, the others wait and then open a complete one.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from dagster_agentic.errors import AgenticError
from dagster_agentic.locks import FileLock, LockTimeout, describe, lock_timeout

LOCK_FILE = ".dagster-agentic-instance.lock"
DEFAULT_TIMEOUT = 120.0


def open_instance() -> dg.DagsterInstance | None:
    """The instance of ``$DAGSTER_HOME`` with every storage created, or None without a home
    (the caller then uses an ephemeral instance)."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return None
    path = Path(home).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path / LOCK_FILE)
    try:
        with lock.hold(
            exclusive=True, timeout=lock_timeout(DEFAULT_TIMEOUT), purpose="Dagster instance"
        ):
            instance = dg.DagsterInstance.get()
            try:
                _create_storages(instance)
            except Exception:
                instance.dispose()
                raise
    except LockTimeout as error:
        raise AgenticError(
            f"the Dagster instance in {path} is being set up by {describe(error.holders)}",
            fix="wait for that process, or point DAGSTER_HOME at another directory",
        ) from error
    except Exception as error:
        if "alembic" not in str(error).lower():
            raise
        raise AgenticError(
            f"the Dagster instance in {path} cannot be opened: {error}",
            fix=f"its storage was set up by two processes at once: run `dagster instance"
            f" migrate` with DAGSTER_HOME={path}, or move {path}/storage, {path}/history and"
            f" {path}/schedules aside to start with an empty instance",
        ) from error
    return instance


def _create_storages(instance: dg.DagsterInstance) -> None:
    """Touch each storage once, so each SQLite database and its schema exist before the lock
    is released (some are created lazily, on first use)."""
    instance.get_runs(limit=1)
    instance.get_asset_keys(limit=1)
    instance.all_instigator_state()
