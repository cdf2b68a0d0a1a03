from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from dagster_agentic.errors import PlanStoreError
from dagster_agentic.plan.models import Plan
from dagster_agentic.plan.store import PlanStore


def _render(path: Path, plan: Plan) -> None:
    (path / "dbt").mkdir()
    (path / "dbt" / "model.sql").write_text("select 1")


def test_versions_are_complete_numbered_and_accepted_explicitly(
    tmp_path: Path, sample_plan: Plan
) -> None:
    store = PlanStore(tmp_path, "churn")
    assert store.versions() == [] and store.load_accepted() is None
    first = store.write_version(sample_plan, _render, parent=None, reason="declared")
    second = store.write_version(sample_plan, _render, parent=1, reason="repair")
    assert (first.version, second.version) == (1, 2)
    assert store.versions() == [1, 2]
    assert store.accepted_version() is None  # writing never makes a version live
    store.accept(1)
    loaded = store.load_accepted()
    assert loaded is not None and loaded.version == 1
    assert loaded.plan == sample_plan
    assert (loaded.dbt_dir / "model.sql").read_text() == "select 1"
    assert second.meta["parent"] == 1 and second.meta["reason"] == "repair"


def test_a_failed_render_leaves_no_version_and_keeps_the_accepted_one(
    tmp_path: Path, sample_plan: Plan
) -> None:
    store = PlanStore(tmp_path, "churn")
    store.accept(store.write_version(sample_plan, _render, parent=None, reason="x").version)

    def broken(path: Path, plan: Plan) -> None:
        (path / "half-written").write_text("...")
        raise RuntimeError("dbt parse crashed")

    with pytest.raises(RuntimeError):
        store.write_version(sample_plan, broken, parent=1, reason="y")
    assert store.versions() == [1]
    assert store.accepted_version() == 1
    assert not any(p.name == "0002" for p in (store.root / "versions").iterdir())


def test_an_incomplete_version_is_ignored(tmp_path: Path, sample_plan: Plan) -> None:
    store = PlanStore(tmp_path, "churn")
    store.write_version(sample_plan, _render, parent=None, reason="x")
    crashed = store.root / "versions" / "0002"
    crashed.mkdir()
    (crashed / "plan.json").write_text("{")  # a crash before version.json was written
    assert store.versions() == [1]
    assert store.write_version(sample_plan, _render, parent=1, reason="y").version == 3


def test_accepting_a_missing_or_corrupt_version_is_refused(
    tmp_path: Path, sample_plan: Plan
) -> None:
    store = PlanStore(tmp_path, "churn")
    with pytest.raises(PlanStoreError, match="does not exist"):
        store.accept(7)
    bundle = store.write_version(sample_plan, _render, parent=None, reason="x")
    (bundle.path / "plan.json").write_text(json.dumps({"goal": "churn"}))
    with pytest.raises(PlanStoreError, match="corrupt") as caught:
        store.accept(1)
    assert caught.value.fix
    assert store.accepted_version() is None


def _write_one(args: tuple[str, str]) -> int:
    root, plan_json = args
    plan = Plan.model_validate_json(plan_json)
    return (
        PlanStore(Path(root), "churn").write_version(plan, _render, parent=None, reason="p").version
    )


def test_concurrent_processes_never_share_a_version_number(
    tmp_path: Path, sample_plan: Plan
) -> None:
    payload = (str(tmp_path), sample_plan.model_dump_json())
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        versions = pool.map(_write_one, [payload] * 6)
    assert sorted(versions) == [1, 2, 3, 4, 5, 6]
    assert PlanStore(tmp_path, "churn").versions() == [1, 2, 3, 4, 5, 6]
