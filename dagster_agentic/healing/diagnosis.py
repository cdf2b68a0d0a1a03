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
   (``duplicated_rows``), ``foreign_key_inclusion`` (``orphan_keys``), ``fresh_within_days``
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
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict

from dagster_agentic.expectations.models import ExpectationResult
from dagster_agentic.healing.evidence import Candidate, Evidence

Cause = Literal[
    "renamed_column",
    "renamed_table",
    "removed_column",
    "changed_type",
    "unit_change",
    "relabelled_categories",
    "null_burst",
    "corrupt_values",
    "duplicated_rows",
    "partial_load",
    "stale_feed",
    "orphan_keys",
    "distribution_drift",
    "clock_shift",
    "new_category",
    "training_divergence",
    "unknown",
]
CAUSES: tuple[str, ...] = get_args(Cause)

CORRUPT_SHARE = 0.01
"""At most this share of values out of range: a few bad values, not a shift."""
CORRUPT_SHARE_IF_ABSURD = 0.05
"""Up to this share when the sampled failing values lie orders of magnitude outside the range."""
ABSURD_FACTOR = 100.0
UNIT_TOLERANCE = 0.15
"""The current/reference mean ratio must lie within this of a power of ten (10 ... 1e6)."""
UNIT_MIN_SHARE = 0.25
"""A unit change moves most values: at least this share must fail the range."""
RELABEL_COUNT_TOLERANCE = 0.2
RELABEL_LARGE_SHARE = 0.5


class Diagnosis(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    cause: Cause
    table: str
    column: str | None = None
    confidence: float
    explanation: str
    remedy: str
    details: dict[str, Any] = {}


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
    e = result.expectation
    now = result.observed.get("data_type")
    entry = evidence.profile_diff.get(f"{e.table}.{e.column}", {})
    bad = entry.get("not_castable")
    cast = e.data_type if bad == 0 else None
    if cast:
        explanation = (
            f"{e.table}.{e.column} is now {now} (was {e.data_type}) and every value parses as"
            f" {e.data_type}"
        )
        remedy = f"cast {e.column} back to {e.data_type} before building features"
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
        ("between", _between),
        ("accepted_values", _accepted_values),
        ("null_fraction_at_most", _null_burst),
        ("unique", _duplicated),
        ("foreign_key_inclusion", _orphans),
        ("fresh_within_days", _stale),
    ):
        r = _of(results, kind)
        if r is not None:
            out.append((rule(r, entry), [r]))
    drift, hours = _of(results, "drift_psi_at_most"), _of(results, "hour_profile_psi_at_most")
    if drift is not None:
        if out:
            out[0][1].append(drift)
        else:
            out.append((_drift(drift, entry), [drift]))
    if hours is not None:
        stale = next((pair for pair in out if pair[0].cause == "stale_feed"), None)
        if stale is not None:
            stale[1].append(hours)
        else:
            out.append((_clock_shift(hours), [hours]))
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


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _power_of_ten(ratio: float) -> tuple[float, float] | None:
    """(10**k, relative deviation) when ``ratio`` lies within tolerance of 10**k, k != 0."""
    if ratio <= 0:
        return None
    k = round(math.log10(ratio))
    if k == 0 or abs(k) > 6:
        return None
    factor = 10.0**k
    deviation = abs(ratio / factor - 1)
    return (factor, deviation) if deviation <= UNIT_TOLERANCE else None


def _between(result: ExpectationResult, entry: dict[str, Any]) -> Diagnosis:
    e = result.expectation
    share = float(result.observed.get("failing_fraction", 0.0))
    low, high = e.min_value or 0.0, e.max_value or 0.0
    span = max(abs(low), abs(high), high - low, 1e-9)
    sample = [v for v in (_num(x) for x in result.failing_sample) if v is not None]
    absurd = bool(sample) and all(
        v > high + ABSURD_FACTOR * span or v < low - ABSURD_FACTOR * span for v in sample
    )
    target = f"{e.table}.{e.column}"
    if share < CORRUPT_SHARE or (absurd and share < CORRUPT_SHARE_IF_ABSURD):
        shown = ", ".join(f"{v:g}" for v in sample[:3])
        return Diagnosis(
            cause="corrupt_values",
            table=e.table,
            column=e.column,
            confidence=0.9 if absurd else 0.75,
            explanation=f"{share:.2%} of {target} lie outside [{low:g}, {high:g}]"
            + (f", e.g. {shown}" if shown else ""),
            remedy=f"quarantine the rows with absurd {e.column} (or clip to [{low:g}, {high:g}])"
            " and retrain",
            details={"failing_fraction": share, "range": [low, high], "sample": sample[:5]},
        )
    ref = _num((entry.get("reference") or {}).get("mean"))
    now = _num((entry.get("current") or {}).get("mean"))
    unit = _power_of_ten(now / ref) if ref and now is not None and share >= UNIT_MIN_SHARE else None
    if unit is not None and ref and now is not None:
        factor, deviation = unit
        return Diagnosis(
            cause="unit_change",
            table=e.table,
            column=e.column,
            confidence=round(0.6 + 0.35 * (1 - deviation / UNIT_TOLERANCE), 4),
            explanation=f"the mean of {target} went from {ref:g} to {now:g}, {now / ref:.4g}x"
            f" (a factor of {factor:g}), and {share:.0%} of values left [{low:g}, {high:g}]",
            remedy=f"divide {e.column} by {factor:g} (or refuse until the source is fixed)",
            details={"factor": factor, "mean_ratio": now / ref, "failing_fraction": share},
        )
    return _drift(result, entry)


def _drift(result: ExpectationResult, entry: dict[str, Any]) -> Diagnosis:
    e = result.expectation
    ref = _num((entry.get("reference") or {}).get("mean"))
    now = _num((entry.get("current") or {}).get("mean"))
    means = f"; mean {ref:g} -> {now:g}" if ref is not None and now is not None else ""
    return Diagnosis(
        cause="distribution_drift",
        table=e.table,
        column=e.column,
        confidence=0.7,
        explanation=f"{e.table}.{e.column} changed its distribution ({result.message}{means})",
        remedy="retrain on the new distribution and re-validate before promoting",
        details={
            k: v
            for k, v in {
                "psi": result.observed.get("psi"),
                "failing_fraction": result.observed.get("failing_fraction"),
                "reference_mean": ref,
                "current_mean": now,
            }.items()
            if v is not None
        },
    )


def _tops(stats: dict[str, Any] | None) -> list[tuple[str, int]]:
    return [(str(v), int(n)) for v, n in (stats or {}).get("top_values", [])]


def _accepted_values(result: ExpectationResult, entry: dict[str, Any]) -> Diagnosis:
    e = result.expectation
    known = set(e.values)
    ref_tops, now_tops = _tops(entry.get("reference")), _tops(entry.get("current"))
    now_counts = dict(now_tops)
    share = float(result.observed.get("failing_fraction", 0.0))
    unknown = list(dict.fromkeys([v for v, _ in now_tops if v not in known]))
    unknown += [str(v) for v in result.failing_sample if str(v) not in unknown]
    smallest = min(now_counts.values(), default=0)
    complete = len(now_tops) < 10
    vanished = [
        (v, n)
        for v, n in ref_tops
        if v in known and v not in now_counts and (complete or n > smallest)
    ]
    target = f"{e.table}.{e.column}"
    if not vanished and unknown:
        new = sorted(unknown, key=lambda v: (-now_counts.get(v, 0), v))
        return Diagnosis(
            cause="new_category",
            table=e.table,
            column=e.column,
            confidence=0.9 if len(new) == 1 else 0.75,
            explanation=f"every known value of {target} is still there and {len(new)} new"
            f" value(s) appeared ({', '.join(new[:3])}) on {share:.0%} of rows",
            remedy=f"treat {', '.join(new[:3])} as an explicit level of {e.column}, retrain and"
            " re-check per-segment metrics",
            details={"new_values": new, "failing_fraction": share},
        )
    mapping = _match_labels(vanished, [(v, now_counts.get(v, 0)) for v in unknown])
    if mapping and (len(mapping) == len(vanished) or share >= RELABEL_LARGE_SHARE):
        shown = ", ".join(f"{new} -> {old}" for new, old in list(mapping.items())[:3])
        return Diagnosis(
            cause="relabelled_categories",
            table=e.table,
            column=e.column,
            confidence=round(0.5 + 0.45 * len(mapping) / max(len(vanished), 1), 4),
            explanation=f"{len(vanished)} known value(s) of {target} vanished and new ones took"
            f" their places with the same frequencies ({shown})",
            remedy=f"map the new labels of {e.column} onto the old ones and recheck",
            details={"mapping": mapping, "failing_fraction": share},
        )
    return Diagnosis(
        cause="unknown",
        table=e.table,
        column=e.column,
        confidence=0.4,
        explanation=f"{share:.1%} of {target} are unknown values"
        f" ({', '.join(unknown[:3])}) that match no vanished value",
        remedy=f"review the new values of {e.column} before using the column",
        details={"unknown_values": unknown, "vanished": [v for v, _ in vanished]},
    )


def _match_labels(
    vanished: Sequence[tuple[str, int]], unknown: Sequence[tuple[str, int]]
) -> dict[str, str]:
    """new -> old: same value up to case first, then by frequency rank with counts within 20%."""
    mapping: dict[str, str] = {}
    old_left = list(vanished)
    new_left = list(unknown)
    for new, n in list(new_left):
        same = next((o for o in old_left if o[0].casefold() == new.casefold()), None)
        if same is not None:
            mapping[new] = same[0]
            old_left.remove(same)
            new_left.remove((new, n))
    old_ranked = sorted(old_left, key=lambda p: (-p[1], p[0]))
    new_ranked = sorted(new_left, key=lambda p: (-p[1], p[0]))
    for (old, a), (new, b) in zip(old_ranked, new_ranked, strict=False):
        if max(a, b) and abs(a - b) / max(a, b) <= RELABEL_COUNT_TOLERANCE:
            mapping[new] = old
    return mapping


def _null_burst(result: ExpectationResult, entry: dict[str, Any]) -> Diagnosis:
    e = result.expectation
    now = float(result.observed.get("null_fraction", 0.0))
    ref = _num((entry.get("reference") or {}).get("null_fraction"))
    was = f" (was {ref:.2%})" if ref is not None else ""
    return Diagnosis(
        cause="null_burst",
        table=e.table,
        column=e.column,
        confidence=0.95,
        explanation=f"{now:.2%} of {e.table}.{e.column} are null{was},"
        f" above the {e.max_fraction or 0.0:.2%} allowed",
        remedy="quarantine the rows or partition with the null burst and keep the last good model",
        details={"reference_null_fraction": ref, "current_null_fraction": now},
    )


def _duplicated(result: ExpectationResult, entry: dict[str, Any]) -> Diagnosis:
    e = result.expectation
    n = int(result.observed.get("duplicates", 0))
    return Diagnosis(
        cause="duplicated_rows",
        table=e.table,
        column=e.column,
        confidence=0.95,
        explanation=f"{n:,} values of the key {e.table}.{e.column} occur more than once",
        remedy=f"deduplicate {e.table} on {e.column} before aggregating",
        details={"duplicates": n, "sample": list(result.failing_sample)},
    )


def _orphans(result: ExpectationResult, entry: dict[str, Any]) -> Diagnosis:
    e = result.expectation
    inclusion = float(result.observed.get("inclusion", 0.0))
    return Diagnosis(
        cause="orphan_keys",
        table=e.table,
        column=e.column,
        confidence=0.9,
        explanation=f"only {inclusion:.1%} of {e.table}.{e.column} values are found in {e.parent}",
        remedy=f"exclude or quarantine the {e.table} rows whose {e.column} matches no {e.parent}",
        details={"inclusion": inclusion, "parent": e.parent, "sample": list(result.failing_sample)},
    )


def _stale(result: ExpectationResult, entry: dict[str, Any]) -> Diagnosis:
    e = result.expectation
    days = result.observed.get("days")
    when = "no row arrived" if days is None else f"the latest row is {days:.1f} days old"
    return Diagnosis(
        cause="stale_feed",
        table=e.table,
        column=e.column,
        confidence=0.9,
        explanation=f"{e.table} stopped arriving: {when} at the prediction time"
        f" (at most {e.max_days or 0.0:g})",
        remedy=f"quarantine the stale {e.table} partition and keep the last good version",
        details={"days": days, "max_days": e.max_days},
    )


def _clock_shift(result: ExpectationResult) -> Diagnosis:
    e = result.expectation
    now, was = result.observed.get("busiest_hour"), result.observed.get("was")
    shift = None
    if isinstance(now, int) and isinstance(was, int):
        shift = (now - was + 12) % 24 - 12
    moved = f"the busiest hour moved from {was} to {now} ({shift:+d} h)" if shift else "it changed"
    return Diagnosis(
        cause="clock_shift",
        table=e.table,
        column=e.column,
        confidence=0.85 if shift else 0.6,
        explanation=f"the hour-of-day profile of {e.table}.{e.column} shifted:"
        f" {moved} (PSI {result.observed.get('psi', 0.0):.2f})",
        remedy=f"find the switch date and convert {e.column} back to UTC"
        + (f" ({-shift:+d} h)" if shift else ""),
        details={"busiest_hour": now, "was": was, "shift_hours": shift},
    )
