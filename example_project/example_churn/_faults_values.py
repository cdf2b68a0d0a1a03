"""Value faults: same rows and columns, different contents (units, labels, nulls, drift)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ._faults_core import (
    Connection,
    Fault,
    FaultSpec,
    Outcome,
    already_applied,
    changed,
    cutoff,
    require_column,
    require_rows,
    rng,
    sampled,
    scalar,
)

PLAUSIBLE_MEDIAN_SECONDS = 600.0
STATUS_RENAMES = {"succeeded": "paid", "failed": "declined"}
NULL_BURST_DAYS, NULL_BURST_SHARE = 60, 0.4
DRIFT_MEDIAN, DRIFT_SIGMA = 1.6, 0.25
ZERO_DECIMAL_CURRENCIES = ("JPY", "KRW")
EXTREME_ROWS, EXTREME_MAGNITUDE = 300, 1e12
NEW_CHANNEL, NEW_CHANNEL_SHARE = "app_marketplace", 0.5
TZ_SWITCH_DAYS, TZ_OFFSET_HOURS = 90, -7


def unit_change(con: Connection, seed: int) -> Outcome:
    require_column(con, "events", "duration_seconds")
    median = scalar(con, "SELECT median(duration_seconds) FROM events")
    if median is not None and median > PLAUSIBLE_MEDIAN_SECONDS:
        raise already_applied(f"events.duration_seconds has a median of {median:.0f}")
    rows = changed(con, "UPDATE events SET duration_seconds = duration_seconds * 1000")
    return rows, {"factor": 1000, "unit": "milliseconds"}


def relabel_categories(con: Connection, seed: int) -> Outcome:
    require_column(con, "payments", "status")
    if not scalar(con, "SELECT count(*) FROM payments WHERE status = 'succeeded'"):
        raise already_applied("payments.status has no 'succeeded' value")
    cases = " ".join(f"WHEN '{old}' THEN '{new}'" for old, new in STATUS_RENAMES.items())
    rows = changed(con, f"UPDATE payments SET status = CASE status {cases} ELSE upper(status) END")
    mapping = {**STATUS_RENAMES, "others": "upper-cased"}
    return rows, {"mapping": mapping}


def null_burst(con: Connection, seed: int) -> Outcome:
    require_column(con, "events", "duration_seconds")
    end = dt.datetime.combine(cutoff(con), dt.time())
    start = end - dt.timedelta(days=NULL_BURST_DAYS)
    window = f"event_time >= TIMESTAMP '{start}' AND event_time < TIMESTAMP '{end}'"
    in_window = require_rows(con, "events", window)
    nulls = scalar(con, f"SELECT count(*) FROM events WHERE {window} AND duration_seconds IS NULL")
    if nulls > in_window * NULL_BURST_SHARE / 2:
        raise already_applied(f"{nulls} of {in_window} recent events.duration_seconds are NULL")
    pick = sampled("event_id", seed, "null_burst", NULL_BURST_SHARE)
    rows = changed(
        con,
        f"UPDATE events SET duration_seconds = NULL"
        f" WHERE {window} AND {pick} AND duration_seconds IS NOT NULL",
    )
    return rows, {"window_start": str(start), "window_end": str(end), "rows_in_window": in_window}


def distribution_drift(con: Connection, seed: int) -> Outcome:
    require_column(con, "payments", "amount")
    require_column(con, "payments", "currency")
    ids = con.execute("SELECT DISTINCT customer_id FROM payments ORDER BY customer_id").df()
    gen = rng(seed, "distribution_drift")
    factors = gen.lognormal(np.log(DRIFT_MEDIAN), DRIFT_SIGMA, len(ids))
    frame = pd.DataFrame({"customer_id": ids["customer_id"], "factor": factors})
    zero_decimal = ", ".join(f"'{c}'" for c in ZERO_DECIMAL_CURRENCIES)
    con.register("_drift_factors", frame)
    try:
        rows = changed(
            con,
            "UPDATE payments SET amount = round(amount * f.factor,"
            f" CASE WHEN currency IN ({zero_decimal}) THEN 0 ELSE 2 END)"
            " FROM _drift_factors AS f WHERE payments.customer_id = f.customer_id",
        )
    finally:
        con.unregister("_drift_factors")
    return rows, {"median_factor": float(np.median(factors)), "sigma": DRIFT_SIGMA}


def extreme_values(con: Connection, seed: int) -> Outcome:
    require_column(con, "payments", "amount")
    largest = scalar(con, "SELECT max(abs(amount)) FROM payments")
    if largest is not None and largest >= EXTREME_MAGNITUDE / 1000:
        raise already_applied(f"payments.amount already reaches {largest:g}")
    rows = changed(
        con,
        f"UPDATE payments SET amount = CASE WHEN hash(payment_id, {int(seed)}, 'sign') % 2 = 0"
        f" THEN {EXTREME_MAGNITUDE} ELSE -{EXTREME_MAGNITUDE} END"
        f" WHERE payment_id IN (SELECT payment_id FROM payments"
        f" ORDER BY hash(payment_id, {int(seed)}, 'extreme_values') LIMIT {EXTREME_ROWS})",
    )
    return rows, {"magnitude": EXTREME_MAGNITUDE}


def new_category(con: Connection, seed: int) -> Outcome:
    require_column(con, "customers", "acquisition_channel")
    if scalar(con, "SELECT count(*) FROM customers WHERE acquisition_channel = ?", [NEW_CHANNEL]):
        raise already_applied(f"customers.acquisition_channel already holds {NEW_CHANNEL!r}")
    pick = sampled("customer_id", seed, "new_category", NEW_CHANNEL_SHARE)
    rows = changed(con, f"UPDATE customers SET acquisition_channel = ? WHERE {pick}", [NEW_CHANNEL])
    return rows, {"new_value": NEW_CHANNEL}


def _hour_gap(con: Connection, after: str) -> float:
    """Mean hour of day of the events matching `after` minus that of the others."""
    gap = scalar(
        con,
        f"SELECT avg(hour(event_time)) FILTER (WHERE {after})"
        f" - avg(hour(event_time)) FILTER (WHERE NOT ({after})) FROM events",
    )
    return 0.0 if gap is None else float(gap)


def timezone_shift(con: Connection, seed: int) -> Outcome:
    require_column(con, "events", "event_time")
    switch = dt.datetime.combine(cutoff(con), dt.time()) - dt.timedelta(days=TZ_SWITCH_DAYS)
    after = f"event_time >= TIMESTAMP '{switch}'"
    require_rows(con, "events", after)
    gap = _hour_gap(con, after)
    if abs(gap) > abs(TZ_OFFSET_HOURS) / 2:
        raise already_applied(f"events after {switch} are {gap:+.1f} hours off the earlier ones")
    rows = changed(
        con,
        f"UPDATE events SET event_time = event_time + INTERVAL ({TZ_OFFSET_HOURS}) HOUR"
        f" WHERE {after}",
    )
    return rows, {"switched_at": str(switch), "offset_hours": TZ_OFFSET_HOURS}


FAULTS = [
    Fault(
        FaultSpec(
            "unit_change", "events", "duration_seconds",
            "A new tracking SDK reports durations in milliseconds; the column keeps its name.",
            "detect the x1000 scale jump and rescale, or refuse until the source is fixed",
        ),
        unit_change,
    ),
    Fault(
        FaultSpec(
            "relabel_categories", "payments", "status",
            "The payment provider renames its statuses (succeeded->paid, failed->declined,"
            " refunded->REFUNDED) on the same rows.",
            "map the new labels onto the old ones by frequency and co-occurrence, then recheck",
        ),
        relabel_categories,
    ),
    Fault(
        FaultSpec(
            "null_burst", "events", "duration_seconds",
            "A broken client release drops the duration on ~40% of events in the 60 days"
            " before the prediction time (one recent partition).",
            "refuse: quarantine the partition with the null burst and keep the last good model",
        ),
        null_burst,
    ),
    Fault(
        FaultSpec(
            "distribution_drift", "payments", "amount",
            "A new seat-based price book raises what each customer pays by a customer-specific"
            " factor (lognormal, median ~1.6x), in plausible ranges.",
            "flag the drift, retrain on the new distribution and re-validate before promoting",
        ),
        distribution_drift,
    ),
    Fault(
        FaultSpec(
            "extreme_values", "payments", "amount",
            "A billing bug writes a few hundred sentinel amounts of +/-1e12 into the export.",
            "quarantine the absurd rows (or clip to a robust range) and retrain",
        ),
        extreme_values,
    ),
    Fault(
        FaultSpec(
            "new_category", "customers", "acquisition_channel",
            "An attribution vendor switch re-tags about half of the customers with a channel"
            " the model has never seen ('app_marketplace').",
            "treat the unseen level explicitly, retrain and re-check per-segment metrics",
        ),
        new_category,
    ),
    Fault(
        FaultSpec(
            "timezone_shift", "events", "event_time",
            "From 90 days before the prediction time the tracker writes US/Pacific local time"
            " instead of UTC (-7 hours), without an offset.",
            "detect the hour-of-day shift at the switch date and convert back to UTC",
        ),
        timezone_shift,
    ),
]  # fmt: skip
