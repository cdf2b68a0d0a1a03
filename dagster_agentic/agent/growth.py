"""A warehouse that grew is planned again, but the new version must not quietly lose ground.

A new table or column is an opportunity, so ``ensure_plan`` plans a new version for it. That
version is screened and selected afresh: it may stop reading a source the live version reads
(the new column took its place among a table's capped features, say) or keep few of its
features. Such a re-plan is declined, not accepted: the live version stays, the candidate is
kept as history with the reason, and the decision is remembered for this warehouse schema
(``declined_growth.json``) so that every later load does not plan it again. A goal whose
healing policy sets ``allow_loss`` accepts it, and the version's reason says what was lost.

The SHAP share is not weighed here, unlike at the healing gate: the new version brings
features of its own, so what the old model's importance sat on says little about it.
"""

from __future__ import annotations

import json
from pathlib import Path

from dagster_agentic.goals.spec import Goal
from dagster_agentic.healing.loss import Loss, measure_loss
from dagster_agentic.plan.store import PlanBundle, PlanStore, write_json_atomic

DECLINED_FILE = "declined_growth.json"


def declined(store: PlanStore, schema: str) -> bool:
    """A re-plan for this very schema (its catalog fingerprint) was declined before."""
    path = store.root / DECLINED_FILE
    if not path.exists():
        return False
    try:
        return bool(json.loads(path.read_text()).get("schema") == schema)
    except (OSError, ValueError):
        return False


def judge_growth(
    goal: Goal, store: PlanStore, live: PlanBundle, candidate: PlanBundle, schema: str
) -> PlanBundle:
    """Accept ``candidate`` (planned because the warehouse grew) or keep ``live``."""
    loss = measure_loss(live, candidate, store)
    why = loss.beyond(goal.healing, importance=False)
    if why and not goal.healing.allow_loss:
        store.settle(candidate.version)
        write_json_atomic(
            store.root / DECLINED_FILE,
            {
                "schema": schema,
                "candidate": candidate.version,
                "live": live.version,
                "why": "; ".join(why),
                "loss": _loss_dict(loss),
            },
        )
        return live
    store.accept(candidate.version)
    _forget(store.root / DECLINED_FILE)
    return candidate


def _loss_dict(loss: Loss) -> dict[str, object]:
    return {
        "tables": list(loss.tables),
        "features": list(loss.features),
        "live_features": loss.live_features,
        "feature_share": round(loss.feature_share, 4),
    }


def _forget(path: Path) -> None:
    path.unlink(missing_ok=True)
