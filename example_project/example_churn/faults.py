"""Fault injection for the example churn warehouse: realistic upstream breakages, one at a time.

Each fault edits a DuckDB warehouse file (the schema of `example_churn.warehouse`) in a single
transaction, deterministically for a given seed, so a self-healing pipeline can be tested
against it. A fault that cannot apply raises ValueError and leaves the file unchanged.

    python -m example_churn.faults list
    python -m example_churn.faults apply rename_column --path data/warehouse.duckdb --seed 3
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from . import _faults_rows, _faults_schema, _faults_values
from ._faults_core import PRISTINE_HINT, AppliedFault, Fault, FaultSpec

__all__ = [
    "EXPECTED_CAUSES",
    "FAULTS",
    "MUST_REFUSE",
    "AppliedFault",
    "FaultSpec",
    "apply_fault",
    "main",
]

_ALL: dict[str, Fault] = {
    fault.spec.name: fault
    for fault in [*_faults_schema.FAULTS, *_faults_values.FAULTS, *_faults_rows.FAULTS]
}
FAULTS: dict[str, FaultSpec] = {name: fault.spec for name, fault in _ALL.items()}

# What a correct diagnosis of each fault names as its root cause (the agent's vocabulary).
EXPECTED_CAUSES: dict[str, str | None] = {
    "rename_column": "renamed_column",
    "change_type": "changed_type",
    "drop_column": "removed_column",
    "renamed_table": "renamed_table",
    "unit_change": "unit_change",
    "relabel_categories": "relabelled_categories",
    "null_burst": "null_burst",
    "distribution_drift": "distribution_drift",
    "extreme_values": "corrupt_values",
    "duplicate_rows": "duplicated_rows",
    "volume_drop": "partial_load",
    "stale_data": "stale_feed",
    "orphan_keys": "orphan_keys",
    "new_category": "new_category",
    "timezone_shift": "clock_shift",
    "duplicate_labels": "duplicated_rows",
    "new_table": None,  # no check fails: the goal replans because the warehouse grew
}
MUST_REFUSE = frozenset({"volume_drop", "stale_data"})
"""Faults a correct agent refuses to repair. A partial load or a stale feed cannot be
repaired: the last good version must stay live."""


def _lookup(name: str) -> Fault:
    if name not in _ALL:
        raise ValueError(f"unknown fault {name!r}; valid faults: {', '.join(_ALL)}")
    return _ALL[name]


def apply_fault(path: str | Path, name: str, *, seed: int = 0) -> AppliedFault:
    """Apply fault `name` to the warehouse at `path` in one transaction and describe the result.

    Raises ValueError, leaving the file unchanged, when the fault is unknown or cannot apply
    (a table or column is missing, or the fault is already applied).
    """
    fault = _lookup(name)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    target = Path(path)
    if not target.is_file():
        raise ValueError(f"no warehouse file at {target}; {PRISTINE_HINT}")
    with duckdb.connect(str(target)) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            rows, details = fault.apply(con, seed)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("CHECKPOINT")
    return AppliedFault(spec=fault.spec, rows_affected=rows, details=details)


def _target(spec: FaultSpec) -> str:
    return f"{spec.table}.{spec.column}" if spec.column else spec.table


def _print_list() -> None:
    width = max(map(len, FAULTS))
    target_width = max(len(_target(spec)) for spec in FAULTS.values())
    for name, spec in FAULTS.items():
        print(f"{name:<{width}}  {_target(spec):<{target_width}}  {spec.description}")


def _summary(applied: AppliedFault, path: str) -> str:
    details = ", ".join(f"{key}={value}" for key, value in applied.details.items())
    return (
        f"applied {applied.spec.name} to {_target(applied.spec)} in {path}: "
        f"{applied.rows_affected:,} rows affected ({details})"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m example_churn.faults", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="print the faults: name, table.column, description")
    apply = commands.add_parser("apply", help="apply one fault to a warehouse file")
    apply.add_argument("name", help="fault name (see `list`)")
    apply.add_argument("--path", required=True, help="DuckDB warehouse file to modify")
    apply.add_argument("--seed", type=int, default=0, help="seed for the rows it picks")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code (2 when a fault cannot apply)."""
    args = _parser().parse_args(argv)
    if args.command == "list":
        _print_list()
        return 0
    try:
        applied = apply_fault(args.path, args.name, seed=args.seed)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(_summary(applied, args.path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
