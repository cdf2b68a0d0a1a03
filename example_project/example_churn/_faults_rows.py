"""Row faults: rows duplicated, lost, stale or pointing at customers that do not exist."""

from __future__ import annotations

import datetime as dt

from ._faults_core import (
    Connection,
    Fault,
    FaultSpec,
    Outcome,
    already_applied,
    changed,
    cutoff,
    rebuild,
    require_column,
    require_rows,
    sampled,
    scalar,
)

DUPLICATE_SHARE = 0.05
VOLUME_DROP_SHARE = 0.7
STALE_DAYS = 30
ORPHAN_SHARE = 0.1
ORPHAN_ID_BASE, ORPHAN_ID_SPAN = 900_000_000, 1_000_000
LABEL_DUPLICATE_SHARE = 0.04


def _duplicate(con: Connection, table: str, key: str, seed: int, share: float) -> Outcome:
    """Append a sampled share of rows a second time, dropping the table's key constraint."""
    require_column(con, table, key)
    rows = require_rows(con, table)
    keys = scalar(con, f"SELECT count(DISTINCT {key}) FROM {table}")
    if keys < rows:
        raise already_applied(f"{table} already has {rows - keys} rows with a repeated {key}")
    pick = sampled(key, seed, f"duplicate_{table}", share)
    total = rebuild(
        con,
        table,
        f"SELECT * FROM (SELECT * FROM {table} UNION ALL SELECT * FROM {table} WHERE {pick})"
        f" ORDER BY {key}",
    )
    return total - rows, {"rows_before": rows, "rows_after": total, "key_constraint": "dropped"}


def duplicate_rows(con: Connection, seed: int) -> Outcome:
    return _duplicate(con, "payments", "payment_id", seed, DUPLICATE_SHARE)


def duplicate_labels(con: Connection, seed: int) -> Outcome:
    return _duplicate(con, "churn_labels", "customer_id", seed, LABEL_DUPLICATE_SHARE)


def volume_drop(con: Connection, seed: int) -> Outcome:
    require_column(con, "events", "event_id")
    before = require_rows(con, "events")
    id_span = scalar(con, "SELECT max(event_id) - min(event_id) + 1 FROM events")
    if before < id_span / 2:
        raise already_applied(f"events holds {before} rows for {id_span} consecutive event ids")
    pick = sampled("event_id", seed, "volume_drop", VOLUME_DROP_SHARE)
    rows = changed(con, f"DELETE FROM events WHERE {pick}")
    return rows, {"rows_before": before, "rows_after": before - rows}


def stale_data(con: Connection, seed: int) -> Outcome:
    require_column(con, "events", "event_time")
    end = dt.datetime.combine(cutoff(con), dt.time())
    start = end - dt.timedelta(days=STALE_DAYS)
    since = f"event_time >= TIMESTAMP '{start}'"
    try:
        in_window = require_rows(con, "events", f"{since} AND event_time < TIMESTAMP '{end}'")
    except ValueError:
        raise already_applied(f"events has no rows in the {STALE_DAYS} days before {end}") from None
    rows = changed(con, f"DELETE FROM events WHERE {since}")
    latest = scalar(con, "SELECT max(event_time) FROM events")
    return rows, {
        "stopped_at": str(start),
        f"rows_in_last_{STALE_DAYS}_days": in_window,
        "latest_event": str(latest),
    }


def orphan_keys(con: Connection, seed: int) -> Outcome:
    require_column(con, "support_tickets", "customer_id")
    require_column(con, "customers", "customer_id")
    require_rows(con, "support_tickets")
    orphans = scalar(
        con,
        "SELECT count(*) FROM support_tickets WHERE customer_id NOT IN"
        " (SELECT customer_id FROM customers)",
    )
    if orphans:
        raise already_applied(
            f"support_tickets already has {orphans} tickets with unknown customers"
        )
    first_free = int(
        scalar(con, f"SELECT greatest(max(customer_id) + 1, {ORPHAN_ID_BASE}) FROM customers")
    )
    pick = sampled("ticket_id", seed, "orphan_keys", ORPHAN_SHARE)
    rows = changed(
        con,
        f"UPDATE support_tickets SET customer_id = {first_free}"
        f" + hash(ticket_id, {int(seed)}, 'orphan_id') % {ORPHAN_ID_SPAN} WHERE {pick}",
    )
    return rows, {"orphan_ids_from": first_free}


FAULTS = [
    Fault(
        FaultSpec(
            "duplicate_rows", "payments", "payment_id",
            "An at-least-once billing feed redelivers ~5% of payments (same payment_id); the"
            " table is rebuilt without its primary key so the copies can land.",
            "deduplicate on payment_id before aggregating and report the duplicate rate",
        ),
        duplicate_rows,
    ),
    Fault(
        FaultSpec(
            "volume_drop", "events", None,
            "A partial load: the events ingestion job times out and only ~30% of rows arrive.",
            "refuse: quarantine the load (row count far below expectation) and keep the last"
            " good version",
        ),
        volume_drop,
    ),
    Fault(
        FaultSpec(
            "stale_data", "events", "event_time",
            "The events feed stopped 30 days before the prediction time: the last 30 days"
            " before the cutoff, and everything after it, never arrived.",
            "refuse: quarantine the stale partition and keep the last good version",
        ),
        stale_data,
    ),
    Fault(
        FaultSpec(
            "orphan_keys", "support_tickets", "customer_id",
            "The helpdesk starts sending its own contact ids for ~10% of tickets, ids that match"
            " no customer.",
            "exclude or quarantine the orphan rows, alert the owner, and check join coverage",
        ),
        orphan_keys,
    ),
    Fault(
        FaultSpec(
            "duplicate_labels", "churn_labels", "customer_id",
            "A retried labelling job appends ~4% of the label rows a second time; the table is"
            " rebuilt without its primary key.",
            "deduplicate labels on customer_id (refuse if copies disagree) before training",
        ),
        duplicate_labels,
    ),
]  # fmt: skip
