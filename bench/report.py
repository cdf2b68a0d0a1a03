"""Results of ``make bench-features``: the JSON document and the docs section rendered from it.

The docs section lives between two markers in docs/benchmarks.md; only that region is
rewritten, so other benchmarks' sections can sit beside it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import re
from pathlib import Path
from typing import Any

from bench.datasets import (
    MOCK_CUTOFF,
    MOCK_LABEL_SEED,
    MOCK_SEED,
    MOCK_SIZE,
    ROOT,
    Dataset,
)
from bench.learner import LEARNER_MAX_SECONDS, LEARNER_PARAMS

RESULTS = ROOT / "bench" / "results" / "features.json"
DOCS = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench-features:start -->", "<!-- bench-features:end -->"
DOCS_HEADER = (
    "# Benchmarks\n\n"
    "Reproducible benchmarks of dagster-agentic against other tools. Run one with its make "
    "target from a fresh clone, e.g. `make bench-features`: each target depends on `make "
    "install`, builds whatever else it needs (data, other tools' virtual environments), writes "
    "its raw results to `bench/results/` and rewrites its own section below with the numbers "
    "of that run.\n"
)

# The planted rule of the mock data set, term by term: how each side could express it.
# (term, regex over the agent's feature columns, DFS feature name or None)
RULE_TERMS: tuple[tuple[str, str, str | None], ...] = (
    (
        "1.0 × z(mean transaction amount), depth 2",
        r"^transactions.*__avg_amount$",
        "MEAN(transactions.amount)",
    ),
    ("0.8 × z(number of sessions), depth 1", r"^sessions__n_rows$", "COUNT(sessions)"),
    ("0.8 × z(share of mobile sessions), depth 1", r"^sessions__share_device_mobile$", None),
    ("0.6 × [zip_code = '60091'], depth 0", r"^customers__zip_code$", "zip_code"),
)


# --- the JSON document -------------------------------------------------------------------


def dataset_result(
    dataset: Dataset,
    generated: dict[str, Any],
    agent: dict[str, Any],
    dfs: dict[str, Any] | None,
    pulled: dict[str, Any],
    models: dict[str, Any],
) -> dict[str, Any]:
    raw = int(pulled["pandas_bytes"])
    agent_bytes = int(agent["egress"]["bytes"])
    speedup = None
    agent_total = agent["plan_seconds"] + agent["features_seconds"]["median"]
    dfs_total = None
    if dfs is not None:
        speedup = dfs["features_seconds"]["median"] / agent["features_seconds"]["median"]
        dfs_total = dfs["pull_seconds"]["median"] + dfs["features_seconds"]["median"]
    return {
        "title": dataset.title,
        "warehouse": str(dataset.source.relative_to(ROOT)),
        "generation": generated,
        "rows_by_table": pulled.get("rows_by_table"),
        "agent": agent,
        "dfs": dfs,
        "raw_pull": None if dfs is not None else pulled,
        "speedup_dfs_over_agent": speedup,
        # Planning included: plan + features against pull + DFS (medians).
        "end_to_end_seconds": {"agent": agent_total, "dfs": dfs_total},
        "egress": {
            "agent_bytes": agent_bytes,
            "raw_pandas_bytes": raw,
            "share": agent_bytes / raw if raw else None,
        },
        "lightgbm": models,
    }


def machine() -> dict[str, Any]:
    cpu = "unknown"
    ram = None
    with Path("/proc/cpuinfo").open() as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with Path("/proc/meminfo").open() as handle:
        for line in handle:
            if line.startswith("MemTotal"):
                ram = int(line.split()[1]) * 1024
                break
    return {
        "platform": platform.platform(),
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "ram_bytes": ram,
        "load_average_at_end": list(os.getloadavg()),
    }


def main_versions() -> dict[str, str]:
    names = ("dagster-agentic", "duckdb", "pandas", "lightgbm", "dbt-core", "dbt-duckdb")
    found = {name: importlib.metadata.version(name) for name in names}
    found["python"] = platform.python_version()
    return found


def build(results: dict[str, Any], args: argparse.Namespace, seconds: float) -> dict[str, Any]:
    ft_versions = next(
        (r["dfs"]["versions"] for r in results.values() if r["dfs"] is not None), None
    )
    return {
        "benchmark": "bench-features",
        "date_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "machine": machine(),
        "versions": {"main": main_versions(), "featuretools_venv": ft_versions},
        "settings": {
            "repeats": args.repeats,
            "lightgbm_seeds": list(range(args.seeds)),
            "lightgbm": {
                "learner": "dagster_agentic LightGBMLearner",
                "params": LEARNER_PARAMS,
                "max_seconds": LEARNER_MAX_SECONDS,
            },
            "dfs": {"max_depth": 2, "primitives": "featuretools defaults", "n_jobs": 1},
            "mock_customer": {
                **MOCK_SIZE,
                "random_seed": MOCK_SEED,
                "cutoff": MOCK_CUTOFF,
                "label_seed": MOCK_LABEL_SEED,
            },
        },
        "total_seconds": seconds,
        "datasets": results,
    }


def read_json() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(RESULTS.read_text())
    return document


def write_json(document: dict[str, Any]) -> Path:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    return RESULTS


# --- the docs section --------------------------------------------------------------------


def _s(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _timing(spread: dict[str, Any] | None) -> str:
    if spread is None:
        return "not run"
    if len(spread["runs"]) == 1:
        return f"{_s(spread['median'])} (1 run)"
    return f"{_s(spread['median'])} ({_s(spread['min'])}–{_s(spread['max'])})"


def _auc(model: dict[str, Any] | None) -> str:
    if not model:
        return "—"
    return f"{model['test_auc_mean']:.3f} ± {model['test_auc_std']:.3f}"


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def results_table(datasets: dict[str, Any]) -> str:
    header = (
        "| data set | labelled rows | agent plan s | agent features s, median (range) "
        "| dbt build s | DFS pull s | DFS features s, median (range) | speedup DFS/agent "
        "| end to end s, agent / DFS | agent test AUC | DFS test AUC | features agent / DFS "
        "| egress / raw pandas / share |\n"
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n"
    )
    rows = []
    for key, r in datasets.items():
        agent, dfs, egress = r["agent"], r["dfs"], r["egress"]
        models = r["lightgbm"]
        dbt = agent["dbt_build"]
        dbt_cell = _s(dbt["seconds"]) + ("" if dbt["ok"] else " (failed)")
        speed = f"{r['speedup_dfs_over_agent']:.1f}×" if r["speedup_dfs_over_agent"] else "—"
        pull = (
            dfs["pull_seconds"]
            if dfs
            else r["raw_pull"]
            and {
                "median": r["raw_pull"]["pull_seconds"],
                "min": r["raw_pull"]["pull_seconds"],
                "max": r["raw_pull"]["pull_seconds"],
            }
        )
        screened = (agent.get("screening") or {}).get("candidates")
        of = f" of {screened}" if screened else ""
        counts = f"{agent['n_features']}{of} / {dfs['n_features'] if dfs else '—'}"
        share = f"{egress['share']:.1%}" if egress["share"] is not None else "—"
        ends = r["end_to_end_seconds"]
        end_cell = f"{_s(ends['agent'])} / {_s(ends['dfs']) if ends['dfs'] else '—'}"
        rows.append(
            f"| {key} | {agent['labelled_rows']:,} | {_s(agent['plan_seconds'])} "
            f"| {_timing(agent['features_seconds'])} | {dbt_cell} | {_s(pull['median'])} "
            f"| {_timing(dfs['features_seconds'] if dfs else None)} | {speed} | {end_cell} "
            f"| {_auc(models.get('agent'))} | {_auc(models.get('dfs'))} | {counts} "
            f"| {_mb(egress['agent_bytes'])} / {_mb(egress['raw_pandas_bytes'])} / {share} |"
        )
    return header + "\n".join(rows) + "\n"


def rule_table(mock: dict[str, Any]) -> str:
    agent_columns = mock["agent"]["feature_columns"]
    dfs_names = set(mock["dfs"]["feature_names"]) if mock["dfs"] else set()
    lines = [
        "| planted term | DFS default primitives | agent's selected features |",
        "|---|---|---|",
    ]
    for term, pattern, dfs_name in RULE_TERMS:
        matched = [c for c in agent_columns if re.search(pattern, c)]
        if dfs_name is None:
            dfs_cell = "cannot express (no per-value share without interesting values)"
        elif dfs_name in dfs_names:
            dfs_cell = f"`{dfs_name}`"
        else:
            dfs_cell = f"expected `{dfs_name}`, not generated"
        agent_cell = ", ".join(f"`{c}`" for c in matched) or "not selected"
        lines.append(f"| {term} | {dfs_cell} | {agent_cell} |")
    return "\n".join(lines) + "\n"


def top_features(datasets: dict[str, Any]) -> str:
    lines = []
    for key, r in datasets.items():
        for side in ("agent", "dfs"):
            model = r["lightgbm"].get(side)
            if not model or not model["fits"][0]["top_features_by_gain"]:
                continue
            top = model["fits"][0]["top_features_by_gain"][:5]
            named = ", ".join(f"`{name}` {share:.0%}" for name, share in top)
            lines.append(f"- {key}, {'agent' if side == 'agent' else 'DFS'}: {named}")
    return "\n".join(lines) + "\n"


def one_thread_note(datasets: dict[str, Any]) -> str:
    """The agent's feature time with one DuckDB thread, for a per-core comparison."""
    parts = []
    for key, r in datasets.items():
        seconds = r["agent"].get("features_seconds_1_thread")
        if seconds is None:
            continue
        ratio = ""
        if r["dfs"] is not None:
            ratio = f", {r['dfs']['features_seconds']['median'] / seconds:.0f}× faster than DFS"
        parts.append(f"{key} {_s(seconds)} s{ratio}")
    if not parts:
        return ""
    return "With one DuckDB thread (one run) the agent's features take: " + "; ".join(parts) + "."


def leakage_note(datasets: dict[str, Any]) -> str:
    """The DFS configuration with status under the secondary time index, and what it found."""
    small = datasets.get("churn_small")
    variant = small.get("dfs_variant") if small else None
    if small is None or not variant:
        return "The second DFS configuration was not run.\n"
    model = variant["lightgbm"]
    top = model["fits"][0]["top_features_by_gain"][:3]
    named = ", ".join(f"`{name}` ({share:.0%} of the gain)" for name, share in top)
    honest = small["lightgbm"].get("dfs")
    return (
        "Featuretools' documented way to hide values recorded after the cutoff is a secondary "
        "time index: with `secondary_time_index={'ended_at': ['ended_at', 'status']}` on "
        "subscriptions, DFS blanks `ended_at` and `status` of every row whose `ended_at` is "
        "after the customer's cutoff. That is not point-in-time correct here: open "
        "subscriptions keep `status = 'active'`, so a blank status marks exactly the "
        "subscriptions cancelled after the cutoff, i.e. the churners. Run that way (once, same "
        f"rows and learner), DFS reaches a test ROC AUC of {model['test_auc_mean']:.3f} "
        f"(top features {named}) — leakage, not skill. The head-to-head therefore runs DFS "
        "with `status` left out of subscriptions and `secondary_time_index={'ended_at': "
        "['ended_at']}` (a blank `ended_at` means 'open at the cutoff' for every row), which is "
        "what the agent does on its own: it leaves state columns of rows that carry an end "
        "time out"
        + (f"; DFS's test AUC is then {honest['test_auc_mean']:.3f}" if honest else "")
        + ".\n"
    )


def large_note(datasets: dict[str, Any]) -> str:
    large = datasets.get("churn_large")
    if large is None:
        return "The large example was left out of this run (`--skip-large`).\n"
    small = datasets.get("churn_small")
    pulled = large["raw_pull"] or large["dfs"]
    text = (
        f"On `churn_large` ({large['rows_by_table']['events']:,} events, "
        f"{large['agent']['labelled_rows']:,} labelled customers) the agent planned in "
        f"{_s(large['agent']['plan_seconds'])} s and computed its features in "
        f"{_timing(large['agent']['features_seconds'])} s; "
        f"{_mb(large['egress']['agent_bytes'])} left the warehouse against "
        f"{_mb(large['egress']['raw_pandas_bytes'])} for the raw pull "
        f"({large['egress']['share']:.1%}). "
    )
    if large["dfs"] is not None:
        dfs = large["dfs"]
        return text + (
            f"DFS ran once on it (one run takes minutes, so it is not repeated): pull "
            f"{_s(dfs['pull_seconds']['median'])} s, EntitySet + DFS "
            f"{_s(dfs['features_seconds']['median'])} s, peak memory of the Featuretools "
            f"process {_mb(dfs['peak_rss_bytes'])}, against the agent's "
            f"{_mb(large['egress']['agent_bytes'])} fetched.\n"
        )
    text += (
        f"DFS was not run on it: the raw pull alone takes {_s(pulled['pull_seconds'])} s and "
        f"{_mb(pulled['pandas_bytes'])} of pandas memory (peak RSS of the pulling process "
        f"{_mb(pulled['peak_rss_bytes'])})"
    )
    if small and small["dfs"]:
        per_row = small["dfs"]["features_seconds"]["median"] / small["rows_by_table"]["events"]
        guess = per_row * large["rows_by_table"]["events"]
        text += (
            f", and DFS, single-threaded, scales with the rows it aggregates: at the small "
            f"scale's rate it would take about {guess / 60:.0f} minutes per run, three runs "
            f"beyond this benchmark's 20-minute budget"
        )
    return text + ".\n"


def render(document: dict[str, Any]) -> str:
    datasets = document["datasets"]
    settings = document["settings"]
    m = document["machine"]
    mock = datasets.get("mock_customer")
    ft = document["versions"]["featuretools_venv"] or {}
    main = document["versions"]["main"]
    size = settings["mock_customer"]
    after = (mock or {}).get("generation", {}).get("rows_after_cutoff")
    parts = [
        "## Features: the agent's SQL in DuckDB against Featuretools DFS\n",
        f"Run {document['date_utc']} on {m['cpu_model']}, {m['cores']} cores, "
        f"{m['ram_bytes'] / 2**30:.0f} GiB RAM ({m['platform']}); total "
        f"{document['total_seconds'] / 60:.1f} min. dagster-agentic {main['dagster-agentic']}, "
        f"DuckDB {main['duckdb']}, pandas {main['pandas']}, LightGBM {main['lightgbm']}; "
        f"Featuretools {ft.get('featuretools', '?')} with pandas {ft.get('pandas', '?')} in its "
        "own venv. The machine is shared, so timings are noisy: each feature-generation time is "
        f"the median of {settings['repeats']} runs, with the range. This section is rewritten "
        "by `make bench-features`; raw numbers: `bench/results/features.json`.\n",
        results_table(datasets),
        "*plan*: `plan_goal` — profiling, relationship discovery, feature proposal and "
        "screening in the warehouse. *agent features*: executing the plan's SQL in DuckDB "
        "(one `CREATE TABLE … AS` per feature group, then the training set). *dbt build*: the "
        "product path once — the generated dbt project's models and tests, with dbt's own "
        "start-up. *DFS pull*: reading the raw tables into pandas. *DFS features*: EntitySet + "
        "`ft.dfs(max_depth=2)`, default primitives. *speedup*: median DFS features / median "
        "agent features. *AUC*: test ROC AUC, mean ± std over "
        f"{len(settings['lightgbm_seeds'])} LightGBM seeds. *egress*: the training matrix the "
        "agent fetches in a goal run, as its egress ledger counts it (`load_training_set`: id, "
        "label, split and cohort flag as small codes, selected features as float32, categories "
        "as 2-byte codes plus their dictionary, at most 100,000 training rows), against the "
        "pandas memory (`memory_usage(deep=True)`) of the raw tables DFS pulls, label table "
        "included.\n",
        "### Method\n",
        "- **Same data, same rows, same learner.** Both sides read the same DuckDB file. The "
        "agent plans a goal (`Goal` with overrides `target`, `entity_table`, `metric="
        "'roc_auc'`) on a private copy and computes the features there; Featuretools pulls the "
        "tables into pandas in a subprocess (`bench/.venv-featuretools`, since Featuretools "
        "needs pandas<3) and writes its feature matrix to parquet via DuckDB. Both feature sets "
        "are scored by the package's `LightGBMLearner` (its defaults plus `n_jobs=2`, early "
        "stopping on the valid rows, text columns as categories) on the agent's training-set "
        "rows and its hash split on the entity id. DFS's features are all of its matrix but "
        "the id (the label never enters it); its categories of text stay categories, its "
        "categories of numbers (e.g. `MODE(events.DAY(event_time))`) become numbers.\n"
        "- **Point in time on both sides.** Every customer has a cutoff; only rows strictly "
        "before it count. DFS gets a cutoff-time frame (cutoff − 1 µs, since Featuretools "
        "includes rows at the cutoff). On the churn data, subscriptions record `ended_at` and "
        "`status` after the cutoff for some rows: the agent leaves such state columns out by "
        "itself; DFS gets `ended_at` as secondary time index and `status` left out (see the "
        "leakage trap below for why `status` cannot simply go under the secondary time "
        "index).\n"
        "- **Threads.** DuckDB uses both cores; Featuretools runs with its default `n_jobs=1`. "
        f"{one_thread_note(datasets)}\n"
        "- **Feature families.** DFS's default primitives (sum, std, max, skew, min, mean, "
        "count, percent_true, num_unique, mode; day, year, month, weekday, haversine, "
        "num_words, num_characters) aggregate all history before the cutoff: there is no "
        "window relative to the cutoff (last 30/90 days), no time since the last row and no "
        "share of a category value. The agent proposes those families, screens every "
        "candidate in the warehouse and keeps the strongest.\n",
        "### Data sets\n",
        "**mock_customer.** `featuretools.demo.load_mock_customer(n_customers="
        f"{size['customers']:,}, n_products={size['products']}, n_sessions={size['sessions']:,}, "
        f"n_transactions={size['transactions']:,}, random_seed={size['random_seed']})`, written "
        "to DuckDB as customers, sessions, transactions and products (ids BIGINT, times "
        "TIMESTAMP, birthday DATE, text VARCHAR; sessions without a transaction are dropped by "
        "the generator). Transactions run from 2014-01-01 to 2014-05-31; every customer's "
        f"cutoff is {size['cutoff']}"
        + (f", and {after:,} transactions lie after it" if after else "")
        + ". The mock data is uniformly random, so `customer_labels(customer_id, cutoff_time, "
        "label)` carries a planted rule (`bench/mock_customer_labels.sql`), computed in SQL "
        "from behaviour before the cutoff:\n\n"
        "```\n"
        "score = 1.0 × z(mean transaction amount)    transactions → sessions → customers\n"
        "      + 0.8 × z(number of sessions)\n"
        "      + 0.8 × z(share of mobile sessions)\n"
        "      + 0.6 × [zip_code = '60091']\n"
        f"      + 1.0 × N(0, 1) noise                  seeded (md5, seed {size['label_seed']})\n"
        "label = 1 for the top 30% of score\n"
        "```\n\n"
        "z is the z-score across customers (0 for a customer with no activity before the "
        "cutoff). DFS's default primitives express the mean amount at depth 2 "
        "(`MEAN(transactions.amount)`), the session count and the zip code directly; they "
        "cannot express the share of mobile sessions (only `MODE(sessions.device)` and "
        "`NUM_UNIQUE(sessions.device)`; a per-value share needs interesting values and where-"
        "primitives, which are not defaults). What each side had for each term in this run:\n",
    ]
    if mock:
        parts.append(rule_table(mock))
    parts += [
        "**churn_small / churn_large.** The example project's warehouse "
        "(`python -m example_churn.warehouse --scale small|large`, seed 7, generated into "
        "`bench/data`): customers, subscriptions, events, support_tickets, payments and "
        "churn_labels(customer_id, cutoff_date, churned), churn within 60 days after the "
        "cutoff, with activity continuing after it. The head-to-head uses `small`, with "
        f"{settings['repeats']} runs of each side; on `large` DFS runs once.\n",
        "### The leakage trap: subscriptions\n",
        leakage_note(datasets),
        "### Top features by LightGBM gain (seed 0)\n",
        top_features(datasets),
        "### Large\n",
        large_note(datasets),
        "### Reproduce\n",
        "`make bench-features` — builds `.venv` (`make install`), creates "
        "`bench/.venv-featuretools` from `bench/requirements-featuretools.txt` if missing, "
        "generates the warehouses into `bench/data/` if missing, runs everything and rewrites "
        "`bench/results/features.json` and this section. Options: `.venv/bin/python -m "
        "bench.features --help`.\n",
    ]
    return "\n".join(parts)


def write_docs(document: dict[str, Any], path: Path = DOCS) -> Path:
    return write_section(START, END, render(document), path)


def write_section(start: str, end: str, body: str, path: Path = DOCS) -> Path:
    """Replace the region between ``start`` and ``end`` (creating the file or the region at its
    end if missing): each benchmark owns one region of docs/benchmarks.md."""
    section = f"{start}\n{body}{end}"
    text = path.read_text() if path.exists() else DOCS_HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
