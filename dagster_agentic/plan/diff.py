"""What changed between two plans: features, raw tables, objective fields, model candidates,
expectations, source repairs, and any other top-level field.

Plain Python: the command line prints it (``plan diff``) and the goal asset shows it in the UI
as Markdown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from dagster_agentic.plan.models import Expectation, Plan

_COVERED = frozenset(
    {"objective", "feature_groups", "training", "training_set", "sources", "raw_tables"}
)
# Bookkeeping that differs between any two versions and says nothing about what they build.
_IGNORED = frozenset({"schema_version", "goal_fingerprint", "rationale"})


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class PlanDiff:
    features_added: tuple[str, ...] = ()
    features_removed: tuple[str, ...] = ()
    tables_added: tuple[str, ...] = ()
    tables_removed: tuple[str, ...] = ()
    objective: tuple[FieldChange, ...] = ()
    models_added: tuple[str, ...] = ()
    models_removed: tuple[str, ...] = ()
    expectations_added: tuple[str, ...] = ()
    expectations_removed: tuple[str, ...] = ()
    sources_changed: tuple[str, ...] = ()
    """Raw tables whose repair (source adapter) was added, removed or changed."""
    other: tuple[FieldChange, ...] = ()

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name) for name in self.__dataclass_fields__)

    def markdown(self, *, limit: int = 20) -> str:
        """A short Markdown list; long lists are cut at ``limit`` with a count. Every name is
        escaped: names come from the warehouse and the kernel."""
        from dagster_agentic.observability.markdown import bullets, md_text

        if self.empty:
            return "No change to the plan."
        lines = []
        for label, names in (
            ("features added", self.features_added),
            ("features removed", self.features_removed),
            ("tables added", self.tables_added),
            ("tables removed", self.tables_removed),
            ("models added", self.models_added),
            ("models removed", self.models_removed),
            ("expectations added", self.expectations_added),
            ("expectations removed", self.expectations_removed),
            ("source repairs changed", self.sources_changed),
        ):
            if names:
                shown = ", ".join(md_text(n) for n in names[:limit])
                more = f" and {len(names) - limit} more" if len(names) > limit else ""
                lines.append(f"**{label}** ({len(names)}): {shown}{more}")
        lines += [
            f"**{md_text(c.field)}**: {md_text(_shown(c.old))} → {md_text(_shown(c.new))}"
            for c in (*self.objective, *self.other)
        ]
        return bullets(lines)


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _expectation(owner: str, expectation: Expectation) -> str:
    where = f"{owner}.{expectation.column}" if expectation.column else owner
    bounds = [
        f"{k}={v}"
        for k, v in (("min", expectation.min_value), ("max", expectation.max_value))
        if v is not None
    ]
    if expectation.values:
        bounds.append("values=" + ",".join(map(str, expectation.values)))
    return f"{expectation.check}({where}{'; ' if bounds else ''}{'; '.join(bounds)})"


def expectations_of(plan: Plan) -> tuple[str, ...]:
    """Each expectation of the plan, as one line."""
    lines = [_expectation(g.name, e) for g in plan.feature_groups for e in g.expectations]
    lines += [_expectation("training_set", e) for e in plan.training_set.expectations]
    return tuple(lines)


def models_of(plan: Plan) -> tuple[str, ...]:
    """Each model candidate as ``family`` or ``family {params}``."""
    return tuple(
        f"{c.family} {json.dumps(c.params, sort_keys=True)}" if c.params else c.family
        for c in plan.training.candidates
    )


def _added_removed(old: tuple[str, ...], new: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    return tuple(x for x in new if x not in old), tuple(x for x in old if x not in new)


def _changes(old: dict[str, Any], new: dict[str, Any], skip: frozenset[str]) -> tuple[Any, ...]:
    return tuple(
        FieldChange(field=k, old=old.get(k), new=new.get(k))
        for k in dict.fromkeys([*old, *new])
        if k not in skip and old.get(k) != new.get(k)
    )


def plan_diff(old: Plan, new: Plan) -> PlanDiff:
    """What ``new`` changes relative to ``old``."""
    features_added, features_removed = _added_removed(old.feature_columns, new.feature_columns)
    models_added, models_removed = _added_removed(models_of(old), models_of(new))
    expectations_added, expectations_removed = _added_removed(
        expectations_of(old), expectations_of(new)
    )
    old_tables = {t.name for t in old.raw_tables}
    new_tables = {t.name for t in new.raw_tables}
    old_sources = {s.table: s for s in old.sources}
    new_sources = {s.table: s for s in new.sources}
    sources = sorted(
        t for t in {*old_sources, *new_sources} if old_sources.get(t) != new_sources.get(t)
    )
    old_dump, new_dump = old.model_dump(mode="json"), new.model_dump(mode="json")
    training_changes = _changes(
        old_dump["training"], new_dump["training"], frozenset({"candidates"})
    )
    return PlanDiff(
        features_added=features_added,
        features_removed=features_removed,
        tables_added=tuple(sorted(new_tables - old_tables)),
        tables_removed=tuple(sorted(old_tables - new_tables)),
        objective=_changes(old_dump["objective"], new_dump["objective"], frozenset({"rationale"})),
        models_added=models_added,
        models_removed=models_removed,
        expectations_added=expectations_added,
        expectations_removed=expectations_removed,
        sources_changed=tuple(sources),
        other=tuple(
            FieldChange(field=f"training.{c.field}", old=c.old, new=c.new) for c in training_changes
        )
        + _changes(old_dump, new_dump, _COVERED | _IGNORED),
    )
