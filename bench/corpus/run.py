"""``make bench-corpus``: the product on every goal of the corpus, against peers on the same rows.

Per goal: the product's reading with no overrides against goals.yaml (right or not, and which
fields differ), the headless run (verdict, metric and its interval, wall time, egress), and
the test metrics of LightGBM with its defaults, FLAML and AutoGluon-Tabular (60 s each) on the
same rows and split, seeing the entity table only; LightGBM also on the product's own feature
matrix. Where the product measured itself by cross-validation (a small test split), LightGBM is
also refitted on the product's own folds, on its features and on the entity table's columns,
and measured the product's way (bench/corpus/peers_cv.py). Writes ``bench/results/corpus.json``
and the corpus section of docs/benchmarks.md.

    .venv/bin/python -m bench.corpus.run [--sets telco,wine] [--goals id,...]
        [--peers-only] [--no-peers] [--peer-seconds 60] [--data bench/data/corpus]
        [--work bench/data/corpus_work] [--cv-peers lightgbm_defaults] [--cv-peer-seconds 60]
        [--results path] [--peer-cache bench/results/corpus_peers.json] [--no-docs]

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
from bench.corpus import peers, peers_cv
from bench.corpus.goals import (
    ORIGINS,
    CorpusGoal,
    CorpusRefusal,
    Expected,
    load_goals,
    load_refusals,
)
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
        "origin": goal.origin,
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
    if args.reading_only:
        return entry
    rows, product_features, folds = None, None, None
    if not args.peers_only:
        from bench.corpus.product import run_product

        run = run_product(goal, warehouse, args.work / goal.id)
        entry["product"] = run.to_dict()
        value = run.goal_metadata.get("value", run.summary.get("value"))
        say(
            f"{goal.id}: product {run.summary.get('status', 'error')} {value} in"
            f" {run.seconds:.1f} s{'' if run.error is None else ': ' + run.error[:160]}"
        )
        rows, product_features = run.rows, run.features
        if rows is not None:
            folds = peers_cv.product_folds(args.work / goal.id / "state", goal.id)
            entry["product_protocol"] = "holdout" if folds is None else "cross_validation"
        if set(reading.differs) & SAME_ROWS_FIELDS:
            # The product answered another question (target, task or entity): its rows are
            # not the goal's, so the peers are measured on the expected reading's rows.
            rows, product_features, folds = None, None, None
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
            if folds is not None and product_features is not None:
                # The product's metric is out-of-fold over every row: so are these.
                entry["peers_cv"] = peers_cv.cv_block(
                    goal,
                    warehouse,
                    rows,
                    folds,
                    {"product": product_features, "entity": features},
                    args.cv_peers,
                    cache,
                    args.cv_peer_seconds or args.peer_seconds,
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


def read_refusals(
    refusals: list[CorpusRefusal], data: Path, profiles: dict[Path, Any]
) -> dict[str, Any]:
    """Each objective that should be refused, read with no overrides: good when it is refused
    and the message names a word of every group the refusal asks for."""
    unused = Expected("regression", "t", "c", "t", "k", "rmse", 0.0)  # only the error counts
    out: dict[str, Any] = {}
    for ref in refusals:
        warehouse = data / f"{ref.set_key}.duckdb"
        goal = CorpusGoal(ref.id, ref.set_key, "refusal", ref.objective, unused, (), ref.origin)
        message = read_goal(goal, warehouse, _profile(warehouse, profiles)).error
        missing = list(ref.mention) if message is None else ref.missing(message)
        out[ref.id] = {
            "set": ref.set_key,
            "origin": ref.origin,
            "objective": ref.objective,
            "why": ref.why,
            "refused": message is not None,
            "good": message is not None and not missing,
            "missing": [list(group) for group in missing],
            "candidates_listed": [
                c for c in ref.candidates if c.lower() in (message or "").lower()
            ],
            "message": message,
        }
        say(f"{ref.id}: {'refused well' if out[ref.id]['good'] else 'NOT refused well'}")
    return out


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
        "read_correctly_by_origin": {
            origin: f"{sum(e['reading']['correct'] for e in entries if e['origin'] == origin)}"
            f"/{sum(e['origin'] == origin for e in entries)}"
            for origin in dict.fromkeys(e["origin"] for e in entries)
        },
        "misread_fields": fields,
        "verdicts": statuses,
        "product_wall_seconds_median": statistics.median(walls) if walls else None,
    }


def merged(document: dict[str, Any], results: Path, why: str) -> dict[str, Any]:
    """The run in ``results`` with ``document``'s goals (a rerun of some of them) in place of
    its own entries for them, its summary recomputed, and the rerun recorded (date, goals,
    why) so that a report says which figures come from which run."""
    if not results.exists():
        raise SystemExit(f"--merge: {results} does not exist; run the whole corpus first")
    if not why:
        raise SystemExit("--merge needs --why: say what changed since the full run")
    base = json.loads(results.read_text())
    fresh = {entry["id"]: entry for entry in document["goals"]}
    unknown = sorted(set(fresh) - {entry["id"] for entry in base["goals"]})
    if unknown:
        raise SystemExit(f"--merge: {', '.join(unknown)} are not in {results}")
    base["goals"] = [fresh.get(entry["id"], entry) for entry in base["goals"]]
    base["summary"] = summarise(base["goals"])
    base.setdefault("reruns", []).append(
        {
            "date": document["date"],
            "goals": sorted(fresh),
            "mode": document["mode"],
            "seconds": document["total_seconds"],
            "why": why,
        }
    )
    return base


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--sets", default="")
    parser.add_argument("--goals", default="")
    parser.add_argument("--peers-only", action="store_true")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument(
        "--reading-only",
        action="store_true",
        help="read every goal and refusal only: no product run, no peers",
    )
    parser.add_argument(
        "--origins",
        default="",
        help=f"comma-separated goal origins (default: all of {', '.join(ORIGINS)})",
    )
    parser.add_argument("--peer-seconds", type=int, default=peers.PEER_SECONDS)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--work", type=Path, default=WORK, help="where the product's runs go")
    parser.add_argument("--peer-cache", type=Path, default=peers.CACHE_FILE)
    parser.add_argument(
        "--cv-peers",
        type=lambda text: tuple(n for n in text.split(",") if n),
        default=peers_cv.CV_PEERS,
        help="peers refitted on the product's folds where it cross-validated",
    )
    parser.add_argument(
        "--cv-peer-seconds", type=int, default=0, help="a fold's budget (0: --peer-seconds)"
    )
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="replace only these goals' entries in --results (a rerun after a change),"
        " recording the rerun's date, goals and reason",
    )
    parser.add_argument("--why", default="", help="with --merge: why the goals were rerun")
    args = parser.parse_args(argv)
    manifest_path = args.data / "manifest.json"
    if not manifest_path.exists():
        parser.error(f"{manifest_path} is missing: python -m bench.corpus.load --out {args.data}")
    manifest = json.loads(manifest_path.read_text())
    sets = {s for s in args.sets.split(",") if s} or set(manifest["sets"])
    wanted = {g for g in args.goals.split(",") if g}
    goals = [g for g in load_goals(sets=sets) if not wanted or g.id in wanted]
    goals = [g for g in goals if g.set_key in manifest["sets"]]
    origins = {o for o in args.origins.split(",") if o}
    if origins - set(ORIGINS):
        parser.error(f"unknown origin(s) {sorted(origins - set(ORIGINS))}; known: {ORIGINS}")
    goals = [g for g in goals if not origins or g.origin in origins]
    started = time.perf_counter()
    cache = peers.PeerCache(args.peer_cache)
    profiles: dict[Path, Any] = {}
    entries = []
    for index, goal in enumerate(goals, 1):
        say(f"goal {index}/{len(goals)}: {goal.id} ({goal.set_key})")
        entries.append(run_goal_entry(goal, args.data, args, cache, profiles))
    mode = "reading only" if args.reading_only else "peers only" if args.peers_only else None
    mode = mode or "product and peers"
    document = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "mode": mode,
        "peer_seconds": args.peer_seconds,
        "total_seconds": round(time.perf_counter() - started, 1),
        "sets": manifest["sets"],
        "skipped_sets": manifest.get("skipped", {}),
        "summary": summarise(entries),
        "refusals": read_refusals(
            [
                r
                for r in load_refusals(sets=sets)
                if r.set_key in manifest["sets"]
                and (not origins or r.origin in origins)
                and (not wanted or r.id in wanted)
            ],
            args.data,
            profiles,
        ),
        "goals": entries,
    }
    if args.merge:
        document = merged(document, args.results, args.why)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(document, indent=1, sort_keys=True, default=str) + "\n")
    say(f"wrote {args.results}")
    if not args.no_docs and not args.reading_only:  # the docs show runs, not readings
        from bench.corpus.report import write_docs

        say(f"wrote {write_docs(document)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
