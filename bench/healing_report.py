"""Results of ``make bench-healing``: the JSON document and the docs section rendered from it.

The docs section lives between its own two markers in docs/benchmarks.md; only that region is
rewritten, so other benchmarks' sections sit beside it.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import platform
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from bench.report import DOCS, machine, write_section

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "healing.json"
START, END = "<!-- bench-healing:start -->", "<!-- bench-healing:end -->"

TARGETS: dict[str, Any] = {
    "detected_share": 1.0,
    "repaired_repairable_share": 0.9,
    "false_repairs": 0,
    "raw_tables_changed": 0,
    "median_mttr_s": 60.0,
}


# --- the JSON document -------------------------------------------------------------------


def _share(n: int, of: int) -> dict[str, Any]:
    return {"n": n, "of": of, "share": n / of if of else None}


def _spread(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0, "median": None, "min": None, "max": None, "p90": None}
    p90 = (
        statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else values[0]
    )
    return {
        "n": len(values),
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "p90": p90,
    }


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def summarise(cases: list[dict[str, Any]], baseline_value: float) -> dict[str, Any]:
    repairable = [c for c in cases if not c["must_refuse"]]
    refusable = [c for c in cases if c["must_refuse"]]
    mttr = _spread([c["mttr_s"] for c in cases if c["repaired"] and c["mttr_s"] is not None])
    summary: dict[str, Any] = {
        "cases": len(cases),
        "errors": sum(1 for c in cases if c["error"]),
        "detected": _share(sum(1 for c in cases if c["detected"]), len(cases)),
        "repaired_all": _share(sum(1 for c in cases if c["repaired"]), len(cases)),
        "repaired_repairable": _share(sum(1 for c in repairable if c["repaired"]), len(repairable)),
        "correct_refusals": _share(
            sum(1 for c in refusable if c["refused"] and not c["repaired"]), len(refusable)
        ),
        "false_repairs": sum(1 for c in cases if c["false_repair"]),
        "raw_tables_changed": sum(c["raw_rows_changed"] or 0 for c in cases),
        "diagnosed_expected_cause": _share(
            sum(
                1
                for c in cases
                if c["expected_cause"] is not None and c["expected_cause"] in c["diagnosed_causes"]
            ),
            sum(1 for c in cases if c["expected_cause"] is not None),
        ),
        "mttr_s": mttr,
        "baseline_metric": baseline_value,
    }
    summary["targets"] = {
        **TARGETS,
        "met": {
            "detected_share": summary["detected"]["share"] == TARGETS["detected_share"],
            "repaired_repairable_share": (summary["repaired_repairable"]["share"] or 0.0)
            >= TARGETS["repaired_repairable_share"],
            "false_repairs": summary["false_repairs"] == TARGETS["false_repairs"],
            "raw_tables_changed": summary["raw_tables_changed"] == TARGETS["raw_tables_changed"],
            "median_mttr_s": mttr["median"] is not None
            and mttr["median"] < TARGETS["median_mttr_s"],
        },
    }
    return summary


def by_fault(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Each fault type, aggregated over its seeds."""
    out: dict[str, Any] = {}
    for fault in dict.fromkeys(c["fault"] for c in cases):
        rows = [c for c in cases if c["fault"] == fault]
        causes = Counter(c["diagnosed_cause"] for c in rows if c["diagnosed_cause"])
        out[fault] = {
            "cases": len(rows),
            "must_refuse": rows[0]["must_refuse"],
            "expected_cause": rows[0]["expected_cause"],
            "detected": sum(1 for c in rows if c["detected"]),
            "repaired": sum(1 for c in rows if c["repaired"]),
            "refused": sum(1 for c in rows if c["refused"]),
            "errors": sum(1 for c in rows if c["error"]),
            "false_repairs": sum(1 for c in rows if c["false_repair"]),
            "raw_tables_changed": sum(c["raw_rows_changed"] or 0 for c in rows),
            "mttr_s": _spread([c["mttr_s"] for c in rows if c["mttr_s"] is not None]),
            "metric_before_mean": _mean(
                [c["metric_before"] for c in rows if c["metric_before"] is not None]
            ),
            "metric_after_mean": _mean(
                [c["metric_after"] for c in rows if c["metric_after"] is not None]
            ),
            "diagnosed_causes": dict(causes),
        }
    return out


def versions() -> dict[str, str]:
    names = ("dagster-agentic", "dagster", "duckdb", "dbt-core", "dbt-duckdb")
    found = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    found["python"] = platform.python_version()
    return found


def build(
    cases: list[dict[str, Any]],
    baseline: dict[str, Any],
    *,
    command: str,
    scale: str,
    seeds: list[int],
    faults: list[str],
    expected: dict[str, str | None],
    must_refuse: list[str],
    seconds: float,
) -> dict[str, Any]:
    return {
        "benchmark": "bench-healing",
        "date_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "machine": machine(),
        "versions": versions(),
        "settings": {
            "command": command,
            "scale": scale,
            "seeds": seeds,
            "faults": faults,
            "expected_causes": {f: expected.get(f) for f in faults},
            "must_refuse": must_refuse,
        },
        "total_seconds": seconds,
        "baseline": baseline,
        "summary": summarise(cases, float(baseline["value"])),
        "by_fault": by_fault(cases),
        "cases": cases,
    }


def read_json(path: Path = RESULTS) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def write_json(document: dict[str, Any], path: Path = RESULTS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path


# --- the docs section --------------------------------------------------------------------


def fmt_s(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _metric(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _pct(share: dict[str, Any]) -> str:
    if share["share"] is None:
        return "—"
    return f"{share['share']:.0%} ({share['n']}/{share['of']})"


def _met(flag: bool) -> str:
    return "met" if flag else "**not met**"


def summary_table(document: dict[str, Any]) -> str:
    s = document["summary"]
    met = s["targets"]["met"]
    mttr = s["mttr_s"]
    cores = document["machine"]["cores"]
    scale = document["settings"]["scale"]
    mttr_cell = (
        f"{fmt_s(mttr['median'])} s (min {fmt_s(mttr['min'])}, p90 {fmt_s(mttr['p90'])}, "
        f"max {fmt_s(mttr['max'])}; {mttr['n']} repairs)"
    )
    refusals = s["correct_refusals"]
    rows = [
        "| measure | result | target | |",
        "|---|---|---|---|",
        f"| faults detected | {_pct(s['detected'])} | 100% | {_met(met['detected_share'])} |",
        f"| repaired, repairable faults | {_pct(s['repaired_repairable'])} | ≥ 90% "
        f"| {_met(met['repaired_repairable_share'])} |",
        f"| repaired, all faults | {_pct(s['repaired_all'])} | — | |",
        f"| correct refusals (volume_drop, stale_data) | {_pct(refusals)} | all | "
        f"{_met(refusals['n'] == refusals['of']) if refusals['of'] else ''} |",
        f"| false repairs | {s['false_repairs']} | 0 | {_met(met['false_repairs'])} |",
        f"| raw tables changed by the run and its repairs | {s['raw_tables_changed']} | 0 "
        f"| {_met(met['raw_tables_changed'])} |",
        f"| median MTTR | {mttr_cell} | < 60 s (`small`, 2 cores) "
        f"| {_met(met['median_mttr_s'])}"
        + ("" if scale == "small" and cores == 2 else f" (measured on `{scale}`, {cores} cores)")
        + " |",
        f"| expected cause among the diagnoses | {_pct(s['diagnosed_expected_cause'])} | — | |",
        f"| cases that crashed | {s['errors']} | 0 | |",
    ]
    return "\n".join(rows) + "\n"


def fault_table(document: dict[str, Any]) -> str:
    metric = document["baseline"]["metric"]
    rows = [
        f"| fault | expected cause | detected | repaired / refused | MTTR s, median (min–max) "
        f"| {metric} before → after (mean) | diagnosed (first cause) | false repairs "
        "| raw tables changed |",
        "|---|---|--:|---|--:|---|---|--:|--:|",
    ]
    for fault, f in document["by_fault"].items():
        n = f["cases"]
        if f["must_refuse"]:
            outcome = f"refused {f['refused']}/{n} (must refuse)"
            if f["repaired"]:
                outcome += f", **repaired {f['repaired']}/{n}**"
        else:
            outcome = f"repaired {f['repaired']}/{n}"
            if f["refused"]:
                outcome += f", refused {f['refused']}/{n}"
        if f["errors"]:
            outcome += f", crashed {f['errors']}/{n}"
        mttr = f["mttr_s"]
        mttr_cell = (
            "—"
            if mttr["median"] is None
            else f"{fmt_s(mttr['median'])} ({fmt_s(mttr['min'])}–{fmt_s(mttr['max'])})"
        )
        causes = ", ".join(
            f"`{cause}`" + (f" ×{count}" if count != n else "")
            for cause, count in f["diagnosed_causes"].items()
        )
        if not causes:
            causes = "replanned: warehouse grew" if fault == "new_table" else "—"
        expected = f"`{f['expected_cause']}`" if f["expected_cause"] else "— (new source)"
        rows.append(
            f"| `{fault}` | {expected} | {f['detected']}/{n} | {outcome} | {mttr_cell} "
            f"| {_metric(f['metric_before_mean'])} → {_metric(f['metric_after_mean'])} "
            f"| {causes} | {f['false_repairs']} | {f['raw_tables_changed']} |"
        )
    return "\n".join(rows) + "\n"


def render(document: dict[str, Any]) -> str:
    m = document["machine"]
    v = document["versions"]
    settings = document["settings"]
    baseline = document["baseline"]
    seeds = ", ".join(str(s) for s in settings["seeds"])
    command = settings.get("command") or f"python -m bench.healing --scale {settings['scale']}"
    n_faults = len(settings["faults"])
    parts = [
        "## Self-healing: every fault of the example warehouse\n",
        "What is measured: whether the goal notices an upstream breakage, repairs it by "
        "writing and gating a new plan version (or, for a partial load or a stale feed, "
        "refuses and keeps the last good version live), how long that takes and whether the raw "
        "data stays untouched. How: the example warehouse "
        f"(`--scale {settings['scale']}`, seed 7) is generated and the goal "
        f"*{baseline['objective']}* is planned and materialised once with every data check "
        f"green ({baseline['metric']} {baseline['value']:.3f} on {baseline['cohort']}; target "
        f"{baseline['target']:.3f}, goal {baseline['status']}); warehouse and plan state are "
        f"snapshotted. For each of "
        f"{n_faults} fault types (`example_churn.faults`) × seeds {seeds}, the snapshot is "
        "restored at the same path, the fault applied, and the goal run as the headless runner "
        "runs it (`ensure_plan` → materialise the accepted version → on a failed data check, "
        "diagnose, write a repaired version and gate it), each case on a fresh Dagster "
        "instance.\n",
        f"Run {document['date_utc']} on {m['cpu_model']}, {m['cores']} cores, "
        f"{m['ram_bytes'] / 2**30:.0f} GiB RAM ({m['platform']}); total "
        f"{document['total_seconds'] / 60:.1f} min. Python {v['python']}, dagster "
        f"{v['dagster']}, DuckDB {v['duckdb']}, dagster-agentic {v['dagster-agentic']}. "
        f"Command: `{command}`. This section is rewritten by `make bench-healing` (`.venv/bin/"
        "python -m bench.healing --scale small`); raw numbers, per case: "
        "`bench/results/healing.json`. The machine is shared, so timings are noisy.\n",
        "### Against the targets\n",
        summary_table(document),
        "### Per fault type, over the seeds\n",
        fault_table(document),
        "*detected*: the run's data checks failed and healing started; for `new_table` no "
        "check fails, and detection is `ensure_plan` writing a new version because the "
        "warehouse grew. *repaired*: the run ended green on a new accepted version (the gate "
        "passed: every data check green, the goal metric within the tolerance of the last "
        "good one); for `new_table`, the new version's run passed every data check. *refused*: "
        "healing ended degraded and the accepted version is unchanged. *MTTR*: from the first "
        "failed data check of the run to the goal asset's materialisation by the accepted "
        "repair (both from Dagster's event log); for `new_table`, from the new version's "
        "creation (stamped once it is written, so profiling and planning, `plan_seconds` in the "
        "JSON, are not in it) to its goal materialisation. *before → after*: the goal metric of "
        "the healthy baseline and of the repaired run (mean over the seeds that were repaired). "
        "*false repair*: a repair went live for a fault that must be refused, or with "
        "diagnoses that do not include the expected cause. *raw tables changed*: tables of "
        "schema `main` whose sha256 over all rows (ordered by all columns) differs between "
        "just after the fault and after the run and its repairs.\n",
    ]
    return "\n".join(parts)


def write_docs(document: dict[str, Any], path: Path = DOCS) -> Path:
    return write_section(START, END, render(document), path)
