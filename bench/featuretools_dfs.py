"""The Featuretools side of ``make bench-features``; runs in bench/.venv-featuretools only.

Featuretools 1.31.0 needs pandas<3, so this script lives in its own virtual environment and
talks to the main side through DuckDB files and parquet written by DuckDB. Three commands:

    mock-data  generate featuretools' mock customer data, scaled up, plus a planted label
    pull       load a data set's raw tables into pandas and measure them (no DFS)
    dfs        pull, build the EntitySet and run DFS (depth 2, default primitives), repeated;
               write the last feature matrix to parquet and the timings to JSON

It imports nothing from the project: the schemas of the two data sets are declared below.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Featuretools and woodwork warn a lot (dtype inference, deprecations): keep the output readable.
warnings.filterwarnings("ignore")
for _noisy in ("featuretools", "woodwork", "featuretools.entityset"):
    logging.getLogger(_noisy).setLevel(logging.ERROR)

import duckdb  # noqa: E402
import featuretools as ft  # noqa: E402
import pandas as pd  # noqa: E402

LABEL_SQL = Path(__file__).with_name("mock_customer_labels.sql")
# Featuretools uses rows at or before the cutoff; the agent uses rows strictly before it.
STRICTLY_BEFORE = pd.Timedelta(microseconds=1)


@dataclass(frozen=True)
class Frame:
    """One warehouse table as a dataframe of the EntitySet."""

    name: str
    index: str
    time_index: str | None = None
    secondary_time_index: dict[str, list[str]] = field(default_factory=dict)
    drop: tuple[str, ...] = ()  # columns left out of the EntitySet


@dataclass(frozen=True)
class Schema:
    """A data set as Featuretools sees it: tables, relationships, the target and its labels."""

    target: str
    frames: tuple[Frame, ...]
    # (parent table, parent column, child table, child column)
    relationships: tuple[tuple[str, str, str, str], ...]
    label_table: str
    label_key: str
    cutoff_column: str


def churn_schema(subscriptions: Frame) -> Schema:
    return Schema(
        target="customers",
        frames=(
            Frame("customers", "customer_id", "signup_date"),
            subscriptions,
            Frame("events", "event_id", "event_time"),
            Frame("support_tickets", "ticket_id", "created_at"),
            Frame("payments", "payment_id", "paid_at"),
        ),
        relationships=tuple(
            ("customers", "customer_id", child, "customer_id")
            for child in ("subscriptions", "events", "support_tickets", "payments")
        ),
        label_table="churn_labels",
        label_key="customer_id",
        cutoff_column="cutoff_date",
    )


SCHEMAS: dict[str, Schema] = {
    "mock_customer": Schema(
        target="customers",
        frames=(
            Frame("customers", "customer_id", "join_date"),
            Frame("sessions", "session_id", "session_start"),
            Frame("transactions", "transaction_id", "transaction_time"),
            Frame("products", "product_id"),
        ),
        relationships=(
            ("customers", "customer_id", "sessions", "customer_id"),
            ("sessions", "session_id", "transactions", "session_id"),
            ("products", "product_id", "transactions", "product_id"),
        ),
        label_table="customer_labels",
        label_key="customer_id",
        cutoff_column="cutoff_time",
    ),
    # Subscriptions are updated when they end: ended_at (and status) are only known from
    # ended_at on. As Featuretools documents it, both go under the secondary time index...
    "churn_status_in_secondary_index": churn_schema(
        Frame(
            "subscriptions",
            "subscription_id",
            "started_at",
            {"ended_at": ["ended_at", "status"]},
        )
    ),
    # ...but DFS then blanks the status of exactly the rows that end after the cutoff, while
    # open rows keep 'active': the blank itself tells the future. Point-in-time correct DFS
    # leaves the state column out, as the agent does, and keeps ended_at as secondary time.
    "churn": churn_schema(
        Frame(
            "subscriptions",
            "subscription_id",
            "started_at",
            {"ended_at": ["ended_at"]},
            drop=("status",),
        )
    ),
}


# --- mock-data ---------------------------------------------------------------------------


def mock_tables(args: argparse.Namespace) -> dict[str, pd.DataFrame]:
    return ft.demo.load_mock_customer(
        n_customers=args.customers,
        n_products=args.products,
        n_sessions=args.sessions,
        n_transactions=args.transactions,
        random_seed=args.seed,
    )


# Sensible warehouse types: ids BIGINT, times TIMESTAMP, birthdays DATE, text VARCHAR.
MOCK_DDL: dict[str, str] = {
    "customers": """SELECT CAST(customer_id AS BIGINT) AS customer_id,
        CAST(zip_code AS VARCHAR) AS zip_code, CAST(join_date AS TIMESTAMP) AS join_date,
        CAST(birthday AS DATE) AS birthday FROM frame ORDER BY customer_id""",
    "sessions": """SELECT CAST(session_id AS BIGINT) AS session_id,
        CAST(customer_id AS BIGINT) AS customer_id, CAST(device AS VARCHAR) AS device,
        CAST(session_start AS TIMESTAMP) AS session_start FROM frame ORDER BY session_id""",
    "transactions": """SELECT CAST(transaction_id AS BIGINT) AS transaction_id,
        CAST(session_id AS BIGINT) AS session_id,
        CAST(transaction_time AS TIMESTAMP) AS transaction_time,
        CAST(product_id AS BIGINT) AS product_id, CAST(amount AS DOUBLE) AS amount
        FROM frame ORDER BY transaction_time, transaction_id""",
    "products": """SELECT CAST(product_id AS BIGINT) AS product_id,
        CAST(brand AS VARCHAR) AS brand FROM frame ORDER BY product_id""",
}


def without_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns (the mock's product ids) as their plain values."""
    return frame.assign(
        **{
            column: frame[column].astype(frame[column].cat.categories.dtype)
            for column in frame.columns
            if isinstance(frame[column].dtype, pd.CategoricalDtype)
        }
    )


def write_mock_warehouse(args: argparse.Namespace) -> dict[str, Any]:
    """Write the four tables and the planted labels; swap the file in when complete."""
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    tables = mock_tables(args)
    with duckdb.connect(str(tmp)) as conn:
        for name, select in MOCK_DDL.items():
            conn.register("frame", without_categories(tables[name]))
            conn.execute(f"CREATE TABLE {name} AS {select}")
            conn.unregister("frame")
        conn.execute(f"SET VARIABLE cutoff = TIMESTAMP '{pd.Timestamp(args.cutoff)}'")
        conn.execute(f"SET VARIABLE seed = {int(args.label_seed)}")
        conn.execute(LABEL_SQL.read_text())
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in (*MOCK_DDL, "customer_labels")
        }
        after = conn.execute(
            "SELECT count(*) FROM transactions WHERE transaction_time >= getvariable('cutoff')"
        ).fetchone()[0]
        positives = conn.execute("SELECT avg(label) FROM customer_labels").fetchone()[0]
        conn.execute("CHECKPOINT")
    tmp.replace(out)
    return {
        "rows": counts,
        "transactions_after_cutoff": int(after),
        "positive_rate": float(positives),
    }


# --- pull and dfs ------------------------------------------------------------------------


def pull(path: Path, schema: Schema) -> tuple[dict[str, pd.DataFrame], float]:
    """Every raw table the EntitySet needs, and the label table, read whole into pandas."""
    started = time.perf_counter()
    names = [f.name for f in schema.frames] + [schema.label_table]
    with duckdb.connect(str(path), read_only=True) as conn:
        frames = {name: conn.execute(f'SELECT * FROM "{name}"').df() for name in names}
    return frames, time.perf_counter() - started


def frame_bytes(frames: dict[str, pd.DataFrame]) -> dict[str, int]:
    return {name: int(df.memory_usage(deep=True).sum()) for name, df in frames.items()}


def entity_set(frames: dict[str, pd.DataFrame], schema: Schema) -> ft.EntitySet:
    es = ft.EntitySet(id=schema.target)
    for spec in schema.frames:
        df = frames[spec.name].drop(columns=list(spec.drop))
        text = {c: "Categorical" for c in df.columns if df[c].dtype == object}
        es.add_dataframe(
            dataframe_name=spec.name,
            dataframe=df,
            index=spec.index,
            time_index=spec.time_index,
            secondary_time_index=spec.secondary_time_index or None,
            logical_types=text,
        )
    for parent, parent_column, child, child_column in schema.relationships:
        es.add_relationship(parent, parent_column, child, child_column)
    return es


def cutoff_frame(frames: dict[str, pd.DataFrame], schema: Schema) -> pd.DataFrame:
    labels = frames[schema.label_table]
    index = next(f.index for f in schema.frames if f.name == schema.target)
    return pd.DataFrame(
        {
            index: labels[schema.label_key].to_numpy(),
            "time": pd.to_datetime(labels[schema.cutoff_column]) - STRICTLY_BEFORE,
        }
    )


def run_dfs(frames: dict[str, pd.DataFrame], schema: Schema) -> tuple[pd.DataFrame, float]:
    """EntitySet + DFS at depth 2 with the default primitives; the matrix and its seconds."""
    started = time.perf_counter()
    es = entity_set(frames, schema)
    matrix, _definitions = ft.dfs(
        entityset=es,
        target_dataframe_name=schema.target,
        max_depth=2,
        cutoff_time=cutoff_frame(frames, schema),
        verbose=False,
    )
    return matrix, time.perf_counter() - started


def write_parquet(matrix: pd.DataFrame, out: Path) -> None:
    """The feature matrix as parquet, written by DuckDB.

    Categories of text travel as text (the learner treats them as categories); categories of
    numbers (e.g. ``MODE(events.DAY(event_time))``, ordinal in woodwork) as numbers, so their
    order is not lost.
    """
    frame = matrix.reset_index()
    for column in frame.columns:
        dtype = frame[column].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            numeric = pd.api.types.is_numeric_dtype(dtype.categories.dtype)
            frame[column] = frame[column].astype("float64" if numeric else "string")
    out.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as conn:
        conn.register("matrix", frame)
        conn.execute(f"COPY matrix TO '{out}' (FORMAT parquet)")


def peak_rss_bytes() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "featuretools": ft.__version__,
        "pandas": pd.__version__,
        "duckdb": duckdb.__version__,
    }


def command_pull(args: argparse.Namespace) -> dict[str, Any]:
    frames, seconds = pull(Path(args.warehouse), SCHEMAS[args.dataset])
    sizes = frame_bytes(frames)
    return {
        "pull_seconds": seconds,
        "pandas_bytes": sum(sizes.values()),
        "pandas_bytes_by_table": sizes,
        "rows_by_table": {n: len(df) for n, df in frames.items()},
        "peak_rss_bytes": peak_rss_bytes(),
        "versions": versions(),
    }


def command_dfs(args: argparse.Namespace) -> dict[str, Any]:
    schema = SCHEMAS[args.dataset]
    runs: list[dict[str, float]] = []
    matrix = pd.DataFrame()
    sizes: dict[str, int] = {}
    rows: dict[str, int] = {}
    for repeat in range(args.repeats):
        matrix = pd.DataFrame()  # free the previous run's memory first
        frames, pull_seconds = pull(Path(args.warehouse), schema)
        sizes = frame_bytes(frames)
        rows = {name: len(df) for name, df in frames.items()}
        matrix, seconds = run_dfs(frames, schema)
        runs.append({"pull_seconds": pull_seconds, "features_seconds": seconds})
        print(
            f"  dfs {args.dataset} run {repeat + 1}/{args.repeats}: pull {pull_seconds:.1f} s, "
            f"EntitySet+dfs {seconds:.1f} s, {matrix.shape[1]} features",
            flush=True,
        )
        del frames
    write_parquet(matrix, Path(args.out))
    return {
        "runs": runs,
        "rows": len(matrix),
        "n_features": matrix.shape[1],
        "feature_names": [str(c) for c in matrix.columns],
        "pandas_bytes": sum(sizes.values()),
        "pandas_bytes_by_table": sizes,
        "rows_by_table": rows,
        "peak_rss_bytes": peak_rss_bytes(),
        "versions": versions(),
    }


def command_mock_data(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    summary = write_mock_warehouse(args)
    summary["seconds"] = time.perf_counter() - started
    summary["versions"] = versions()
    return summary


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = root.add_subparsers(dest="command", required=True)
    mock = commands.add_parser("mock-data", help="write the scaled-up mock customer warehouse")
    mock.add_argument("--out", required=True)
    mock.add_argument("--customers", type=int, default=10_000)
    mock.add_argument("--products", type=int, default=100)
    mock.add_argument("--sessions", type=int, default=60_000)
    mock.add_argument("--transactions", type=int, default=200_000)
    mock.add_argument("--seed", type=int, default=0)
    mock.add_argument("--cutoff", default="2014-04-01")
    mock.add_argument("--label-seed", type=int, default=0)
    for name, help_text in (("pull", "measure the raw pull"), ("dfs", "run DFS, depth 2")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--dataset", choices=sorted(SCHEMAS), required=True)
        sub.add_argument("--warehouse", required=True)
        if name == "dfs":
            sub.add_argument("--out", required=True, help="parquet file for the feature matrix")
            sub.add_argument("--repeats", type=int, default=3)
    for sub in commands.choices.values():
        sub.add_argument("--result", required=True, help="JSON file for the measurements")
    return root


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    handlers = {"mock-data": command_mock_data, "pull": command_pull, "dfs": command_dfs}
    result = handlers[args.command](args)
    Path(args.result).parent.mkdir(parents=True, exist_ok=True)
    Path(args.result).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
