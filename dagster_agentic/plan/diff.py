"""What changed between two plan versions, as data and as compact Markdown.

Plain Python: the goal asset shows it in the UI, and a command line can print it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dagster_agentic.goals.objective import higher_is_better
from dagster_agentic.observability.markdown import bullets, md_text
from dagster_agentic.plan.models import Plan


@dataclass(frozen=True)
class Change:
    """One field that differs: its name and its old and new values, as text."""

    field: str
    old: str
    new: str


@dataclass(frozen=True)
class PlanDiff:
    """Plan ``new`` against ``old``: sets added and removed, and the scalar fields changed."""

    features_added: tuple[str, ...] = ()
    features_removed: tuple[str, ...] = ()
    tables_added: tuple[str, ...] = ()
    tables_removed: tuple[str, ...] = ()
    expectations_added: int = 0
    expectations_removed: int = 0
    changes: tuple[Change, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not (
            self.features_added
            or self.features_removed
            or self.tables_added
            or self.tables_removed
            or self.expectations_added
            or self.expectations_removed
            or self.changes
        )

    def markdown(self, *, limit: int = 20) -> str:
        """A short Markdown list; long name lists are cut at ``limit`` with a count."""
        if self.empty:
            return "No change to the plan."
        lines = []
        for label, names in (
            ("features added", self.features_added),
            ("features removed", self.features_removed),
            ("tables added", self.tables_added),
            ("tables removed", self.tables_removed),
        ):
            if names:
                shown = ", ".join(md_text(n) for n in names[:limit])
                more = f" and {len(names) - limit} more" if len(names) > limit else ""
                lines.append(f"**{label}** ({len(names)}): {shown}{more}")
        if self.expectations_added or self.expectations_removed:
            lines.append(
                f"**expectations**: {self.expectations_added} added,"
                f" {self.expectations_removed} removed"
            )
        lines += [
            f"**{md_text(c.field)}**: {md_text(c.old)} → {md_text(c.new)}" for c in self.changes
        ]
        return bullets(lines)


def _expectations(plan: Plan) -> set[str]:
    found = {f"{g.name}:{e.model_dump_json()}" for g in plan.feature_groups for e in g.expectations}
    return found | {f"training_set:{e.model_dump_json()}" for e in plan.training_set.expectations}


def _families(plan: Plan) -> str:
    return ", ".join(c.family for c in plan.training.candidates)


def _target(plan: Plan) -> str:
    o = plan.objective
    value = "" if o.task != "binary_classification" else f" = {o.positive_value!r}"
    return f"{o.label_table}.{o.target_column}{value} ({o.task})"


def _scalars(plan: Plan) -> dict[str, str]:
    o = plan.objective
    return {
        "target": _target(plan),
        "objective": f"{o.metric} {'≥' if higher_is_better(o.metric) else '≤'} {o.threshold:g}",
        "confidence level": f"{o.confidence_level:g}",
        "cohort": f"{o.cohort_description} ({o.cohort_sql or 'all rows'})",
        "models": _families(plan),
        "source adapters": ", ".join(sorted(a.table for a in plan.sources)) or "none",
        "max train rows": str(plan.training_set.max_train_rows),
    }


def plan_diff(old: Plan, new: Plan) -> PlanDiff:
    """What ``new`` changes of ``old``."""
    old_features, new_features = set(old.feature_columns), set(new.feature_columns)
    old_tables = {t.name for t in old.raw_tables}
    new_tables = {t.name for t in new.raw_tables}
    old_expect, new_expect = _expectations(old), _expectations(new)
    before, after = _scalars(old), _scalars(new)
    return PlanDiff(
        features_added=tuple(sorted(new_features - old_features)),
        features_removed=tuple(sorted(old_features - new_features)),
        tables_added=tuple(sorted(new_tables - old_tables)),
        tables_removed=tuple(sorted(old_tables - new_tables)),
        expectations_added=len(new_expect - old_expect),
        expectations_removed=len(old_expect - new_expect),
        changes=tuple(Change(k, before[k], after[k]) for k in before if before[k] != after[k]),
    )
