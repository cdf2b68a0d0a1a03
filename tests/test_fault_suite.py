"""How ``make bench-healing`` judges a case: silent losses and leaks read from a real plan
store, false alarms on benign changes, and the summary the report renders from them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import healing_audit, healing_report
from bench.healing import parse_args, plan_cases
from bench.healing_sites import SITES
from dagster_agentic.plan.models import Plan
from dagster_agentic.plan.store import PlanBundle, PlanStore


def _write(store: PlanStore, plan: Plan, parent: int | None) -> int:
    bundle = store.write_version(plan, lambda path, plan: None, parent=parent, reason="test")
    return bundle.version


@pytest.fixture
def store(tmp_path: Path) -> PlanStore:
    return PlanStore(tmp_path, "churn")


def test_a_dropped_source_is_a_loss(store: PlanStore, planned: PlanBundle) -> None:
    plan = planned.plan
    child = next(g for g in plan.feature_groups if g.kind != "entity_attributes")
    kept = tuple(g for g in plan.feature_groups if g.name != child.name)
    before = _write(store, plan, None)
    after = _write(store, plan.model_copy(update={"feature_groups": kept}), before)
    lost = healing_audit.loss(store, before, after, healing_audit.FEATURE_LOSS_SHARE)
    assert lost is not None
    if child.source_table not in {g.source_table for g in kept}:
        assert child.source_table in lost["tables_lost"]
    assert lost["features_kept"] == len(plan.feature_columns) - len(child.features)
    assert healing_audit.loss(store, before, before, 0.2) is None
    same = _write(store, plan, before)
    assert healing_audit.loss(store, before, same, 0.2) is None


class _Outcome:
    def __init__(self, status: str, loss: Any = None) -> None:
        self.status, self.loss = status, loss


def test_declared_loss() -> None:
    assert healing_audit.declared_loss(_Outcome("repaired_with_loss"))
    assert healing_audit.declared_loss(_Outcome("repaired", loss={"tables": ["events"]}))
    assert not healing_audit.declared_loss(_Outcome("repaired"))
    assert not healing_audit.declared_loss(None)


def test_an_unfiltered_child_aggregate_is_a_leak(store: PlanStore, planned: PlanBundle) -> None:
    plan = planned.plan
    assert plan.objective.cutoff_column
    timed = next(g for g in plan.feature_groups if g.kind == "child_aggregates" and g.time_column)
    clean = _write(store, plan, None)
    assert not any(timed.name in why for why in healing_audit.leaks(store, clean))
    groups = tuple(
        g.model_copy(update={"time_column": None}) if g.name == timed.name else g
        for g in plan.feature_groups
    )
    leaky = _write(store, plan.model_copy(update={"feature_groups": groups}), clean)
    found = healing_audit.leaks(store, leaky)
    assert any(why.startswith(f"{timed.name}:") and "no time filter" in why for why in found)
    # The version's own audit file counts too, for the features the version really has.
    column = plan.feature_columns[0]
    leak = {"column": column, "rows_differing": 3, "rows_compared": 40}
    gone = {"column": "not_a_feature", "rows_differing": 1, "rows_compared": 40}
    audit = {"passed": False, "audit": {"leaks": [leak, gone], "unproven": []}}
    (store.load(clean).path / "leakage.json").write_text(json.dumps(audit))
    found = healing_audit.leaks(store, clean)
    assert f"leakage audit: {column} differs on 3 of 40 rows without later rows" in found
    assert not any("not_a_feature" in why for why in found)


def _case(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "warehouse": "example", "fault": "x", "seed": 1, "expected_cause": None,
        "expected_causes": [], "must_refuse": False, "benign": False, "not_applicable": None,
        "detected": True, "failed_checks": [], "repaired": True, "refused": False,
        "outcome": "repaired", "mttr_s": 30.0, "metric_before": 0.9, "metric_after": 0.9,
        "diagnosed_cause": None, "diagnosed_causes": [], "false_repair": False,
        "repaired_with_loss": False, "silent_loss": False, "leaks": [], "false_alarm": False,
        "raw_rows_changed": 0, "error": None, "run_success": True,
    }  # fmt: skip
    return base | fields


def test_false_alarm_reasons() -> None:
    quiet = _case(benign=True, outcome="replanned", repaired=False, mttr_s=None)
    assert healing_audit.false_alarm(quiet, 0.02) == []
    noisy = _case(benign=True, failed_checks=["raw_support_tickets"], outcome="degraded")
    why = healing_audit.false_alarm(noisy, 0.02)
    assert len(why) == 2 and "raw_support_tickets" in why[0]
    worse = _case(benign=True, outcome="green", metric_after=0.8)
    assert "beyond the tolerance" in healing_audit.false_alarm(worse, 0.02)[0]


def test_summary_counts_each_verdict_once() -> None:
    cases = [
        _case(fault="a"),
        _case(fault="b", repaired=False, refused=True, must_refuse=True, mttr_s=None),
        _case(fault="c", silent_loss=True),
        _case(fault="d", leaks=["g: child_aggregates over t with no time filter"]),
        _case(fault="e", benign=True, false_alarm=True, repaired=False, mttr_s=None),
        _case(fault="f", benign=True, repaired=False, mttr_s=None, outcome="green"),
        _case(fault="g", warehouse="shop", not_applicable="no cohort", detected=False),
        _case(fault="h", warehouse="shop", repaired=False, detected=False, mttr_s=None),
    ]
    s = healing_report.summarise(cases)
    assert s["not_applicable"] == 1 and s["benign_cases"] == 2
    assert s["detected"] == {"n": 4, "of": 5, "share": 0.8}
    assert s["repaired_repairable"]["n"] == 3 and s["repaired_repairable"]["of"] == 4
    assert (s["false_alarms"], s["silent_losses"], s["leaks"]) == (1, 1, 1)
    assert s["mttr_s_example"]["n"] == 3
    met = s["targets"]["met"]
    assert not met["false_alarms"] and not met["silent_losses"] and not met["leaks"]
    assert met["median_mttr_s"] and not met["detected_share"]
    by = healing_report.by_fault(cases)
    assert by["shop/g"]["not_applicable"] == "no cohort" and by["shop/g"]["cases"] == 0


def test_default_run_covers_every_warehouse() -> None:
    planned = {site.key: cases for site, cases in plan_cases(parse_args([]))}
    assert set(planned) == {"example", "shop", "telco"}
    assert len(planned["example"]) == len(SITES["example"].faults()) >= 30
    assert {seed for _, seed in planned["shop"]} == {1}
    one = plan_cases(parse_args(["--faults", "key_format,g_key_format", "--seeds", "1,2"]))
    assert {(s.key, len(c)) for s, c in one} == {("example", 2), ("shop", 1), ("telco", 1)}
    with pytest.raises(SystemExit):
        parse_args(["--faults", "no_such_fault"])
    with pytest.raises(SystemExit):
        parse_args(["--warehouses", "nowhere"])
