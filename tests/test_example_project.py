"""The example project as a user meets it: `dg list components` and `dg list defs`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "example_project"
DG = Path(sys.executable).with_name("dg")

pytestmark = pytest.mark.skipif(not DG.exists(), reason="dagster-dg-cli is not installed")


def _dg(*args: str) -> Any:
    env = {**os.environ, "PATH": f"{DG.parent}{os.pathsep}{os.environ['PATH']}"}
    out = subprocess.run(
        [str(DG), *args, "--json"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


def test_dg_lists_the_goal_component() -> None:
    keys = {item["key"] for item in _dg("list", "components")["items"]}
    assert "dagster_agentic.components.GoalComponent" in keys


def test_dg_lists_the_example_goal_graph() -> None:
    assets = {a["asset_key"]: set(a["dependency_keys"]) for a in _dg("list", "defs")["assets"]}
    features = {k for k in assets if k.startswith("features/churn__")}
    assert len(features) >= 2
    for key in features:
        assert any(dep.startswith("raw/") for dep in assets[key]), key
    assert assets["churn/training_set"] >= features
    assert assets["churn/model"] == {"churn/training_set"}
    assert assets["churn/evaluation"] == {"churn/model"}
    assert assets["churn"] == {"churn/evaluation"}
    assert {"raw/customers", "raw/events", "raw/payments", "raw/churn_labels"} <= set(assets)
