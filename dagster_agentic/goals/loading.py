"""Read a goal from YAML: a component's ``defs.yaml`` or a plain mapping of goal fields."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from dagster_agentic.errors import GoalError
from dagster_agentic.goals.kernel_spec import ModelKernelSpec
from dagster_agentic.goals.spec import (
    Budget,
    Goal,
    GoalOverrides,
    Healing,
    Predictions,
    Telemetry,
)

OVERRIDE_FIELDS = ("task", "target", "entity_table", "metric", "threshold", "cohort")


def _entries(value: Any) -> tuple[str, ...]:
    """A list of names from YAML; one name written without a list is a list of one."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def goal_from_attributes(
    attributes: dict[str, Any], project_root: str | os.PathLike[str] | None
) -> Goal:
    """Build a ``Goal`` from flat attributes; relative paths are relative to ``project_root``
    (else to the working directory), and stored absolute."""
    root = None if project_root is None else Path(project_root)

    def resolve(value: str | None) -> Path | None:
        if value is None:
            return None
        path = Path(value).expanduser()
        return path if path.is_absolute() or root is None else root / path

    known = {
        "name",
        "objective",
        "warehouse",
        "budget",
        "healing",
        "kernel",
        "predictions",
        "state_dir",
        "exclude_columns",
        "telemetry",
        *OVERRIDE_FIELDS,
    }
    unknown = sorted(set(attributes) - known)
    if unknown:
        raise GoalError(
            f"unknown goal field(s): {', '.join(unknown)}",
            fix=f"use only: {', '.join(sorted(known))}",
        )
    try:
        return Goal(
            name=attributes.get("name", ""),
            objective=attributes.get("objective", ""),
            warehouse=resolve(attributes.get("warehouse")),
            overrides=GoalOverrides(
                **{k: attributes[k] for k in OVERRIDE_FIELDS if attributes.get(k) is not None}
            ),
            exclude_columns=_entries(attributes.get("exclude_columns")),
            budget=Budget(**(attributes.get("budget") or {})),
            healing=Healing(**(attributes.get("healing") or {})),
            kernel=_kernel(attributes.get("kernel")),
            predictions=Predictions(**(attributes.get("predictions") or {})),
            telemetry=_telemetry(attributes.get("telemetry")),
            state_dir=resolve(attributes.get("state_dir")),
        )
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'goal'}: {e['msg']}" for e in error.errors()
        )
        raise GoalError(
            f"invalid goal declaration: {problems}",
            fix="see the Goal fields in the README: name, objective, warehouse, overrides,"
            " budget, healing, kernel, predictions",
        ) from error


def _telemetry(value: Any) -> Telemetry:
    if value is None:
        return Telemetry()
    if not isinstance(value, dict):
        raise GoalError(
            f"telemetry must be a mapping (otlp_endpoint: ...), got {value!r}",
            fix="write e.g. 'telemetry: {otlp_endpoint: http://127.0.0.1:4318/v1/traces}', or"
            " leave it out (the OTEL_EXPORTER_OTLP_* variables still apply)",
        )
    return Telemetry(**value)


def _kernel(value: Any) -> ModelKernelSpec | None:
    """The ``kernel:`` mapping; ``kernel: policy`` (or nothing) is the policy kernel."""
    if value is None or value == "policy":
        return None
    if isinstance(value, str):
        # ``kernel: openai/gpt-4.1-mini``: a model string alone, every budget at its default.
        return ModelKernelSpec(model=value)
    if not isinstance(value, dict):
        raise GoalError(
            f"kernel must be a mapping (model: ..., api_base: ..., max_usd: ...), got {value!r}",
            fix="write e.g. 'kernel: {model: openai/gpt-4.1-mini, max_usd: 0.5}', or leave it"
            " out for the policy kernel",
        )
    return ModelKernelSpec(**value)


def find_project_root(start: str | os.PathLike[str]) -> Path | None:
    start = Path(start)
    for directory in [start, *start.parents]:
        if (directory / "pyproject.toml").exists() or (directory / "setup.py").exists():
            return directory
    return None


def load_goal_file(path: str | os.PathLike[str]) -> Goal:
    """A goal from ``defs.yaml`` (``type: ...GoalComponent``) or a YAML mapping of fields.

    Relative paths in it are relative to its project (the nearest directory above it with a
    ``pyproject.toml`` or ``setup.py``), else to the file's own directory, whatever the
    working directory; the goal holds them absolute."""
    path = Path(path).expanduser()
    if not path.exists():
        raise GoalError(f"goal file {path} does not exist", fix="pass the path to a defs.yaml")
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise GoalError(f"{path} is not a YAML mapping", fix="write the goal's fields as a mapping")
    attributes = data.get("attributes", data) if "type" in data else data
    attributes = {k: v for k, v in attributes.items() if k != "defs_state"}
    directory = path.resolve().parent
    return goal_from_attributes(attributes, find_project_root(directory) or directory)
