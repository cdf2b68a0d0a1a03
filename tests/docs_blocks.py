"""The documentation's fenced code blocks: collected from the pages and run by language.

- ``python``: executed in order, one namespace per page, in the page's working directory.
- ``yaml`` / ``toml``: parsed; YAML that declares a goal is validated by ``load_goal_file``.
- ``bash``: run for real with bash (``set -euo pipefail``); the working directory and the
  environment carry over to the page's next block. ``pip install`` and ``make`` are checked
  (real extras, pins, paths and targets), not executed; ``dagster dev -f X`` is checked by
  ``dagster definitions validate -f X`` (the same load, with no server left running).
- ``console``: ``$ command`` lines run as in ``bash``; the lines after one are its expected
  output, in order, ``...`` standing for anything. Expected output with an ``error:`` line
  means the command must exit 2, else 0.
- ``text``: marked as not run (output, messages, commands that need what a test cannot have).

A block whose first line is a comment naming a file (``# defs.yaml``, ``# definitions.py``)
is also written to that file, relative to the working directory.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
RUN = ("python", "yaml", "toml", "bash", "console")
NOT_RUN = ("text",)
_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_FILE_HINT = re.compile(r"^#\s*(?P<path>[\w./-]+\.(?:py|ya?ml|toml))\s*$")
_HEREDOC = re.compile(r"<<-?\s*['\"]?(?P<word>\w+)['\"]?")
# One block's commands may build and run a goal: generous, never a timed assertion.
COMMAND_TIMEOUT_S = 900


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    language: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def file_name(self) -> str | None:
        first = self.text.splitlines()[0] if self.text.strip() else ""
        match = _FILE_HINT.match(first.strip())
        return match["path"] if match else None


def pages() -> list[Path]:
    return [*sorted((REPO / "docs").rglob("*.md")), REPO / "README.md"]


def blocks(page: Path) -> list[Block]:
    """Every fenced block of ``page``, dedented by its fence's indentation."""
    found: list[Block] = []
    lines = page.read_text().splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        language = opening["info"].strip().split(" ")[0].lstrip("{.").rstrip("}")
        body: list[str] = []
        index += 1
        while index < len(lines) and lines[index].strip() != fence:
            body.append(lines[index][indent:] if lines[index][:indent].isspace() else lines[index])
            index += 1
        start = index - len(body)
        found.append(Block(str(page.relative_to(REPO)), start, language, "\n".join(body) + "\n"))
        index += 1
    return found


@dataclass
class Workspace:
    """Where a page's blocks run: a directory, an environment, a Python namespace."""

    cwd: Path
    env: dict[str, str]
    namespace: dict[str, Any] = field(default_factory=dict)


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "example_project")])
    env.update(
        DAGSTER_DISABLE_TELEMETRY="1",
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        DO_NOT_TRACK="1",
        DAGSTER_AGENTIC_MODEL_HOSTS="127.0.0.1",
        NO_COLOR="1",
    )
    return env


# ---- checks of commands that are not executed -------------------------------------------


def _setup_cfg() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(REPO / "setup.cfg")
    return parser


def extras() -> set[str]:
    return set(_setup_cfg()["options.extras_require"])


def _pins() -> set[str]:
    parser = _setup_cfg()
    values = [parser["options"]["install_requires"], *parser["options.extras_require"].values()]
    return {line.strip() for value in values for line in value.splitlines() if line.strip()}


def make_targets() -> set[str]:
    text = (REPO / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", text, re.M))


def make_variables() -> set[str]:
    return set(re.findall(r"^([A-Z_]+)\s*[?:]?=", (REPO / "Makefile").read_text(), re.M))


def check_make(words: list[str], where: str) -> None:
    for word in words:
        if "=" in word:
            assert word.split("=")[0] in make_variables(), f"{where}: no make variable {word}"
        else:
            assert word in make_targets(), f"{where}: no make target {word!r}"


def check_pip(words: list[str], where: str) -> None:
    requirements = [w for w in words if not w.startswith("-")]
    assert requirements, f"{where}: pip install of nothing"
    for requirement in requirements:
        base, _, rest = requirement.partition("[")
        wanted = {e.strip() for e in rest.rstrip("]").split(",") if e.strip()}
        if base == "dagster-agentic" or base == ".":
            assert wanted <= extras(), f"{where}: no extra {sorted(wanted - extras())}"
        elif (REPO / base).is_dir():
            assert (REPO / base / "pyproject.toml").exists() or (REPO / base / "setup.cfg").exists()
        else:
            assert _pinned_or_in_range(requirement), (
                f"{where}: {requirement!r} is no pin of setup.cfg, nor one version inside its range"
            )


def _pinned_or_in_range(requirement: str) -> bool:
    """``requirement`` as setup.cfg writes it, or one exact version (``torch==2.13.0``, the
    CPU wheel installed first) that the range setup.cfg declares for the package allows."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    if requirement in _pins():
        return True
    try:
        wanted = Requirement(requirement)
    except InvalidRequirement:
        return False
    exact = [spec.version for spec in wanted.specifier if spec.operator == "=="]
    if len(exact) != 1 or len(wanted.specifier) != 1:
        return False
    for line in _pins():
        try:
            declared = Requirement(line)
        except InvalidRequirement:
            continue
        if canonicalize_name(declared.name) == canonicalize_name(wanted.name):
            return declared.specifier.contains(exact[0], prereleases=True)
    return False


def prepare(command: str, where: str) -> str | None:
    """The command to execute for ``command`` (None: checked, nothing to run)."""
    words = shlex.split(command.split("<<")[0], comments=True)
    if not words:
        return command
    head = words[0].rsplit("/", 1)[-1]
    if head == "make":
        check_make(words[1:], where)
        return None
    if head == "pip" and words[1:2] == ["install"]:
        check_pip(words[2:], where)
        return None
    if head == "python" and words[1:4] == ["-m", "pip", "install"]:
        check_pip(words[4:], where)
        return None
    if head == "dagster" and words[1:2] == ["dev"]:
        return shlex.join(["dagster", "definitions", "validate", *words[2:]])
    assert head not in {"dg", "git", "curl", "wget"}, f"{where}: {head} is not run by the tests"
    return command


def commands(script: str) -> list[str]:
    """Logical commands: continuation lines joined, a heredoc kept with its command."""
    out: list[str] = []
    lines = script.splitlines()
    index = 0
    while index < len(lines):
        command = lines[index]
        while command.endswith("\\") and index + 1 < len(lines):
            index += 1
            command = command[:-1] + " " + lines[index].strip()
        heredoc = _HEREDOC.search(command)
        if heredoc:
            while index + 1 < len(lines):
                index += 1
                command += "\n" + lines[index]
                if lines[index].strip() == heredoc["word"]:
                    break
        if command.strip() and not command.strip().startswith("#"):
            out.append(command)
        index += 1
    return out


# ---- running ----------------------------------------------------------------------------


def run_shell(script: str, workspace: Workspace) -> subprocess.CompletedProcess[str]:
    """Run ``script`` with bash; the directory and environment it ends with carry over."""
    state = workspace.cwd / ".docs-shell"
    state.mkdir(exist_ok=True)
    epilogue = f'\npwd > "{state}/cwd"\nenv -0 > "{state}/env"\n'
    done = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script + epilogue],
        cwd=workspace.cwd,
        env=workspace.env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )
    if done.returncode == 0:
        workspace.cwd = Path((state / "cwd").read_text().strip())
        pairs = (state / "env").read_text().split("\0")
        workspace.env = dict(pair.split("=", 1) for pair in pairs if "=" in pair)
    return done


def run_bash(block: Block, workspace: Workspace) -> None:
    prepared = [prepare(command, block.where) for command in commands(block.text)]
    script = "\n".join(command for command in prepared if command is not None)
    if not script.strip():
        return
    done = run_shell(script, workspace)
    assert done.returncode == 0, (
        f"{block.where}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )


def _matches(expected: list[str], actual: list[str]) -> bool:
    """Every expected line, in order, matches an actual line (``...`` stands for anything)."""
    position = 0
    for line in expected:
        if line.strip() == "...":
            continue
        pattern = re.compile(".*".join(re.escape(part) for part in line.strip().split("...")))
        while position < len(actual) and not pattern.fullmatch(actual[position].strip()):
            position += 1
        if position == len(actual):
            return False
        position += 1
    return True


def run_console(block: Block, workspace: Workspace) -> None:
    sessions: list[tuple[str, list[str]]] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            sessions.append((line[2:], []))
        else:
            assert sessions, f"{block.where}: console block must start with '$ '"
            sessions[-1][1].append(line)
    for command, expected in sessions:
        prepared = prepare(command, block.where)
        if prepared is None:
            continue
        done = run_shell(prepared, workspace)
        want = 2 if any(line.startswith("error:") for line in expected) else 0
        output = (done.stdout + done.stderr).splitlines()
        assert done.returncode == want, (
            f"{block.where}: {command}: exit {done.returncode}\n" + "\n".join(output[-60:])
        )
        shown = [line for line in expected if line.strip()]
        assert _matches(shown, output), f"{block.where}: {command}: output differs\n" + "\n".join(
            output[-60:]
        )


@contextmanager
def inside(workspace: Workspace) -> Iterator[None]:
    """The process's directory and environment as the workspace's, for in-process Python."""
    old_cwd, old_env = Path.cwd(), dict(os.environ)
    os.chdir(workspace.cwd)
    os.environ.clear()
    os.environ.update(workspace.env)
    try:
        yield
    finally:
        os.chdir(old_cwd)
        os.environ.clear()
        os.environ.update(old_env)


def goal_attributes(data: Any) -> dict[str, Any] | None:
    """The goal fields a YAML document declares, or None when it declares no goal."""
    if not isinstance(data, dict):
        return None
    if "type" in data:
        is_goal = str(data["type"]).endswith("GoalComponent")
        return dict(data.get("attributes") or {}) if is_goal else None
    return data if "objective" in data else None


def run_data(block: Block, workspace: Workspace) -> None:
    if block.file_name:
        target = workspace.cwd / block.file_name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.text)
    if block.language == "toml":
        tomllib.loads(block.text)
        return
    from dagster_agentic.goals.loading import load_goal_file

    for document in yaml.safe_load_all(block.text):
        if goal_attributes(document) is None:
            continue
        # Validated from the working directory, so relative paths resolve as they would.
        path = workspace.cwd / (block.file_name or ".docs-goal.yaml")
        if not block.file_name:
            path.write_text(yaml.safe_dump(document))
        try:
            load_goal_file(path)
        finally:
            if not block.file_name:
                path.unlink()


def run_python(block: Block, workspace: Workspace) -> None:
    if block.file_name:
        path = workspace.cwd / block.file_name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block.text)
        compile(block.text, str(path), "exec")
        return
    with inside(workspace):
        exec(compile(block.text, block.where, "exec"), workspace.namespace)


RUNNERS = {
    "python": run_python,
    "yaml": run_data,
    "toml": run_data,
    "bash": run_bash,
    "console": run_console,
}


def run_page(page_blocks: list[Block], workspace: Workspace) -> None:
    workspace.namespace = {"__name__": "__docs__"}
    for block in page_blocks:
        if block.language in RUNNERS:
            RUNNERS[block.language](block, workspace)
