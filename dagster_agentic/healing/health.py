"""A goal's health: healthy or degraded, the live version, and the last good run (the gate's
baseline), kept in ``<state_dir>/<goal>/health.json``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Literal

from dagster_agentic.goals.spec import Goal
from dagster_agentic.plan.store import PlanStore, write_json_atomic

HEALTH_FILE = "health.json"


def read_health(goal: Goal) -> dict[str, Any]:
    path = PlanStore.of(goal).root / HEALTH_FILE
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def write_health(
    goal: Goal,
    *,
    status: Literal["healthy", "degraded"],
    version: int,
    value: float | None,
    why: str,
    report: Path | None = None,
    repair: str | None = None,
    loss: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The goal's health; a healthy run with a metric becomes the next gate's baseline.

    ``repair`` is the last incident's status ("repaired", "repaired_with_loss", "degraded");
    ``loss`` what a repair that went live with a loss gave up (source tables, features, SHAP
    importance) and what it cost (``metric_before``/``metric_after``). A loss stays on the
    health until a later repair replaces the version that carries it."""
    previous = read_health(goal)
    last_good = previous.get("last_good")
    if status == "healthy" and value is not None:
        last_good = {"version": version, "value": value, "at": time.time()}
    health = {
        "status": status,
        "live_version": version,
        "why": why,
        "report": str(report) if report else None,
        "last_good": last_good,
        "updated_at": time.time(),
    }
    if previous.get("live_version") == version:  # the same version stays live: so does its loss
        repair = repair or previous.get("repair")
        loss = loss or previous.get("loss")
    if repair is not None:
        health["repair"] = repair
    if loss:
        health["loss"] = loss
    root = PlanStore.of(goal).root
    root.mkdir(parents=True, exist_ok=True)
    write_json_atomic(root / HEALTH_FILE, health)
    return health


def health_metadata(goal: Goal) -> dict[str, Any]:
    """The goal's health as flat metadata for its asset: status, live version, why, and what a
    repair that went live with a loss gave up and what it cost."""
    health = read_health(goal)
    if not health:
        return {}
    out: dict[str, Any] = {
        "health": health.get("status"),
        "health_live_version": health.get("live_version"),
        "health_why": health.get("why"),
    }
    if health.get("repair"):
        out["last_repair"] = health["repair"]
    loss = health.get("loss")
    if loss:
        out["repair_lost_tables"] = ", ".join(loss.get("tables") or []) or "none"
        out["repair_lost_features"] = len(loss.get("features") or [])
        out["repair_lost_feature_share"] = loss.get("feature_share")
        out["repair_lost_importance"] = loss.get("importance")
        out["repair_metric_before"] = loss.get("metric_before")
        out["repair_metric_after"] = loss.get("metric_after")
    return out


def last_good_value(goal: Goal, live: int) -> float | None:
    """The goal metric of the last good run of the live version (the gate's baseline)."""
    last_good = read_health(goal).get("last_good") or {}
    if last_good.get("version") == live and last_good.get("value") is not None:
        return float(last_good["value"])
    return None
