"""The benchmark's data sets: where they live, how they are made, and the goal asked of each.

Every warehouse is generated into ``bench/data`` (ignored by git) when missing and never
written to afterwards: the agent works on a copy, Featuretools reads the original.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / "data"
WORK = DATA / "work"
FT_PYTHON = BENCH / ".venv-featuretools" / "bin" / "python"
FT_SCRIPT = BENCH / "featuretools_dfs.py"

# Featuretools' mock customers, scaled up (load_mock_customer's arguments).
MOCK_SIZE = {"customers": 10_000, "products": 100, "sessions": 60_000, "transactions": 200_000}
MOCK_SEED = 0
MOCK_CUTOFF = "2014-04-01"  # transactions run from 2014-01-01 to 2014-05-31
MOCK_LABEL_SEED = 0
CHURN_SEED = 7


@dataclass(frozen=True)
class Dataset:
    """One data set and the goal declared on it."""

    key: str
    title: str
    schema: str  # the Featuretools schema in featuretools_dfs.py
    source: Path
    goal_name: str
    objective: str
    target: str
    entity_table: str
    # DFS runs per data set: None for the benchmark's --repeats; 1 where one run takes minutes.
    dfs_runs: int | None
    # Rows recorded at or after the cutoff: they exist, and neither side may use them.
    after_cutoff_sql: str
    scale: str | None = None  # example warehouse scale; None for the mock data
    # A second DFS configuration, run once for its AUC (the status column under the
    # secondary time index, as Featuretools documents it).
    dfs_variant: str | None = None

    @property
    def work_dir(self) -> Path:
        return WORK / self.key


MOCK = Dataset(
    key="mock_customer",
    title="Featuretools mock customers (scaled up, planted label)",
    schema="mock_customer",
    source=DATA / "mock_customer.duckdb",
    goal_name="high_value",
    objective="Predict which customers are high value, for a ROC AUC of 0.80",
    target="customer_labels.label",
    entity_table="customers",
    dfs_runs=None,
    after_cutoff_sql=(
        "SELECT count(*) FROM transactions"
        " WHERE transaction_time >= (SELECT min(cutoff_time) FROM customer_labels)"
    ),
)
_CHURN_AFTER_CUTOFF = (
    "SELECT count(*) FROM events WHERE event_time >= (SELECT min(cutoff_date) FROM churn_labels)"
)
CHURN_SMALL = Dataset(
    key="churn_small",
    title="Example churn warehouse, scale small",
    schema="churn",
    source=DATA / "churn_small.duckdb",
    goal_name="churn",
    objective="Predict which customers churn, for a ROC AUC of 0.80",
    target="churn_labels.churned",
    entity_table="customers",
    dfs_runs=None,
    after_cutoff_sql=_CHURN_AFTER_CUTOFF,
    scale="small",
    dfs_variant="churn_status_in_secondary_index",
)
CHURN_LARGE = Dataset(
    key="churn_large",
    title="Example churn warehouse, scale large",
    schema="churn",
    source=DATA / "churn_large.duckdb",
    goal_name="churn",
    objective=CHURN_SMALL.objective,
    target=CHURN_SMALL.target,
    entity_table="customers",
    dfs_runs=1,
    after_cutoff_sql=_CHURN_AFTER_CUTOFF,
    scale="large",
)
DATASETS = (MOCK, CHURN_SMALL, CHURN_LARGE)


def rows_after_cutoff(dataset: Dataset) -> int:
    with duckdb.connect(str(dataset.source), read_only=True) as conn:
        row = conn.execute(dataset.after_cutoff_sql).fetchone()
    return int(row[0]) if row else 0


def run_featuretools(*args: str) -> dict[str, Any]:
    """Run a command of featuretools_dfs.py in its venv; return the JSON it writes."""
    WORK.mkdir(parents=True, exist_ok=True)
    result = WORK / f"featuretools-{args[0]}-{time.monotonic_ns()}.json"
    subprocess.run(
        [str(FT_PYTHON), str(FT_SCRIPT), *args, "--result", str(result)], check=True, cwd=ROOT
    )
    data: dict[str, Any] = json.loads(result.read_text())
    result.unlink()
    return data


def ensure(dataset: Dataset) -> dict[str, Any]:
    """Generate the data set's warehouse if it is missing; say how long that took."""
    if dataset.source.exists():
        return {"generated": False}
    started = time.perf_counter()
    if dataset.scale is None:
        summary = run_featuretools(
            "mock-data",
            "--out",
            str(dataset.source),
            *(f"--{name}={value}" for name, value in MOCK_SIZE.items()),
            f"--seed={MOCK_SEED}",
            f"--cutoff={MOCK_CUTOFF}",
            f"--label-seed={MOCK_LABEL_SEED}",
        )
    else:
        command = [sys.executable, "-m", "example_churn.warehouse", "--path", str(dataset.source)]
        command += ["--scale", dataset.scale, "--seed", str(CHURN_SEED), "--overwrite"]
        subprocess.run(command, check=True, cwd=ROOT)
        summary = {}
    return {"generated": True, "seconds": time.perf_counter() - started, **summary}
