"""The documentation site builds offline and strictly, and every code block in it runs.

The quick start runs first, from an empty directory, exactly as written (it builds the tiny
example warehouse, declares the goal and runs it): that directory is then the project every
other page's commands run against, one page after another, each page's Python in one namespace.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_agentic import _EXPORTS, __all__

from .docs_blocks import NOT_RUN, REPO, RUN, Block, Workspace, base_env, blocks, pages, run_page

QUICKSTART = REPO / "docs" / "quickstart.md"
README = REPO / "README.md"
# Hosts whose fonts, scripts or styles a page would fetch when read.
FETCHED = re.compile(r"""<(?:link|script|img|iframe)\b[^>]*\b(?:href|src)=["']https?://""", re.I)


def _all_blocks() -> list[Block]:
    return [block for page in pages() for block in blocks(page)]


def test_every_block_is_run_or_marked_not_run() -> None:
    unmarked = [
        f"{b.where} ({b.language or 'no language'})"
        for b in _all_blocks()
        if b.language not in RUN + NOT_RUN
    ]
    assert unmarked == [], "blocks neither run nor marked ```text: " + ", ".join(unmarked)
    languages = {b.language for b in _all_blocks()}
    assert {"python", "yaml", "bash", "console"} <= languages


def test_the_api_reference_documents_every_public_name() -> None:
    text = (REPO / "docs" / "reference" / "api.md").read_text()
    documented = {name: module for module, name in re.findall(r"^::: ([\w.]+)\.(\w+)$", text, re.M)}
    assert documented == {name: _EXPORTS[name] for name in __all__}


def test_every_page_is_in_the_navigation() -> None:
    import yaml

    config = yaml.safe_load((REPO / "mkdocs.yml").read_text())

    def leaves(node: object) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, dict):
            return [leaf for value in node.values() for leaf in leaves(value)]
        if isinstance(node, list):
            return [leaf for item in node for leaf in leaves(item)]
        return []

    in_nav = set(leaves(config["nav"]))
    on_disk = {str(p.relative_to(REPO / "docs")) for p in (REPO / "docs").rglob("*.md")}
    assert in_nav == on_disk


def test_the_site_builds_strictly_and_fetches_nothing(tmp_path: Path) -> None:
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=REPO,
        env={**base_env(), "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    html = {p: p.read_text() for p in site.rglob("*.html")}
    assert len(html) > len(list((REPO / "docs").rglob("*.md")))
    fetching = [str(p) for p, text in html.items() if FETCHED.search(text)]
    assert fetching == []
    assert not any("fonts.googleapis" in t or "fonts.gstatic" in t for t in html.values())
    api = (site / "reference" / "api" / "index.html").read_text()
    for name in __all__:
        assert f'id="{_EXPORTS[name]}.{name}"' in api, name


@pytest.fixture(scope="session")
def docs_project(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The quick start, run from an empty directory: the project it leaves behind."""
    workspace = Workspace(cwd=tmp_path_factory.mktemp("docs"), env=base_env())
    run_page(blocks(QUICKSTART), workspace)
    return workspace


def test_the_quick_start_runs_as_written(docs_project: Workspace) -> None:
    assert (docs_project.cwd / "defs.yaml").is_file()
    accepted = docs_project.cwd / "data" / ".agentic" / "churn" / "accepted.json"
    assert accepted.is_file()
    assert (docs_project.cwd / ".dagster_home" / "dagster.yaml").is_file()


# Plans a new version, which no later page's predictions could score with until it has run.
LAST = REPO / "docs" / "how-to" / "upgrading.md"


def _pages_after_the_quick_start() -> list[Path]:
    runnable = {"python", "bash", "console"}
    chosen = [p for p in pages() if p not in (QUICKSTART, README, LAST)] + [LAST]
    return [p for p in chosen if any(b.language in runnable for b in blocks(p))]


@pytest.mark.parametrize(
    "page", _pages_after_the_quick_start(), ids=lambda p: str(p.relative_to(REPO))
)
def test_page_runs_against_the_quick_start_project(page: Path, docs_project: Workspace) -> None:
    workspace = Workspace(cwd=docs_project.cwd, env=dict(docs_project.env))
    run_page(blocks(page), workspace)


def test_every_yaml_and_toml_block_parses_and_every_goal_is_valid(tmp_path: Path) -> None:
    """Pages whose only blocks are data are checked here (the others also run them in order)."""
    workspace = Workspace(cwd=tmp_path, env=base_env())
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "docs"\n')
    data = [b for b in _all_blocks() if b.language in ("yaml", "toml")]
    assert data
    run_page(data, workspace)


def test_readme_runs(docs_project: Workspace, pristine_warehouse: Path, tmp_path: Path) -> None:
    """The README speaks from a checkout: a mirror of its layout, with the example warehouse."""
    checkout = tmp_path / "checkout"
    project = checkout / "example_project"
    goal = project / "example_churn" / "defs" / "churn_goal" / "defs.yaml"
    goal.parent.mkdir(parents=True)
    shutil.copy(REPO / "example_project" / "pyproject.toml", project / "pyproject.toml")
    shutil.copy(REPO / goal.relative_to(checkout), goal)
    (project / "data").mkdir()
    shutil.copy(pristine_warehouse, project / "data" / "warehouse.duckdb")
    (checkout / ".venv").symlink_to(Path(sys.executable).parent.parent)
    # The deployment example reads the shared artifacts directory from AGENTIC_ARTIFACTS, as a
    # deployment sets it: here the goal's own state dir.
    env = {**docs_project.env, "AGENTIC_ARTIFACTS": str(project / "data" / ".agentic")}
    run_page(blocks(README), Workspace(cwd=checkout, env=env))


@pytest.mark.parametrize(
    ("language", "text", "complaint"),
    [
        ("bash", "make no-such-target\n", "no make target"),
        ("bash", "make demo SCALLE=tiny\n", "no make variable"),
        ("bash", "pip install 'dagster-agentic[nosuch]'\n", "no extra"),
        ("bash", "pip install requests\n", "no pin of setup.cfg"),
        ("bash", "pip install torch==1.13.0\n", "no pin of setup.cfg"),
        ("bash", "dagster-agentic plan missing.yaml\n", "exit 2"),
        (
            "console",
            "$ dagster-agentic plan missing.yaml\nerror: goal file other.yaml\n",
            "differs",
        ),
        ("console", "$ dagster-agentic plan missing.yaml\n# plan version 1\n", "exit 2"),
    ],
)
def test_a_block_the_package_contradicts_fails(
    language: str, text: str, complaint: str, tmp_path: Path
) -> None:
    from .docs_blocks import RUNNERS

    block = Block("page.md", 1, language, text)
    with pytest.raises(AssertionError, match=complaint):
        RUNNERS[language](block, Workspace(cwd=tmp_path, env=base_env()))
