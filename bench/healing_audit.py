"""What ``make bench-healing`` checks in the plan store after each case, beyond repaired/refused.

* **Silent loss**: the version live after the case reads fewer source tables, or keeps a
  smaller share of the live version's features, than the version live before it, and the
  healing outcome did not declare the loss (status ``repaired_with_loss`` or a ``loss``).
* **Leak**: the live version aggregates a child or path table with no time filter while the
  goal has a cutoff (a table it read across all time), unless the group says the agent showed
  the table static; or its own leakage audit (``leakage.json`` in the version directory)
  reports leaks.
* **False alarm**: after a benign change, a data check failed, healing started, the run
  failed, or the goal metric fell by more than the goal's tolerance.

Every verdict comes with its evidence, so the report says why a case counts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FEATURE_LOSS_SHARE = 0.2
"""A repair keeping less than 80% of the live version's features lost some of them (the
goal's ``healing.max_feature_loss`` is used instead when it has one)."""


def _plan(store: Any, version: int | None) -> Any:
    if version is None:
        return None
    try:
        return store.load(version).plan
    except Exception:  # a version the store cannot load is reported as unknown, not a crash
        return None


def loss(store: Any, before: int, after: int | None, share: float) -> dict[str, Any] | None:
    """What the version live ``after`` lost against the one live ``before`` (None: nothing)."""
    if after is None or after == before:
        return None
    old, new = _plan(store, before), _plan(store, after)
    if old is None or new is None:
        return None
    tables = sorted(set(old.tables) - set(new.tables))
    kept = set(old.feature_columns) & set(new.feature_columns)
    total = len(old.feature_columns)
    lost_share = 1 - len(kept) / total if total else 0.0
    if not tables and lost_share <= share:
        return None
    return {
        "tables_lost": tables,
        "features_before": total,
        "features_kept": len(kept),
        "feature_share_lost": round(lost_share, 3),
    }


def declared_loss(outcome: Any) -> bool:
    """The healing outcome says the repair went live with a loss."""
    if outcome is None:
        return False
    status = str(getattr(outcome, "status", ""))
    return "loss" in status or bool(getattr(outcome, "loss", None))


def _static(group: Any) -> bool:
    return bool(getattr(group, "static", False) or getattr(group, "static_proof", None))


def leaks(store: Any, version: int | None) -> list[str]:
    """Why the version leaks: unfiltered child/path groups under a cutoff, and the leaks its
    own audit file reports. Empty when it does not (or cannot be read)."""
    bundle = None
    try:
        bundle = store.load(version) if version is not None else None
    except Exception:
        return []
    if bundle is None:
        return []
    plan = bundle.plan
    found = []
    if plan.objective.cutoff_column:
        for group in plan.feature_groups:
            if group.kind == "entity_attributes" or _static(group):
                continue
            unfiltered = group.time_column is None
            if group.via is not None and group.via.time_column is None:
                unfiltered = True
            if unfiltered:
                found.append(
                    f"{group.name}: {group.kind} over {group.source_table} with no time filter"
                    f" (cutoff {plan.objective.label_table}.{plan.objective.cutoff_column})"
                )
    # The planner's audit (it lists what it found before dropping it) and the gate's, each
    # counted only for features and groups the version really has.
    found += _audited(Path(bundle.path) / "leakage.json", plan)
    found += _audited(Path(store.artifacts_dir(bundle.version)) / "leakage.json", plan)
    return list(dict.fromkeys(found))


def _audited(path: Path, plan: Any) -> list[str]:
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return [f"{path.name} is unreadable"]
    if not isinstance(data, dict):
        return [f"{path.name} is not an audit"]
    audit = data.get("audit") if isinstance(data.get("audit"), dict) else {}
    items = [
        f"{leak.get('column')} differs on {leak.get('rows_differing')} of"
        f" {leak.get('rows_compared')} rows without later rows"
        for leak in audit.get("leaks") or []
        if leak.get("column") in set(plan.feature_columns)
    ]
    groups = {g.name for g in plan.feature_groups}
    items += [
        f"{u.get('group')} reads {u.get('table')}: {u.get('reason')}"
        for u in audit.get("unproven") or []
        if u.get("group") in groups
    ]
    return [f"leakage audit: {item}" for item in items]


def false_alarm(case: dict[str, Any], tolerance: float) -> list[str]:
    """Why a benign change counts as a false alarm (empty: it does not)."""
    why = []
    if case["failed_checks"]:
        why.append(f"failed checks {', '.join(case['failed_checks'])}")
    if case["outcome"] not in (None, "replanned", "green"):
        why.append(f"healing ran and ended {case['outcome']}")
    if case.get("run_success") is False:
        why.append("the run failed")
    before, after = case["metric_before"], case["metric_after"]
    if before is not None and after is not None and after < before - tolerance:
        why.append(f"metric {before:.3f} -> {after:.3f}, beyond the tolerance {tolerance:g}")
    return why
