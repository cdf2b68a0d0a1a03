"""Advisory file locks between processes: shared or exclusive, bounded waits, named holders.

``fcntl.flock`` locks belong to an open file and die with the process that holds them, so a
killed process never leaves a lock behind (a stale *holder note* may stay; it is ignored once
its process is gone). Within one process a lock is re-entrant: nested sections of the same
path share one open file, an exclusive section inside a shared one upgrades the lock and
downgrades it again on exit. Upgrading drops the shared lock before waiting for the exclusive
one, so two processes upgrading at once never deadlock.

Example::

    with FileLock(state_dir / "plan.lock").hold(exclusive=True, timeout=60, purpose="plan"):
        ...  # one process at a time

On a timeout :class:`LockTimeout` names the processes that hold the lock; callers turn it
into the error of their layer (``WarehouseError``, ``PlanStoreError``) with a fix.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

_POLL_SECONDS = 0.05


class LockTimeout(Exception):
    """The lock was not free within the wait; ``holders`` describe who holds it."""

    def __init__(self, path: Path, waited: float, holders: list[dict[str, Any]]) -> None:
        self.path = path
        self.waited = waited
        self.holders = holders
        super().__init__(f"{path} still held after {waited:.0f} s by {describe(holders)}")


def describe(holders: list[dict[str, Any]]) -> str:
    """The holders as a person reads them: ``pid 123 (dagster-agentic run ..., dbt build)``."""
    if not holders:
        return "another process (it left no note)"
    return "; ".join(
        f"pid {h.get('pid')} ({h.get('command', '?')}: {h.get('purpose', '?')},"
        f" {h.get('mode', '?')} since {_clock(h.get('since', 0))})"
        for h in holders
    )


def _clock(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch))


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as error:
        return error.errno == errno.EPERM
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    with suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] == "Z"
    return False


@dataclass
class _Held:
    handle: TextIO
    shared: int = 0
    exclusive: int = 0

    @property
    def mode(self) -> str | None:
        return "exclusive" if self.exclusive else "shared" if self.shared else None


_HELD: dict[Path, _Held] = {}
_GUARD = threading.RLock()
"""One lock state per path in this process; threads of one process share it (flock cannot
tell them apart), so they serialise on this guard only while acquiring or releasing."""


class FileLock:
    """A shared/exclusive lock on ``path`` (created if missing), with holder notes beside it
    in ``<path>.holders/`` so a waiting process can say who it waits for."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._notes = self.path.with_name(self.path.name + ".holders")

    @contextmanager
    def hold(
        self, *, exclusive: bool, timeout: float | None = None, purpose: str = ""
    ) -> Iterator[None]:
        """Hold the lock for the ``with`` block; ``timeout=None`` waits for ever."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        key = self.path.parent.resolve() / self.path.name
        with _GUARD:
            held = _HELD.get(key)
            previous = held.mode if held else None
            if held is None:
                held = _Held(handle=self.path.open("a"))
                _HELD[key] = held
            want = "exclusive" if exclusive or previous == "exclusive" else "shared"
            changed = want != previous
            try:
                if changed:
                    self._acquire(held.handle, want, timeout)
                    self._note(want, purpose)
            except BaseException:
                if previous is None:
                    self._close(key, held)
                else:  # a failed upgrade: the outer section's shared lock comes back
                    self._acquire(held.handle, previous, None)
                raise
            if exclusive:
                held.exclusive += 1
            else:
                held.shared += 1
        try:
            yield
        finally:
            with _GUARD:
                if exclusive:
                    held.exclusive -= 1
                else:
                    held.shared -= 1
                if held.mode is None:
                    self._close(key, held)
                elif changed and held.mode == "shared":
                    # Back to the shared lock the outer section holds (a downgrade never waits
                    # for long: only a process that wants the exclusive lock can slip in).
                    self._acquire(held.handle, "shared", None)
                    self._note("shared", purpose)

    def holders(self) -> list[dict[str, Any]]:
        """Notes of the processes that hold the lock now (notes of dead processes are dropped)."""
        found = []
        for note in sorted(self._notes.glob("*.json")) if self._notes.exists() else []:
            with suppress(OSError, ValueError):
                data = json.loads(note.read_text())
                if int(data.get("pid", 0)) != os.getpid() and process_alive(int(data["pid"])):
                    found.append(data)
                elif not process_alive(int(data["pid"])):
                    note.unlink(missing_ok=True)
        return found

    def _acquire(self, handle: TextIO, mode: str, timeout: float | None) -> None:
        operation = fcntl.LOCK_EX if mode == "exclusive" else fcntl.LOCK_SH
        started = time.monotonic()
        if mode == "exclusive":
            # flock converts a shared lock by dropping it first; doing so explicitly makes
            # that visible: two upgraders both let go, so one of them always gets through.
            fcntl.flock(handle, fcntl.LOCK_UN)
        while True:
            try:
                fcntl.flock(handle, operation | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                waited = time.monotonic() - started
                if timeout is not None and waited >= timeout:
                    raise LockTimeout(self.path, waited, self.holders()) from None
                time.sleep(_POLL_SECONDS)

    def _note(self, mode: str, purpose: str) -> None:
        with suppress(OSError):
            self._notes.mkdir(parents=True, exist_ok=True)
            note = self._notes / f"{os.getpid()}.json"
            tmp = note.with_suffix(".tmp")
            tmp.write_text(
                json.dumps(
                    {
                        "pid": os.getpid(),
                        "mode": mode,
                        "purpose": purpose,
                        "since": time.time(),
                        "command": " ".join(Path(a).name for a in sys.argv[:3]) or "python",
                    }
                )
            )
            os.replace(tmp, note)

    def _close(self, key: Path, held: _Held) -> None:
        _HELD.pop(key, None)
        with suppress(OSError):
            (self._notes / f"{os.getpid()}.json").unlink(missing_ok=True)
        with suppress(OSError):
            fcntl.flock(held.handle, fcntl.LOCK_UN)
        held.handle.close()


def lock_timeout(default: float) -> float:
    """The bounded wait for the locks of a run: ``DAGSTER_AGENTIC_LOCK_TIMEOUT`` seconds if set."""
    value = os.environ.get("DAGSTER_AGENTIC_LOCK_TIMEOUT")
    try:
        return float(value) if value else default
    except ValueError:
        return default
