"""The command line over a real planned goal: features, the plan's summary, new versions and
what changed between them."""

from __future__ import annotations

import json
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
    path = str(_goal_file(session_goal, tmp_path))
    assert main(["features", path]) == 0
    out = capsys.readouterr().out
    assert f"plan version {planned.version}" in out and "screened" in out
    for column in planned.plan.feature_columns:
        line = next(line for line in out.splitlines() if line.startswith(column + " "))
        assert line.endswith("kept")
    assert "dropped: no signal after correcting for" in out
    assert main(["features", path, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    kept = [row["column"] for row in data["features"] if row["keep"]]
    assert data["version"] == planned.version and kept == list(planned.plan.feature_columns)


def test_plan_prints_a_summary_and_json_gives_the_whole_plan(
    planned: PlanBundle, session_goal: Goal, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(_goal_file(session_goal, tmp_path))
    assert main(["plan", path, "--top", "3"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    objective = planned.plan.objective
    assert len(lines) < 30  # a summary, not the plan's JSON
    assert f"plan version  {planned.version} ({planned.path})" in lines
    assert f"fingerprint   {planned.meta['plan_fingerprint']}" in lines
    assert f"task          {objective.task}" in lines
    assert f"target        {objective.label_table}.{objective.target_column}" in lines
    assert f"metric        {objective.metric} >= {objective.threshold:g}" in lines
    assert f"entity        {objective.entity_table}.{objective.entity_key}" in lines
    assert f"features      {len(planned.plan.feature_columns)}, the top 3:" in lines
    assert any(line.startswith("cohort        European") for line in lines)
    shown = [line.split()[0] for line in lines if line.startswith("  ")]
    assert len(shown) == 3 and set(shown) <= set(planned.plan.feature_columns)
    assert any(line.startswith("models        lightgbm") for line in lines)
    assert "planning" in captured.err  # progress goes to stderr
    assert main(["plan", path, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["version"] == planned.version and data["objective"]["metric"] == objective.metric
    assert data["plan"]["goal"] == session_goal.name and len(data["top_features"]) == 10


def test_plan_new_writes_a_version_and_plan_diff_compares_them(
    warehouse_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    goal = Goal(
        name="churn",
        objective="Optimise the churn prediction model for 95% precision on European cohorts",
        warehouse=warehouse_copy,
    )
    path = str(_goal_file(goal, tmp_path))
    assert main(["plan", path]) == 0
    assert "plan version  1 (" in capsys.readouterr().out
    assert main(["plan", "diff", path]) == 2
    assert "has one plan version only (1)" in capsys.readouterr().err
    assert main(["plan", "--new", path]) == 0
    assert "plan version  2 (" in capsys.readouterr().out
    # By default the live version against its parent; two versions name both.
    assert main(["plan", "diff", path]) == 0
    default = capsys.readouterr().out
    assert default.startswith("plan version 1 -> 2")
    assert main(["plan", "diff", path, "2", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["old"], data["new"]) == (2, 1)
    assert main(["plan", "diff", path, "1"]) == 2
    assert "takes two versions or none" in capsys.readouterr().err
    assert main(["plan", "diff", path, "1", "7"]) == 2
    assert "plan version 7 of goal 'churn' does not exist" in capsys.readouterr().err
