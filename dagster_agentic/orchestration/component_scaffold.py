"""``dg scaffold defs dagster_agentic.GoalComponent <path> --objective ... --warehouse ...``.

With both options the scaffolder writes a ``defs.yaml`` that loads as it is. A field left out
is written empty, with a comment saying what it takes: ``dg check yaml`` then refuses the file
at that line until it is filled in. Values are written by the YAML dumper, never pasted into
the text, so an objective with quotes, colons or new lines stays one string.
"""

from __future__ import annotations

import math
import re
from typing import Any

import dagster as dg
import yaml
from pydantic import BaseModel, ConfigDict, Field

from dagster_agentic.errors import GoalError
from dagster_agentic.orchestration.component_schema import described

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

_REQUIRED = (
    ("name", "lower-case letters, digits and underscores, e.g. churn"),
    ("objective", "in words, e.g. Optimise the churn model for 95% precision on European cohorts"),
    ("warehouse", "path to the DuckDB file, relative to the project root, e.g. data/shop.duckdb"),
)


class GoalScaffoldParams(BaseModel):
    """What ``dg scaffold defs dagster_agentic.GoalComponent`` takes as options."""

    model_config = ConfigDict(extra="forbid")

    objective: str | None = Field(default=None, description=described("objective"))
    warehouse: str | None = Field(
        default=None,
        description="Path to the DuckDB file, relative to the project root.",
    )
    name: str | None = Field(
        default=None,
        description="The goal's name (lower-case letters, digits, underscores); default: the"
        " defs folder's name.",
    )


def goal_name_for(folder: str) -> str | None:
    """A goal name from a defs folder's name (``Churn-Goal`` -> ``churn_goal``), if one fits."""
    name = re.sub(r"[^a-z0-9_]+", "_", folder.lower()).strip("_")
    name = re.sub(r"^[0-9_]+", "", name)[:63]
    return name if _NAME.match(name) else None


def defs_yaml(type_name: str, params: GoalScaffoldParams, folder: str) -> str:
    """The text of the component's ``defs.yaml``."""
    values: dict[str, Any] = {
        "name": params.name if params.name is not None else goal_name_for(folder),
        "objective": params.objective,
        "warehouse": params.warehouse,
    }
    if params.name is not None and not _NAME.match(params.name):
        raise GoalError(
            f"goal name {params.name!r} must be lower-case letters, digits and underscores,"
            " starting with a letter",
            fix="pass e.g. --name churn",
        )
    for key in ("objective", "warehouse"):
        value = values[key]
        if value is not None and not value.strip():
            raise GoalError(f"--{key} is empty", fix=f"pass --{key} with a value, or leave it out")
    lines = [_dump({"type": type_name}), "", "attributes:"]
    for key, example in _REQUIRED:
        value = values[key]
        if value is None:
            lines.append(f"  # Required, not set yet: {key} ({example}).")
            lines.append(f"  {key}:")
        else:
            lines.extend("  " + line for line in _dump({key: value}).splitlines())
    lines += [
        "  # Optional: task, target, entity_table, metric, threshold, cohort, exclude_columns,",
        "  # budget, healing, kernel, predictions, state_dir. Every field and its description:",
        f"  #   dg utils inspect-component {type_name} --defs-yaml-schema",
    ]
    return "\n".join(lines) + "\n"


def _dump(mapping: dict[str, Any]) -> str:
    return yaml.safe_dump(
        mapping, sort_keys=False, default_flow_style=False, allow_unicode=True, width=math.inf
    ).rstrip("\n")


class GoalScaffolder(dg.Scaffolder[GoalScaffoldParams]):
    """Writes a goal's ``defs.yaml`` from ``--objective``, ``--warehouse`` and ``--name``."""

    @classmethod
    def get_scaffold_params(cls) -> type[GoalScaffoldParams]:
        return GoalScaffoldParams

    def scaffold(self, request: dg.ScaffoldRequest[GoalScaffoldParams]) -> None:
        params = request.params or GoalScaffoldParams()
        if request.scaffold_format != "yaml":
            from dagster.components.component_scaffolding import scaffold_component

            scaffold_component(request, {})
            return
        # Appending, the target is the defs.yaml itself; else the folder that gets one.
        folder = request.target_path.parent if request.append else request.target_path
        text = defs_yaml(request.type_name, params, folder.name)
        if request.append:
            with request.target_path.open("a") as handle:
                handle.write("---\n" + text)
        else:
            (folder / "defs.yaml").write_text(text)
