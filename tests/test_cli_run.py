"""A real ``run`` on the command line: found by name, progress per phase on stderr, stdout
only the command's own (dbt's log lines quiet unless --verbose), then the goal's health,
trace and audit timeline, and a repair seen through ``plan diff``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dagster_agentic.cli import main
from example_churn.faults import apply_fault
from tests.test_cli_goals import make_project

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
DBT_LINES = ("START sql table model", "Running with dbt=", "Completed successfully")


@pytest.fixture(scope="module")
def project(pristine_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dg project with the goal ``churn`` over a private copy of the tiny warehouse."""
    root = make_project(tmp_path_factory.mktemp("cli_run") / "proj", "churn")
    defs = root / "shop" / "defs" / "churn" / "defs.yaml"
    document = yaml.safe_load(defs.read_text())
    document["attributes"]["healing"] = {"metric_tolerance": 0.3}  # the tiny cohort is noisy
    defs.write_text(yaml.safe_dump(document))
    shutil.copy(pristine_warehouse, root / "warehouse.duckdb")
    return root


@pytest.fixture(scope="module")
def first_run(project: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("dagster-agentic")
    return subprocess.run(
        [script, "run", "churn", "--json"],
        cwd=project / "shop",
        env={**os.environ, "DAGSTER_HOME": ""},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_run_json_keeps_stdout_to_the_summary_and_shows_progress(
    first_run: subprocess.CompletedProcess[str],
) -> None:
    assert first_run.returncode in (0, 1), first_run.stderr[-3000:]
    summary = json.loads(first_run.stdout)  # the whole of stdout is one JSON document
    assert summary["goal"] == "churn" and summary["plan_version"] == 1
    assert summary["success"] is True and ISO.fullmatch(summary["goal_at"])
    for text in DBT_LINES:
        assert text not in first_run.stdout and text not in first_run.stderr
    phases = [
        line.removeprefix("churn: ").removesuffix(" ...")
        for line in first_run.stderr.splitlines()
        if line.endswith(" ...")
    ]
    assert phases == ["planning", "dbt build", "training", "evaluation"]
    assert "churn: training done (" in first_run.stderr


def test_health_trace_and_audit_read_the_run(
    first_run: subprocess.CompletedProcess[str],
    project: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert first_run.returncode in (0, 1), first_run.stderr[-3000:]
    where = ["--project", str(project)]
    assert main(["health", "churn", *where]) == 0
    out = capsys.readouterr().out
    assert "status        HEALTHY" in out and "live version  1" in out
    assert "{" not in out and ISO.search(out.split("updated       ")[1])
    assert main(["health", "churn", *where, "--json"]) == 0
    health = json.loads(capsys.readouterr().out)
    assert health["status"] == "healthy" and ISO.fullmatch(health["updated_at"])

    assert main(["trace", "churn", *where, "--kind", "nonsense"]) == 2
    captured = capsys.readouterr()
    assert "no records of kind 'nonsense'" in captured.err
    assert "use one of: action, agent, decision, tool" in captured.err and captured.out == ""
    assert main(["trace", "churn", *where, "--kind", "decision"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert records and {r["kind"] for r in records} == {"decision"}
    assert all(ISO.fullmatch(r["recorded_at"]) for r in records)
    assert {"interpret_goal", "propose_plan", "select_features"} <= {r["name"] for r in records}

    assert main(["audit", "churn", *where]) == 0
    lines = capsys.readouterr().out.splitlines()
    # Each line is an entry at its time, an entry's SQL, or the closing totals.
    assert all(ISO.match(line) or line.startswith(" " * 28 + "sql: ") for line in lines[:-2])
    assert (
        lines[-2] == ""
        and " records; 0 model calls, $0.0000; plan versions accepted: 1" in lines[-1]
    )
    timeline = [line for line in lines if ISO.match(line)]
    assert any(" v1  decision     interpret_goal: " in line for line in timeline)
    assert any("plan version version 1 accepted (declared;" in line for line in timeline)
    assert any(line.strip().startswith("sql: country IN (") for line in lines)
    assert main(["audit", "churn", *where, "--json", "--kind", "action"]) == 0
    entries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert entries and {e["kind"] for e in entries} == {"action"}
    assert entries[0]["category"] == "plan version" and entries[0]["plan_version"] == 1
    assert main(["audit", "churn", *where, "--json", "--version", "1"]) == 0
    everything = capsys.readouterr().out.splitlines()
    assert len(everything) > len(entries)
    assert main(["audit", "churn", *where, "--version", "9"]) == 0
    assert "no trace records match" in capsys.readouterr().out
    assert main(["audit", "churn", *where, "--since", "2999-01-01T00:00:00Z", "--json"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["audit", "churn", *where, "--since", "yesterday"]) == 2
    assert "--since 'yesterday' is not an ISO 8601 time" in capsys.readouterr().err
    assert main(["audit", "churn", *where, "--kind", "nonsense"]) == 2
    assert "use one of: action, agent, decision, tool" in capsys.readouterr().err


def test_a_verbose_run_passes_dbt_through_and_shows_the_repair(
    first_run: subprocess.CompletedProcess[str],
    project: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert first_run.returncode in (0, 1), first_run.stderr[-3000:]
    apply_fault(project / "warehouse.duckdb", "rename_column", seed=3)
    where = ["--project", str(project)]
    code = main(["run", "churn", *where, "--verbose", "--json"])
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err[-3000:]
    assert "START sql table model" in captured.err  # dbt's own lines, on stderr
    summary = json.loads(captured.out)  # stdout is still the summary alone
    assert summary["healing"]["status"] in ("repaired", "repaired_with_loss")
    assert "churn: healing ..." in captured.err
    assert main(["health", "churn", *where, "--json"]) == 0
    health = json.loads(capsys.readouterr().out)
    assert health["repair"] in ("repaired", "repaired_with_loss"), health
    assert main(["plan", "diff", "churn", *where]) == 0
    diff = capsys.readouterr().out
    assert diff.startswith(f"plan version 1 -> {health['live_version']}")
    assert "source repairs changed (1):" in diff
    assert main(["audit", "churn", *where, "--kind", "decision"]) == 0
    out = capsys.readouterr().out
    assert "diagnose: " in out and "propose_repair: " in out
