"""The plan store: immutable, versioned plan bundles and the pointer to the accepted one.

Layout under ``<state_dir>/<goal>/``::

    versions/0001/plan.json      the plan
    versions/0001/dbt/           the generated dbt project, parsed (target/manifest.json)
    versions/0001/version.json   written last: a version without it is incomplete
    versions/0001/.writer.lock   the writer's lease (see below), gone once the version is settled
    accepted.json                {"version": N}, replaced atomically
    artifacts/0001/              what runs of version 1 produce (model, predictions, evaluation)
    abandoned.jsonl              one line per version whose writer died before settling it
    .lock                        the store lock: allocation, acceptance, reclaiming

A crash at any point leaves either the old or the new version accepted, never half of one:
bundles are complete before ``version.json`` appears, and ``accepted.json`` is swapped with
``os.replace``. Version numbers are allocated under an exclusive file lock, so concurrent
processes never write the same version.

**Leases, abandoned versions, numbering.** A version is allocated in a staging directory,
its writer takes an exclusive ``flock`` on ``.writer.lock`` inside it, and only then is it
renamed to its number (all under the store lock). The lease lasts while the version is
being written and, for a *provisional* version (a plan about to be accepted, a healing
candidate waiting for its gate), until :meth:`PlanStore.accept` or :meth:`PlanStore.settle`.
The kernel drops a ``flock`` when its process dies, so a version whose lease file is there but
whose lock is free was *abandoned*: its writer was killed while writing it or before its gate
decided. Abandoned versions are never listed, loaded, accepted or shown as live. The next
writer (or :meth:`PlanStore.reclaim`) removes them under the store lock, with their artifacts,
and records each in ``abandoned.jsonl``; their numbers are free again. So a run killed at any
point and the run after it write the same version numbers as one uninterrupted run: the
first plan of a goal is version 1, its first repair version 2. Settled versions, accepted or
refused by the gate, are history and keep their numbers. A numbered directory without
``version.json`` and without a lease (a leftover of an older release or of a hand-made copy)
is skipped and its number never reused: nothing proves its writer is gone.

The lease needs a file system whose ``flock`` works between the processes that share the
state directory (local disks; NFSv4 emulates it).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pydantic import ValidationError

from dagster_agentic.errors import PlanStoreError
from dagster_agentic.locks import FileLock
from dagster_agentic.plan.models import Plan

if TYPE_CHECKING:
    from dagster_agentic.goals.spec import Goal

LEASE_FILE, ABANDONED_LOG = ".writer.lock", "abandoned.jsonl"
_LEASES: dict[Path, TextIO] = {}
"""Leases this process holds, by version directory: open files with an exclusive flock."""


@dataclass(frozen=True)
class PlanBundle:
    """One complete plan version on disk."""

    version: int
    plan: Plan
    path: Path
    meta: dict[str, Any]

    @property
    def dbt_dir(self) -> Path:
        return self.path / "dbt"

    @property
    def manifest(self) -> Path:
        return self.dbt_dir / "target" / "manifest.json"


class PlanStore:
    def __init__(
        self,
        state_dir: str | os.PathLike[str],
        goal: str,
        *,
        artifacts_root: str | os.PathLike[str] | None = None,
    ) -> None:
        """``artifacts_root``: where runs' artifacts live, ``<root>/<goal>/artifacts/<version>``
        (default: the state dir, beside the versions)."""
        self.root = Path(state_dir) / goal
        self._artifacts = (self.root if artifacts_root is None else Path(artifacts_root) / goal) / (
            "artifacts"
        )
        self.goal = goal
        self._versions = self.root / "versions"
        self._accepted = self.root / "accepted.json"

    @classmethod
    def of(cls, goal: Goal) -> PlanStore:
        """The store of ``goal``: its state dir, and its artifacts dir where it names one."""
        return cls(goal.resolved_state_dir, goal.name, artifacts_root=goal.artifacts_dir)

    @contextmanager
    def _lock(self) -> Iterator[None]:
        with FileLock(self.root / ".lock").hold(exclusive=True, purpose="plan store"):
            yield

    def versions(self) -> list[int]:
        """Complete versions that are not abandoned, oldest first."""
        if not self._versions.exists():
            return []
        return sorted(
            int(p.name)
            for p in self._versions.iterdir()
            if p.name.isdigit() and (p / "version.json").exists() and not _abandoned(p)
        )

    def write_version(
        self,
        plan: Plan,
        render: Callable[[Path, Plan], None],
        *,
        parent: int | None,
        reason: str,
        provisional: bool = False,
    ) -> PlanBundle:
        """Write a new, complete version; ``render(path, plan)`` fills the bundle dir (dbt
        project etc.). The written plan builds its models in its own schema (``schema_version``).

        A ``provisional`` version stays leased to this process until :meth:`accept` or
        :meth:`settle`: if the process dies first, the version is abandoned and reclaimed.
        """
        with self._lock():
            self._reclaim_locked()
            taken = [int(p.name) for p in self._versions.glob("[0-9]*") if p.name.isdigit()]
            version = max(taken, default=0) + 1
            path = self._versions / f"{version:04d}"
            staging = self._versions / f".new-{uuid.uuid4().hex[:12]}"
            staging.mkdir(parents=True)
            _take_lease(staging)
            staging.rename(path)
            _LEASES[_key(path)] = _LEASES.pop(_key(staging))
            # A reclaimed number may have left artifacts of the dead run: they are not ours.
            _remove(self._artifacts / f"{version:04d}")
        plan = plan.model_copy(update={"schema_version": version})
        try:
            (path / "plan.json").write_text(plan.model_dump_json(indent=2))
            render(path, plan)
            meta = {
                "version": version,
                "parent": parent,
                "created_at": time.time(),
                "reason": reason,
                "plan_fingerprint": plan.fingerprint(),
            }
            write_json_atomic(path / "version.json", meta)
        except BaseException:
            self.abandon(version, why="writing failed")
            raise
        if not provisional:
            self.settle(version)
        return PlanBundle(version=version, plan=plan, path=path, meta=meta)

    def accept(self, version: int) -> None:
        self.load(version)  # refuses a missing, corrupt or abandoned version
        with self._lock():
            if _abandoned(self._version_dir(version)):
                raise PlanStoreError(
                    f"plan version {version} of goal {self.goal!r} was abandoned by its writer",
                    fix="write a new version; an abandoned one is never accepted",
                )
            write_json_atomic(self._accepted, {"version": version, "accepted_at": time.time()})
            self._release(version)

    def settle(self, version: int) -> None:
        """End this process's lease on ``version``: it stays, as history (a refused candidate,
        a version written for later). Settling a version that is not leased does nothing."""
        with self._lock():
            self._release(version)

    def abandon(self, version: int, *, why: str) -> None:
        """Give up a version this process leased (a candidate whose gate could not run): it is
        removed now, as if its writer had died, and its number is free again."""
        path = self._version_dir(version)
        handle = _LEASES.pop(_key(path), None)
        if handle is not None:
            handle.close()  # the lease is free: the version is now abandoned
        with self._lock():
            if _abandoned(path) and version != self._accepted_or_none():
                self._drop(path, why=why)

    def reclaim(self) -> list[int]:
        """Remove abandoned versions (writer dead before settling) and staging leftovers;
        the numbers reclaimed."""
        if not self._versions.exists():
            return []
        with self._lock():
            return self._reclaim_locked()

    def accepted_version(self) -> int | None:
        if not self._accepted.exists():
            return None
        try:
            return int(json.loads(self._accepted.read_text())["version"])
        except (ValueError, KeyError, TypeError) as error:
            raise PlanStoreError(
                f"{self._accepted} is corrupt: {error}",
                fix="delete it; the next load plans anew",
            ) from error

    def load(self, version: int) -> PlanBundle:
        path = self._version_dir(version)
        if not (path / "version.json").exists() or _abandoned(path):
            raise PlanStoreError(
                f"plan version {version} of goal {self.goal!r} does not exist in {self.root}",
                fix=f"use one of the complete versions: {self.versions() or 'none yet'}",
            )
        try:
            plan = Plan.model_validate_json((path / "plan.json").read_text())
            meta = json.loads((path / "version.json").read_text())
        except (ValidationError, ValueError) as error:
            raise PlanStoreError(
                f"plan version {version} of goal {self.goal!r} is corrupt: {error}",
                fix="write a new plan version; this one cannot be loaded",
            ) from error
        return PlanBundle(version=version, plan=plan, path=path, meta=meta)

    def load_accepted(self) -> PlanBundle | None:
        version = self.accepted_version()
        return None if version is None else self.load(version)

    def artifacts_dir(self, version: int) -> Path:
        path = self._artifacts / f"{version:04d}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    # --- under the store lock -----------------------------------------------------------------

    def _version_dir(self, version: int) -> Path:
        return self._versions / f"{version:04d}"

    def _accepted_or_none(self) -> int | None:
        with suppress(PlanStoreError):
            return self.accepted_version()
        return None

    def _release(self, version: int) -> None:
        path = self._version_dir(version)
        handle = _LEASES.pop(_key(path), None)
        if handle is not None:
            (path / LEASE_FILE).unlink(missing_ok=True)
            handle.close()

    def _reclaim_locked(self) -> list[int]:
        reclaimed = []
        accepted = self._accepted_or_none()
        for path in sorted(self._versions.iterdir()) if self._versions.exists() else []:
            if path.name.startswith((".new-", ".trash-")):
                _remove(path)  # only a dead process leaves these behind the store lock
            elif path.name.isdigit() and _abandoned(path):
                if int(path.name) == accepted:
                    # Killed between accepting and releasing: it is live, so it is settled.
                    (path / LEASE_FILE).unlink(missing_ok=True)
                    continue
                self._drop(path, why="its writer died before the version was settled")
                reclaimed.append(int(path.name))
        for leftover in self._artifacts.glob(".trash-*"):
            _remove(leftover)
        return reclaimed

    def _drop(self, path: Path, *, why: str) -> None:
        complete = (path / "version.json").exists()
        entry = {"version": int(path.name), "complete": complete, "why": why, "at": time.time()}
        with (self.root / ABANDONED_LOG).open("a") as handle:
            handle.write(json.dumps(entry) + "\n")
        _remove(path)
        _remove(self._artifacts / path.name)


def _take_lease(path: Path) -> None:
    handle = (path / LEASE_FILE).open("w")
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a fresh file: never contended
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    _LEASES[_key(path)] = handle


def _key(path: Path) -> Path:
    return Path(path).absolute()


def _abandoned(path: Path) -> bool:
    """The version has a lease file that no living process holds."""
    if _key(path) in _LEASES:
        return False
    try:
        handle = (path / LEASE_FILE).open("r")
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # its writer is alive
        fcntl.flock(handle, fcntl.LOCK_UN)
        # Settled between our open and our lock? Then the file is gone, and it is not abandoned.
        return (path / LEASE_FILE).exists()


def _remove(path: Path) -> None:
    """Remove a directory so that readers never see half of it: rename, then delete."""
    if not path.exists():
        return
    if path.name.startswith(".trash-"):
        shutil.rmtree(path, ignore_errors=True)
        return
    trash = path.with_name(f".trash-{path.name}-{uuid.uuid4().hex[:8]}")
    try:
        path.rename(trash)
    except OSError:
        trash = path
    shutil.rmtree(trash, ignore_errors=True)


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Readers see the old file or the new one, never a partial write."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)
