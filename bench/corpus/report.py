"""The corpus section of docs/benchmarks.md, rendered from bench/results/corpus.json.

.venv/bin/python -m bench.corpus.report   # re-render from the stored results
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.report import DOCS, write_section

START, END = "<!-- bench-corpus:start -->", "<!-- bench-corpus:end -->"
RESULTS = Path(__file__).resolve().parent.parent / "results" / "corpus.json"
PEERS = (("lightgbm_defaults", "LightGBM"), ("flaml", "FLAML"), ("autogluon", "AutoGluon"))


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    number = float(value)
    if abs(number) >= 100:
        return f"{number:,.0f}"
    return f"{number:.{digits}f}"


def _interval(measured: dict[str, Any] | None) -> str:
    if not measured or measured.get("value") is None:
        return "–"
    return f"{_num(measured['value'])} [{_num(measured['low'])}, {_num(measured['high'])}]"


def _peer_cell(block: dict[str, Any] | None, name: str, metric: str, cohort: bool) -> str:
    if not block:
        return "–"
    peer = block["peers"].get(name)
    if peer is None:
        return "–"
    if "error" in peer:
        return "error"
    scores = peer.get(metric) or {}
    return _interval(scores.get("cohort_test" if cohort else "all_test"))


def _product_cell(entry: dict[str, Any]) -> tuple[str, str]:
    product = entry.get("product")
    if product is None:
        return "not run", "–"
    goal = product.get("goal") or {}
    status = goal.get("status") or product["summary"].get("status") or "error"
    interval = goal.get("interval") or {}
    value = goal.get("value")
    if value is None:
        return status, "–"
    low, high = interval.get("low"), interval.get("high")
    text = _num(value) if low is None else f"{_num(value)} [{_num(low)}, {_num(high)}]"
    return status, text


def _product_metric(all_test: Any, metric: str, crossed: bool = False) -> str:
    """The product's value of ``metric`` on every test row, from its evaluation's metadata;
    "(cv)" when the product measured it by cross-validation (a small test split)."""
    if not isinstance(all_test, dict):
        return "–"
    nested = all_test.get("metrics")
    value = all_test.get(metric, nested.get(metric) if isinstance(nested, dict) else None)
    if value is None:
        return "–"
    crossed = crossed or all_test.get("method") == "cross_validation"
    if value == all_test.get("value") and all_test.get("interval_low") is not None:
        low, high = all_test["interval_low"], all_test.get("interval_high")
        text = f"{_num(value)} [{_num(low)}, {_num(high)}]"
    else:
        text = _num(value)
    return text + (" (cv)" if crossed else "")


def _cv_cell(entry: dict[str, Any], metric: str) -> str:
    """LightGBM on the product's folds: on its features, then on the entity table's columns."""
    block = entry.get("peers_cv")
    if not block:
        return "–"
    cells = []
    for features in ("product", "entity"):
        peer = ((block.get(features) or {}).get("peers") or {}).get("lightgbm_defaults")
        if peer is None:
            cells.append("–")
        elif "error" in peer:
            cells.append("error")
        else:
            cells.append(_interval((peer.get(metric) or {}).get("all_rows")))
    return " / ".join(cells)


def _reading_cell(entry: dict[str, Any]) -> str:
    reading = entry["reading"]
    if reading["correct"]:
        return "yes"
    if reading.get("error"):
        return "no: error"
    return "no: " + ", ".join(sorted(reading["differs"]))


def render(document: dict[str, Any]) -> str:
    machine = document["machine"]
    summary = document["summary"]
    lines = [
        "## Corpus: public data sets held as companies hold them, goals as users write them",
        "",
        f"Run {document['date']} on {machine['cpu']}, {machine['cores']} cores,"
        f" {machine['memory']} RAM ({machine['platform']}); mode: {document['mode']};"
        f" total {document['total_seconds'] / 60:.1f} min. Peers: LightGBM with its defaults,"
        f" FLAML and AutoGluon-Tabular with {document['peer_seconds']} s each, in their own venv"
        " (bench/requirements-peers.txt), fitted on the train and valid rows of the product's"
        " split and measured on its test rows, seeing the entity table's columns only (FLAML"
        " without CatBoost: bench/corpus/README.md). Intervals are 95% (the product's"
        " own; a 500-draw bootstrap for the peers). Data sets, goals and the cache of peer fits:"
        " bench/corpus/README.md; raw numbers: `bench/results/corpus.json`. This section is"
        " rewritten by `make bench-corpus`.",
        "",
        f"**Read correctly with no overrides: {summary['read_correctly']} of {summary['goals']}"
        "** goals.",
    ]
    for rerun in document.get("reruns", []):
        lines.append(
            f"Rerun {rerun['date']} ({rerun['mode']}): {', '.join(rerun['goals'])}, because"
            f" {rerun['why']}; their rows below are from that rerun."
        )
    if summary["misread_fields"]:
        fields = ", ".join(f"{k} {v}" for k, v in sorted(summary["misread_fields"].items()))
        lines.append(f"Fields misread (goals): {fields}.")
    fits = [
        peer
        for entry in document["goals"]
        for block in ("peers_entity", "peers_product_features")
        for peer in ((entry.get(block) or {}).get("peers") or {}).values()
    ]
    reused = sum(1 for peer in fits if peer.get("cached"))
    lines.append(
        f"Peer figures: {len(fits) - reused} fitted in this run, {reused} reused from the cache"
        " of fits on the same rows (bench/results/corpus_peers.json)."
    )
    if summary["verdicts"]:
        verdicts = ", ".join(f"{k} {v}" for k, v in sorted(summary["verdicts"].items()))
        lines.append(f"Verdicts: {verdicts}.")
    lines += ["", "| data set | shape | tables (rows) | package | tasks |", "|---|---|---|---|---|"]
    for key, entry in sorted(document["sets"].items()):
        tables = ", ".join(f"{t} {v['rows']:,}" for t, v in entry["tables"].items())
        lines.append(
            f"| {key} | {entry['shape']} | {tables} | {entry['package']} {entry['version']}"
            f" | {', '.join(entry['tasks'])} |"
        )
    lines += [
        "",
        "Per goal: the product's reading, its verdict and its goal metric on the cohort's test"
        " rows with the product's own 95% interval, wall time and the bytes that left the"
        " warehouse.",
        "",
        "| goal | style | read (fields that differ) | verdict | goal metric | product [95% CI] |"
        " wall s | egress bytes |",
        "|---|---|---|---|---|--:|--:|--:|",
    ]
    for entry in document["goals"]:
        status, value = _product_cell(entry)
        product = entry.get("product") or {}
        egress = (product.get("summary") or {}).get("egress_bytes")
        expected = entry["expected"]
        goal_metric = f"{expected['metric']} {_num(expected['threshold'])}"
        lines.append(
            f"| {entry['id']} | {entry['style']} | {_reading_cell(entry)} | {status} |"
            f" {goal_metric} | {value} | {_num(product.get('seconds'), 1)} |"
            f" {'–' if egress is None else f'{egress:,}'} |"
        )
    lines += [
        "",
        "Against the peers, on every test row of the same split (the goal's metric when it"
        " needs no threshold, else ROC AUC; peers with a 500-draw bootstrap 95% interval;"
        ' cohort figures are in the JSON). Peers see the entity table only; "LightGBM on the'
        " product's features\" is LightGBM on the product's own feature matrix. `rows` says whose"
        " split it is: the product's training set, or the expected reading's rows split as the"
        ' product splits by default when the product did not run. "(cv)": the product measured'
        " itself by 5-fold cross-validation over every row, its test split being small (its"
        " own 95% interval). The peers' columns before the last stay on the test split for"
        " every goal; the last column measures LightGBM with its defaults the product's way"
        " where the product cross-validated: refitted on the product's own folds (each fold"
        " predicted by a fit on the four others, where the product trains on three and"
        " early-stops on the fourth), its pooled out-of-fold metric over every row with the"
        " product's interval, on the product's features / on the entity table's columns"
        " (bench/corpus/peers_cv.py).",
        "",
        "| goal | metric | rows | train / valid / test | product | LightGBM | FLAML | AutoGluon |"
        " LightGBM on the product's features | LightGBM, product's folds: product's features /"
        " entity table |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for entry in document["goals"]:
        block = entry.get("peers_entity")
        metric = block.get("compared", block["optimised"]) if block else entry["expected"]["metric"]
        rows = entry.get("rows") or {}
        split = " / ".join(str(rows.get(s, "–")) for s in ("train", "valid", "test"))
        all_test = ((entry.get("product") or {}).get("evaluation") or {}).get("all_test") or {}
        crossed = entry.get("product_protocol") == "cross_validation"
        mine = _product_metric(all_test, metric, crossed)
        peers = [_peer_cell(block, name, metric, False) for name, _ in PEERS]
        own = _peer_cell(entry.get("peers_product_features"), "lightgbm_defaults", metric, False)
        lines.append(
            f"| {entry['id']} | {metric} | {entry.get('rows_source', '–')} | {split} |"
            f" {mine} | {' | '.join(peers)} | {own} | {_cv_cell(entry, metric)} |"
        )
    lines.append("")
    return "\n".join(lines)


def write_docs(document: dict[str, Any], path: Path = DOCS) -> Path:
    return write_section(START, END, render(document), path)


def main() -> int:
    document = json.loads(RESULTS.read_text())
    print(write_docs(document))
    return 0


if __name__ == "__main__":
    sys.exit(main())
