"""The README's sequence against a live ``dagster dev`` (webserver and daemon on 127.0.0.1):
break the warehouse, ``make demo`` (which heals in-process), ``make ui``. The healing sensor
must leave the repaired run alone and the goal healthy. Then "Materialize all" through the
webserver's GraphQL API on a newly broken warehouse: the raw-table checks run, the run fails
at the gate, and the sensor launches the heal job, which repairs it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dagster_agentic.agent.planner import ensure_plan
from dagster_agentic.healing.health import read_health
from dagster_agentic.orchestration.gate import source_check_name
from dagster_agentic.orchestration.healing import TRIGGER_TAG

from .conftest import EXAMPLE_OBJECTIVE, make_goal

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
LOCATION, REPOSITORY = "definitions.py", "__repository__"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _project(root: Path, warehouse: Path) -> Path:
    package = root / "goal_project"
    (package / "defs" / "churn").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "defs" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(
        '[tool.dg]\ndirectory_type = "project"\n\n[tool.dg.project]\nroot_module = "goal_project"\n'
    )
    attributes = {"name": "churn", "objective": EXAMPLE_OBJECTIVE, "warehouse": str(warehouse)}
    goal_file = package / "defs" / "churn" / "defs.yaml"
    goal_file.write_text(
        yaml.safe_dump({"type": "dagster_agentic.GoalComponent", "attributes": attributes})
    )
    (root / "definitions.py").write_text(
        "import sys\nfrom pathlib import Path\nimport dagster as dg\n\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        f"defs = dg.load_from_defs_folder(project_root=Path({str(root)!r}))\n"
    )
    return goal_file


class _Deployment:
    """``dagster dev`` in its own process group; stopped with SIGINT, as a person would."""

    def __init__(self, project: Path, env: dict[str, str], log: Path, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/graphql"
        self.log = log
        self.process = subprocess.Popen(
            [
                str(BIN / "dagster"),
                "dev",
                "-f",
                "definitions.py",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            cwd=project,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            self.url,
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            answer: dict[str, Any] = json.loads(response.read())
        assert not answer.get("errors"), answer["errors"]
        return answer["data"]

    def wait(self, what: str, ready: Callable[[], Any], timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                found = ready()
            except OSError:
                found = None
            if found:
                return found
            time.sleep(1.0)
        raise AssertionError(f"timed out waiting for {what}:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def sensor_ticks(self) -> list[dict[str, Any]]:
        data = self.query(
            """query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { __typename
               ... on Sensor { sensorState { ticks(limit: 50) { status skipReason runIds } } }
            } }""",
            {
                "s": {
                    "repositoryLocationName": LOCATION,
                    "repositoryName": REPOSITORY,
                    "sensorName": "churn__healing",
                }
            },
        )["sensorOrError"]
        return list(reversed(data["sensorState"]["ticks"])) if "sensorState" in data else []

    def runs(self) -> list[dict[str, Any]]:
        data = self.query(
            """{ runsOrError { ... on Runs { results { runId jobName status
                 tags { key value } } } } }"""
        )
        return [
            {**run, "tags": {t["key"]: t["value"] for t in run["tags"]}}
            for run in data["runsOrError"]["results"]
        ]

    def materialize_all(self) -> str:
        nodes = self.query("{ assetNodes { assetKey { path } isMaterializable } }")["assetNodes"]
        keys = [node["assetKey"] for node in nodes if node["isMaterializable"]]
        launched = self.query(
            """mutation($p: ExecutionParams!) { launchPipelineExecution(executionParams: $p) {
                 __typename ... on LaunchRunSuccess { run { runId } } } }""",
            {
                "p": {
                    "selector": {
                        "repositoryLocationName": LOCATION,
                        "repositoryName": REPOSITORY,
                        "pipelineName": "__ASSET_JOB",
                        "assetSelection": keys,
                    },
                    "mode": "default",
                    "executionMetadata": {"tags": []},
                }
            },
        )["launchPipelineExecution"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        return str(launched["run"]["runId"])

    def messages(self, run_id: str) -> list[str]:
        data = self.query(
            """query($r: ID!) { runOrError(runId: $r) { ... on Run { eventConnection(limit: 5000) {
            events { ... on MessageEvent { message } } } } } }""",
            {"r": run_id},
        )
        return [str(e.get("message", "")) for e in data["runOrError"]["eventConnection"]["events"]]

    def failed_checks(self, run_id: str) -> set[str]:
        data = self.query(
            """query($r: ID!) { runOrError(runId: $r) { ... on Run { eventConnection(limit: 5000) {
                 events { __typename ... on AssetCheckEvaluationEvent {
                   evaluation { checkName success } } } } } } }""",
            {"r": run_id},
        )
        events = data["runOrError"]["eventConnection"]["events"]
        return {
            e["evaluation"]["checkName"]
            for e in events
            if e["__typename"] == "AssetCheckEvaluationEvent" and not e["evaluation"]["success"]
        }


@pytest.fixture
def environment(tmp_path: Path) -> Iterator[dict[str, str]]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    yield {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "DAGSTER_AGENTIC_HEALING_INTERVAL": "1",
    }


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_fault_demo_ui_stays_healthy_and_materialize_all_is_gated_and_healed(
    warehouse_copy: Path, tmp_path: Path, environment: dict[str, str]
) -> None:
    goal = make_goal(warehouse_copy)
    goal_file = _project(tmp_path / "project", warehouse_copy)
    first = ensure_plan(goal)  # what the first `make demo` planned, before the fault

    # fault -> make demo: the run fails its raw checks and is repaired in-process.
    python = str(BIN / "python")
    faulted = _cli(environment, python, "-m", "example_churn.faults", "apply", "rename_column",
                   "--path", str(warehouse_copy))  # fmt: skip
    assert faulted.returncode == 0, faulted.stderr
    demo = _cli(environment, str(BIN / "dagster-agentic"), "run", str(goal_file))
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "healing       repaired: renamed_column on payments" in demo.stdout
    assert read_health(goal)["live_version"] == first.version + 1

    # make ui: the sensor's first tick records the present; the repaired run is history.
    port = _free_port()
    env = {**environment, "DAGSTER_AGENTIC_WEBSERVER": f"http://127.0.0.1:{port}"}
    deployment = _Deployment(tmp_path / "project", env, tmp_path / "dagster_dev.log", port)
    try:
        ticks = deployment.wait("three healing sensor ticks", lambda: len(
            deployment.sensor_ticks()) >= 3 and deployment.sensor_ticks(), timeout=120)  # fmt: skip
        assert "first tick" in str(ticks[0]["skipReason"])
        assert all(not tick["runIds"] for tick in ticks)
        runs = deployment.runs()
        demo_runs = {run["runId"] for run in runs if run["jobName"] == "churn__goal"}
        assert len(demo_runs) >= 2  # the failed run and the repaired candidate's run
        assert [run for run in runs if run["jobName"] == "churn__heal"] == []
        health = read_health(goal)
        assert health["status"] == "healthy" and health["live_version"] == first.version + 1

        # A new fault, then "Materialize all" through GraphQL: the gate's checks run and fail.
        relabelled = _cli(environment, python, "-m", "example_churn.faults", "apply",
                          "relabel_categories", "--path", str(warehouse_copy))  # fmt: skip
        assert relabelled.returncode == 0, relabelled.stderr
        run_id = deployment.materialize_all()

        def finished(wanted: str) -> dict[str, Any] | None:
            return next(
                (r for r in deployment.runs() if r["runId"] == wanted and r["status"] in
                 ("SUCCESS", "FAILURE", "CANCELED")), None)  # fmt: skip

        materialised = deployment.wait("the Materialize-all run", lambda: finished(run_id), 180)
        assert materialised["status"] == "FAILURE" and materialised["jobName"] == "__ASSET_JOB"
        failed = deployment.failed_checks(run_id)
        assert source_check_name("payments", "status__accepted_values") in failed, failed

        # The sensor launches the heal job for that run (and only for it); the repair goes live.
        def heal_runs() -> list[dict[str, Any]]:
            return [r for r in deployment.runs() if r["jobName"] == "churn__heal"]

        heal = deployment.wait("a heal run", heal_runs, 60)
        assert [r["tags"][TRIGGER_TAG] for r in heal] == [run_id]
        healed = deployment.wait("the heal run", lambda: finished(heal[0]["runId"]), 240)
        assert healed["status"] == "SUCCESS", deployment.log.read_text()[-3000:]
        # The heal job refreshed the component through the webserver's GraphQL API.
        refreshed = [m for m in deployment.messages(heal[0]["runId"]) if "definitions:" in m]
        assert refreshed and "refreshComponentState: RefreshComponentStateSuccess" in refreshed[0]
        health = read_health(goal)
        assert health["status"] == "healthy", health
        assert health["live_version"] == first.version + 2
        assert len(heal_runs()) == 1  # healed once
    finally:
        deployment.stop()
