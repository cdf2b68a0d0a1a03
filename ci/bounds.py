"""Install the lowest and the highest versions setup.cfg allows, and run the smoke tests on each.

``python ci/bounds.py lower`` pins every direct requirement with a lower bound (``>=X`` or
``==X``) to that bound; ``python ci/bounds.py upper`` lets pip take the newest release inside
every range (``--upgrade``). Each end gets a fresh virtual environment (``ci/.venv-<end>``);
torch==2.13.0, the CPU wheel, goes in first at both ends, since resolving ``torch`` alone pulls
several GB of CUDA wheels. pip's cache is used. The script fails if a direct requirement ends
up at another version than the one the end asks for, or if a smoke test fails.
``--install-only`` and ``--test-only`` split the two phases (``make test-bounds`` builds both
venvs at once, then tests them one after the other). The two local projects are built into
wheels first, one end at a time (a lock file) and from a clean ``build/``: setuptools builds in
the source tree, and two builds at once collide there, while a stale ``build/`` would ship
modules that no longer exist.

Only the standard library: it runs before any environment exists.
"""

from __future__ import annotations

import argparse
import configparser
import fcntl
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXTRAS = ("llm", "k8s", "ui", "dev")
TORCH = "torch==2.13.0"

# Import and public API, the goal declaration and the component's schema, Great Expectations
# on frames, one real plan with its dbt build and training on the smallest warehouse, and the
# sentence encoder against sentence-transformers (tokenizers and safetensors at both ends).
SMOKE_TESTS = (
    "tests/test_public_api.py",
    "tests/test_reading_meaning.py",
    "tests/test_goal_declaration.py",
    "tests/test_component_schema.py",
    "tests/test_raw_expectations.py",
    "tests/test_goal_run.py",
)

OFFLINE = {
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "DO_NOT_TRACK": "1",
}

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^;#]*)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(setup_cfg: Path) -> list[tuple[str, list[str]]]:
    """Every direct requirement (install_requires and the extras), as (name, specifiers)."""
    config = configparser.ConfigParser()
    config.read(setup_cfg)
    lines = config["options"]["install_requires"].splitlines()
    for extra in EXTRAS:
        lines += config["options.extras_require"][extra].splitlines()
    seen: dict[str, list[str]] = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = _REQUIREMENT.match(line)
        if match is None:
            raise SystemExit(f"setup.cfg: cannot read the requirement {line!r}")
        specifiers = [s.strip() for s in match.group(2).split(",") if s.strip()]
        seen.setdefault(canonical(match.group(1)), specifiers)
    return sorted(seen.items())


def constraints(reqs: list[tuple[str, list[str]]], end: str) -> dict[str, str]:
    """name -> the exact version this end must install (absent: whatever pip resolves)."""
    wanted: dict[str, str] = {}
    for name, specifiers in reqs:
        for specifier in specifiers:
            exact = specifier.startswith("==")
            if exact or (specifier.startswith(">=") and end == "lower"):
                wanted[name] = specifier[2:].strip()
    # Both ends hold torch at the CPU wheel installed first.
    wanted["torch"] = TORCH.split("==")[1]
    return wanted


def _same(installed: str, wanted: str) -> bool:
    """1.13 asks for 1.13.0; 2.13.0 is met by 2.13.0+cpu."""
    parts = installed.split("+")[0].split(".")
    asked = wanted.split(".")
    while len(asked) < len(parts):
        asked.append("0")
    return parts == asked


def run(command: list[str], env: dict[str, str] | None = None) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT, env=env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("end", choices=("lower", "upper"))
    parser.add_argument("--python", default=sys.executable, help="interpreter for the venv")
    parser.add_argument("--venv", type=Path, help="default: ci/.venv-<end>")
    phase = parser.add_mutually_exclusive_group()
    phase.add_argument("--install-only", action="store_true", help="build the venv, no tests")
    phase.add_argument("--test-only", action="store_true", help="test the venv built before")
    args = parser.parse_args()

    started = time.monotonic()
    venv = args.venv or ROOT / "ci" / f".venv-{args.end}"
    reqs = requirements(ROOT / "setup.cfg")
    wanted = constraints(reqs, args.end)
    python = str(venv / "bin" / "python")
    pip = [python, "-m", "pip", "--disable-pip-version-check"]
    if not args.test_only:
        install(args.end, args.python, venv, wanted)
    if not check(pip, reqs, wanted, args.end):
        return 1
    if not args.install_only:
        env = {**os.environ, **OFFLINE}
        env.pop("PYTHONPATH", None)
        tests = [str(ROOT / t) for t in SMOKE_TESTS]
        run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests], env=env)
    print(f"{args.end} bounds: passed in {time.monotonic() - started:.0f} s", flush=True)
    return 0


def install(end: str, base_python: str, venv: Path, wanted: dict[str, str]) -> None:
    """A fresh venv: torch first, then the package with every extra, and the example project."""
    shutil.rmtree(venv, ignore_errors=True)
    run([base_python, "-m", "venv", str(venv)])
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    pin_file = venv / f"constraints-{end}.txt"
    pin_file.write_text("".join(f"{name}=={version}\n" for name, version in wanted.items()))
    print(f"{end} bounds:\n{pin_file.read_text()}", flush=True)

    run([*pip, "install", "--quiet", TORCH])
    upgrade = ["--upgrade", "--upgrade-strategy", "eager"] if end == "upper" else []
    extras = ",".join(EXTRAS)
    package, example = build_wheels(pip, venv / "wheels")
    packages = [f"{package}[{extras}]", str(example)]
    run([*pip, "install", "--quiet", *upgrade, "-c", str(pin_file), *packages])


def build_wheels(pip: list[str], out: Path) -> tuple[Path, Path]:
    """The package's and the example project's wheels, built while holding ``ci/.build.lock``."""
    projects = (ROOT, ROOT / "example_project")
    out.mkdir(parents=True, exist_ok=True)
    with (ROOT / "ci" / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            for project in projects:
                shutil.rmtree(project / "build", ignore_errors=True)
            run([*pip, "wheel", "--quiet", "--no-deps", "-w", str(out), *map(str, projects)])
            for project in projects:
                shutil.rmtree(project / "build", ignore_errors=True)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    wheels = sorted(out.glob("*.whl"))
    package = [w for w in wheels if w.name.startswith("dagster_agentic-")]
    example = [w for w in wheels if not w.name.startswith("dagster_agentic-")]
    if len(package) != 1 or len(example) != 1:
        found = ", ".join(w.name for w in wheels)
        raise SystemExit(f"expected one wheel per project in {out}, found: {found}")
    return package[0], example[0]


def check(
    pip: list[str], reqs: list[tuple[str, list[str]]], wanted: dict[str, str], end: str
) -> bool:
    """Every direct requirement is installed, at the version this end asks for."""
    freeze = subprocess.run(
        [*pip, "list", "--format=freeze"], check=True, capture_output=True, text=True
    ).stdout
    installed = {canonical(n): v for n, _, v in (line.partition("==") for line in freeze.split())}
    wrong = []
    print(f"{end} end, installed:", flush=True)
    for name, _ in reqs:
        version = installed.get(name)
        print(f"  {name}=={version}")
        if version is None or (name in wanted and not _same(version, wanted[name])):
            wrong.append(f"{name}: installed {version}, expected {wanted.get(name)}")
    if wrong:
        print("direct requirements at an unexpected version:\n  " + "\n  ".join(wrong))
        return False
    run([*pip, "check"])
    return True


if __name__ == "__main__":
    sys.exit(main())
