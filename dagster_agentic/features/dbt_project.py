"""Render a plan as a dbt project that computes its features inside the warehouse.

One model per feature group and one for the training set, with the hypotheses as column
descriptions and the plan's expectations as dbt tests (which Dagster shows as asset checks).

dbt renders all of it as Jinja; every file is written so that it renders to exactly the text
the plan holds (``features.jinja``): values, names and comments from the warehouse, the goal or
a kernel never run as Jinja.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from shutil import which
from typing import Any

import yaml

from dagster_agentic.errors import DbtError
from dagster_agentic.features.adapters import plan_ref
from dagster_agentic.features.jinja import (
    jinja_string,
    literal_tree,
    render_model,
    require_quotable,
)
from dagster_agentic.features.sql import (
    RefKind,
    TableRef,
    feature_group_sql,
    model_name,
    training_set_sql,
)
from dagster_agentic.plan.models import Expectation, Plan
from dagster_agentic.warehouse.connection import connection_config

PROFILE_NAME = "dagster_agentic"
_MACROS = Path(__file__).with_name("dbt_macros.sql")


def training_set_model(goal: str) -> str:
    return model_name(goal, "training_set")


def feature_asset_key(goal: str, group: str) -> list[str]:
    return ["features", model_name(goal, group)]


def training_set_asset_key(goal: str) -> list[str]:
    return [goal, "training_set"]


def render_dbt_project(plan: Plan, warehouse: Path, project_dir: Path) -> None:
    """Write the project files; ``parse_dbt_project`` then writes ``target/manifest.json``."""
    models = project_dir / "models"
    (project_dir / "macros").mkdir(parents=True, exist_ok=True)
    models.mkdir(parents=True, exist_ok=True)
    _write_yaml(project_dir / "dbt_project.yml", _project_yaml(plan))
    _write_yaml(project_dir / "profiles.yml", _profiles_yaml(plan, warehouse))
    _write_yaml(models / "sources.yml", _sources_yaml(plan))
    (project_dir / "macros" / "agentic_tests.sql").write_text(_MACROS.read_text())
    schema_models: list[dict[str, Any]] = []
    for group in plan.feature_groups:
        name = model_name(plan.goal, group.name)
        (models / f"{name}.sql").write_text(
            _model_file(plan, partial(feature_group_sql, plan.objective, group))
        )
        taken: set[str] = set()
        columns = [_column("entity_id", "Id of the entity the row describes.", [])]
        columns += [
            _column(
                group.column_name(f),
                f.hypothesis,
                _tests_for(group.expectations, group.column_name(f), taken),
            )
            for f in group.features
        ]
        schema_models.append(
            _model(
                name,
                f"Features from {group.source_table}: {group.rationale}",
                feature_asset_key(plan.goal, group.name),
                plan.goal,
                columns,
                [*_table_tests(group.expectations, taken), _unique_rows_test(taken)],
            )
        )
    name = training_set_model(plan.goal)
    (models / f"{name}.sql").write_text(_model_file(plan, partial(training_set_sql, plan)))
    spec = plan.training_set
    taken = set()
    schema_models.append(
        _model(
            name,
            "Labelled rows with every feature, a stable train/valid/test split, the cohort flag.",
            training_set_asset_key(plan.goal),
            plan.goal,
            [
                _column(column, reason, _tests_for(spec.expectations, column, taken))
                for column, reason in _first_reasons(spec.expectations).items()
            ],
            [*_table_tests(spec.expectations, taken), _unique_rows_test(taken)],
        )
    )
    _write_yaml(models / "schema.yml", {"version": 2, "models": schema_models})


def _model_file(plan: Plan, sql: Callable[[TableRef], str]) -> str:
    """A model's file: ``sql`` rendered with dbt's references, all else literal to Jinja."""
    return render_model(lambda place: sql(plan_ref(plan, dbt_ref(place))))


def dbt_ref(place: Callable[[str], str]) -> TableRef:
    """Reference relations the way dbt wants them (lineage comes from these calls); ``place``
    puts each call outside the file's literal text (``render_model``)."""

    def ref(kind: RefKind, name: str) -> str:
        require_quotable("table" if kind == "source" else "model", name)
        if kind == "source":
            return place("{{ source('raw', " + jinja_string(name) + ") }}")
        return place("{{ ref(" + jinja_string(name) + ") }}")

    return ref


def parse_dbt_project(project_dir: Path) -> Path:
    """Run ``dbt parse`` (offline) and return the manifest path."""
    result = subprocess.run(
        [
            dbt_executable(),
            "parse",
            *("--project-dir", str(project_dir)),
            *("--profiles-dir", str(project_dir)),
            "--quiet",
        ],
        cwd=project_dir,
        env=dbt_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    manifest = project_dir / "target" / "manifest.json"
    if result.returncode != 0 or not manifest.exists():
        raise DbtError(
            f"dbt parse failed for {project_dir}:\n{(result.stdout + result.stderr)[-2000:]}",
            fix="the generated project is invalid; the plan version is not accepted",
        )
    return manifest


def dbt_executable() -> str:
    """dbt behind a launcher that makes it die with this process (``dbt_launcher``)."""
    from dagster_agentic.features.dbt_launcher import launcher

    beside_python = Path(sys.executable).with_name("dbt")
    found = str(beside_python) if beside_python.exists() else which("dbt")
    if not found:
        raise DbtError(
            "the dbt executable was not found", fix="pip install 'dbt-duckdb>=1.11,<1.12'"
        )
    return launcher(found)


def dbt_environment() -> dict[str, str]:
    from dagster_agentic.features.dbt_launcher import PARENT_ENV

    env = dict(os.environ)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    env.setdefault("DBT_USE_COLORS", "False")
    env[PARENT_ENV] = str(os.getpid())  # the launcher dies at once if this process is gone
    return env


def _project_yaml(plan: Plan) -> dict[str, Any]:
    return {
        "name": f"agentic_{plan.goal}",
        "version": "1.0.0",
        "config-version": 2,
        "profile": PROFILE_NAME,
        "model-paths": ["models"],
        "macro-paths": ["macros"],
        "models": {f"agentic_{plan.goal}": {"+materialized": "table"}},
        # No static parser: it reads source()/ref() calls itself, not as Jinja would.
        "flags": {
            "send_anonymous_usage_stats": False,
            "partial_parse": False,
            "static_parser": False,
        },
    }


def _profiles_yaml(plan: Plan, warehouse: Path) -> dict[str, Any]:
    limits = plan.budget.query_limits()
    output = {
        "type": "duckdb",
        "path": str(warehouse.resolve()),
        "schema": plan.models_schema,
        "threads": 1,
        # dbt's connection writes, so it is locked down like the agent's own: no files but the
        # warehouse, no extensions, no secrets, the budget's memory, settings locked.
        "config_options": {**connection_config(limits), "lock_configuration": True},
    }
    return {PROFILE_NAME: {"target": "warehouse", "outputs": {"warehouse": output}}}


def _sources_yaml(plan: Plan) -> dict[str, Any]:
    tables = [
        {
            "name": table.name,
            "description": f"Raw table ({table.row_count:,} rows when the plan was made).",
            "columns": [{"name": c.name, "data_type": c.data_type} for c in table.columns],
        }
        for table in plan.raw_tables
    ]
    for table in plan.raw_tables:
        require_quotable("table", table.name)
    schema = require_quotable("schema", plan.warehouse_schema)
    source = {"name": "raw", "schema": schema, "tables": tables}
    return {"version": 2, "sources": [source]}


def _model(
    name: str,
    description: str,
    asset_key: list[str],
    group: str,
    columns: list[dict[str, Any]],
    tests: list[Any],
) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "config": {"meta": {"dagster": {"asset_key": asset_key, "group": group}}},
        "columns": columns,
        "data_tests": tests,
    }


def _column(name: str, description: str, tests: list[Any]) -> dict[str, Any]:
    column: dict[str, Any] = {"name": name, "description": description}
    if tests:
        column["data_tests"] = tests
    return column


_UNIQUE_ROWS = "One row per entity and prediction time (entity_id, cutoff_at)."


def _unique_rows_test(taken: set[str]) -> dict[str, Any]:
    return {
        "agentic_unique_rows": {
            "name": dbt_test_name(None, "unique_rows", taken),
            "description": _UNIQUE_ROWS,
            "arguments": {"columns": ["entity_id", "cutoff_at"]},
            "config": {"severity": "error"},
        }
    }


def dbt_test_name(column: str | None, check: str, taken: set[str]) -> str:
    """A short check name, unique in its model: ``<column>__<check>`` (``<check>`` for the
    whole table), made a Dagster name (digest-suffixed when characters were replaced)."""
    import hashlib

    from dagster_agentic.expectations.models import dagster_name

    base = f"{column}__{check}" if column else check
    part = dagster_name(base)
    if part != base:
        part += "_" + hashlib.sha256(base.encode()).hexdigest()[:8]
    name, n = part, 2
    while name in taken:
        name, n = f"{part}_{n}", n + 1
    taken.add(name)
    return name


def _bounds(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    if low is not None:
        return f"at least {low:g}"
    return f"at most {high:g}" if high is not None else "any value"


def _test_description(expectation: Expectation) -> str:
    """What the test checks and why: the expectation's own reason (text, kept literal)."""
    column = f"{expectation.column}: " if expectation.column else "table: "
    if expectation.check in ("between", "row_count_between"):
        what = _bounds(expectation.min_value, expectation.max_value)
        what = f"row count {what}" if expectation.check == "row_count_between" else what
    elif expectation.check == "accepted_values":
        shown = ", ".join(str(v) for v in expectation.values[:10])
        what = f"one of {shown}" + (" ..." if len(expectation.values) > 10 else "")
    else:
        what = expectation.check.replace("_", " ")
    reason = f" ({expectation.reason})" if expectation.reason else ""
    return f"{column}{what}{reason}"


def _first_reasons(expectations: tuple[Expectation, ...]) -> dict[str, str]:
    """Each column with an expectation, described by the first reason given for it."""
    reasons: dict[str, str] = {}
    for expectation in expectations:
        if expectation.column:
            reasons.setdefault(expectation.column, expectation.reason)
    return reasons


def _tests_for(expectations: tuple[Expectation, ...], column: str, taken: set[str]) -> list[Any]:
    return [
        _dbt_test(e, taken)
        for e in expectations
        if e.column == column and e.check != "row_count_between"
    ]


def _table_tests(expectations: tuple[Expectation, ...], taken: set[str]) -> list[Any]:
    return [_dbt_test(e, taken) for e in expectations if e.check == "row_count_between"]


def _dbt_test(expectation: Expectation, taken: set[str]) -> Any:
    """The dbt test of ``expectation``, with a short name (the check's name in Dagster) and a
    description; the description holds warehouse names and goes through ``literal_tree``."""
    column = None if expectation.check == "row_count_between" else expectation.column
    description = _test_description(expectation)
    named = {
        "name": dbt_test_name(column, expectation.check, taken),
        "description": description,
        "config": {"severity": expectation.severity},
    }
    if expectation.check in ("not_null", "unique"):
        return {expectation.check: named}
    if expectation.check == "accepted_values":
        # Not dbt's accepted_values: it writes each value between quotes without escaping.
        arguments = {"values": list(expectation.values), "quote": _quoted(expectation)}
        return {"agentic_accepted_values": {**named, "arguments": arguments}}
    name = "agentic_between" if expectation.check == "between" else "agentic_row_count_between"
    arguments = {"min_value": expectation.min_value, "max_value": expectation.max_value}
    return {name: {**named, "arguments": arguments}}


def _quoted(expectation: Expectation) -> bool:
    return any(isinstance(v, str) for v in expectation.values)


def _write_yaml(path: Path, data: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(literal_tree(data), sort_keys=False, width=100))
