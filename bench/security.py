"""``make bench-security``: the guardrails against the SQL corpus and the Jinja injection channels.

Three measurements, each on real parts:

* **the SQL policy** against every statement of ``tests/fixtures/sql_policy`` (unsafe families,
  statements the product generated on four warehouses, Jinja held as data): blocked / total per
  family, false blocks, and the time one check takes. The peer, measured in the same run, is
  the policy as it was at ``--peer-rev`` (loaded from git), so the change is visible per family.
* **the cost guard**: every ``resource_abuse`` statement through the three layers an agent query
  passes (policy, EXPLAIN estimate, watched execution) on the example warehouse, with a
  wall-clock limit of ``--limit`` seconds: which layer refused it and the interrupt latency
  (elapsed minus the limit) of the ones the watchdog stopped, over ``--repeats`` runs.
* **the injection channels**: a copy of the example warehouse with Jinja payloads in a category
  value, a column name, a table name, comments, the objective and the cohort override
  (``tests/hostile.py``) is planned and run end to end (dbt build through Dagster): tables the
  payloads would have created, and rendered traces in what dbt wrote, per channel.

Writes ``bench/results/security.json`` and the bench-security section of docs/benchmarks.md.

    .venv/bin/python -m bench.security [--repeats 3] [--limit 1.0] [--peer-rev REV] [--no-docs]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.report import ROOT, machine, main_versions, write_section
from dagster_agentic.errors import GuardrailError

RESULTS = ROOT / "bench" / "results" / "security.json"
START, END = "<!-- bench-security:start -->", "<!-- bench-security:end -->"
PEER_REV = "53a66f6"
"""The last revision before the scope-correct policy: the peer the corpus is measured against."""
COST_FAMILY = "resource_abuse"


def say(message: str) -> None:
    print(f"[bench-security {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def load_peer(rev: str) -> ModuleType | None:
    """The SQL policy module as it was at ``rev`` (None where git cannot show it)."""
    try:
        source = subprocess.run(
            ["git", "show", f"{rev}:dagster_agentic/guardrails/sql_policy.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = Path(tempfile.mkdtemp()) / "peer_sql_policy.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("peer_sql_policy", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _verdict(check: Any, sql: str, allowed: tuple[str, ...]) -> tuple[bool, str | None]:
    try:
        check(sql, allowed_tables=allowed, label="bench")
    except GuardrailError as error:
        return True, getattr(error, "rule", None)
    except Exception as error:  # a policy that crashes on a statement has not refused it
        return False, f"crash: {type(error).__name__}"
    return False, None


def policy_corpus(peer: ModuleType | None, repeats: int) -> dict[str, Any]:
    from dagster_agentic.guardrails.sql_policy import check_select
    from tests.sql_corpus import CORPUS, UNSAFE_ALLOWED, load_corpus, load_file

    statements = load_corpus()
    data = load_file(CORPUS / "jinja_as_data.sql", "safe")
    families: dict[str, dict[str, Any]] = defaultdict(lambda: Counter())
    rules: dict[str, Counter[str]] = defaultdict(Counter)
    for kind, family, sql, allowed in [
        *((s.kind, s.family, s.sql, s.allowed or UNSAFE_ALLOWED) for s in statements),
        *(("data", "jinja_as_data", s.sql, UNSAFE_ALLOWED) for s in data),
    ]:
        key = f"{kind}/{family}"
        row = families[key]
        row["total"] += 1
        blocked, rule = _verdict(check_select, sql, allowed)
        row["blocked"] += blocked
        if blocked and rule:
            rules[key][rule] += 1
        if peer is not None:
            peer_blocked, _ = _verdict(peer.check_select, sql, allowed)
            row["peer_blocked"] += peer_blocked
    # What checking costs where it matters: statements the product generates pass every layer.
    safe = [s for s in statements if s.kind == "safe"]
    timings = _check_ms(check_select, safe, repeats)
    peer_timings = _check_ms(peer.check_select, safe, repeats) if peer is not None else None
    return {
        "families": {k: {**dict(v), "rules": dict(rules[k])} for k, v in sorted(families.items())},
        "check_ms": _spread(timings),
        "peer_check_ms": _spread(peer_timings) if peer_timings else None,
        "check_ratio": _spread([a / b for a, b in zip(timings, peer_timings, strict=True)])
        if peer_timings
        else None,
        "peer": PEER_REV if peer is not None else None,
    }


def _check_ms(check: Any, statements: list[Any], repeats: int) -> list[float]:
    """Per statement, the median time of one check over ``repeats`` runs (ms)."""
    medians = []
    for statement in statements:
        runs = []
        for _ in range(repeats):
            started = time.perf_counter()
            _verdict(check, statement.sql, statement.allowed)
            runs.append((time.perf_counter() - started) * 1e3)
        medians.append(statistics.median(runs))
    return medians


def cost_guard(warehouse: Path, limit: float, repeats: int) -> dict[str, Any]:
    from dagster_agentic.guardrails.cost import QueryLimits, check_cost
    from dagster_agentic.guardrails.sql_policy import check_select
    from dagster_agentic.warehouse.connection import Warehouse
    from tests.sql_corpus import UNSAFE_ALLOWED, load_corpus

    guarded = Warehouse(
        warehouse, limits=QueryLimits(max_seconds=limit, max_rows=10**9, memory_mb=1024)
    )
    cases = []
    for statement in (s for s in load_corpus() if s.family == COST_FAMILY):
        outcomes, elapsed = [], []
        for _ in range(repeats):
            started = time.monotonic()
            try:
                check_select(statement.sql, allowed_tables=UNSAFE_ALLOWED, label="bench")
                with guarded.connect() as conn:
                    check_cost(conn, statement.sql, guarded.limits, label="bench")
                    conn.execute(statement.sql).fetchall()
                outcomes.append("ran")
            except GuardrailError as error:
                outcomes.append(error.rule)
            elapsed.append(time.monotonic() - started)
        cases.append(
            {
                "sql": statement.sql,
                "outcome": Counter(outcomes).most_common(1)[0][0],
                "seconds": _spread(elapsed),
            }
        )
    return {
        "limit_seconds": limit,
        "repeats": repeats,
        "total": len(cases),
        "refused_or_interrupted": sum(c["outcome"] != "ran" for c in cases),
        "by_layer": dict(Counter(c["outcome"] for c in cases)),
        "worst_seconds": max(c["seconds"]["max"] for c in cases),
        "cases": cases,
        "watchdog": watchdog(warehouse, limit, repeats),
    }


WATCHDOG_PROBES = (
    "SELECT count(*) FROM events AS a JOIN events AS b ON a.event_id % 7 < b.event_id % 5",
    "SELECT count(*) FROM events AS a JOIN events AS b ON a.duration_seconds < b.duration_seconds",
    "SELECT count(DISTINCT a.event_id * 100000 + b.event_id) FROM events AS a JOIN events AS b"
    " ON a.customer_id <> b.customer_id",
    "SELECT sum(a.duration_seconds * b.duration_seconds) FROM events AS a JOIN events AS b"
    " ON a.event_type <> b.event_type",
)
"""Queries the SQL policy accepts and that run for minutes: the watchdog is what stops them
(the row budget is lifted so the estimate does not refuse them first)."""


def watchdog(warehouse: Path, limit: float, repeats: int) -> dict[str, Any]:
    """Interrupt latency: elapsed minus the limit, for queries only the watchdog stops."""
    from dagster_agentic.guardrails.cost import QueryLimits
    from dagster_agentic.warehouse.connection import Warehouse

    guarded = Warehouse(warehouse, limits=QueryLimits(max_seconds=limit, max_rows=10**18))
    latencies, outcomes = [], []
    for sql in WATCHDOG_PROBES:
        for _ in range(repeats):
            with guarded.connect() as conn:
                started = time.monotonic()
                try:
                    conn.execute(sql).fetchall()
                    outcomes.append("ran")
                except GuardrailError as error:
                    outcomes.append(error.rule)
                    if error.rule == "timeout":
                        latencies.append(time.monotonic() - started - limit)
                assert conn.execute("SELECT 1").fetchone() == (1,)  # still usable
    return {
        "probes": list(WATCHDOG_PROBES),
        "outcomes": dict(Counter(outcomes)),
        "interrupt_latency_seconds": _spread(latencies),
    }


def injection(pristine: Path, workdir: Path) -> dict[str, Any]:
    import dagster as dg

    from dagster_agentic.plan.store import PlanStore
    from dagster_agentic.runner import run_goal
    from tests.hostile import (
        CANARY,
        CANARY_VARIABLE,
        WAREHOUSE_CHANNELS,
        hostile_goal,
        planted_tables,
        rendered_traces,
    )

    os.environ[CANARY_VARIABLE] = CANARY
    goal = hostile_goal(pristine, workdir / "hostile.duckdb")
    started = time.monotonic()
    with dg.instance_for_test() as instance:
        summary = run_goal(goal, instance=instance, heal=False)
    bundle = PlanStore(goal.resolved_state_dir, goal.name).load_accepted()
    assert bundle is not None
    texts = "\n".join(
        p.read_text(errors="replace") for p in bundle.dbt_dir.rglob("*") if p.is_file()
    )
    planted = planted_tables(goal.warehouse)
    channels = {
        channel: {
            "planted_tables": [t for t in planted if f"pw_{channel}_" in t],
            "rendered": rendered_traces(texts),
        }
        for channel in WAREHOUSE_CHANNELS
    }
    return {
        "run_succeeded": summary.failed_step is None,
        "assets_built": len(summary.assets),
        "seconds": time.monotonic() - started,
        "channels": channels,
        "blocked": sum(not c["planted_tables"] and not c["rendered"] for c in channels.values()),
        "total": len(channels),
    }


def render(document: dict[str, Any]) -> str:
    policy, cost, inject = document["policy"], document["cost_guard"], document["injection"]
    m = document["machine"]
    lines = [
        "## Security: the SQL policy, the cost guard and the Jinja channels",
        "",
        "What is measured: how much of the attack corpus (`tests/fixtures/sql_policy`) each layer"
        " stops, how many statements the product itself generates it refuses by mistake, how fast"
        " the watchdog stops a query past its limit, and whether Jinja payloads placed in the"
        " warehouse and the goal run when dbt builds. Threat model and defences:"
        " [security.md](security.md).",
        "",
        f"Run {document['date_utc']} on {m['cpu_model']}, {m['cores']} cores"
        f" ({m['platform']}); total {document['total_seconds']:.0f} s. Command:"
        " `python -m bench.security` (`make bench-security`); raw numbers:"
        " `bench/results/security.json`.",
        "",
        "### The SQL policy against the corpus",
        "",
        f"Peer, measured in the same run: the policy at `{policy['peer']}` (before this one)."
        " Unsafe statements: blocked / total (higher is better). Product-generated statements and"
        " Jinja held as data: blocked / total are false blocks (lower is better).",
        "",
        "| family | statements | blocked | blocked by the peer | rules |",
        "| --- | --- | --- | --- | --- |",
    ]
    for key, row in policy["families"].items():
        rules = ", ".join(f"{r} {n}" for r, n in sorted(row["rules"].items()))
        peer = row.get("peer_blocked", "n/a")
        lines.append(f"| {key} | {row['total']} | {row['blocked']} | {peer} | {rules} |")
    t, peer_t, ratio = policy["check_ms"], policy["peer_check_ms"], policy["check_ratio"]
    generated = sum(r["total"] for k, r in policy["families"].items() if k.startswith("safe/"))
    timing = (
        f"Checking a statement the product generates (every layer runs) takes {t['median']:.2f}"
        f" ms (median over the {generated} statements; min {t['min']:.2f}, max {t['max']:.2f})"
    )
    if peer_t and ratio:
        timing += (
            f", against {peer_t['median']:.2f} ms for the peer: {ratio['median']:.1f}x"
            f" (per statement, min {ratio['min']:.1f}x, max {ratio['max']:.1f}x), the price of"
            " scope analysis and DuckDB's second parse"
        )
    lines += [
        "",
        timing + ". `resource_abuse` is the cost guard's family: the policy blocks part of it,"
        " the rest is below.",
        "",
        "### The cost guard",
        "",
        f"Every `resource_abuse` statement through policy, EXPLAIN estimate and watched execution,"
        f" limit {cost['limit_seconds']:g} s per query, {cost['repeats']} runs each:"
        f" {cost['refused_or_interrupted']} of {cost['total']} refused or interrupted"
        f" (by layer: {', '.join(f'{k} {v}' for k, v in sorted(cost['by_layer'].items()))});"
        f" the slowest case ended after {cost['worst_seconds']:.2f} s.",
    ]
    dog = cost["watchdog"]
    latency = dog["interrupt_latency_seconds"]
    lines += [
        "",
        f"The watchdog alone, on {len(dog['probes'])} queries the policy accepts and that run"
        f" for minutes (the row budget lifted so the estimate does not refuse them first),"
        f" {cost['repeats']} runs each: outcomes"
        f" {', '.join(f'{k} {v}' for k, v in sorted(dog['outcomes'].items()))}; interrupt"
        f" latency (elapsed minus the {cost['limit_seconds']:g} s limit) median"
        f" {latency['median'] * 1e3:.0f} ms, min {latency['min'] * 1e3:.0f} ms, max"
        f" {latency['max'] * 1e3:.0f} ms; the connection answered a query after each.",
    ]
    lines += [
        "",
        "### Jinja injection channels",
        "",
        f"Run end to end (planning, dbt build through Dagster, training):"
        f" {'succeeded' if inject['run_succeeded'] else 'FAILED'} in {inject['seconds']:.0f} s,"
        f" {inject['assets_built']} assets. Channels blocked: {inject['blocked']} of"
        f" {inject['total']} (a channel is blocked when no payload created its table and no"
        " rendered value appears in what dbt wrote).",
        "",
        "| channel | tables planted | rendered traces |",
        "| --- | --- | --- |",
    ]
    for channel, row in inject["channels"].items():
        lines.append(
            f"| {channel} | {len(row['planted_tables'])} | {', '.join(row['rendered']) or 0} |"
        )
    lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.security", description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=float, default=1.0)
    parser.add_argument("--peer-rev", default=PEER_REV)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "data" / "security")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))  # the corpus and the hostile warehouse live under tests/
    from example_churn.warehouse import generate_warehouse

    started = time.monotonic()
    args.workdir.mkdir(parents=True, exist_ok=True)
    pristine = args.workdir / "pristine.duckdb"
    pristine.unlink(missing_ok=True)
    generate_warehouse(pristine, scale="tiny", seed=7)
    say("policy against the corpus")
    policy = policy_corpus(load_peer(args.peer_rev), args.repeats)
    say("cost guard")
    cost = cost_guard(pristine, args.limit, args.repeats)
    say("injection channels (one end-to-end run)")
    with tempfile.TemporaryDirectory(dir=args.workdir) as work:
        inject = injection(pristine, Path(work))
    document = {
        "benchmark": "bench-security",
        "date_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "machine": machine(),
        "versions": main_versions(),
        "total_seconds": time.monotonic() - started,
        "policy": policy,
        "cost_guard": cost,
        "injection": inject,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2) + "\n")
    say(f"wrote {args.output}")
    if not args.no_docs:
        say(f"wrote {write_section(START, END, render(document))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
