"""``dagster-agentic``: parse, find the goal, run the command, answer errors in one line."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from dagster_agentic.errors import AgenticError


def version_text() -> str:
    """This package's version and those of the parts it runs on."""
    from importlib.metadata import PackageNotFoundError, version

    from dagster_agentic import __version__

    parts = [f"dagster-agentic {__version__}"]
    for name in ("dagster", "dagster-dbt", "duckdb"):
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name} (not installed)")
    return "\n".join(parts)


@contextlib.contextmanager
def _quiet_stdout(verbose: bool) -> Iterator[None]:
    """Whatever the library prints (dagster-dbt echoes dbt's log lines onto ``sys.stdout``)
    goes to stderr with ``--verbose`` and nowhere otherwise: stdout is the command's alone."""
    if verbose:
        with contextlib.redirect_stdout(sys.stderr):
            yield
        return
    with Path(os.devnull).open("w") as sink, contextlib.redirect_stdout(sink):
        yield


def _commands() -> dict[str, Callable[..., int]]:
    from dagster_agentic.cli import audit, commands

    return {
        "run": commands.run,
        "health": commands.health,
        "plan": commands.plan,
        "plan-diff": commands.plan_diff,
        "features": commands.features,
        "predict": commands.predict,
        "replay": commands.replay,
        "trace": lambda goal, args, ctx: audit.trace(goal, args.kind, ctx.out),
        "audit": lambda goal, args, ctx: audit.audit(goal, args, ctx.out, as_json=ctx.as_json),
    }


def main(argv: list[str] | None = None) -> int:
    from dagster_agentic.cli.parser import build_parser, normalise

    args = build_parser(version_text()).parse_args(
        normalise(list(sys.argv[1:] if argv is None else argv))
    )
    out: TextIO = sys.stdout
    try:
        from dagster_agentic.cli.commands import Context
        from dagster_agentic.cli.progress import Progress
        from dagster_agentic.cli.resolve import load_goal

        goal = load_goal(args.goal, args.project)
        ctx = Context(
            out=out,
            as_json=args.json,
            verbose=args.verbose,
            progress=Progress(sys.stderr, goal.name),
        )
        with _quiet_stdout(args.verbose):
            return _commands()[args.command](goal, args, ctx)
    except AgenticError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`audit churn | head`): stop quietly, as Unix tools do; point
        # stdout at the null device so the interpreter's final flush raises nothing either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
