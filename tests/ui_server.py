"""A live ``dagster dev`` over a one-goal project, and headless Chromium to look at it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
import yaml

BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("DAGSTER_AGENTIC_CHROMIUM", "/usr/bin/chromium")
# Headless, and nothing the browser would otherwise fetch from the internet on its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
START_TIMEOUT = 240.0
STOP_TIMEOUT = 30.0


def require_browser() -> None:
    """Chromium and playwright must be there; on CI (``CI=true``) their absence is a failure."""
    missing = []
    if shutil.which(CHROMIUM) is None:
        missing.append(f"chromium ({CHROMIUM}; `apt-get install -y chromium`)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append('playwright (`pip install -e ".[dev]"`)')
    if not missing:
        return
    message = "the UI test needs " + " and ".join(missing) + "; `make test` installs both"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_project(root: Path, attributes: dict[str, Any]) -> Path:
    """A Dagster project whose only definitions are one GoalComponent; returns its defs.yaml."""
    package = root / "goal_project"
    (package / "defs" / "churn").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "defs" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(
        '[tool.dg]\ndirectory_type = "project"\n\n[tool.dg.project]\nroot_module = "goal_project"\n'
    )
    goal_file = package / "defs" / "churn" / "defs.yaml"
    goal_file.write_text(
        yaml.safe_dump({"type": "dagster_agentic.GoalComponent", "attributes": attributes})
    )
    (root / "definitions.py").write_text(
        "import sys\nfrom pathlib import Path\nimport dagster as dg\n\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        f"defs = dg.load_from_defs_folder(project_root=Path({str(root)!r}))\n"
    )
    return goal_file


def dagster_home(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return path


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def dagster_dev(project: Path, home: Path, log: Path) -> Iterator[str]:
    """``dagster dev`` on a free loopback port, in its own process group; yields its base URL.

    Stopped with SIGINT (on SIGTERM it leaves its children behind), then
    SIGKILL to the whole group if it has not gone within ``STOP_TIMEOUT``.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    command = [str(BIN / "dagster"), "dev", "-f", "definitions.py", "-h", "127.0.0.1"]
    with log.open("w") as output:
        process = subprocess.Popen(
            [*command, "-p", str(port)],
            cwd=project,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # A shell's background job ignores SIGINT, and so would its children: restore it.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _ready(f"{base}/server_info"):
            if process.poll() is not None:
                raise AssertionError(f"dagster dev exited:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"dagster dev never answered:\n{log.read_text()[-3000:]}")
            time.sleep(1.0)
        yield base
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            return
    # The group's stragglers (code server, daemon) too, whatever happened above.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=STOP_TIMEOUT)


@contextmanager
def browser_page(tmp: Path) -> Iterator[Any]:
    """A 1280x800 page of headless Chromium (the Debian package's binary)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
            page = context.new_page()
            yield page
        finally:
            browser.close()
