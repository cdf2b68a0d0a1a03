"""The goal a command names: a name found in the project, or a path, checked before loading."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from dagster_agentic.errors import GoalError

if TYPE_CHECKING:
    from dagster_agentic.goals.spec import Goal

_SUFFIXES = (".yaml", ".yml")


def _looks_like_path(text: str) -> bool:
    return "/" in text or "\\" in text or text.endswith(_SUFFIXES) or text in (".", "..")


def goal_path(argument: str, project: str | None) -> Path:
    """The YAML file of the goal ``argument`` names: a path as given, else the goal of that
    name in the project at ``project`` (default: found from the current directory up)."""
    from dagster_agentic.goals.discovery import find_goal, find_project_root

    path = Path(argument)
    if _looks_like_path(argument):
        return path
    if project is not None:
        root = Path(project)
        if not root.is_dir():
            raise GoalError(f"--project {project}: no such directory", fix="pass a project's root")
        root = root.resolve()
    else:
        root = find_project_root(Path.cwd())
    try:
        return find_goal(argument, root)
    except GoalError:
        if path.exists():  # no goal of that name: a file or directory of that name is meant
            return path
        raise


def check_goal_file(path: Path) -> None:
    """Refuse a path that cannot hold a goal, with the reason: missing, a directory, not YAML,
    or YAML that declares something else."""
    if not path.exists():
        raise GoalError(
            f"goal file {path} does not exist",
            fix="pass the path of a goal's defs.yaml, or the goal's name",
        )
    if path.is_dir():
        raise GoalError(
            f"{path} is a directory, not a goal file",
            fix=f"pass {path / 'defs.yaml'}"
            if (path / "defs.yaml").is_file()
            else "pass the path of a goal's defs.yaml, or the goal's name",
        )
    try:
        data = yaml.safe_load(path.read_text())
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise GoalError(
            f"{path} is not a YAML file ({reason})",
            fix="pass a goal's defs.yaml (type: dagster_agentic.GoalComponent)",
        ) from None
    except OSError as error:
        raise GoalError(
            f"{path} cannot be read: {error.strerror}", fix="check its permissions"
        ) from None
    if not isinstance(data, dict):
        raise GoalError(
            f"{path} is not a goal: its YAML is a {type(data).__name__}, not a mapping",
            fix="write the goal as 'type: dagster_agentic.GoalComponent' with 'attributes:'",
        )
    from dagster_agentic.goals.discovery import GOAL_TYPES

    if "type" in data and data["type"] not in GOAL_TYPES:
        raise GoalError(
            f"{path} declares a {data['type']!r} component, not a goal",
            fix="pass a defs.yaml whose type is dagster_agentic.GoalComponent",
        )


def load_goal(argument: str, project: str | None) -> Goal:
    from dagster_agentic.goals.loading import load_goal_file

    path = goal_path(argument, project)
    check_goal_file(path)
    return load_goal_file(path)
