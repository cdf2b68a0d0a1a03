"""The public API is named once, sorted, importable, and light to import."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import dagster_agentic


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert dagster_agentic.__all__ == sorted(dagster_agentic.__all__)
    for name in dagster_agentic.__all__:
        assert getattr(dagster_agentic, name) is not None, name


def test_unknown_names_raise_attribute_error() -> None:
    try:
        dagster_agentic.NotAThing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as error:
        assert "NotAThing" in str(error)
    else:
        raise AssertionError("expected AttributeError")


def test_importing_the_package_pulls_in_no_heavy_dependency() -> None:
    code = (
        "import sys, dagster_agentic; "
        "heavy = [m for m in ('dagster', 'dbt', 'torch', 'lightgbm', 'sklearn', 'duckdb', "
        "'pandas', 'sqlglot') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_importing_the_package_leaves_the_environment_as_it_was() -> None:
    """Neither the package nor the modules that give switches to GX, litellm and dbt change
    the process's environment when imported; litellm's import sees its switch, then it is gone."""
    code = (
        "import os, json; before = dict(os.environ);"
        " import dagster_agentic, dagster_agentic.expectations.gx_frame,"
        " dagster_agentic.kernel.llm.client, dagster_agentic.orchestration.definitions;"
        " dagster_agentic.goal_definitions;"
        " after_import = dict(os.environ);"
        " dagster_agentic.expectations.gx_frame.great_expectations();"
        " litellm = dagster_agentic.kernel.llm.client.litellm_module();"
        " from litellm.litellm_core_utils.get_model_cost_map import"
        " get_model_cost_map_source_info as info;"
        " print(json.dumps([after_import == before, dict(os.environ) == before,"
        " info()['is_env_forced']]))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in _SWITCHES}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=clean
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [True, True, True]


_SWITCHES = (
    "DBT_SEND_ANONYMOUS_USAGE_STATS",
    "LITELLM_LOCAL_MODEL_COST_MAP",
    "DAGSTER_DISABLE_TELEMETRY",
)
