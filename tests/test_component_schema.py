"""The component's YAML schema and scaffolder, checked by `dg check yaml` on a real project."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from dagster_agentic.goals.kernel_spec import ModelKernelSpec
from dagster_agentic.goals.spec import Budget, Healing, Predictions
from dagster_agentic.orchestration.component import GoalComponent
from dagster_agentic.orchestration.component_scaffold import (
    GoalScaffoldParams,
    defs_yaml,
    goal_name_for,
)

DG = Path(sys.executable).with_name("dg")
NESTED: dict[str, type[BaseModel]] = {
    "budget": Budget,
    "healing": Healing,
    "kernel": ModelKernelSpec,
    "predictions": Predictions,
}
GOAL = """\
type: dagster_agentic.GoalComponent
attributes:
  name: churn
  objective: Optimise the churn model for 95% precision
  warehouse: data/warehouse.duckdb
"""


def _schema() -> dict:
    return GoalComponent.model().model_json_schema()


def _nested_schema(schema: dict, name: str) -> dict:
    refs = [a["$ref"] for a in schema["properties"][name]["anyOf"] if "$ref" in a]
    assert len(refs) == 1, schema["properties"][name]
    return schema["$defs"][refs[0].rsplit("/", 1)[1]]


def test_every_field_and_every_nested_field_has_a_description() -> None:
    schema = _schema()
    for field, spec in schema["properties"].items():
        assert spec.get("description"), field
    for name in NESTED:
        for field, spec in _nested_schema(schema, name)["properties"].items():
            assert spec.get("description"), f"{name}.{field}"


def test_nested_blocks_carry_the_goal_models_fields_defaults_and_descriptions() -> None:
    schema = _schema()
    for name, model in NESTED.items():
        nested = _nested_schema(schema, name)
        assert nested["additionalProperties"] is False
        assert set(nested["properties"]) == set(model.model_fields), name
        for field, info in model.model_fields.items():
            assert nested["properties"][field]["description"] == info.description
            if not info.is_required() and isinstance(info.default, int | float | str):
                assert nested["properties"][field]["default"] == info.default, field


def test_yaml_blocks_reach_the_goal() -> None:
    component = GoalComponent.resolve_from_yaml(
        textwrap.dedent(
            """\
            name: churn
            objective: Optimise the churn model for 95% precision
            warehouse: data/warehouse.duckdb
            budget: {max_trials: 3}
            healing: {max_attempts: 1}
            kernel: openai/gpt-4.1-mini
            predictions: {entities: unlabelled, as_of: "2024-05-01T00:00:00"}
            """
        )
    )
    goal = component.goal()
    assert goal.budget.max_trials == 3 and goal.budget.max_train_seconds == 300.0
    assert goal.healing.max_attempts == 1
    assert goal.kernel is not None and goal.kernel.model == "openai/gpt-4.1-mini"
    assert goal.predictions.entities == "unlabelled"
    assert goal.predictions.as_of is not None and goal.predictions.as_of.month == 5


def test_scaffolded_text_keeps_hostile_values_as_one_string() -> None:
    objective = "Optimise: precision\n'; DROP TABLE x; --\n{{ env('HOME') }}"
    text = defs_yaml(
        "dagster_agentic.GoalComponent",
        GoalScaffoldParams(objective=objective, warehouse="data/w.duckdb"),
        "Churn-Goal",
    )
    attributes = yaml.safe_load(text)["attributes"]
    assert attributes == {
        "name": "churn_goal",
        "objective": objective,
        "warehouse": "data/w.duckdb",
    }
    assert goal_name_for("2024") is None


def _project(tmp_path: Path, defs: dict[str, str]) -> Path:
    root = tmp_path / "goalproj"
    (root / "goalproj" / "defs").mkdir(parents=True)
    (root / "goalproj" / "__init__.py").write_text("")
    (root / "goalproj" / "defs" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [project]
            name = "goalproj"
            version = "0.1.0"

            [tool.dg]
            directory_type = "project"

            [tool.dg.project]
            root_module = "goalproj"
            """
        )
    )
    for folder, text in defs.items():
        (root / "goalproj" / "defs" / folder).mkdir()
        (root / "goalproj" / "defs" / folder / "defs.yaml").write_text(text)
    return root


def _dg(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{DG.parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [str(DG), *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


needs_dg = pytest.mark.skipif(not DG.exists(), reason="dagster-dg-cli is not installed")


@needs_dg
def test_dg_check_yaml_accepts_a_goal_and_names_a_misspelt_key(tmp_path: Path) -> None:
    good = GOAL + "  budget: {max_trials: 3}\n  kernel: {model: openai/gpt-4.1-mini}\n"
    bad = GOAL + "  budget: {max_trails: 3}\n"
    root = _project(tmp_path, {"good": good})
    passed = _dg(root, "check", "yaml")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    (root / "goalproj" / "defs" / "good" / "defs.yaml").write_text(bad)
    failed = _dg(root, "check", "yaml")
    assert failed.returncode != 0
    assert "max_trails" in failed.stdout + failed.stderr


@needs_dg
def test_dg_check_yaml_refuses_an_unfilled_scaffold_at_its_blank_fields(tmp_path: Path) -> None:
    params = GoalScaffoldParams(warehouse="data/w.duckdb")
    text = defs_yaml("dagster_agentic.GoalComponent", params, "churn")
    root = _project(tmp_path, {"churn": text})
    failed = _dg(root, "check", "yaml")
    out = failed.stdout + failed.stderr
    assert failed.returncode != 0
    assert "objective" in out and "Required, not set yet: objective" in out
    filled = GoalScaffoldParams(objective="Optimise the churn model", warehouse="data/w.duckdb")
    (root / "goalproj" / "defs" / "churn" / "defs.yaml").write_text(
        defs_yaml("dagster_agentic.GoalComponent", filled, "churn")
    )
    passed = _dg(root, "check", "yaml")
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_both_registry_modules_name_the_component_and_nothing_else() -> None:
    from dagster.components.core.package_entry import get_package_objects_in_module

    import dagster_agentic
    import dagster_agentic.components

    config = configparser.ConfigParser()
    config.read(Path(__file__).resolve().parents[1] / "setup.cfg")
    entries = config["options.entry_points"]["dagster_dg_cli.registry_modules"].split("\n")
    modules = sorted(line.split("=")[1].strip() for line in entries if line.strip())
    assert modules == ["dagster_agentic", "dagster_agentic.components"]
    for module in (dagster_agentic, dagster_agentic.components):
        assert dict(get_package_objects_in_module(module)) == {"GoalComponent": GoalComponent}
