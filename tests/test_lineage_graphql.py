"""Lineage and runtime rewriting through Dagster's GraphQL layer, out of process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import yaml
from dagster_graphql.test.utils import define_out_of_process_workspace, execute_dagster_graphql

from dagster_agentic.orchestration.healing import refresh_definitions

from .conftest import EXAMPLE_OBJECTIVE, add_survey_table, make_goal

ASSET_NODES = "{ assetNodes { assetKey { path } dependencyKeys { path } } }"
LOCATION = "test_location"
REFRESH = """
mutation($location: String!, $key: String!) {
  refreshComponentState(locationName: $location, defsStateKey: $key) { __typename }
}
"""
RELOAD = """
mutation($location: String!) {
  reloadRepositoryLocation(repositoryLocationName: $location) { __typename }
}
"""


def _write_project(root: Path, warehouse: Path) -> Path:
    package = root / "goal_project"
    (package / "defs" / "churn").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "defs" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(
        '[tool.dg]\ndirectory_type = "project"\n\n[tool.dg.project]\nroot_module = "goal_project"\n'
    )
    attributes = {"name": "churn", "objective": EXAMPLE_OBJECTIVE, "warehouse": str(warehouse)}
    defs = {"type": "dagster_agentic.GoalComponent", "attributes": attributes}
    (package / "defs" / "churn" / "defs.yaml").write_text(yaml.safe_dump(defs))
    entry = root / "definitions.py"
    entry.write_text(
        "import sys\nfrom pathlib import Path\nimport dagster as dg\n\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        f"defs = dg.load_from_defs_folder(project_root=Path({str(root)!r}))\n"
    )
    return entry


def _graph(context: Any) -> dict[tuple[str, ...], set[tuple[str, ...]]]:
    result = execute_dagster_graphql(context, ASSET_NODES)
    assert not result.errors, result.errors
    return {
        tuple(node["assetKey"]["path"]): {tuple(d["path"]) for d in node["dependencyKeys"]}
        for node in result.data["assetNodes"]
    }


def test_lineage_and_a_new_plan_version_through_graphql(
    warehouse_copy: Path, tmp_path: Path
) -> None:
    entry = _write_project(tmp_path / "project", warehouse_copy)
    with (
        dg.instance_for_test() as instance,
        define_out_of_process_workspace(str(entry), "defs", instance) as workspace,
    ):
        graph = _graph(workspace.create_request_context())
        features = {k for k in graph if k[0] == "features"}
        assert features
        for key in features:
            assert graph[key] and all(
                parent[0] == "raw" or parent == ("churn", "sources") for parent in graph[key]
            )
        assert graph[("churn", "training_set")] >= features
        assert graph[("churn", "model")] == {("churn", "training_set")}
        assert graph[("churn", "evaluation")] == {("churn", "model")}
        assert graph[("churn",)] == {("churn", "evaluation")}
        assert ("features", "churn__nps_surveys") not in graph

        # The warehouse grows a table: refreshing the component's state plans a new version.
        add_survey_table(warehouse_copy)

        context = workspace.create_request_context()
        refreshed = execute_dagster_graphql(
            context, REFRESH, {"location": LOCATION, "key": "GoalComponent[churn]"}
        )
        assert not refreshed.errors, refreshed.errors
        assert refreshed.data["refreshComponentState"]["__typename"] == (
            "RefreshComponentStateSuccess"
        )
        graph = _graph(workspace.create_request_context())
        assert graph[("features", "churn__nps_surveys")] >= {("raw", "nps_surveys")}
        assert ("features", "churn__nps_surveys") in graph[("churn", "training_set")]

        # A plain code-location reload builds the same pinned version.
        reloaded = execute_dagster_graphql(
            workspace.create_request_context(), RELOAD, {"location": LOCATION}
        )
        assert reloaded.data["reloadRepositoryLocation"]["__typename"] == "WorkspaceLocationEntry"
        assert ("features", "churn__nps_surveys") in _graph(workspace.create_request_context())

        # What the heal job calls after a repair goes live, through the same GraphQL schema.
        def execute(query: str, variables: dict[str, Any]) -> dict[str, Any]:
            result = execute_dagster_graphql(workspace.create_request_context(), query, variables)
            return {"data": result.data, "errors": result.errors}

        answer = refresh_definitions(make_goal(warehouse_copy), LOCATION, execute=execute)
        assert answer == "refreshComponentState: RefreshComponentStateSuccess"
