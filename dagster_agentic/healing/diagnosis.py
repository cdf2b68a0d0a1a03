"""Diagnose the root causes of failed raw-table expectations from collected evidence.

:func:`diagnose` is a deterministic rule set over an :class:`~.evidence.Evidence`; it never
looks at the warehouse itself, nor at how a fault was produced. It works in two passes:

1. **Schema causes first**, because they explain everything else on their target: a missing
   table with a rename candidate is ``renamed_table``; a missing column is ``renamed_column``
   with a candidate and ``removed_column`` without; a failed ``column_type`` is
   ``changed_type``, with a safe cast when every current value parses as the old type. Every
   other failure on that table (or column) is a consequence and is absorbed.
2. **Value causes per column**, then per table: ``between`` (under 1% of values out of range,
   or under 5% when the sampled ones lie orders of magnitude outside it, is ``corrupt_values``;
   at least a quarter out of range with the mean off by a power of ten is ``unit_change``;
   otherwise ``distribution_drift``), ``accepted_values`` (``new_category`` when every known
   value is still there, ``relabelled_categories`` when known values vanished and new ones
   match them by case or frequency rank), ``null_fraction_at_most`` (``null_burst``), ``unique``
   (``duplicated_rows``), ``foreign_key_inclusion`` (``orphan_keys``; ``key_format_change``
   when most keys match no parent), ``fresh_within_days``
   (``stale_feed``, which also explains an hour-profile failure), ``row_count_between``
   (``partial_load`` below the range; above it ``unknown`` with ``above_max``, unless duplicated
   keys explain it), and alone ``drift_psi_at_most`` (``distribution_drift``)
   or ``hour_profile_psi_at_most`` (``clock_shift``). A drift failure on a column with another
   diagnosis is a consequence of it; so is a row count failing next to duplicated keys.

Each rule sets a confidence in [0, 1] from how directly its evidence shows the cause: a
measured fact (nulls, duplicates) is near certain, a rename is as certain as its candidate's
score, and an interpretation (drift rather than a unit change) is less so. Diagnoses come out
blocking ones first (any critical failure absorbed), then in the order of :data:`CAUSES`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from dagster_agentic.expectations.models import ExpectationResult
from dagster_agentic.healing.causes import CAUSES, Cause, Diagnosis
from dagster_agentic.healing.evidence import Candidate, Evidence
from dagster_agentic.healing.value_causes import (
    accepted_values_cause,
    between_cause,
    clock_shift_cause,
    drift_cause,
    duplicated_cause,
    null_burst_cause,
    orphans_cause,
    stale_cause,
)

__all__ = ["CAUSES", "Cause", "Diagnosis", "diagnose"]


class _Found:
    """A diagnosis under construction, with the results it explains."""

    def __init__(self, diagnosis: Diagnosis, results: Sequence[ExpectationResult]) -> None:
        self.diagnosis = diagnosis
        self.critical = any(r.expectation.critical for r in results)


def diagnose(evidence: Evidence) -> tuple[Diagnosis, ...]:
    """One diagnosis per root cause of the failed expectations, most important first."""
    pending = list(evidence.failed)
    found: list[_Found] = []

    def take(table: str, column: str | None = None) -> list[ExpectationResult]:
        taken = [
            r
            for r in pending
            if r.expectation.table == table and (column is None or r.expectation.column == column)
        ]
        for r in taken:
            pending.remove(r)
        return taken

    missing_tables = set(evidence.schema_diff.missing_tables)
    for table in sorted({r.expectation.table for r in pending} & missing_tables):
        found.append(_Found(_missing_table(evidence, table), take(table)))
    missing_columns = {(m.table, m.column) for m in evidence.schema_diff.missing_columns}
    for r in list(pending):
        e = r.expectation
        if r in pending and e.column and (e.table, e.column) in missing_columns:
            found.append(
                _Found(_missing_column(evidence, e.table, e.column), take(e.table, e.column))
            )
    for r in list(pending):
        e = r.expectation
        if r in pending and e.kind == "column_type" and e.column:
            found.append(_Found(_changed_type(evidence, r), take(e.table, e.column)))

    columns = sorted({(r.expectation.table, r.expectation.column or "") for r in pending})
    for table, column in columns:
        if not column:
            continue
        results = [
            r for r in pending if r.expectation.table == table and r.expectation.column == column
        ]
        for diagnosis, used in _column_causes(evidence, table, column, results):
            for r in used:
                pending.remove(r)
            found.append(_Found(diagnosis, used))
    for table in sorted({r.expectation.table for r in pending}):
        results = [r for r in pending if r.expectation.table == table]
        causes, absorbed = _table_causes(evidence, table, results, found)
        for diagnosis, used in causes:
            for r in used:
                pending.remove(r)
            found.append(_Found(diagnosis, used))
        for r in absorbed:
            pending.remove(r)
    for r in pending:
        found.append(_Found(_unknown(r), [r]))

    def importance(f: _Found) -> tuple[bool, int, float, str, str]:
        d = f.diagnosis
        return (not f.critical, CAUSES.index(d.cause), -d.confidence, d.table, d.column or "")

    return tuple(f.diagnosis for f in sorted(found, key=importance))


# --- schema causes ----------------------------------------------------------------------------


def _best(candidates: Sequence[Candidate]) -> Candidate | None:
    return max(candidates, key=lambda c: (c.score, c.new), default=None)


def _missing_table(evidence: Evidence, table: str) -> Diagnosis:
    best = _best(evidence.renames_of(table))
    if best is None:
        return Diagnosis(
            cause="unknown",
            table=table,
            confidence=0.5,
            explanation=f"{table} is gone and no new table resembles it",
            remedy=f"drop the features built on {table} or restore the table",
            details={"missing_table": table},
        )
    return Diagnosis(
        cause="renamed_table",
        table=table,
        confidence=best.score,
        explanation=(
            f"{table} is gone and {best.new} has the same columns and row count"
            f" (score {best.score:.2f})"
        ),
        remedy=f"read {best.new} instead of {table} in every feature",
        details={"from": table, "to": best.new},
    )


def _missing_column(evidence: Evidence, table: str, column: str) -> Diagnosis:
    best = _best(evidence.renames_of(f"{table}.{column}"))
    if best is None:
        new = [c.column for c in evidence.schema_diff.new_columns if c.table == table]
        return Diagnosis(
            cause="removed_column",
            table=table,
            column=column,
            confidence=0.9,
            explanation=(
                f"{table}.{column} is gone and no new column of {table} resembles it"
                + (f" (new: {', '.join(new)})" if new else "")
            ),
            remedy=f"drop the features built on {table}.{column}, retrain and re-check",
            details={"column": column},
        )
    to = best.new.split(".", 1)[1]
    return Diagnosis(
        cause="renamed_column",
        table=table,
        column=column,
        confidence=best.score,
        explanation=(
            f"{table}.{column} is gone and {best.new} has the same distribution"
            f" (score {best.score:.2f})"
        ),
        remedy=f"map {column} -> {to} in every feature",
        details={"from": column, "to": to},
    )


def _changed_type(evidence: Evidence, result: ExpectationResult) -> Diagnosis:
    from dagster_agentic.healing.keys import key_type_change

    keyed = key_type_change(evidence, result)  # a join key retyped: a key format, not a type
    if keyed is not None:
        return keyed
    e = result.expectation
    now = result.observed.get("data_type")
    entry = evidence.profile_diff.get(f"{e.table}.{e.column}", {})
    bad = entry.get("not_castable")
    cast = e.data_type if bad == 0 else None
    parse = entry.get("parse_time") if not cast else None
    if cast:
        explanation = (
            f"{e.table}.{e.column} is now {now} (was {e.data_type}) and every value parses as"
            f" {e.data_type}"
        )
        remedy = f"cast {e.column} back to {e.data_type} before building features"
    elif parse:
        # A time that arrived in another encoding: read it as a time again, never re-plan
        # around it (a re-plan that cannot read the time would aggregate across all of it).
        how = parse.get("described") or "a known time encoding"
        share = float(parse.get("share") or 0.0)
        return Diagnosis(
            cause="changed_type",
            table=e.table,
            column=e.column,
            confidence=round(0.6 + 0.35 * min(1.0, max(0.0, (share - 0.9) / 0.1)), 4),
            explanation=f"{e.table}.{e.column} is now {now} (was {e.data_type}): {how}",
            remedy=f"read {e.column} as a time again (parse_time) before building features",
            details={
                "cast": None,
                "from_type": e.data_type,
                "to_type": now,
                "not_castable": bad,
                "parse_time": dict(parse),
            },
        )
    else:
        why = "some values do not parse" if bad else "parsing could not be checked"
        explanation = f"{e.table}.{e.column} is now {now} (was {e.data_type}) and {why}"
        remedy = f"no safe cast: rebuild the features of {e.column} for {now} or fix the source"
    return Diagnosis(
        cause="changed_type",
        table=e.table,
        column=e.column,
        confidence=0.95 if cast else 0.8,
        explanation=explanation,
        remedy=remedy,
        details={"cast": cast, "from_type": e.data_type, "to_type": now, "not_castable": bad},
    )


# --- value causes -----------------------------------------------------------------------------


def _of(results: Sequence[ExpectationResult], kind: str) -> ExpectationResult | None:
    return next((r for r in results if r.expectation.kind == kind), None)


def _column_causes(
    evidence: Evidence, table: str, column: str, results: Sequence[ExpectationResult]
) -> list[tuple[Diagnosis, list[ExpectationResult]]]:
    out: list[tuple[Diagnosis, list[ExpectationResult]]] = []
    entry = evidence.profile_diff.get(f"{table}.{column}", {})
    for kind, rule in (
        ("between", between_cause),
        ("accepted_values", accepted_values_cause),
        ("null_fraction_at_most", null_burst_cause),
        ("unique", duplicated_cause),
        ("foreign_key_inclusion", orphans_cause),
        ("fresh_within_days", stale_cause),
    ):
        r = _of(results, kind)
        if r is not None:
            out.append((rule(r, entry), [r]))
    drift, hours = _of(results, "drift_psi_at_most"), _of(results, "hour_profile_psi_at_most")
    if drift is not None:
        if out:
            out[0][1].append(drift)
        else:
            out.append((drift_cause(drift, entry), [drift]))
    if hours is not None:
        stale = next((pair for pair in out if pair[0].cause == "stale_feed"), None)
        if stale is not None:
            stale[1].append(hours)
        else:
            out.append((clock_shift_cause(hours), [hours]))
    share = _of(results, "cohort_share_between")
    relabel = next((pair for pair in out if pair[0].cause == "relabelled_categories"), None)
    if share is not None and relabel is not None:
        # Relabelled cohort values explain a cohort that seems to vanish; nothing else may
        # absorb it (an imputation would paper over a cohort that is really gone).
        relabel[1].append(share)
    return out


def _table_causes(
    evidence: Evidence, table: str, results: Sequence[ExpectationResult], found: list[_Found]
) -> tuple[list[tuple[Diagnosis, list[ExpectationResult]]], list[ExpectationResult]]:
    """Row-count causes, and the results already explained (too many rows, duplicated keys)."""
    out: list[tuple[Diagnosis, list[ExpectationResult]]] = []
    absorbed: list[ExpectationResult] = []
    count = _of(results, "row_count_between")
    if count is not None:
        duplicated = any(
            f.diagnosis.cause == "duplicated_rows" and f.diagnosis.table == table for f in found
        )
        rows = int(count.observed.get("rows", 0))
        low, high = count.expectation.min_value or 0.0, count.expectation.max_value or math.inf
        entry = evidence.profile_diff.get(table, {}).get("rows", {})
        ref = entry.get("reference")
        share = f", {rows / ref:.0%} of the {ref:,} rows the plan saw" if ref else ""
        if rows < low:
            out.append(
                (
                    Diagnosis(
                        cause="partial_load",
                        table=table,
                        confidence=0.9,
                        explanation=f"{table} has {rows:,} rows, below the expected {low:,.0f}"
                        f"{share}",
                        remedy=f"quarantine this load of {table} and keep the last good version",
                        details={"rows": rows, "min": low, "reference_rows": ref},
                    ),
                    [count],
                )
            )
        elif not duplicated:
            out.append(
                (
                    Diagnosis(
                        cause="unknown",
                        table=table,
                        confidence=0.5,
                        explanation=f"{table} has {rows:,} rows, above the expected {high:,.0f}"
                        f"{share}",
                        remedy=f"check {table} for a double load or a backfill before using it",
                        details={"rows": rows, "max": high, "above_max": True},
                    ),
                    [count],
                )
            )
        else:
            for f in found:
                if f.diagnosis.table == table and f.diagnosis.cause == "duplicated_rows":
                    f.critical = f.critical or count.expectation.critical
            absorbed.append(count)
    return out, absorbed


def _unknown(result: ExpectationResult) -> Diagnosis:
    e = result.expectation
    target = f"{e.table}.{e.column}" if e.column else e.table
    return Diagnosis(
        cause="unknown",
        table=e.table,
        column=e.column,
        confidence=0.3,
        explanation=f"{target} fails {e.kind}: {result.message}",
        remedy="inspect the source by hand; no rule explains this failure",
        details={"expectation": e.name},
    )
