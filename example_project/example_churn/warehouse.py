"""Seeded generator for a realistic SaaS churn warehouse stored in a DuckDB file.

The label is churn within 60 days after CUTOFF_DATE. Activity deliberately continues
after the cutoff (and subscriptions record the cancellations inside the label window),
so features must be computed from rows dated before it.

    python -m example_churn.warehouse --path data/warehouse.duckdb --scale small --seed 7
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from ._activity import events_frame, payments_frame, tickets_frame
from ._population import (
    CUTOFF_DAY,
    LABEL_WINDOW_DAYS,
    Population,
    customers_frame,
    labels_frame,
    plan_history,
    simulate_population,
    subscriptions_frame,
)

__all__ = [
    "CUTOFF_DATE",
    "DEFAULT_PATH",
    "LABEL_WINDOW_DAYS",
    "SCALES",
    "TABLES",
    "ensure_warehouse",
    "generate_warehouse",
]

SCALES: dict[str, int] = {"tiny": 2_000, "small": 20_000, "large": 200_000}
CUTOFF_DATE: dt.date = CUTOFF_DAY.astype(dt.date)
# Where the example project's goal (defs.yaml: data/warehouse.duckdb) expects it.
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "warehouse.duckdb"
FIRST_CUSTOMER_ID = 100_001
EVENT_CHUNK_CUSTOMERS = 25_000  # bounds memory: ~1.5M event rows per chunk

TABLES: dict[str, str] = {
    "customers": """
        customer_id BIGINT PRIMARY KEY, country VARCHAR NOT NULL, plan VARCHAR NOT NULL,
        billing_cycle VARCHAR NOT NULL, signup_date DATE NOT NULL, age INTEGER,
        acquisition_channel VARCHAR, company_size VARCHAR""",
    "subscriptions": """
        subscription_id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, plan VARCHAR NOT NULL,
        started_at DATE NOT NULL, ended_at DATE, monthly_price DOUBLE NOT NULL,
        status VARCHAR NOT NULL""",
    "events": """
        event_id BIGINT NOT NULL, customer_id BIGINT NOT NULL, event_time TIMESTAMP NOT NULL,
        event_type VARCHAR NOT NULL, duration_seconds DOUBLE""",
    "support_tickets": """
        ticket_id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, created_at TIMESTAMP NOT NULL,
        category VARCHAR NOT NULL, priority VARCHAR NOT NULL, satisfaction_score INTEGER,
        resolution_hours DOUBLE""",
    "payments": """
        payment_id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, paid_at TIMESTAMP NOT NULL,
        amount DOUBLE NOT NULL, currency VARCHAR NOT NULL, status VARCHAR NOT NULL""",
    "churn_labels": """
        customer_id BIGINT PRIMARY KEY, cutoff_date DATE NOT NULL, churned INTEGER NOT NULL""",
}

# Independent random streams, so changing one table's generator leaves the others intact.
_STREAM = {"population": 1, "plans": 2, "tickets": 3, "payments": 4, "events": 5}


def _rng(seed: int, stream: str, part: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, _STREAM[stream], part])


def resolve_scale(scale: str | int) -> int:
    """Number of customers for a scale name or an explicit positive count."""
    if isinstance(scale, bool):
        raise TypeError("scale must be a name or an int")
    if isinstance(scale, int):
        if scale < 1:
            raise ValueError(f"scale must be a positive number of customers, got {scale}")
        return scale
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; valid scales: {', '.join(SCALES)}")
    return SCALES[scale]


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    con.register("_incoming", frame)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _incoming")
    finally:
        con.unregister("_incoming")


def _event_chunks(p: Population, ids: np.ndarray, seed: int) -> Iterator[pd.DataFrame]:
    """Events in fixed-size customer chunks, so the result does not depend on memory."""
    next_id = 1
    for part, lo in enumerate(range(0, p.n, EVENT_CHUNK_CUSTOMERS)):
        idx = np.arange(lo, min(lo + EVENT_CHUNK_CUSTOMERS, p.n))
        frame = events_frame(p, idx, ids, next_id, _rng(seed, "events", part))
        next_id += len(frame)
        yield frame


def _fill(con: duckdb.DuckDBPyConnection, n_customers: int, seed: int) -> None:
    """Simulate every table and insert it into an open, empty database."""
    pop = simulate_population(n_customers, _rng(seed, "population"))
    history = plan_history(pop, _rng(seed, "plans"))
    ids = np.arange(FIRST_CUSTOMER_ID, FIRST_CUSTOMER_ID + pop.n, dtype=np.int64)
    for name, columns in TABLES.items():
        con.execute(f"CREATE TABLE {name} ({columns})")
    _insert(con, "customers", customers_frame(pop, history, ids))
    _insert(con, "subscriptions", subscriptions_frame(pop, history, ids))
    _insert(con, "support_tickets", tickets_frame(pop, ids, _rng(seed, "tickets")))
    _insert(con, "payments", payments_frame(pop, history, ids, _rng(seed, "payments")))
    _insert(con, "churn_labels", labels_frame(pop, ids))
    for chunk in _event_chunks(pop, ids, seed):
        _insert(con, "events", chunk)


def _remove(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def generate_warehouse(
    path: str | Path, scale: str | int = "small", seed: int = 7, *, overwrite: bool = False
) -> dict[str, int]:
    """Write the warehouse; return row counts per table."""
    n_customers = resolve_scale(scale)
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} already exists; pass --overwrite to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Build next to the target and swap it in at the end: a crash never leaves half a file.
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp_wal = tmp.with_name(tmp.name + ".wal")
    _remove(tmp, tmp_wal)
    try:
        with duckdb.connect(str(tmp)) as con:
            _fill(con, n_customers, seed)
            counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
            con.execute("CHECKPOINT")
        _remove(target.with_name(target.name + ".wal"))  # a stale log would replay onto it
        tmp.replace(target)  # atomic rename (os.replace)
    finally:
        _remove(tmp, tmp_wal)
    return counts


def ensure_warehouse(
    path: str | Path = DEFAULT_PATH, scale: str | int = "small", seed: int = 7
) -> Path:
    """Generate the warehouse unless a file is already at path; return the path."""
    target = Path(path)
    if not target.exists():
        with contextlib.suppress(FileExistsError):  # another process got there first
            generate_warehouse(target, scale, seed)
    return target


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point; prints the row count of each table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default=str(DEFAULT_PATH), help="DuckDB file to write")
    parser.add_argument("--scale", default="small", help=f"one of {', '.join(SCALES)} or an int")
    parser.add_argument("--seed", type=int, default=7)
    existing = parser.add_mutually_exclusive_group()
    existing.add_argument("--overwrite", action="store_true", help="replace an existing file")
    existing.add_argument("--if-missing", action="store_true", help="keep an existing file")
    args = parser.parse_args(argv)
    scale: str | int = int(args.scale) if args.scale.isdigit() else args.scale
    if args.if_missing and Path(args.path).exists():
        print(f"{args.path} already exists; leaving it as is")
        return
    try:
        counts = generate_warehouse(args.path, scale, args.seed, overwrite=args.overwrite)
    except (FileExistsError, ValueError) as exc:
        parser.exit(2, f"error: {exc}\n")
    width = max(map(len, counts))
    for table, rows in counts.items():
        print(f"{table:<{width}}  {rows:>12,}")


if __name__ == "__main__":
    main()
