"""``make bench-corpus``: the product on every goal of the corpus, against peers on the same rows.

Per goal: the product's reading with no overrides against goals.yaml (right or not, and which
fields differ), the headless run (verdict, metric and its interval, wall time, egress), and
the test metrics of LightGBM with its defaults, FLAML and AutoGluon-Tabular (60 s each) on the
same rows and split, seeing the entity table only; LightGBM also on the product's own feature
matrix. Writes ``bench/results/corpus.json`` and the corpus section of docs/benchmarks.md.

    .venv/bin/python -m bench.corpus.run [--sets telco,wine] [--goals id,...]
        [--peers-only] [--no-peers] [--peer-seconds 60] [--data bench/data/corpus]

``--peers-only`` skips the product: the peers fit the expected reading's rows (split as the
product splits by default) and fill the cache (bench/corpus/peers.py) a later full run reuses
when the product's rows are the same.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench  # noqa: F401  (the offline switches, before the product is imported)
from bench.corpus import peers
from bench.corpus.goals import CorpusGoal, load_goals
from bench.corpus.reading import read_goal

BENCH = Path(__file__).resolve().parent.parent
DATA = BENCH / "data" / "corpus"
WORK = BENCH / "data" / "corpus_work"
RESULTS = BENCH / "results" / "corpus.json"
SAME_ROWS_FIELDS = {"error", "task", "target", "positive", "classes", "entity", "key"}
"""Misread fields that make the product's training rows another question's rows."""


def say(message: str) -> None:
    print(f"[bench-corpus {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _profile(path: Path, cache: dict[Path, Any]) -> Any:
    if path not in cache:
        try:
            from dagster_agentic.warehouse.connection import Warehouse
            from dagster_agentic.warehouse.profile import profile_warehouse

            cache[path] = profile_warehouse(Warehouse(path))
        except Exception:  # read_goal profiles again and records the error
            cache[path] = None
    return cache[path]


def peer_block(
    goal: CorpusGoal,
    warehouse: Path,
    rows: Any,
    features: Any,
    names: tuple[str, ...],
    cache: peers.PeerCache,
    seconds: int,
) -> dict[str, Any]:
    """Fit (or reuse) each peer on ``rows`` x ``features`` and score it on the test rows."""
    frame = peers.peer_frame(rows, features)
    optimise = peers.optimised_metric(goal.expect)
    fits = peers.fit_peers(frame, goal.expect.task, optimise, names, cache, seconds=seconds)
    cache.save()
    cohort = peers.cohort_ids(warehouse, goal.expect)
    return {
        "features": len(frame.columns) - 3,
        "input_bytes": int(frame.memory_usage(deep=True).sum()),
        "optimised": optimise,
        "compared": peers.compared_metric(goal.expect),
        "peers": {
            name: {**peers.score_peer(fit, rows, goal.expect, cohort), "data_key": fit["data_key"]}
            for name, fit in fits.items()
        },
    }


def run_goal_entry(
    goal: CorpusGoal,
    data: Path,
    args: argparse.Namespace,
    cache: peers.PeerCache,
    profiles: dict[Path, Any],
) -> dict[str, Any]:
    warehouse = data / f"{goal.set_key}.duckdb"
    entry: dict[str, Any] = {
        "id": goal.id,
        "set": goal.set_key,
        "style": goal.style,
        "objective": goal.objective,
        "expected": {
            "task": goal.expect.task,
            "target": goal.expect.target,
            "entity": goal.expect.entity,
            "metric": goal.expect.metric,
            "threshold": goal.expect.threshold,
            "cohort": None if goal.expect.cohort is None else goal.expect.cohort.means,
        },
    }
    reading = read_goal(goal, warehouse, _profile(warehouse, profiles))
    entry["reading"] = reading.to_dict()
    verdict = "correctly" if reading.correct else "WRONG: " + ", ".join(reading.differs)
    say(f"{goal.id}: read {verdict}")
    rows, product_features = None, None
    if not args.peers_only:
        from bench.corpus.product import run_product

        run = run_product(goal, warehouse, WORK / goal.id)
        entry["product"] = run.to_dict()
        value = run.goal_metadata.get("value", run.summary.get("value"))
        say(
            f"{goal.id}: product {run.summary.get('status', 'error')} {value} in"
            f" {run.seconds:.1f} s{'' if run.error is None else ': ' + run.error[:160]}"
        )
        rows, product_features = run.rows, run.features
        if set(reading.differs) & SAME_ROWS_FIELDS:
            # The product answered another question (target, task or entity): its rows are
            # not the goal's, so the peers are measured on the expected reading's rows.
            rows, product_features = None, None
    entry["rows_source"] = "product" if rows is not None else "expected"
    try:
        if rows is None:
            rows = peers.expected_rows(warehouse, goal.expect)
        entry["rows"] = {s: int((rows["split"] == s).sum()) for s in ("train", "valid", "test")}
        if not args.no_peers:
            features = peers.entity_features(warehouse, goal)
            entry["peers_entity"] = peer_block(
                goal, warehouse, rows, features, peers.PEER_NAMES, cache, args.peer_seconds
            )
            if product_features is not None:
                entry["peers_product_features"] = peer_block(
                    goal, warehouse, rows, product_features, ("lightgbm_defaults",), cache, 0
                )
    except Exception as error:  # the harness's own failure on one goal is recorded too
        entry["peers_error"] = f"{type(error).__name__}: {error}"[:2000]
        say(f"{goal.id}: peers failed: {entry['peers_error'][:200]}")
    return entry


def machine() -> dict[str, Any]:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f"{pages / 2**30:.0f} GiB"
    except (ValueError, OSError):
        memory = "unknown"
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def summarise(entries: list[dict[str, Any]]) -> dict[str, Any]:
    read = [e["reading"]["correct"] for e in entries]
    statuses: dict[str, int] = {}
    for e in entries:
        product = e.get("product")
        if product is None:
            continue
        status = (product.get("goal") or {}).get("status") or product["summary"].get("status")
        status = status or "error"
        statuses[status] = statuses.get(status, 0) + 1
    fields: dict[str, int] = {}
    for e in entries:
        for name in e["reading"]["differs"]:
            fields[name] = fields.get(name, 0) + 1
    walls = [e["product"]["seconds"] for e in entries if e.get("product")]
    return {
        "goals": len(entries),
        "read_correctly": sum(read),
        "misread_fields": fields,
        "verdicts": statuses,
        "product_wall_seconds_median": statistics.median(walls) if walls else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--sets", default="")
    parser.add_argument("--goals", default="")
    parser.add_argument("--peers-only", action="store_true")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--peer-seconds", type=int, default=peers.PEER_SECONDS)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args(argv)
    manifest_path = args.data / "manifest.json"
    if not manifest_path.exists():
        parser.error(f"{manifest_path} is missing: python -m bench.corpus.load --out {args.data}")
    manifest = json.loads(manifest_path.read_text())
    sets = {s for s in args.sets.split(",") if s} or set(manifest["sets"])
    wanted = {g for g in args.goals.split(",") if g}
    goals = [g for g in load_goals(sets=sets) if not wanted or g.id in wanted]
    goals = [g for g in goals if g.set_key in manifest["sets"]]
    started = time.perf_counter()
    cache = peers.PeerCache()
    profiles: dict[Path, Any] = {}
    entries = []
    for index, goal in enumerate(goals, 1):
        say(f"goal {index}/{len(goals)}: {goal.id} ({goal.set_key})")
        entries.append(run_goal_entry(goal, args.data, args, cache, profiles))
    document = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "mode": "peers only" if args.peers_only else "product and peers",
        "peer_seconds": args.peer_seconds,
        "total_seconds": round(time.perf_counter() - started, 1),
        "sets": manifest["sets"],
        "skipped_sets": manifest.get("skipped", {}),
        "summary": summarise(entries),
        "goals": entries,
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(document, indent=1, sort_keys=True, default=str) + "\n")
    say(f"wrote {args.results}")
    if not args.no_docs:
        from bench.corpus.report import write_docs

        say(f"wrote {write_docs(document)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
