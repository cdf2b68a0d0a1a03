"""A run killed with SIGKILL at any point leaves state the next run converges from.

Each run is a real ``dagster-agentic run`` in a child process, on a real DuckDB file, with
real dbt. The test watches the child from outside (its open files, its dbt child, the trace,
the version directories) and kills it at the moment named; nothing of the product is patched.
After each kill a clean run must end exactly where an uninterrupted run ends: the same plan
version numbers, the same plan, the same result.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from dagster_agentic.locks import process_alive
from dagster_agentic.plan.store import LEASE_FILE, PlanStore
from example_churn.faults import apply_fault

from .conftest import EXAMPLE_OBJECTIVE

pytestmark = pytest.mark.slow
TOLERANCE = 0.3  # the tiny cohort's precision moves in steps of ~0.1 (see test_healing_loop)
FAULT = "rename_column"


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def goal_file(self) -> Path:
        return self.root / "defs.yaml"

    @property
    def store(self) -> PlanStore:
        return PlanStore(self.root / ".agentic", "churn")


@dataclass(frozen=True)
class Result:
    """Where a goal ended: what a converged run must reproduce."""

    live: int
    features: tuple[str, ...]
    versions: tuple[int, ...]
    status: str
    value: float | None


def make_workspace(pristine: Path, root: Path, name: str = "churn") -> Workspace:
    root.mkdir(parents=True, exist_ok=True)
    workspace = Workspace(root)
    shutil.copy(pristine, workspace.warehouse)
    attributes = {
        "name": name,
        "objective": EXAMPLE_OBJECTIVE,
        "warehouse": str(workspace.warehouse),
        "healing": {"metric_tolerance": TOLERANCE},
    }
    document = {"type": "dagster_agentic.GoalComponent", "attributes": attributes}
    workspace.goal_file.write_text(yaml.safe_dump(document))
    return workspace


def start_run(goal_file: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dagster_agentic.cli", "run", str(goal_file)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def run_clean(goal_file: Path, **env: str) -> str:
    process = start_run(goal_file, **env)
    out, _ = process.communicate(timeout=300)
    assert process.returncode in (0, 1), out[-3000:]  # 1: the goal is not met (tiny cohort)
    assert "plan version" in out, out[-3000:]
    return out


def result(workspace: Workspace) -> Result:
    store = workspace.store
    live = store.accepted_version()
    assert live is not None
    health = json.loads((store.root / "health.json").read_text())
    return Result(
        live=live,
        features=tuple(store.load(live).plan.feature_columns),
        versions=tuple(store.versions()),
        status=health["status"],
        value=(health.get("last_good") or {}).get("value"),
    )


# --- watching a child from outside -----------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return (Path(f"/proc/{pid}/cmdline").read_bytes()).replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _has_open(pid: int, path: Path) -> bool:
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            if str(fd.readlink()) == str(path):
                return True
        except OSError:
            continue
    return False


def dbt_child(pid: int, containing: str = "build") -> int | None:
    for child in _children(pid):
        line = _cmdline(child)
        if "dbt" in line and containing in line:
            return child
    return None


def kill_when(
    process: subprocess.Popen[str], ready: Callable[[int], bool], *, timeout: float = 240.0
) -> None:
    """SIGKILL ``process`` as soon as ``ready(pid)``; fail if it ends or times out first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out = process.stdout.read() if process.stdout else ""
            pytest.fail(f"the run ended before the kill point:\n{out[-3000:]}")
        if ready(process.pid):
            os.kill(process.pid, signal.SIGKILL)
            process.communicate(timeout=30)
            return
        time.sleep(0.02)
    process.kill()
    pytest.fail("the kill point was never reached")


def assert_gone(pid: int, within: float) -> None:
    deadline = time.monotonic() + within
    while process_alive(pid):
        assert time.monotonic() < deadline, f"dbt (pid {pid}) outlived its killed parent"
        time.sleep(0.02)


def kill_during_dbt(workspace: Workspace, project: str = "") -> None:
    """Kill the run while its dbt build has the warehouse open; dbt must die with it."""
    process = start_run(workspace.goal_file)
    seen: list[int] = []

    def ready(pid: int) -> bool:
        child = dbt_child(pid, containing="build")
        if child is None or project not in _cmdline(child) + _cwd(child):
            return False
        seen.append(child)
        return _has_open(child, workspace.warehouse)

    kill_when(process, ready)
    assert_gone(seen[-1], within=1.0)


def _cwd(pid: int) -> str:
    try:
        return str(Path(f"/proc/{pid}/cwd").readlink())
    except OSError:
        return ""


def assert_nothing_half_visible(workspace: Workspace) -> None:
    """After a kill: every listed version is complete and loads; nothing abandoned is live."""
    store = workspace.store
    for version in store.versions():
        store.load(version)
    live = store.accepted_version()
    if live is not None:
        assert live in store.versions()


# --- the tests ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(pristine_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """One uninterrupted first run: where every interrupted first run must end."""
    workspace = make_workspace(pristine_warehouse, tmp_path_factory.mktemp("reference"))
    run_clean(workspace.goal_file)
    return workspace


def test_a_first_run_killed_at_each_step_converges_to_the_uninterrupted_result(
    reference: Workspace, pristine_warehouse: Path, tmp_path: Path
) -> None:
    expected = result(reference)
    assert expected.live == 1 and expected.versions == (1,)
    workspace = make_workspace(pristine_warehouse, tmp_path / "killed")
    store = workspace.store
    trace = workspace.root / ".agentic" / "trace.sqlite"

    # profiling: the first moment the run has the warehouse open
    kill_when(start_run(workspace.goal_file), lambda pid: _has_open(pid, workspace.warehouse))
    assert store.versions() == [] and store.accepted_version() is None

    # screening: the kernel has proposed the candidates, which are now screened in DuckDB
    kill_when(start_run(workspace.goal_file), lambda pid: _traced(trace, "propose_plan"))
    assert store.versions() == [] and store.accepted_version() is None

    # writing the plan version (dbt parse): an incomplete, leased directory
    version_dir = store.root / "versions" / "0001"
    kill_when(
        start_run(workspace.goal_file),
        lambda pid: (version_dir / LEASE_FILE).exists() and dbt_child(pid, "parse") is not None,
    )
    assert not (version_dir / "version.json").exists()
    assert store.versions() == [] and store.accepted_version() is None

    # dbt build of the accepted version 1: the dead run's dbt dies with it
    kill_during_dbt(workspace)
    assert store.versions() == [1] and store.accepted_version() == 1
    assert _abandoned(workspace) == [(1, False)]

    # training: dbt has finished and the model step is fitting the candidates
    kill_when(start_run(workspace.goal_file), _training(workspace))
    assert_nothing_half_visible(workspace)

    run_clean(workspace.goal_file)
    assert result(workspace) == expected


def test_a_healing_run_killed_at_the_candidate_and_at_the_gate_converges(
    reference: Workspace, pristine_warehouse: Path, tmp_path: Path
) -> None:
    # The uninterrupted repair, from a healthy version 1 (a fresh run planned the same plan).
    uninterrupted = make_workspace(pristine_warehouse, tmp_path / "uninterrupted")
    run_clean(uninterrupted.goal_file)
    apply_fault(uninterrupted.warehouse, FAULT)
    run_clean(uninterrupted.goal_file)
    expected = result(uninterrupted)
    assert (expected.live, expected.status) == (2, "healthy")

    workspace = reference  # healthy on version 1; the last test of this module to use it
    apply_fault(workspace.warehouse, FAULT)
    store = workspace.store
    candidate = store.root / "versions" / "0002"

    # writing the healing candidate: version 2 leased, incomplete
    kill_when(
        start_run(workspace.goal_file),
        lambda pid: (candidate / LEASE_FILE).exists() and dbt_child(pid, "parse") is not None,
    )
    assert store.versions() == [1] and store.accepted_version() == 1

    # the gate: the complete candidate is being materialised; it is never accepted
    kill_during_dbt(workspace, project=str(candidate))
    assert (candidate / "version.json").exists()
    assert store.versions() == [1] and store.accepted_version() == 1
    with pytest.raises(Exception, match="does not exist"):
        store.load(2)

    run_clean(workspace.goal_file)
    assert result(workspace) == expected
    assert _abandoned(workspace) == [(2, False), (2, True)]


def _abandoned(workspace: Workspace) -> list[tuple[int, bool]]:
    """(version, complete) of each version reclaimed from a dead writer, in order."""
    lines = (workspace.store.root / "abandoned.jsonl").read_text().splitlines()
    return [(entry["version"], entry["complete"]) for entry in map(json.loads, lines)]


def _traced(trace: Path, name: str) -> bool:
    if not trace.exists():
        return False
    try:
        with sqlite3.connect(trace, timeout=0.1) as conn:
            return bool(conn.execute("SELECT 1 FROM trace WHERE name = ?", [name]).fetchone())
    except sqlite3.Error:
        return False


def _training(workspace: Workspace) -> Callable[[int], bool]:
    """Ready once the run's dbt build has come and gone, and a moment after (the model step)."""
    state: dict[str, float] = {}

    def ready(pid: int) -> bool:
        if "dbt_seen" not in state:
            if dbt_child(pid, "build") is not None:
                state["dbt_seen"] = time.monotonic()
            return False
        if dbt_child(pid, "build") is not None:
            return False
        state.setdefault("dbt_gone", time.monotonic())
        return time.monotonic() - state["dbt_gone"] > 1.5

    return ready
