"""Verdicts with confidence: intervals against independent formulas, verdicts that need their
evidence, thresholds chosen with margin, trivial targets named, and screening that corrects for
the number of candidates."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Literal

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from dagster_agentic.features.screening import (
    FALSE_DISCOVERY_RATE,
    MIN_BUCKET_ROWS,
    benjamini_hochberg,
    bucket_count,
    false_discovery_rate,
    score_columns,
)
from dagster_agentic.plan.models import Plan
from dagster_agentic.training.confidence import (
    BOOTSTRAP_SEED,
    _weighted_auc,
    bootstrap_interval,
    proportion_interval,
    wilson,
    wilson_lower,
)
from dagster_agentic.training.evaluate import evaluate
from dagster_agentic.training.threshold import choose_threshold


def wilson_by_root_finding(k: int, n: int, level: float) -> tuple[float, float]:
    """Wilson's interval from its definition: the p whose score test |p_hat - p| <= z se(p)
    does not reject, found as roots (independent of the closed form under test)."""
    z, p_hat = norm.ppf(1 - (1 - level) / 2), k / n

    def score(p: float) -> float:
        return abs(p_hat - p) - z * math.sqrt(p * (1 - p) / n)

    # score() is negative between the two roots and 0 at p_hat = 0 or 1 itself: bracket inside.
    low = 0.0 if k == 0 else brentq(score, 1e-12, p_hat - 1e-12)
    high = 1.0 if k == n else brentq(score, p_hat + 1e-12, 1 - 1e-12)
    return low, high


# --- intervals ------------------------------------------------------------------------------


@pytest.mark.parametrize(("k", "n"), [(91, 98), (2, 2), (0, 15), (20, 26), (42, 52), (500, 1000)])
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_wilson_matches_its_definition(k: int, n: int, level: float) -> None:
    expected = wilson_by_root_finding(k, n, level)
    got = proportion_interval("precision", k, n, level=level)
    assert (got.low, got.high) == pytest.approx(expected, abs=1e-9)
    assert got.support == n and got.method == "wilson"


def test_wilson_known_values() -> None:
    # 91 of 98 at 95% (z = 1.959964), by hand: centre (0.928571 + z^2 / 196) / (1 + z^2 / 98)
    # = 0.912406, half-width z sqrt(0.928571 * 0.071429 / 98 + z^2 / 38416) / 1.039198
    # = 0.052566: [0.8598, 0.9650].
    low, high = wilson(91, 98, z=1.959964)
    assert (round(low, 4), round(high, 4)) == (0.8598, 0.965)
    # Two of two: the point estimate is 1, the interval is wide: [0.342, 1].
    low, high = wilson(2, 2, z=1.959964)
    assert round(low, 3) == 0.342 and high == 1.0
    lower = wilson_lower(np.array([42, 39]), np.array([52, 40]), z=norm.ppf(0.95))
    assert lower == pytest.approx(
        [wilson_by_root_finding(42, 52, 0.9)[0], wilson_by_root_finding(39, 40, 0.9)[0]]
    )


def test_weighted_auc_equals_sklearn_on_the_resampled_rows() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random(300) < 0.3).astype(int)
    scores = np.round(rng.random(300) + 0.4 * y, 2)  # ties, as real model output has
    counts = rng.multinomial(300, np.full(300, 1 / 300), size=5).astype(float)
    got = _weighted_auc(counts, y == 1, scores)
    for row, value in zip(counts, got, strict=True):
        rows = np.repeat(np.arange(300), row.astype(int))
        assert value == pytest.approx(roc_auc_score(y[rows], scores[rows]))


def test_bootstrap_intervals_are_stable_cover_the_estimate_and_narrow_with_rows() -> None:
    rng = np.random.default_rng(5)

    def data(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = (rng.random(n) < 0.3).astype(int)
        return y, 1 / (1 + np.exp(-(1.5 * y - 0.8 + rng.normal(size=n))))

    y, s = data(400)
    metrics: tuple[Literal["f1", "roc_auc"], ...] = ("f1", "roc_auc")
    for metric in metrics:
        first = bootstrap_interval(metric, y, s, threshold=0.5)
        again = bootstrap_interval(metric, y, s, threshold=0.5)
        assert first == again  # a fixed seed: the same data, the same interval
        point = evaluate(y, s, threshold=0.5, metric=metric, target=0.5)
        assert first.low < point.value < first.high
        assert (point.interval_low, point.interval_high) == (first.low, first.high)
        big_y, big_s = data(4000)
        wide = first.high - first.low
        narrow = bootstrap_interval(metric, big_y, big_s, threshold=0.5)
        # The width of a bootstrap interval shrinks like 1/sqrt(n): ten times the rows, about
        # a third of the width.
        assert 0.2 < (narrow.high - narrow.low) / wide < 0.5
    other = bootstrap_interval("roc_auc", y, s, threshold=0.5, seed=BOOTSTRAP_SEED + 1)
    assert other != first


# --- verdicts -------------------------------------------------------------------------------


def test_precision_one_on_two_predicted_positives_is_inconclusive() -> None:
    y = np.r_[np.ones(2), np.ones(48), np.zeros(150)].astype(int)
    scores = np.r_[np.full(2, 0.99), np.full(48, 0.4), np.full(150, 0.1)]
    result = evaluate(y, scores, threshold=0.9, metric="precision", target=0.95)
    assert result.precision == 1.0 and result.n_predicted_positive == 2
    assert result.verdict == "inconclusive" and not result.met
    assert (round(result.interval_low, 3), result.interval_high) == (0.342, 1.0)
    assert "only 2 predicted positives, fewer than the 10" in result.explanation
    assert result.to_dict()["verdict"] == "inconclusive"


def test_verdicts_follow_the_interval() -> None:
    # 95 of 100 predicted positives are positive: Wilson 95% [0.888, 0.978].
    y = np.r_[np.ones(95), np.zeros(5), np.ones(50), np.zeros(850)].astype(int)
    scores = np.r_[np.full(100, 0.9), np.full(900, 0.1)]
    results = {
        target: evaluate(y, scores, threshold=0.5, metric="precision", target=target)
        for target in (0.85, 0.95, 0.99)
    }
    assert results[0.85].verdict == "met" and results[0.85].met
    assert "lower bound 0.888 is >= target 0.850" in results[0.85].explanation
    assert results[0.95].verdict == "inconclusive" and not results[0.95].met
    assert "straddles the target 0.950" in results[0.95].explanation
    assert results[0.99].verdict == "not_met"
    assert "upper bound 0.978 is < target 0.990" in results[0.99].explanation
    # recall rests on the positives: 95 of 145.
    recall = evaluate(y, scores, threshold=0.5, metric="recall", target=0.5)
    assert (recall.support, recall.support_name) == (145, "positives")
    assert (recall.interval_low, recall.interval_high) == pytest.approx(
        wilson_by_root_finding(95, 145, 0.95)
    )
    assert recall.verdict == "met"
    # accuracy rests on every row; a 99% level widens the interval.
    accuracy = evaluate(y, scores, threshold=0.5, metric="accuracy", target=0.9, level=0.99)
    assert accuracy.support == 1000 and accuracy.level == 0.99
    assert (accuracy.interval_low, accuracy.interval_high) == pytest.approx(
        wilson_by_root_finding(945, 1000, 0.99)
    )


def test_recall_on_few_positives_is_inconclusive_whatever_its_value() -> None:
    y = np.r_[np.ones(6), np.zeros(300)].astype(int)
    scores = np.r_[np.full(6, 0.9), np.full(300, 0.1)]
    result = evaluate(y, scores, threshold=0.5, metric="recall", target=0.5)
    assert result.recall == 1.0 and result.verdict == "inconclusive"
    assert "only 6 positives" in result.explanation


# --- thresholds with margin -------------------------------------------------------------------


def _bands(*bands: tuple[float, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Rows in score bands: (score, rows, positives) each."""
    y = np.concatenate([np.r_[np.ones(p), np.zeros(n - p)] for _, n, p in bands]).astype(int)
    s = np.concatenate([np.full(n, score) for score, n, _ in bands])
    return y, s


def test_the_margin_rule_keeps_validation_and_test_in_agreement() -> None:
    # On validation, threshold 0.6 gives precision 42/52 = 0.808 >= 0.8 (what the point
    # estimate picks), but its lower bound is 0.69; 0.9 gives 39/40 with lower bound 0.895.
    y_valid, s_valid = _bands((0.9, 40, 39), (0.6, 12, 3), (0.3, 200, 40), (0.1, 300, 10))
    # The test rows: at 0.6, precision 20/26 = 0.769 (below the target); at 0.9, 19/20.
    y_test, s_test = _bands((0.9, 20, 19), (0.6, 6, 1), (0.3, 100, 20), (0.1, 150, 5))
    choice = choose_threshold(y_valid, s_valid, metric="precision", target=0.8)
    assert choice.threshold == 0.9 and choice.reachable
    assert choice.validation_value == pytest.approx(39 / 40)
    assert choice.validation_lower_bound == pytest.approx(wilson_by_root_finding(39, 40, 0.9)[0])
    assert choice.validation_lower_bound is not None and choice.validation_lower_bound >= 0.8
    assert "one-sided 95% lower bound" in choice.rule

    point_rule = evaluate(y_test, s_test, threshold=0.6, metric="precision", target=0.8)
    assert point_rule.precision == pytest.approx(20 / 26) and point_rule.precision < 0.8
    margin = evaluate(y_test, s_test, threshold=choice.threshold, metric="precision", target=0.8)
    assert margin.precision == pytest.approx(0.95) and margin.recall == pytest.approx(19 / 45)
    # 20 test positives predicted: 0.95 with interval [0.764, 0.991], honest about the rows.
    assert margin.verdict == "inconclusive"
    # With twice the test rows the same model is met with confidence.
    doubled = evaluate(
        np.r_[y_test, y_test], np.r_[s_test, s_test], threshold=0.9, metric="precision", target=0.8
    )
    assert doubled.verdict == "met" and doubled.interval_low >= 0.8


def test_recall_threshold_with_margin_is_the_highest_whose_lower_bound_reaches() -> None:
    rng = np.random.default_rng(11)
    y = (rng.random(2000) < 0.25).astype(int)
    s = np.round(1 / (1 + np.exp(-(2 * y - 1 + rng.normal(size=2000)))), 3)
    choice = choose_threshold(y, s, metric="recall", target=0.8)
    z = norm.ppf(0.95)
    for t in np.unique(s):
        tp = int(((s >= t) & (y == 1)).sum())
        bound = wilson_lower(np.array([tp]), np.array([int(y.sum())]), z=z)[0]
        if t > choice.threshold:
            assert bound < 0.8
    tp = int(((s >= choice.threshold) & (y == 1)).sum())
    assert wilson_lower(np.array([tp]), np.array([int(y.sum())]), z=z)[0] >= 0.8


def test_an_unreachable_precision_is_infeasible_with_its_best_trade_off() -> None:
    y, s = _bands((0.9, 30, 27), (0.5, 100, 50), (0.1, 400, 40))
    choice = choose_threshold(y, s, metric="precision", target=0.95)
    assert not choice.reachable and choice.threshold == 0.9
    assert "not reachable with margin on validation" in choice.note
    low, high = wilson_by_root_finding(27, 30, 0.95)
    assert (choice.validation_low, choice.validation_high) == pytest.approx((low, high))
    assert f"[{low:.3f}, {high:.3f}]" in choice.note


# --- trivial targets --------------------------------------------------------------------------


def test_trivial_targets_are_called_out() -> None:
    y, s = _bands((0.9, 100, 80), (0.5, 200, 60), (0.1, 700, 160))  # positive rate 0.30
    zero = evaluate(y, s, threshold=0.5, metric="precision", target=0.0)
    assert zero.trivial and zero.verdict == "met" and "trivial" in zero.explanation
    base = evaluate(y, s, threshold=0.5, metric="precision", target=0.25)
    assert base.trivial and "positive rate of these rows is 0.300" in base.explanation
    everyone = evaluate(y, s, threshold=0.0, metric="recall", target=0.9)
    assert everyone.trivial and "every row is predicted positive" in (everyone.trivial_reason or "")
    accuracy = evaluate(y, s, threshold=0.5, metric="accuracy", target=0.65)
    assert accuracy.trivial  # predicting no positive is right on 70% of the rows
    auc = evaluate(y, s, threshold=0.5, metric="roc_auc", target=0.5)
    assert auc.trivial
    real = evaluate(y, s, threshold=0.5, metric="precision", target=0.45)
    assert not real.trivial and real.trivial_reason is None and "trivial" not in real.explanation


# --- the evaluation step and the goal's status ------------------------------------------------


def test_the_evaluation_artifact_and_goal_status_carry_the_evidence(
    sample_plan: Plan, tmp_path: Path
) -> None:
    from dagster_agentic.agent.steps import evaluate_step, goal_status

    y_valid, s_valid = _bands((0.9, 40, 39), (0.6, 12, 3), (0.3, 200, 40), (0.1, 300, 10))
    y_test, s_test = _bands((0.9, 20, 19), (0.6, 6, 1), (0.3, 100, 20), (0.1, 150, 5))
    rows = [
        pd.DataFrame({"split": split, "in_cohort": True, "label": y, "score": s})
        for split, y, s in (("valid", y_valid, s_valid), ("test", y_test, s_test))
    ]
    frame = pd.concat([*rows, rows[1].assign(in_cohort=False)], ignore_index=True)
    frame.insert(0, "entity_id", range(len(frame)))
    frame.to_csv(tmp_path / "predictions.csv", index=False)
    (tmp_path / "training.json").write_text(json.dumps({"family": "logistic", "egress_bytes": 1}))
    plan = sample_plan.model_copy(
        update={"objective": sample_plan.objective.model_copy(update={"threshold": 0.8})}
    )
    result = evaluate_step(plan, tmp_path)
    stored = json.loads((tmp_path / "evaluation.json").read_text())
    assert stored["verdict"] == result["verdict"] == "inconclusive"
    cohort = stored["cohort_test"]
    assert cohort["support"] == 20 and cohort["support_name"] == "predicted positives"
    assert (cohort["interval_low"], cohort["interval_high"]) == pytest.approx(
        wilson_by_root_finding(19, 20, 0.95)
    )
    assert stored["threshold"]["threshold"] == 0.9
    assert "on validation precision 0.975" in stored["validation_vs_test"]
    assert "on test 0.950" in stored["validation_vs_test"]
    status = goal_status(plan, tmp_path)
    assert status["status"] == "inconclusive" and not status["met"]
    assert status["interval"] == [cohort["interval_low"], cohort["interval_high"]]
    assert "straddles the target 0.800" in status["why"] and "on validation" in status["why"]
    assert status["feasible"] and not status["trivial"]


# --- screening ------------------------------------------------------------------------------


def test_benjamini_hochberg_matches_hand_computation() -> None:
    p = [0.01, 0.04, 0.03, 0.005, 0.2]
    # Sorted: 0.005, 0.01, 0.03, 0.04, 0.2 -> p * 5 / rank: 0.025, 0.025, 0.05, 0.05, 0.2.
    assert benjamini_hochberg(p) == pytest.approx([0.025, 0.05, 0.05, 0.025, 0.2])
    assert benjamini_hochberg([]) == []


def _screen_table(conn: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    conn.register("frame", frame)
    conn.execute("CREATE TEMP TABLE candidates AS SELECT * FROM frame")
    conn.unregister("frame")


def test_five_hundred_noise_columns_keep_none_and_a_real_signal_survives() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    label = (rng.random(n) < 0.3).astype(int)
    frame = pd.DataFrame({f"attr_{i:03d}": rng.normal(size=n) for i in range(500)})
    frame["tier"] = rng.choice(["a", "b", "c", "d"], size=n)  # categorical noise too
    frame["balance_trend"] = 0.5 * label + rng.normal(size=n)
    frame["label"], frame["in_cohort"] = label, rng.random(n) < 0.3
    columns = [
        ("accounts", c, c, "categorical" if c == "tier" else "numeric")
        for c in frame.columns
        if c not in ("label", "in_cohort")
    ]
    with duckdb.connect() as conn:
        _screen_table(conn, frame)
        scored = score_columns(conn, "candidates", columns)  # type: ignore[arg-type]
    by_column = {s.column: s for s in scored.scores}
    signal = by_column.pop("balance_trend")
    assert signal.significant and signal.q_value < 1e-10
    # Without the correction noise passes: 1,000 looks (two populations) at p < 0.01 keep about
    # ten by chance. Benjamini-Hochberg at 5%: when every candidate is noise, the chance that
    # any is called significant is at most 5%; at this seed none is.
    uncorrected = [s.column for s in by_column.values() if s.p_value < 0.01]
    assert len(uncorrected) >= 3
    assert [s.column for s in by_column.values() if s.significant] == []
    assert min(s.q_value for s in by_column.values()) >= FALSE_DISCOVERY_RATE


def test_small_data_gets_fewer_buckets_and_filled_cells() -> None:
    assert bucket_count(20_000, 6_000) == 20
    assert bucket_count(300, 100) == 10  # 300 rows / 30 per bucket
    assert bucket_count(1000, 40) == 8  # 40 positives / 5 expected per bucket
    assert bucket_count(50, 10) == 2
    rng = np.random.default_rng(2)
    n = 400
    label = (rng.random(n) < 0.5).astype(int)
    frame = pd.DataFrame(
        {
            "visits": rng.poisson(3 + 2 * label).astype(float),
            "plan": rng.choice([f"p{i}" for i in range(12)], size=n),
            "label": label,
            "in_cohort": np.arange(n) < 120,  # a small cohort: 120 rows
        }
    )
    frame.loc[rng.random(n) < 0.05, "visits"] = np.nan
    with duckdb.connect() as conn:
        _screen_table(conn, frame)
        scored = score_columns(
            conn,
            "candidates",
            [("usage", "visits", "visits", "numeric"), ("usage", "plan", "plan", "categorical")],
        )
    assert scored.buckets == 13
    visits, plan = scored.scores
    assert visits.significant
    assert visits.cohort is not None and plan.cohort is not None
    # 120 cohort rows hold at most four buckets of 30; twelve plans of ~10 rows pool.
    assert visits.cohort.buckets <= 120 // MIN_BUCKET_ROWS
    assert plan.cohort.buckets <= 120 // MIN_BUCKET_ROWS
    assert not plan.significant


def test_screening_a_warehouse_reports_q_values_for_every_candidate(tmp_path: Path) -> None:
    """End to end on a small warehouse of other names: the planted signal survives the
    correction, and every candidate carries its adjusted p-value."""
    from dagster_agentic import Goal
    from dagster_agentic.agent.planner import propose
    from dagster_agentic.kernel.policy.kernel import PolicyKernel
    from dagster_agentic.warehouse.connection import Warehouse
    from dagster_agentic.warehouse.profile import profile_warehouse

    from .shop_warehouse import OBJECTIVE, build_shop_warehouse

    shop = build_shop_warehouse(tmp_path / "shop.duckdb")
    goal = Goal(name="lapse", objective=OBJECTIVE, warehouse=shop, state_dir=tmp_path / "state")
    report = propose(goal, profile_warehouse(Warehouse(shop)), PolicyKernel()).screening
    # The level scales with the evidence: looser on a thousand rows than the default.
    assert report.false_discovery_rate == false_discovery_rate(report.rows, len(report.scores))
    assert report.buckets == bucket_count(report.rows, report.positives)
    expected = benjamini_hochberg([s.combined_p_value for s in report.scores])
    assert [s.q_value for s in report.scores] == pytest.approx(expected)
    assert all(s.q_value >= s.combined_p_value >= s.p_value for s in report.scores)
    spend = report.score("purchases_via_visits__sum_price")
    assert spend is not None and spend.significant
