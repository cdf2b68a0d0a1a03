"""What a repaired version gives up against the live one: source tables, features, importance.

A repair that re-plans from the warehouse as it is now can quietly stop reading a table (its
key no longer relates to the entity, say); one that drops the features of a removed column can
take most of the model's signal with them. Both still pass every check and may stay within the
metric tolerance on a small test split, so the gate measures the loss itself:

* **tables**: source tables the live version's features read (``Plan.tables``) that the
  candidate's do not;
* **features**: the live version's feature columns the candidate does not compute, as a share
  of the live version's;
* **importance**: the share of the live model's SHAP importance (mean |SHAP|, from the live
  version's ``importance.json`` artifact) that sat on those features. Unknown (None) when the
  live version has no importance artifact: then only tables and features are judged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster_agentic.goals.spec import Healing
from dagster_agentic.plan.store import PlanBundle, PlanStore


@dataclass(frozen=True)
class Loss:
    """The candidate's loss against the live version, with the figures it rests on."""

    live_version: int
    candidate_version: int
    tables: tuple[str, ...]
    features: tuple[str, ...]
    live_features: int
    importance: float | None
    importance_file: str | None = None

    @property
    def feature_share(self) -> float:
        return len(self.features) / self.live_features if self.live_features else 0.0

    @property
    def any(self) -> bool:
        return bool(self.tables or self.features)

    def beyond(self, healing: Healing, *, importance: bool = True) -> list[str]:
        """Why this is more than a plain repair may lose under ``healing`` (empty: it is not).
        ``importance=False`` leaves the SHAP share out (a version with features of its own)."""
        out = []
        if self.tables:
            out.append(f"it no longer reads the source table(s) {', '.join(self.tables)}")
        if self.feature_share > healing.max_feature_loss:
            out.append(
                f"it drops {len(self.features)} of the live version's {self.live_features}"
                f" features ({self.feature_share:.1%}, more than the {healing.max_feature_loss:.1%}"
                " allowed)"
            )
        if (
            importance
            and self.importance is not None
            and self.importance > healing.max_importance_loss
        ):
            out.append(
                f"the dropped features carried {self.importance:.1%} of the live model's SHAP"
                f" importance (more than the {healing.max_importance_loss:.1%} allowed)"
            )
        return out

    def describe(self) -> str:
        """One line: what is lost, with its figures."""
        if not self.any:
            return "nothing lost: every source table and feature of the live version is kept"
        parts = []
        if self.tables:
            parts.append(f"source table(s) {', '.join(self.tables)}")
        parts.append(
            f"{len(self.features)} of {self.live_features} features ({self.feature_share:.1%})"
        )
        if self.importance is not None:
            parts.append(f"{self.importance:.1%} of the live model's SHAP importance")
        else:
            parts.append("SHAP importance of the live model unknown (no importance artifact)")
        return "lost " + ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "live_version": self.live_version,
            "candidate_version": self.candidate_version,
            "tables": list(self.tables),
            "features": list(self.features),
            "live_features": self.live_features,
            "feature_share": round(self.feature_share, 6),
            "importance": None if self.importance is None else round(self.importance, 6),
            "importance_file": self.importance_file,
        }


def measure_loss(live: PlanBundle, candidate: PlanBundle, store: PlanStore) -> Loss:
    """Compare ``candidate`` with ``live``; importance from the live version's artifacts."""
    kept_tables = set(candidate.plan.tables)
    # A renamed table is still read: the plan keeps its old name, the adapter reads the new one.
    tables = tuple(t for t in live.plan.tables if t not in kept_tables)
    live_columns = live.plan.feature_columns
    kept = set(candidate.plan.feature_columns)
    features = tuple(c for c in live_columns if c not in kept)
    shares, path = live_importance(store, live.version)
    importance = None if shares is None else sum(shares.get(c, 0.0) for c in features)
    return Loss(
        live_version=live.version,
        candidate_version=candidate.version,
        tables=tables,
        features=features,
        live_features=len(live_columns),
        importance=importance,
        importance_file=str(path) if shares is not None else None,
    )


def live_importance(store: PlanStore, version: int) -> tuple[dict[str, float] | None, Path]:
    """Each feature column's share of the version's mean |SHAP| (None when not written)."""
    from dagster_agentic.agent.steps import IMPORTANCE_FILE

    path = store.artifacts_dir(version) / IMPORTANCE_FILE
    if not path.exists():
        return None, path
    data = json.loads(path.read_text())
    shares = data.get("shares")
    if not isinstance(shares, dict):
        shares = dict(data.get("ranked_shares") or [])
    total = sum(float(v) for v in shares.values())
    if not shares or total <= 0:
        return None, path
    return {str(k): float(v) / total for k, v in shares.items()}, path
