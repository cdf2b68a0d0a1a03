"""What the UI shows of a goal's run: the verdict as the goal's check, readable metadata
(tables, inline plots), no local paths, the chosen model's kinds, observed raw tables."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from dagster_agentic import Goal
from dagster_agentic.orchestration.definitions import build_definitions
from dagster_agentic.plan.store import PlanBundle, PlanStore
from dagster_agentic.runner import RunSummary

K = dg.AssetKey
GOAL_ASSETS = (["churn", "sources"], ["churn", "model"], ["churn", "evaluation"], ["churn"])


def _materialisation(instance: dg.DagsterInstance, path: list[str]) -> dict[str, Any]:
    event = instance.get_latest_materialization_event(K(path))
    assert event is not None and event.asset_materialization is not None
    return dict(event.asset_materialization.metadata)


def _check(instance: dg.DagsterInstance, path: list[str], name: str) -> Any:
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(K(path), name)]
    )[dg.AssetCheckKey(K(path), name)]
    assert record is not None and record.event is not None
    return record.event.dagster_event.event_specific_data  # type: ignore[union-attr]


def _evaluation(goal: Goal, bundle: PlanBundle) -> dict[str, Any]:
    artifacts = PlanStore(goal.resolved_state_dir, goal.name).artifacts_dir(bundle.version)
    evaluation: dict[str, Any] = json.loads((artifacts / "evaluation.json").read_text())
    return evaluation


def test_the_verdict_is_the_goal_assets_check_and_matches_the_evaluation(
    goal_run: RunSummary,
    session_instance: dg.DagsterInstance,
    session_goal: Goal,
    planned: PlanBundle,
) -> None:
    cohort = _evaluation(session_goal, planned)["cohort_test"]
    check = _check(session_instance, ["churn"], "goal_met")
    assert check.passed == (cohort["verdict"] == "met") == goal_run.checks["churn:goal_met"]
    expected = (
        dg.AssetCheckSeverity.WARN
        if cohort["verdict"] == "inconclusive"
        else (dg.AssetCheckSeverity.ERROR)
    )
    assert check.severity == expected
    result = check.metadata["result"].value
    # "0.929 [0.901, 0.951] (95% Wilson, n=62)": value, interval, level, method and support.
    match = re.fullmatch(
        r"(\d\.\d{3}) \[(\d\.\d{3}), (\d\.\d{3})\] \(95% (\w+), n=([\d,]+)\)", result
    )
    assert match, result
    value, low, high = (float(match.group(i)) for i in (1, 2, 3))
    assert value == pytest.approx(cohort["value"], abs=5e-4)
    assert low == pytest.approx(cohort["interval_low"], abs=5e-4)
    assert high == pytest.approx(cohort["interval_high"], abs=5e-4)
    assert int(match.group(5).replace(",", "")) == cohort["support"]
    assert result in check.description and "target 0.950" in check.description
    # One verdict check, not two: the evaluation no longer carries its own.
    graph = build_definitions(session_goal, planned).resolve_asset_graph()
    assert dg.AssetCheckKey(K(["churn", "evaluation"]), "goal_met") not in graph.asset_check_keys
    (spec,) = [c for c in graph.asset_check_keys if c.asset_key == K(["churn"])]
    assert spec.name == "goal_met"


def test_a_failed_verdict_does_not_block_the_scores(
    session_goal: Goal, planned: PlanBundle
) -> None:
    graph = build_definitions(session_goal, planned).resolve_asset_graph()
    spec = graph.get_check_spec(dg.AssetCheckKey(K(["churn"]), "goal_met"))
    assert spec.blocking is False
    assert K(["churn"]) in graph.get(K(["churn", "predictions"])).parent_keys


def test_importance_is_sorted_strongest_first_in_the_table_and_the_json(
    goal_run: RunSummary, session_instance: dg.DagsterInstance
) -> None:
    metadata = _materialisation(session_instance, ["churn", "evaluation"])
    rows = metadata["feature_importance"].value
    shares = [row["share"] for row in rows]
    assert shares and shares == sorted(shares, reverse=True)
    table = metadata["shap_summary"].value
    percents = [float(p) for p in re.findall(r"^\| \d+ \| .+? \| ([\d.]+)% \|$", table, re.M)]
    assert len(percents) == len(rows) and percents == sorted(percents, reverse=True)
    scores = metadata["scores"].value
    assert "| test | cohort |" in scores and "| test | all rows |" in scores
    assert "| validation | cohort |" in scores
    # Rounded: no float with more than 3 decimals in the table.
    assert not re.search(r"\d\.\d{4,}", scores), scores


def _pngs(text: str) -> list[bytes]:
    return [
        base64.b64decode(b) for b in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", text)
    ]


def test_the_plots_are_inline_pngs_small_enough_for_the_event_log(
    goal_run: RunSummary, session_instance: dg.DagsterInstance
) -> None:
    shap = _pngs(_materialisation(session_instance, ["churn", "evaluation"])["shap_summary"].value)
    model = _materialisation(session_instance, ["churn", "model"])
    assert len(shap) == 1 and shap[0][:8] == b"\x89PNG\r\n\x1a\n"
    curve = model["learning_curve"].value
    if model["family"].value == "logistic":
        assert "No learning curve" in curve or "No curve recorded for: logistic" in curve
    else:
        (png,) = _pngs(curve)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
    for entry in (model["learning_curve"], model["candidates"]):
        assert len(entry.value) < 300_000


def test_no_metadata_of_the_goals_assets_holds_a_local_path(
    goal_run: RunSummary, session_instance: dg.DagsterInstance, session_goal: Goal
) -> None:
    state = str(session_goal.resolved_state_dir)
    for path in GOAL_ASSETS:
        for name, value in _materialisation(session_instance, path).items():
            assert not isinstance(value, dg.PathMetadataValue), (path, name)
            assert state not in json.dumps(value.value, default=str), (path, name)
    check = _check(session_instance, ["churn"], "goal_met")
    assert state not in json.dumps({k: v.value for k, v in check.metadata.items()}, default=str)


def test_the_goal_tells_its_reasoning_and_its_plan_diff(
    goal_run: RunSummary, session_instance: dg.DagsterInstance
) -> None:
    metadata = _materialisation(session_instance, ["churn"])
    reasoning = metadata["reasoning"].value
    lines = reasoning.splitlines()
    assert lines[0].startswith("- ") and "**interpret\\_goal**" in lines[0]
    assert any("**accept\\_plan\\_version**" in line for line in lines)
    assert metadata["plan_diff"].value == "Version 1 is the goal's first plan."


def test_the_model_kinds_name_the_trained_family_only(
    goal_run: RunSummary, session_goal: Goal, planned: PlanBundle
) -> None:
    graph = build_definitions(session_goal, planned).resolve_asset_graph()
    kinds = set(graph.get(K(["churn", "model"])).kinds)
    artifacts = PlanStore(session_goal.resolved_state_dir, "churn").artifacts_dir(planned.version)
    family = json.loads((artifacts / "training.json").read_text())["family"]
    names = {"lightgbm": "lightgbm", "torch_mlp": "torch", "logistic": "scikitlearn"}
    assert names[family] in kinds and "python" in kinds
    assert not (set(names.values()) - {names[family]}) & kinds


def test_before_training_the_model_kinds_are_the_plans_candidates(warehouse_copy: Path) -> None:
    from dagster_agentic.agent.planner import ensure_plan

    from .conftest import make_goal

    goal = make_goal(warehouse_copy)
    bundle = ensure_plan(goal)
    kinds = set(
        build_definitions(goal, bundle).resolve_asset_graph().get(K(["churn", "model"])).kinds
    )
    families = {c.family for c in bundle.plan.training.candidates}
    names = {"lightgbm": "lightgbm", "torch_mlp": "torch", "logistic": "scikitlearn"}
    assert {names[f] for f in families} <= kinds


def test_observing_the_raw_tables_records_row_counts_and_a_data_version(
    session_goal: Goal, planned: PlanBundle
) -> None:
    import duckdb

    defs = build_definitions(session_goal, planned)
    graph = defs.resolve_asset_graph()
    raw = [k for k in graph.get_all_asset_keys() if k.path[0] == "raw"]
    assert raw and all(graph.get(k).is_observable for k in raw)
    observer = defs.resolve_assets_def(K(["raw", "payments"]))
    # What the UI's "Observe sources" launches: a run of the observable assets.
    job = dg.define_asset_job("observe_raw", selection=dg.AssetSelection.assets(*raw))
    observe = dg.Definitions(assets=[observer], jobs=[job]).resolve_job_def("observe_raw")
    with dg.instance_for_test() as instance:
        assert observe.execute_in_process(instance=instance).success
        with duckdb.connect(str(session_goal.warehouse), read_only=True) as conn:
            (count,) = conn.execute("SELECT count(*) FROM main.payments").fetchone()  # type: ignore[misc]
        observation = _observation(instance, K(["raw", "payments"]))
        assert observation.metadata["dagster/row_count"].value == count
        assert "latest_timestamp" in observation.metadata
        first = observation.tags["dagster/data_version"]
        assert observe.execute_in_process(instance=instance).success
        again = _observation(instance, K(["raw", "payments"]))
        assert again.tags["dagster/data_version"] == first  # nothing changed, same version


def _observation(instance: dg.DagsterInstance, key: dg.AssetKey) -> Any:
    (record,) = instance.fetch_observations(key, limit=1).records
    observation = record.asset_observation
    assert observation is not None
    return observation
