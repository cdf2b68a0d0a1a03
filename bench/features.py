"""``make bench-features``: the agent's in-warehouse SQL features against Featuretools DFS.

For each data set, in one run on one machine: the agent plans the goal (timed), computes its
features in DuckDB (timed, repeated) and once through ``dbt build``; Featuretools pulls the
raw tables into pandas and runs DFS at depth 2 (timed, repeated) in its own venv; the same
LightGBM is fitted on both feature sets with the agent's rows and split (test ROC AUC over
several seeds); and the bytes that leave the warehouse are set against the raw pull.
Writes ``bench/results/features.json`` and the bench-features section of docs/benchmarks.md.

    .venv/bin/python -m bench.features [--repeats 3] [--seeds 3] [--skip-large] [--skip-dfs-large]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

# The offline switches are set by the bench package (bench/__init__.py) before any import.
from bench import agent_side, learner, report
from bench.datasets import (
    DATASETS,
    WORK,
    Dataset,
    ensure,
    rows_after_cutoff,
    run_featuretools,
)


def say(message: str) -> None:
    print(f"[bench-features {time.strftime('%H:%M:%S')}] {message}", flush=True)


def spread(values: list[float]) -> dict[str, Any]:
    return {
        "runs": values,
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
    }


def run_agent(dataset: Dataset, repeats: int) -> tuple[dict[str, Any], Any]:
    """Plan, compute the features ``repeats`` times, dbt build once, fetch the matrix."""
    warehouse = agent_side.fresh_copy(dataset)
    goal = agent_side.make_goal(dataset, warehouse)
    planned = agent_side.plan(goal)
    plan = planned.plan
    say(f"{dataset.key}: planned in {planned.seconds:.1f} s, {len(plan.feature_columns)} features")
    runs = []
    for repeat in range(repeats):
        runs.append(agent_side.compute_features(plan, warehouse))
        say(f"{dataset.key}: agent features run {repeat + 1}/{repeats}: {runs[-1]:.2f} s")
    one_thread = agent_side.compute_features(plan, warehouse, threads=1)
    say(f"{dataset.key}: agent features with 1 DuckDB thread: {one_thread:.2f} s")
    dbt = agent_side.dbt_build(planned.bundle)
    say(f"{dataset.key}: dbt build {dbt['seconds']:.1f} s ({'ok' if dbt['ok'] else 'FAILED'})")
    matrix = agent_side.fetch_training_matrix(plan, warehouse)
    result = {
        **agent_side.plan_summary(planned),
        "features_seconds": spread(runs),
        "features_seconds_1_thread": one_thread,
        "dbt_build": dbt,
        "egress": agent_side.egress(plan, warehouse, matrix),
        "labelled_rows": len(matrix),
        "positive_rate": float(matrix["label"].mean()),
    }
    return result, matrix


def run_dfs(
    dataset: Dataset, repeats: int, schema: str | None = None
) -> tuple[dict[str, Any], Path]:
    schema = schema or dataset.schema
    out = dataset.work_dir / f"dfs_{schema}.parquet"
    say(f"{dataset.key}: Featuretools DFS ({schema}), depth 2, {repeats} run(s)")
    data = run_featuretools(
        "dfs",
        "--dataset",
        schema,
        "--warehouse",
        str(dataset.source),
        "--out",
        str(out),
        "--repeats",
        str(repeats),
    )
    runs = data.pop("runs")
    data["pull_seconds"] = spread([r["pull_seconds"] for r in runs])
    data["features_seconds"] = spread([r["features_seconds"] for r in runs])
    data["schema"] = schema
    return data, out


def run_dfs_variant(dataset: Dataset, matrix: Any, seeds: list[int]) -> dict[str, Any] | None:
    """The second DFS configuration, once, with its AUC on the same rows and learner."""
    if dataset.dfs_variant is None or not seeds:
        return None
    data, out = run_dfs(dataset, 1, dataset.dfs_variant)
    frame = learner.dfs_frame(matrix, learner.read_parquet(out), "customer_id")
    columns = [c for c in frame.columns if c not in agent_side.ID_COLUMNS]
    say(f"{dataset.key}: LightGBM on DFS ({dataset.dfs_variant})'s {len(columns)} features")
    data["lightgbm"] = learner.evaluate(frame, columns, seeds)
    return data


def raw_pull(dataset: Dataset) -> dict[str, Any]:
    say(f"{dataset.key}: measuring the raw pull into pandas (no DFS)")
    return run_featuretools("pull", "--dataset", dataset.schema, "--warehouse", str(dataset.source))


def compare(
    dataset: Dataset, matrix: Any, dfs_matrix: Path | None, seeds: list[int]
) -> dict[str, Any]:
    """LightGBM on both feature sets, identical rows and split."""
    features = [c for c in matrix.columns if c not in agent_side.ID_COLUMNS]
    say(f"{dataset.key}: LightGBM on the agent's {len(features)} features, seeds {seeds}")
    out = {"agent": learner.evaluate(matrix, features, seeds)}
    if dfs_matrix is not None:
        frame = learner.dfs_frame(matrix, learner.read_parquet(dfs_matrix), "customer_id")
        columns = [c for c in frame.columns if c not in agent_side.ID_COLUMNS]
        say(f"{dataset.key}: LightGBM on DFS's {len(columns)} features, seeds {seeds}")
        out["dfs"] = learner.evaluate(frame, columns, seeds)
    return out


def run_dataset(dataset: Dataset, args: argparse.Namespace) -> dict[str, Any]:
    generated = ensure(dataset)
    state = "generated" if generated["generated"] else "present"
    say(f"{dataset.key}: warehouse {dataset.source.name} ({state})")
    agent, matrix = run_agent(dataset, args.repeats)
    with_dfs = not (args.skip_dfs_large and dataset.scale == "large")
    dfs, dfs_matrix = (
        run_dfs(dataset, dataset.dfs_runs or args.repeats) if with_dfs else (None, None)
    )
    pulled = dfs if dfs is not None else raw_pull(dataset)
    seeds = list(range(args.seeds))
    models = compare(dataset, matrix, dfs_matrix, seeds) if seeds else {}
    variant = run_dfs_variant(dataset, matrix, seeds)
    generated["rows_after_cutoff"] = rows_after_cutoff(dataset)
    result = report.dataset_result(dataset, generated, agent, dfs, pulled, models)
    result["dfs_variant"] = variant
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="feature-generation timings")
    parser.add_argument("--seeds", type=int, default=3, help="LightGBM seeds per feature set")
    parser.add_argument("--skip-large", action="store_true", help="leave out the large example")
    parser.add_argument(
        "--only", choices=[d.key for d in DATASETS], action="append", help="run these data sets"
    )
    parser.add_argument(
        "--skip-dfs-large", action="store_true", help="run only the agent on the large example"
    )
    parser.add_argument("--no-docs", action="store_true", help="write the JSON only")
    parser.add_argument(
        "--docs-only",
        action="store_true",
        help="rewrite the docs section from the JSON; run nothing",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.docs_only:
        say(f"wrote {report.write_docs(report.read_json())}")
        return
    started = time.perf_counter()
    WORK.mkdir(parents=True, exist_ok=True)
    datasets = [
        d
        for d in DATASETS
        if not (args.skip_large and d.scale == "large") and (not args.only or d.key in args.only)
    ]
    results = {d.key: run_dataset(d, args) for d in datasets}
    document = report.build(results, args, time.perf_counter() - started)
    path = report.write_json(document)
    say(f"wrote {path}")
    if not args.no_docs:
        say(f"wrote {report.write_docs(document)}")
    say(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
