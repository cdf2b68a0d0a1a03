"""Fault injection for the example churn warehouse: realistic upstream breakages, one at a time.

Each fault edits a DuckDB warehouse file (the schema of `example_churn.warehouse`) in a single
transaction, deterministically for a given seed, so a self-healing pipeline can be tested
against it. A fault that cannot apply raises ValueError and leaves the file unchanged.

Besides breakages (schema, values, rows, key formats, time encodings, the cohort column, and
releases that break two sources at once) the suite holds benign changes (`BENIGN`): routine
upstream change after which no check may fail and no goal may degrade.

    python -m example_churn.faults list
    python -m example_churn.faults apply rename_column --path data/warehouse.duckdb --seed 3
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from . import (
    _faults_benign,
    _faults_cohort,
    _faults_keys,
    _faults_release,
    _faults_rows,
    _faults_schema,
    _faults_time,
    _faults_values,
)
from ._faults_core import PRISTINE_HINT, AppliedFault, Fault, FaultSpec

__all__ = [
    "BENIGN",
    "CLASSES",
    "EXPECTED_CAUSES",
    "EXPECTED_CAUSE_SETS",
    "FAULTS",
    "MUST_REFUSE",
    "AppliedFault",
    "FaultSpec",
    "apply_fault",
    "main",
]

_MODULES = (
    _faults_schema, _faults_values, _faults_rows, _faults_keys, _faults_time, _faults_cohort,
    _faults_release, _faults_benign,
)  # fmt: skip
_ALL: dict[str, Fault] = {fault.spec.name: fault for module in _MODULES for fault in module.FAULTS}
FAULTS: dict[str, FaultSpec] = {name: fault.spec for name, fault in _ALL.items()}
CLASSES: dict[str, tuple[str, ...]] = {
    module.__name__.rsplit("_", 1)[-1]: tuple(fault.spec.name for fault in module.FAULTS)
    for module in _MODULES
}
"""The faults by class: schema, values, rows, keys, time, cohort, release (several faults in
one release) and benign (routine change that must stay quiet)."""

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
    "key_format": "key_format_change",
    "key_as_text": "key_format_change",
    "epoch_time": "changed_type",
    "text_time": "changed_type",
    "cohort_lowercase": "relabelled_categories",
    "cohort_names": "relabelled_categories",
    "cohort_dropped": None,  # refused; whatever the cause is called, the cohort is gone
    "release_rename_retype": "renamed_column",
    "release_time_units": "changed_type",
    "release_key_category": "key_format_change",
    # Benign: no cause, because nothing broke.
    "new_bool_column": None,
    "new_typed_columns": None,
    "reorder_columns": None,
    "widen_type": None,
    "append_rows": None,
    "unrelated_table": None,
}
EXPECTED_CAUSE_SETS: dict[str, frozenset[str]] = {
    "release_rename_retype": frozenset({"renamed_column", "changed_type"}),
    "release_time_units": frozenset({"changed_type", "unit_change"}),
    "release_key_category": frozenset({"key_format_change", "new_category"}),
}
"""Faults with several causes (one release breaking two sources): a correct diagnosis names
every one of them; ``EXPECTED_CAUSES`` holds the first."""
MUST_REFUSE = frozenset({"volume_drop", "stale_data", "cohort_dropped"})
"""Faults a correct agent refuses to repair. A partial load, a stale feed or a cohort whose
values are gone cannot be repaired: the last good version must stay live."""
BENIGN = frozenset(
    {
        "new_bool_column", "new_typed_columns", "reorder_columns", "widen_type",
        "append_rows", "unrelated_table",
    }
)  # fmt: skip
"""Routine changes, not faults: no check may fail and no version may degrade."""


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
    head = f"{spec.table}.{spec.column}" if spec.column else spec.table
    return "+".join([head, *spec.also])


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
