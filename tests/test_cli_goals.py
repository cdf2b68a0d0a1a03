"""Finding a goal by name in a Dagster project, ``--version``, and the errors a bad goal
argument or option gets: one line, the fix, exit 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from dagster_agentic.cli import main
from dagster_agentic.errors import GoalError
from dagster_agentic.goals.discovery import discover_goals, find_goal, find_project_root
from tests.conftest import EXAMPLE_OBJECTIVE


def write_goal(path: Path, name: str, warehouse: Path | str = "warehouse.duckdb") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    attributes = {"name": name, "objective": EXAMPLE_OBJECTIVE, "warehouse": str(warehouse)}
    path.write_text(
        yaml.safe_dump({"type": "dagster_agentic.GoalComponent", "attributes": attributes})
    )
    return path


def make_project(root: Path, *names: str, module: str = "shop") -> Path:
    """A dg project: pyproject.toml with [tool.dg], goals in <module>/defs/<name>/defs.yaml."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{module}"\n\n[tool.dg]\ndirectory_type = "project"\n\n'
        f'[tool.dg.project]\nroot_module = "{module}"\n'
    )
    for name in names:
        write_goal(root / module / "defs" / name / "defs.yaml", name)
    return root


def _fail(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    assert "fix:" in captured.err
    return captured.err


def test_a_goal_is_found_by_name_from_any_directory_of_its_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "proj", "churn", "upsell")
    # A defs.yaml of another component and one in a hidden folder are not goals.
    (root / "shop" / "defs" / "other").mkdir()
    (root / "shop" / "defs" / "other" / "defs.yaml").write_text("type: dagster.DefsFolder\n")
    write_goal(root / "shop" / "defs" / ".cache" / "defs.yaml", "hidden")
    deep = root / "shop" / "defs" / "churn"
    monkeypatch.chdir(deep)
    assert find_project_root(deep) == root.resolve()
    assert [g.name for g in discover_goals(root)] == ["churn", "upsell"]
    assert main(["health", "upsell"]) == 0
    assert "goal 'upsell' has not run yet" in capsys.readouterr().out
    # From elsewhere, --project points at it; a path works as ever.
    monkeypatch.chdir(tmp_path)
    assert main(["health", "churn", "--project", str(root), "--json"]) == 0
    assert '"goal": "churn"' in capsys.readouterr().out
    assert main(["health", str(deep / "defs.yaml")]) == 0
    assert "goal 'churn' has not run yet" in capsys.readouterr().out


def test_defs_module_and_src_layout_and_no_project(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.dg.project]\nroot_module = "pkg"\ndefs_module = "pkg.definitions"\n'
    )
    found = write_goal(root / "src" / "pkg" / "definitions" / "g" / "defs.yaml", "sales")
    write_goal(root / "elsewhere" / "defs.yaml", "ignored")  # outside the defs module
    assert find_goal("sales", root) == found
    with pytest.raises(GoalError, match="goals found: sales"):
        find_goal("ignored", root)
    # No Dagster project above: the directory itself is searched.
    bare = tmp_path / "bare"
    loose = write_goal(bare / "a" / "defs.yaml", "loose")
    (bare / "pyproject.toml").write_text('[project]\nname = "x"\n')  # not a Dagster project
    assert find_project_root(bare / "a") == (bare / "a").resolve()
    assert find_goal("loose", bare) == loose


def test_an_unknown_name_lists_the_goals_and_a_duplicate_names_both_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "proj", "churn", "upsell")
    monkeypatch.chdir(root)
    err = _fail(["run", "nope"], capsys)
    assert "no goal named 'nope'" in err and "goals found: churn, upsell" in err
    second = write_goal(root / "shop" / "defs" / "copy" / "defs.yaml", "churn")
    err = _fail(["plan", "churn"], capsys)
    assert "2 goals are named 'churn'" in err
    assert str(root / "shop" / "defs" / "churn" / "defs.yaml") in err and str(second) in err
    err = _fail(["health", "churn", "--project", str(tmp_path / "missing")], capsys)
    assert "--project" in err and "no such directory" in err


def test_paths_that_are_not_goals_are_clear_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _fail(["run", str(tmp_path)], capsys)
    assert "is a directory, not a goal file" in err
    missing = tmp_path / "missing.yaml"
    assert "missing.yaml does not exist" in _fail(["plan", str(missing)], capsys)
    binary = tmp_path / "warehouse.yaml"
    binary.write_bytes(b"\x00\xc9\xff DUCK")
    assert "is not a YAML file" in _fail(["run", str(binary)], capsys)
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    assert "broken.yaml is not a YAML file" in _fail(["health", str(broken)], capsys)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    assert "is not a goal: its YAML is a list" in _fail(["trace", str(listed)], capsys)
    other = tmp_path / "defs.yaml"
    other.write_text("type: dagster_dbt.DbtProjectComponent\nattributes: {project: x}\n")
    err = _fail(["audit", str(other)], capsys)
    assert "declares a 'dagster_dbt.DbtProjectComponent' component, not a goal" in err
    stray = tmp_path / "stray.yml"
    stray.write_text("name: churn\nobjective: x\nwarehouse: w.duckdb\ncolour: red\n")
    assert "unknown goal field(s): colour" in _fail(["features", str(stray)], capsys)


def test_bad_options_exit_2_with_the_option_named(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, named in [
        (["run"], "the following arguments are required: goal"),
        (["run", "churn", "--bogus"], "unrecognized arguments: --bogus"),
        (["predict", "churn", "--entities", "some"], "invalid choice: 'some'"),
        (["audit", "churn", "--version", "two"], "invalid int value: 'two'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ]:
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert named in err and "fix: see 'dagster-agentic" in err


def test_version_names_the_package_and_what_it_runs_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("dagster-agentic ")
    for name in ("dagster", "dagster-dbt", "duckdb"):
        assert f"{name} {version(name)}" in lines


def test_the_console_script_answers_version_and_errors_without_a_traceback(
    tmp_path: Path,
) -> None:
    script = Path(sys.executable).with_name("dagster-agentic")
    done = subprocess.run([script, "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and f"dagster {version('dagster')}" in done.stdout
    done = subprocess.run(
        [script, "run", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "is a directory, not a goal file" in done.stderr and "Traceback" not in done.stderr


def test_a_reader_that_closes_the_pipe_ends_the_command_quietly(tmp_path: Path) -> None:
    from dagster_agentic.goals.loading import load_goal_file
    from dagster_agentic.observability.trace import Trace

    goal_file = write_goal(tmp_path / "proj" / "defs.yaml", "churn", tmp_path / "w.duckdb")
    trace = Trace(load_goal_file(goal_file).resolved_state_dir / "trace.sqlite")
    for index in range(3000):  # far more than a pipe buffer holds
        trace.record(
            goal="churn",
            kind="decision",
            name=f"step_{index}",
            actor="test",
            inputs={"padding": "x" * 200},
            outputs={},
            duration_ms=0.0,
        )
    script = Path(sys.executable).with_name("dagster-agentic")
    # `dagster-agentic trace ... | head -1`: the reader leaves after one line.
    reader = subprocess.Popen(["head", "-1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    done = subprocess.run(
        [script, "trace", str(goal_file)],
        stdout=reader.stdin,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    first = reader.communicate()[0]
    assert b'"name": "step_0"' in first
    assert done.returncode == 141 and "Traceback" not in done.stderr, done.stderr
