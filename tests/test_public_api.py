"""The public API is named once, sorted, importable, and light to import."""

from __future__ import annotations

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


def test_importing_sets_the_offline_switches() -> None:
    code = (
        "import os; [os.environ.pop(k, None) for k in ('DBT_SEND_ANONYMOUS_USAGE_STATS',"
        " 'LITELLM_LOCAL_MODEL_COST_MAP', 'DAGSTER_DISABLE_TELEMETRY')];"
        " import dagster_agentic;"
        " print(os.environ['DBT_SEND_ANONYMOUS_USAGE_STATS'],"
        " os.environ['LITELLM_LOCAL_MODEL_COST_MAP'], os.environ['DAGSTER_DISABLE_TELEMETRY'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "1"]
