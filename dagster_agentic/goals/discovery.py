"""Find a goal by its name in a Dagster project: the ``defs.yaml`` files of its defs folders
whose component type is the goal component."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dagster_agentic.errors import GoalError

GOAL_TYPES = frozenset(
    {"dagster_agentic.GoalComponent", "dagster_agentic.components.GoalComponent"}
)
_SKIPPED = frozenset({"node_modules", "__pycache__", "target", "dbt_packages", "site-packages"})


@dataclass(frozen=True)
class FoundGoal:
    name: str
    path: Path


def _tool_table(pyproject: Path) -> dict[str, Any] | None:
    """``[tool]`` of a pyproject.toml when it declares a Dagster project, else None."""
    try:
        tool = tomllib.loads(pyproject.read_text()).get("tool", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return tool if isinstance(tool, dict) and ("dg" in tool or "dagster" in tool) else None


def find_project_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` whose pyproject.toml has ``[tool.dg]`` or
    ``[tool.dagster]``; ``start`` itself when there is none."""
    start = start.resolve()
    for directory in [start, *start.parents]:
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and _tool_table(pyproject) is not None:
            return directory
    return start


def defs_folders(root: Path) -> list[Path]:
    """Where the project keeps its definitions: ``[tool.dg.project]``'s ``defs_module`` (by
    default ``<root_module>.defs``) or ``[tool.dagster]``'s ``module_name``, at the root or
    under ``src/``; the root itself when none of them exists."""
    tool = _tool_table(root / "pyproject.toml") or {}
    project = tool.get("dg", {}).get("project", {}) if isinstance(tool.get("dg"), dict) else {}
    modules: list[str] = []
    if isinstance(project, dict):
        if isinstance(project.get("defs_module"), str):
            modules.append(project["defs_module"])
        elif isinstance(project.get("root_module"), str):
            modules.append(f"{project['root_module']}.defs")
    dagster = tool.get("dagster", {})
    if isinstance(dagster, dict) and isinstance(dagster.get("module_name"), str):
        modules.append(dagster["module_name"])
    folders = [
        base / Path(*module.split("."))
        for module in modules
        for base in (root, root / "src")
        if all(part.isidentifier() for part in module.split("."))
    ]
    found = [folder for folder in dict.fromkeys(folders) if folder.is_dir()]
    return found or [root]


def _defs_files(folder: Path) -> list[Path]:
    files = []
    for path in sorted(folder.rglob("defs.yaml")):
        parts = path.relative_to(folder).parts[:-1]
        if any(p.startswith(".") or p in _SKIPPED for p in parts):
            continue
        files.append(path)
    return files


def goal_name_of(path: Path) -> str | None:
    """The goal's name when ``path`` declares a goal component, else None (a file that does
    not parse is not a goal)."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if not isinstance(data, dict) or data.get("type") not in GOAL_TYPES:
        return None
    attributes = data.get("attributes")
    name = attributes.get("name") if isinstance(attributes, dict) else None
    return name if isinstance(name, str) else None


def discover_goals(root: Path) -> list[FoundGoal]:
    """Every goal component under the project's defs folders, in path order."""
    found = []
    for folder in defs_folders(root):
        for path in _defs_files(folder):
            name = goal_name_of(path)
            if name is not None:
                found.append(FoundGoal(name=name, path=path))
    return found


def find_goal(name: str, root: Path) -> Path:
    """The ``defs.yaml`` of the goal named ``name`` in the project at ``root``."""
    goals = discover_goals(root)
    matches = [g for g in goals if g.name == name]
    if len(matches) == 1:
        return matches[0].path
    if matches:
        files = ", ".join(str(g.path) for g in matches)
        raise GoalError(
            f"{len(matches)} goals are named {name!r} in {root}: {files}",
            fix="rename one of them, or pass the path of its defs.yaml",
        )
    known = ", ".join(sorted({g.name for g in goals})) or "none"
    raise GoalError(
        f"no goal named {name!r} in the project at {root} (goals found: {known})",
        fix="pass one of those names, the path of a defs.yaml, or --project <the project's root>",
    )
