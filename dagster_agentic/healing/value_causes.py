"""Value causes: what one failed expectation on a column says happened to its values.

Each rule reads the failed result and the column's profile diff (``healing.evidence``) and
names one cause with its confidence; :mod:`healing.diagnosis` decides which rules run and what
each absorbs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from dagster_agentic.expectations.models import ExpectationResult
from dagster_agentic.healing.causes import Diagnosis

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


def between_cause(result: ExpectationResult, entry: dict[str, Any]) -> Diagnosis:
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
    return drift_cause(result, entry)


def drift_cause(result: ExpectationResult, entry: dict[str, Any]) -> Diagnosis:
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


def accepted_values_cause(result: ExpectationResult, entry: dict[str, Any]) -> Diagnosis:
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


def null_burst_cause(result: ExpectationResult, entry: dict[str, Any]) -> Diagnosis:
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


def duplicated_cause(result: ExpectationResult, entry: dict[str, Any]) -> Diagnosis:
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


def orphans_cause(result: ExpectationResult, entry: dict[str, Any]) -> Diagnosis:
    e = result.expectation
    inclusion = float(result.observed.get("inclusion", 0.0))
    from dagster_agentic.healing.keys import KEY_FORMAT_MAX_INCLUSION, key_format_change

    if inclusion < KEY_FORMAT_MAX_INCLUSION:
        return key_format_change(result, inclusion)
    return Diagnosis(
        cause="orphan_keys",
        table=e.table,
        column=e.column,
        confidence=0.9,
        explanation=f"only {inclusion:.1%} of {e.table}.{e.column} values are found in {e.parent}",
        remedy=f"exclude or quarantine the {e.table} rows whose {e.column} matches no {e.parent}",
        details={"inclusion": inclusion, "parent": e.parent, "sample": list(result.failing_sample)},
    )


def stale_cause(result: ExpectationResult, entry: dict[str, Any]) -> Diagnosis:
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


def clock_shift_cause(result: ExpectationResult) -> Diagnosis:
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
