"""The built wheel in a project made by `create-dagster`: scaffold, check and list a goal.

The wheel is installed with ``--no-deps`` into a folder put first on ``PYTHONPATH``; its
dependencies come from this environment, so the wheel alone must carry the package's code and
data (prompts, dbt macros, ``py.typed``) and its entry points.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
OBJECTIVE = "Optimise the churn prediction model for 95% precision on European cohorts"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (BIN / "dg").exists() or not (BIN / "create-dagster").exists(),
        reason="dagster-dg-cli and create-dagster are not installed",
    ),
]


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    out = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=900
    )
    assert out.returncode == 0, f"{command}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out.stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Path]:
    work = tmp_path_factory.mktemp("wheel")
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        # create-dagster and dg ask PyPI for newer releases unless told not to.
        "DAGSTER_DG_UPDATE_CHECK_ENABLED": "0",
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "DAGSTER_HOME": str(work / "dagster_home"),
    }
    env.pop("PYTHONPATH", None)
    (work / "dagster_home").mkdir()
    (work / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    build = ["wheel", "--no-deps", "--no-build-isolation", str(ROOT), "-w", str(work / "dist")]
    _run([*pip, *build], work, env)
    (wheel,) = (work / "dist").glob("dagster_agentic-*.whl")
    site = work / "site"
    _run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], work, env)
    _run([str(BIN / "create-dagster"), "project", "goalproj", "--no-uv-sync"], work, env)
    root = work / "goalproj"
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(root / "src")])

    from example_churn.warehouse import generate_warehouse

    generate_warehouse(root / "data" / "warehouse.duckdb", scale="tiny", seed=7)
    return root, env, site


def test_the_wheel_carries_every_file_of_the_package(
    project: tuple[Path, dict[str, str], Path],
) -> None:
    _, _, site = project
    source = ROOT / "dagster_agentic"
    missing = [
        str(path.relative_to(source))
        for path in source.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and not (site / "dagster_agentic" / path.relative_to(source)).exists()
    ]
    assert missing == []
    assert (site / "dagster_agentic" / "py.typed").exists()
    assert list((site / "dagster_agentic" / "kernel" / "llm" / "prompts").glob("*.txt"))


def test_dg_scaffolds_checks_and_lists_a_goal_from_the_wheel(
    project: tuple[Path, dict[str, str], Path],
) -> None:
    root, env, site = project
    dg = str(BIN / "dg")
    imported = _run(
        [sys.executable, "-c", "import dagster_agentic; print(dagster_agentic.__file__)"], root, env
    )
    assert imported.strip() == str(site / "dagster_agentic" / "__init__.py")

    for name in ("dagster_agentic.GoalComponent", "dagster_agentic.components.GoalComponent"):
        schema = json.loads(
            _run([dg, "utils", "inspect-component", name, "--defs-yaml-json-schema"], root, env)
        )
        assert "Hard limits" in json.dumps(schema), name

    scaffold = ["scaffold", "defs", "dagster_agentic.GoalComponent", "churn_goal"]
    options = ["--objective", OBJECTIVE, "--warehouse", "data/warehouse.duckdb"]
    _run([dg, *scaffold, *options], root, env)
    defs_yaml = root / "src" / "goalproj" / "defs" / "churn_goal" / "defs.yaml"
    assert "name: churn_goal" in defs_yaml.read_text()
    _run([dg, "check", "yaml"], root, env)

    listed = json.loads(_run([dg, "list", "defs", "--json"], root, env))
    assets = {a["asset_key"]: set(a["dependency_keys"]) for a in listed["assets"]}
    assert assets["churn_goal/model"] == {"churn_goal/training_set"}
    assert assets["churn_goal"] == {"churn_goal/evaluation"}
    assert any(key.startswith("features/churn_goal__") for key in assets)
