"""The plan store: immutable, versioned plan bundles and the pointer to the accepted one.

Layout under ``<state_dir>/<goal>/``::

    versions/0001/plan.json      the plan
    versions/0001/dbt/           the generated dbt project, parsed (target/manifest.json)
    versions/0001/version.json   written last: a version without it is incomplete and ignored
    accepted.json                {"version": N}, replaced atomically
    artifacts/0001/              what runs of version 1 produce (model, predictions, evaluation)

A crash at any point leaves either the old or the new version accepted, never half of one:
bundles are complete before ``version.json`` appears, and ``accepted.json`` is swapped with
``os.replace``. Version numbers are allocated under an exclusive file lock, so concurrent
processes never write the same version.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dagster_agentic.errors import PlanStoreError
from dagster_agentic.plan.models import Plan


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
    def __init__(self, state_dir: Path, goal: str) -> None:
        self.root = state_dir / goal
        self.goal = goal
        self._versions = self.root / "versions"
        self._accepted = self.root / "accepted.json"

    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def versions(self) -> list[int]:
        """Complete versions, oldest first."""
        if not self._versions.exists():
            return []
        return sorted(
            int(p.name)
            for p in self._versions.iterdir()
            if p.name.isdigit() and (p / "version.json").exists()
        )

    def write_version(
        self,
        plan: Plan,
        render: Callable[[Path, Plan], None],
        *,
        parent: int | None,
        reason: str,
    ) -> PlanBundle:
        """Write a new, complete version; ``render(path, plan)`` fills the bundle dir (dbt
        project etc.). The written plan builds its models in its own schema (``schema_version``).
        """
        with self._lock():
            taken = [int(p.name) for p in self._versions.glob("[0-9]*") if p.name.isdigit()]
            version = max(taken, default=0) + 1
            path = self._versions / f"{version:04d}"
            path.mkdir(parents=True)
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
            # Leave nothing half-written behind; the number stays burned, which is harmless.
            shutil.rmtree(path, ignore_errors=True)
            raise
        return PlanBundle(version=version, plan=plan, path=path, meta=meta)

    def accept(self, version: int) -> None:
        self.load(version)  # refuses a missing or corrupt version
        with self._lock():
            write_json_atomic(self._accepted, {"version": version, "accepted_at": time.time()})

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
        path = self._versions / f"{version:04d}"
        if not (path / "version.json").exists():
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
        path = self.root / "artifacts" / f"{version:04d}"
        path.mkdir(parents=True, exist_ok=True)
        return path


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Readers see the old file or the new one, never a partial write."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)
