"""The command line over a real planned goal."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dagster_agentic import Goal
from dagster_agentic.cli import main
from dagster_agentic.plan.store import PlanBundle


def _goal_file(goal: Goal, directory: Path) -> Path:
    path = directory / "defs.yaml"
    attributes = {
        "name": goal.name,
        "objective": goal.objective,
        "warehouse": str(goal.warehouse),
    }
    path.write_text(
        yaml.safe_dump({"type": "dagster_agentic.GoalComponent", "attributes": attributes})
    )
    return path


def test_features_lists_every_candidate_with_its_decision(
    planned: PlanBundle, session_goal: Goal, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["features", str(_goal_file(session_goal, tmp_path))]) == 0
    out = capsys.readouterr().out
    assert f"plan version {planned.version}" in out and "screened" in out
    for column in planned.plan.feature_columns:
        line = next(line for line in out.splitlines() if line.startswith(column + " "))
        assert line.endswith("kept")
    assert "dropped: no signal after correcting for" in out


def test_plan_new_writes_a_version_and_a_bad_goal_file_is_a_clear_error(
    warehouse_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    goal = Goal(
        name="churn",
        objective="Optimise the churn prediction model for 95% precision on European cohorts",
        warehouse=warehouse_copy,
    )
    path = _goal_file(goal, tmp_path)
    assert main(["plan", str(path)]) == 0
    assert main(["plan", "--new", str(path)]) == 0
    out = capsys.readouterr().out
    assert "# plan version 1" in out and "# plan version 2" in out
    missing = tmp_path / "missing.yaml"
    assert main(["plan", str(missing)]) == 2
    assert "missing.yaml" in capsys.readouterr().err
