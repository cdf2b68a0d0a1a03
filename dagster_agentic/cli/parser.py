"""The command line's grammar: commands, their options, and clear messages for bad ones."""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn

GOAL_HELP = (
    "the goal's name (found in the project's defs folders), or the path of its defs.yaml or"
    " of a goal YAML"
)


class Parser(argparse.ArgumentParser):
    """argparse, with a bad option answered by one line and the fix (exit 2)."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {self.prog}: {message}\n  fix: see '{self.prog} --help'\n")
        sys.exit(2)


class _Version(argparse.Action):
    """``--version`` as written, one part a line (argparse's own would rewrap it)."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        sys.stdout.write(namespace.version_text + "\n")
        sys.exit(0)


def _common() -> Parser:
    common = Parser(add_help=False)
    common.add_argument(
        "--json", action="store_true", help="machine-readable output on stdout, nothing else"
    )
    common.add_argument(
        "--verbose",
        action="store_true",
        help="pass dbt's and Dagster's own log output through (on stderr)",
    )
    common.add_argument(
        "--project",
        metavar="DIR",
        default=None,
        help="the Dagster project to find goals in (default: found from the current directory up)",
    )
    return common


def build_parser(version: str) -> Parser:
    parser = Parser(
        prog="dagster-agentic",
        description="Goal-driven, self-healing Dagster pipelines: plan, run, heal, audit a goal.",
    )
    parser.add_argument(
        "--version",
        action=_Version,
        nargs=0,
        default=argparse.SUPPRESS,
        help="the versions of dagster-agentic, dagster, dagster-dbt and duckdb",
    )
    parser.set_defaults(version_text=version)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    common = _common()

    def command(name: str, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help, parents=[common])
        sub.add_argument("goal", help=GOAL_HELP)
        return sub

    run = command("run", "plan if needed, materialise the goal, heal, print a summary")
    run.add_argument(
        "--no-heal", action="store_true", help="report failed checks without repairing them"
    )
    command("health", "the goal's health, its live version and the last healing report")
    plan = command("plan", "a summary of the goal's accepted plan (planning if needed)")
    plan.add_argument(
        "--new",
        action="store_true",
        help="plan a new version now (it learns from earlier versions, e.g. SHAP importance)",
    )
    plan.add_argument(
        "--top", type=int, default=10, metavar="N", help="features shown (default: 10)"
    )
    diff = command(
        "plan-diff",
        "what changed between two plan versions (also spelt 'plan diff';"
        " default: the live version against its parent)",
    )
    diff.prog = "dagster-agentic plan diff"
    diff.add_argument("versions", nargs="*", type=int, metavar="VERSION", help="A B: two versions")
    command("features", "the accepted plan's candidate features: scores, decisions, reasons")
    predict = command(
        "predict", "score the goal's entities with its live model into <agent schema>.predictions"
    )
    predict.add_argument(
        "--entities",
        choices=("all", "unlabelled"),
        default=None,
        help="which entities (default: the goal's predictions.entities, else all)",
    )
    predict.add_argument(
        "--where", default=None, help="a SQL predicate over the entity table's columns"
    )
    predict.add_argument(
        "--as-of", default=None, help="prediction time, ISO 8601 (default: now, UTC)"
    )
    replay = command(
        "replay",
        "plan the goal again from a recorded trace with no model: the same decisions and the"
        " same plan, or where they diverge",
    )
    replay.add_argument("--trace", required=True, help="trace.sqlite of the run to replay")
    replay.add_argument("--into", required=True, help="an empty directory for the replay's state")
    trace = command("trace", "the goal's trace, every record whole, as JSON lines")
    trace.add_argument("--kind", default=None, help="only records of this kind, e.g. decision")
    audit = command(
        "audit",
        "the timeline of the goal's decisions, model calls and their cost, guardrail verdicts,"
        " SQL and plan versions",
    )
    audit.add_argument("--kind", default=None, help="only records of this kind: decision, llm...")
    audit.add_argument(
        "--since", default=None, help="only records at or after this ISO 8601 time (UTC if bare)"
    )
    audit.add_argument(
        "--version",
        type=int,
        default=None,
        dest="plan_version",
        metavar="N",
        help="only this plan version",
    )
    return parser


def normalise(argv: list[str]) -> list[str]:
    """``plan diff ...`` is the ``plan-diff`` command."""
    if len(argv) >= 2 and argv[0] == "plan" and argv[1] == "diff":
        return ["plan-diff", *argv[2:]]
    return argv
