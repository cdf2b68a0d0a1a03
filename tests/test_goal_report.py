"""The goal's report pieces on their own: interval text, rounding, ordering, plots, timeline."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from dagster_agentic.observability.goal_report import (
    importance_rows,
    interval_text,
    learning_curve_markdown,
    metrics_markdown,
    timeline_markdown,
    version_decisions,
)
from dagster_agentic.observability.images import shrink_png
from dagster_agentic.observability.markdown import md_text, number
from dagster_agentic.observability.trace import Trace

COHORT = {
    "metric": "precision",
    "value": 0.92857142857,
    "interval_low": 0.90123456,
    "interval_high": 0.9512345,
    "level": 0.95,
    "interval_method": "wilson",
    "support": 62,
    "precision": 0.92857142857,
    "recall": 0.4123456,
    "f1": 0.5555555,
    "roc_auc": None,
    "accuracy": 0.81234,
}


def test_the_interval_reads_as_value_interval_level_method_and_support() -> None:
    assert interval_text(COHORT) == "0.929 [0.901, 0.951] (95% Wilson, n=62)"


def test_numbers_are_rounded_and_text_is_escaped() -> None:
    assert number(0.123456) == "0.123" and number(1234) == "1,234" and number(None) == "n/a"
    assert number(float("nan")) == "n/a" and number(0.00001234) == "1.23e-05"
    assert md_text("a|b ![x](y)\nz") == "a\\|b \\!\\[x\\]\\(y\\) z"


def test_the_metrics_table_has_a_row_per_split_and_population() -> None:
    evaluation = {
        "cohort_test": COHORT,
        "all_test": {**COHORT, "value": 0.8765432, "support": 120},
        "threshold": {
            "validation_value": 0.9444444,
            "validation_low": 0.85,
            "validation_high": 0.98,
            "level": 0.95,
            "n_predicted_positive": 36,
        },
    }
    training = {"validation": {"average_precision": 0.71234567, "roc_auc": 0.8888888}}
    table = metrics_markdown(evaluation, training).splitlines()
    assert table[0] == "| split | rows | precision | interval | other scores |"
    assert table[2].startswith("| test | cohort | 0.929 | 0.929 [0.901, 0.951]")
    assert table[3].startswith("| test | all rows | 0.877 |")
    assert table[4].startswith(
        "| validation | cohort | 0.944 | 0.944 [0.850, 0.980] (95% Wilson, n=36)"
    )
    assert "model selection: average_precision 0.712, roc_auc 0.889" in table[5]


def test_importance_is_strongest_first_then_by_name() -> None:
    ranked = [("b", 0.1), ("a", 0.5), ("c", 0.1), ("d", 0.3)]
    assert importance_rows(ranked) == [("a", 0.5), ("d", 0.3), ("b", 0.1), ("c", 0.1)]
    assert importance_rows(ranked, top=2) == [("a", 0.5), ("d", 0.3)]


def test_a_big_png_is_shrunk_under_the_limit_and_stays_a_png() -> None:
    from PIL import Image

    noise = np.random.default_rng(0).integers(0, 255, (600, 800, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(noise).save(out, format="PNG")
    big = out.getvalue()
    small = shrink_png(big, max_bytes=100_000)
    assert len(big) > 100_000 >= len(small) and small[:8] == b"\x89PNG\r\n\x1a\n"
    assert shrink_png(small, max_bytes=100_000) == small


def test_a_family_without_curves_is_said_to_have_none() -> None:
    text = learning_curve_markdown({"reports": [{"family": "logistic", "valid_curve": []}]})
    assert text == "No learning curve: no candidate records a loss per iteration (logistic)."
    curves = learning_curve_markdown(
        {
            "reports": [
                {"family": "lightgbm", "train_curve": [0.7, 0.5], "valid_curve": [0.7, 0.6]},
                {"family": "logistic", "train_curve": [], "valid_curve": []},
            ]
        }
    )
    assert curves.startswith("![learning curves](data:image/png;base64,")
    assert curves.endswith("No curve recorded for: logistic.")


def test_the_timeline_is_the_versions_own_decisions(tmp_path: Path) -> None:
    trace = Trace(tmp_path / "trace.sqlite")

    def record(kind: str, name: str, version: int | None = None) -> None:
        trace.record(
            goal="g",
            kind=kind,
            name=name,
            actor="policy",
            inputs={},
            outputs={"features": [1, 2], "metric": "precision"},
            duration_ms=3.0,
            plan_version=version,
        )

    record("decision", "interpret_goal")
    record("action", "accept_plan_version", 1)
    record("decision", "diagnose")
    record("decision", "propose_repair")
    record("action", "accept_plan_version", 2)
    records = trace.records(goal="g")
    second = version_decisions(records, 2)
    assert [r.name for r in second] == ["diagnose", "propose_repair", "accept_plan_version"]
    assert [r.name for r in version_decisions(records, 1)] == [
        "interpret_goal",
        "accept_plan_version",
    ]
    assert version_decisions(records, 3) == []
    lines = timeline_markdown(second).splitlines()
    assert (
        len(lines) == 3
        and "**diagnose** by policy (3 ms): features: 2; metric=precision" in lines[0]
    )
    assert timeline_markdown([]) == "No recorded decisions for this plan version."
