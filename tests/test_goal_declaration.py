"""Goals declared in Python and in YAML; bad declarations fail loudly and write nothing."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from dagster_agentic import Goal, GoalComponent, GoalError, ObjectiveError, load_goal_file
from dagster_agentic.goals.spec import GoalOverrides

from .conftest import EXAMPLE_OBJECTIVE, make_goal


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _project(tmp_path: Path, attributes: dict[str, object]) -> Path:
    """A minimal dg project whose defs folder holds one GoalComponent, on ``sys.path``.

    Each test gets its own package name: Python caches imported modules by name.
    """
    root = tmp_path / "project"
    name = "goal_project_" + hashlib.sha1(str(tmp_path).encode()).hexdigest()[:10]
    package = root / name
    (package / "defs" / "goal").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "defs" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(
        f'[tool.dg]\ndirectory_type = "project"\n\n[tool.dg.project]\nroot_module = "{name}"\n'
    )
    defs = {"type": "dagster_agentic.GoalComponent", "attributes": attributes}
    (package / "defs" / "goal" / "defs.yaml").write_text(yaml.safe_dump(defs))
    sys.path.insert(0, str(root))
    return root


def _load(root: Path) -> dg.Definitions:
    return dg.load_from_defs_folder(project_root=root)


def test_python_declaration_validates_its_fields(tmp_path: Path) -> None:
    goal = make_goal(tmp_path / "w.duckdb", overrides=GoalOverrides(threshold=0.9))
    assert goal.resolved_state_dir == tmp_path / ".agentic"
    with pytest.raises(ValueError, match="lower-case letters"):
        Goal(name="Churn Model", objective="x", warehouse=tmp_path / "w.duckdb")
    with pytest.raises(ValueError, match="less than or equal to 1"):
        GoalOverrides(threshold=95)


def test_yaml_component_loads_as_assets_with_paths_relative_to_the_project(
    warehouse_copy: Path, tmp_path: Path
) -> None:
    root = _project(
        tmp_path,
        {"name": "churn", "objective": EXAMPLE_OBJECTIVE, "warehouse": "data/warehouse.duckdb"},
    )
    (root / "data").mkdir()
    warehouse_copy.rename(root / "data" / "warehouse.duckdb")
    defs = _load(root)
    keys = defs.resolve_asset_graph().get_all_asset_keys()
    assert dg.AssetKey(["churn"]) in keys
    assert dg.AssetKey(["features", "churn__payments"]) in keys
    assert (root / "data" / ".agentic" / "churn" / "accepted.json").exists()


def test_the_component_and_the_python_api_read_the_same_goal(tmp_path: Path) -> None:
    path = tmp_path / "project" / "defs.yaml"
    path.parent.mkdir()
    (tmp_path / "project" / "pyproject.toml").write_text("")
    path.write_text(
        yaml.safe_dump(
            {
                "type": "dagster_agentic.GoalComponent",
                "attributes": {
                    "name": "churn",
                    "objective": EXAMPLE_OBJECTIVE,
                    "warehouse": "w.duckdb",
                    "threshold": 0.9,
                    "cohort": "country = 'DE'",
                    "budget": {"max_trials": 2},
                },
            }
        )
    )
    goal = load_goal_file(path)
    assert goal.warehouse == tmp_path / "project" / "w.duckdb"
    assert goal.overrides.threshold == 0.9 and goal.overrides.cohort == "country = 'DE'"
    assert goal.budget.max_trials == 2
    component = GoalComponent(name="churn", objective=EXAMPLE_OBJECTIVE, warehouse="w.duckdb")
    assert component.goal().objective == EXAMPLE_OBJECTIVE
    path.write_text(yaml.safe_dump({"name": "churn", "objective": "x", "warehouse": "w", "x": 1}))
    with pytest.raises(GoalError, match="unknown goal field"):
        load_goal_file(path)


@pytest.mark.parametrize(
    ("attributes", "error", "message"),
    [
        ({"objective": "Make the data better somehow"}, ObjectiveError, "fix:"),
        (
            {"objective": "Optimise churn prediction for 95% precision on Martian cohorts"},
            ObjectiveError,
            "Martian",
        ),
        ({"target": "churn_labels.no_such_column"}, GoalError, "no_such_column"),
        ({"entity_table": "no_such_table"}, GoalError, "no_such_table"),
        ({"cohort": "planet = 'Mars'"}, GoalError, "planet"),
        ({"colour": "blue"}, Exception, "colour"),  # Dagster validates the component schema
    ],
)
def test_a_bad_goal_is_a_clear_error_at_load_and_nothing_is_written(
    warehouse_copy: Path,
    tmp_path: Path,
    attributes: dict[str, str],
    error: type[Exception],
    message: str,
) -> None:
    before = _digest(warehouse_copy)
    fields = {"name": "churn", "objective": EXAMPLE_OBJECTIVE, "warehouse": str(warehouse_copy)}
    root = _project(tmp_path, {**fields, **attributes})
    with pytest.raises(Exception) as caught:
        _load(root)
    chain = [caught.value, *_causes(caught.value)]
    found = [e for e in chain if isinstance(e, error) and message in str(e)]
    assert found, f"no {error.__name__} naming {message!r}: {chain!r}"
    assert not (warehouse_copy.parent / ".agentic").exists()
    assert _digest(warehouse_copy) == before


def test_a_missing_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    from dagster_agentic import WarehouseError, ensure_plan

    with pytest.raises(WarehouseError) as caught:
        ensure_plan(make_goal(tmp_path / "missing.duckdb"))
    assert "missing.duckdb" in str(caught.value)
    assert not (tmp_path / "missing.duckdb").exists()


def _causes(error: BaseException) -> list[BaseException]:
    chain = []
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
        chain.append(error)
    return chain
