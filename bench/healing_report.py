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
    "false_alarms": 0,
    "silent_losses": 0,
    "leaks": 0,
    "raw_tables_changed": 0,
    "median_mttr_s": 60.0,  # on the example warehouse
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


def _ran(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cases that ran: applicable, whatever their outcome (crashes included)."""
    return [c for c in cases if not c.get("not_applicable")]


def summarise(cases: list[dict[str, Any]]) -> dict[str, Any]:
    ran = _ran(cases)
    faults = [c for c in ran if not c.get("benign")]
    benign = [c for c in ran if c.get("benign")]
    repairable = [c for c in faults if not c["must_refuse"]]
    refusable = [c for c in faults if c["must_refuse"]]
    repaired = [c for c in faults if c["repaired"] and c["mttr_s"] is not None]
    mttr = _spread([c["mttr_s"] for c in repaired])
    example_mttr = _spread([c["mttr_s"] for c in repaired if c.get("warehouse") == "example"])
    with_cause = [c for c in faults if c.get("expected_causes")]
    summary: dict[str, Any] = {
        "cases": len(cases),
        "not_applicable": len(cases) - len(ran),
        "errors": sum(1 for c in ran if c["error"]),
        "detected": _share(sum(1 for c in faults if c["detected"]), len(faults)),
        "repaired_all": _share(sum(1 for c in faults if c["repaired"]), len(faults)),
        "repaired_repairable": _share(sum(1 for c in repairable if c["repaired"]), len(repairable)),
        "repaired_with_loss": sum(1 for c in ran if c.get("repaired_with_loss")),
        "refused": sum(1 for c in faults if c["refused"]),
        "correct_refusals": _share(
            sum(1 for c in refusable if c["refused"] and not c["repaired"]), len(refusable)
        ),
        "false_repairs": sum(1 for c in ran if c["false_repair"]),
        "benign_cases": len(benign),
        "false_alarms": sum(1 for c in benign if c.get("false_alarm")),
        "silent_losses": sum(1 for c in ran if c.get("silent_loss")),
        "leaks": sum(1 for c in ran if c.get("leaks")),
        "raw_tables_changed": sum(c["raw_rows_changed"] or 0 for c in ran),
        "diagnosed_expected_cause": _share(
            sum(1 for c in with_cause if set(c["expected_causes"]) <= set(c["diagnosed_causes"])),
            len(with_cause),
        ),
        "mttr_s": mttr,
        "mttr_s_example": example_mttr,
    }
    counted = {k: summary[k] for k in ("false_repairs", "false_alarms", "silent_losses", "leaks")}
    summary["targets"] = {
        **TARGETS,
        "met": {
            "detected_share": summary["detected"]["share"] == TARGETS["detected_share"],
            "repaired_repairable_share": (summary["repaired_repairable"]["share"] or 0.0)
            >= TARGETS["repaired_repairable_share"],
            **{k: v == TARGETS[k] for k, v in counted.items()},
            "raw_tables_changed": summary["raw_tables_changed"] == TARGETS["raw_tables_changed"],
            "median_mttr_s": example_mttr["median"] is not None
            and example_mttr["median"] < TARGETS["median_mttr_s"],
        },
    }
    return summary


def headline(document: dict[str, Any]) -> str:
    s = document["summary"]
    return (
        f"detected {_pct(s['detected'])}, repaired {_pct(s['repaired_repairable'])} of the "
        f"repairable ({s['repaired_with_loss']} with a declared loss), refused {s['refused']}, "
        f"false repairs {s['false_repairs']}, false alarms {s['false_alarms']}/"
        f"{s['benign_cases']} benign, silent losses {s['silent_losses']}, leaks {s['leaks']}, "
        f"raw tables changed {s['raw_tables_changed']}, median MTTR on the example "
        f"{fmt_s(s['mttr_s_example']['median'])} s, crashed {s['errors']}"
    )


def by_fault(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Each (warehouse, fault), aggregated over its seeds."""
    out: dict[str, Any] = {}
    for key in dict.fromkeys((c.get("warehouse", "example"), c["fault"]) for c in cases):
        rows = [c for c in cases if (c.get("warehouse", "example"), c["fault"]) == key]
        ran = _ran(rows)
        causes = Counter(c["diagnosed_cause"] for c in ran if c["diagnosed_cause"])
        out[f"{key[0]}/{key[1]}"] = {
            "warehouse": key[0],
            "fault": key[1],
            "cases": len(ran),
            "not_applicable": rows[0]["not_applicable"] if not ran else None,
            "must_refuse": rows[0]["must_refuse"],
            "benign": rows[0].get("benign", False),
            "expected_cause": rows[0]["expected_cause"],
            "expected_causes": rows[0].get("expected_causes", []),
            "detected": sum(1 for c in ran if c["detected"]),
            "repaired": sum(1 for c in ran if c["repaired"]),
            "repaired_with_loss": sum(1 for c in ran if c.get("repaired_with_loss")),
            "refused": sum(1 for c in ran if c["refused"]),
            "errors": sum(1 for c in ran if c["error"]),
            "false_repairs": sum(1 for c in ran if c["false_repair"]),
            "false_alarms": sum(1 for c in ran if c.get("false_alarm")),
            "silent_losses": sum(1 for c in ran if c.get("silent_loss")),
            "leaks": sum(1 for c in ran if c.get("leaks")),
            "raw_tables_changed": sum(c["raw_rows_changed"] or 0 for c in ran),
            "mttr_s": _spread([c["mttr_s"] for c in ran if c["mttr_s"] is not None]),
            "metric_before_mean": _mean(
                [c["metric_before"] for c in ran if c["metric_before"] is not None]
            ),
            "metric_after_mean": _mean(
                [c["metric_after"] for c in ran if c["metric_after"] is not None]
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
    baselines: dict[str, dict[str, Any]],
    *,
    command: str,
    scale: str,
    seeds: dict[str, list[int]],
    warehouses: list[str],
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
            "warehouses": warehouses,
        },
        "total_seconds": seconds,
        "baselines": baselines,
        "summary": summarise(cases),
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
    mttr, example = s["mttr_s"], s["mttr_s_example"]
    cores = document["machine"]["cores"]
    scale = document["settings"]["scale"]
    mttr_cell = (
        f"{fmt_s(example['median'])} s (min {fmt_s(example['min'])}, p90 "
        f"{fmt_s(example['p90'])}, max {fmt_s(example['max'])}; {example['n']} repairs); "
        f"every warehouse {fmt_s(mttr['median'])} s ({mttr['n']} repairs)"
    )
    refusals = s["correct_refusals"]
    rows = [
        "| measure | result | target | |",
        "|---|---|---|---|",
        f"| faults detected | {_pct(s['detected'])} | 100% | {_met(met['detected_share'])} |",
        f"| repaired, repairable faults | {_pct(s['repaired_repairable'])} | ≥ 90% "
        f"| {_met(met['repaired_repairable_share'])} |",
        f"| of them repaired with a declared loss | {s['repaired_with_loss']} | — | |",
        f"| repaired, all faults | {_pct(s['repaired_all'])} | — | |",
        f"| correct refusals (faults that must be refused) | {_pct(refusals)} | all | "
        f"{_met(refusals['n'] == refusals['of']) if refusals['of'] else ''} |",
        f"| false repairs | {s['false_repairs']} | 0 | {_met(met['false_repairs'])} |",
        f"| false alarms on benign changes | {s['false_alarms']} of {s['benign_cases']} | 0 "
        f"| {_met(met['false_alarms'])} |",
        f"| silent losses | {s['silent_losses']} | 0 | {_met(met['silent_losses'])} |",
        f"| leaks in the live version | {s['leaks']} | 0 | {_met(met['leaks'])} |",
        f"| raw tables changed by the run and its repairs | {s['raw_tables_changed']} | 0 "
        f"| {_met(met['raw_tables_changed'])} |",
        f"| median MTTR, example warehouse | {mttr_cell} | < 60 s (`small`, 2 cores) "
        f"| {_met(met['median_mttr_s'])}"
        + ("" if scale == "small" and cores == 2 else f" (measured on `{scale}`, {cores} cores)")
        + " |",
        f"| expected causes among the diagnoses | {_pct(s['diagnosed_expected_cause'])} | — | |",
        f"| cases that crashed | {s['errors']} | 0 | |",
        f"| cases not applicable (no target in that warehouse) | {s['not_applicable']} | — | |",
    ]
    return "\n".join(rows) + "\n"


def _outcome(f: dict[str, Any]) -> str:
    n = f["cases"]
    if f["benign"]:
        text = f"benign: {n - f['false_alarms']}/{n} quiet"
    elif f["must_refuse"]:
        text = f"refused {f['refused']}/{n} (must refuse)"
        if f["repaired"]:
            text += f", **repaired {f['repaired']}/{n}**"
    else:
        text = f"repaired {f['repaired']}/{n}"
        if f["repaired_with_loss"]:
            text += f" ({f['repaired_with_loss']} with loss)"
        if f["refused"]:
            text += f", refused {f['refused']}/{n}"
    if f["errors"]:
        text += f", crashed {f['errors']}/{n}"
    return text


def fault_table(document: dict[str, Any]) -> str:
    rows = [
        "| warehouse | fault | expected cause | detected | outcome | MTTR s, median "
        "| metric before → after (mean) | diagnosed (first cause) | false repairs "
        "| false alarms | silent losses | leaks | raw tables changed |",
        "|---|---|---|--:|---|--:|---|---|--:|--:|--:|--:|--:|",
    ]
    for f in document["by_fault"].values():
        n = f["cases"]
        if not n:
            rows.append(
                f"| {f['warehouse']} | `{f['fault']}` | — | — | not applicable: "
                f"{f['not_applicable']} | | | | | | | | |"
            )
            continue
        mttr = f["mttr_s"]
        mttr_cell = "—" if mttr["median"] is None or f["benign"] else fmt_s(mttr["median"])
        detected = "—" if f["benign"] else f"{f['detected']}/{n}"
        causes = ", ".join(
            f"`{cause}`" + (f" ×{count}" if count != n else "")
            for cause, count in f["diagnosed_causes"].items()
        )
        expected = ", ".join(f"`{c}`" for c in f["expected_causes"]) or (
            "— (benign)" if f["benign"] else "— (any)"
        )
        rows.append(
            f"| {f['warehouse']} | `{f['fault']}` | {expected} | {detected} "
            f"| {_outcome(f)} | {mttr_cell} | {_metric(f['metric_before_mean'])} → "
            f"{_metric(f['metric_after_mean'])} | {causes or '—'} | {f['false_repairs']} "
            f"| {f['false_alarms']} | {f['silent_losses']} | {f['leaks']} "
            f"| {f['raw_tables_changed']} |"
        )
    return "\n".join(rows) + "\n"


def _baselines(document: dict[str, Any]) -> str:
    rows = ["| warehouse | goal | baseline | leaks in the baseline |", "|---|---|---|---|"]
    for key, b in document["baselines"].items():
        rows.append(
            f"| {key} | *{b['objective']}* | {b['metric']} {b['value']:.3f} on {b['cohort']} "
            f"(target {b['target']:.3f}, {b['status']}) | {len(b.get('leaks') or [])} |"
        )
    return "\n".join(rows) + "\n"


def render(document: dict[str, Any]) -> str:
    m = document["machine"]
    v = document["versions"]
    settings = document["settings"]
    seeds = settings["seeds"]
    command = settings.get("command") or "python -m bench.healing"
    parts = [
        f"## Self-healing: a fault suite on {len(settings['warehouses'])} warehouse(s)\n",
        "What is measured: whether the goal notices an upstream breakage, repairs it by "
        "writing and gating a new plan version (or, for a fault that cannot be repaired, "
        "refuses and keeps the last good version live), how long that takes, whether the raw "
        "data stays untouched, whether a benign change stays quiet, whether a repair loses "
        "sources or features without saying so, and whether the live version leaks. How: per "
        "warehouse, the goal is planned and materialised once with every data check green and "
        "warehouse and plan state are snapshotted; for each fault and seed the snapshot is "
        "restored at the same path, the fault applied, and the goal run as the headless runner "
        "runs it (`ensure_plan` → materialise the accepted version → on a failed data check, "
        "diagnose, write a repaired version and gate it), each case on a fresh Dagster "
        "instance. The example warehouse (`--scale "
        f"{settings['scale']}`, seed 7) gets its own faults (`example_churn.faults`, seeds "
        f"{', '.join(map(str, seeds['example']))}); the shop and telco warehouses get the "
        "generic faults (`bench.generic_faults`, seeds "
        f"{', '.join(map(str, seeds['generic']))}), whose targets are found by structure.\n",
        f"Run {document['date_utc']} on {m['cpu_model']}, {m['cores']} cores, "
        f"{m['ram_bytes'] / 2**30:.0f} GiB RAM ({m['platform']}); total "
        f"{document['total_seconds'] / 60:.1f} min. Python {v['python']}, dagster "
        f"{v['dagster']}, DuckDB {v['duckdb']}, dagster-agentic {v['dagster-agentic']}. "
        f"Command: `{command}`. This section is rewritten by `make bench-healing`; raw "
        "numbers, per case: `bench/results/healing.json`. The machine is shared, so timings "
        "are noisy.\n",
        "### The warehouses\n",
        _baselines(document),
        "### Against the targets\n",
        summary_table(document),
        "### Per warehouse and fault, over the seeds\n",
        fault_table(document),
        "*detected*: the run's data checks failed and healing started (for a new source, "
        "`ensure_plan` wrote a new version because the warehouse grew); benign changes are not "
        "faults and are counted apart. *repaired*: the run ended green on a new accepted "
        "version (the gate passed). *refused*: healing ended degraded and the accepted version "
        "is unchanged. *MTTR*: from the first failed data check of the run to the goal asset's "
        "materialisation by the accepted repair (both from Dagster's event log). *false "
        "repair*: a repair went live for a fault that must be refused, for a benign change, or "
        "with diagnoses that miss an expected cause. *false alarm*: after a benign change a "
        "data check failed, healing ran, the run failed or the goal metric fell beyond the "
        "goal's tolerance. *silent loss*: the version live after the case reads fewer source "
        "tables, or keeps less than 80% of the features, of the version live before, and the "
        "healing outcome did not declare a loss. *leak*: the live version after the case "
        "aggregates a child or path table with no time filter while the goal has a cutoff, or "
        "its leakage audit (`leakage.json`) reports leaks. *raw tables changed*: tables of "
        "schema `main` whose sha256 over all rows differs between just after the fault and "
        "after the run and its repairs.\n",
    ]
    return "\n".join(parts)


def write_docs(document: dict[str, Any], path: Path = DOCS) -> Path:
    return write_section(START, END, render(document), path)
