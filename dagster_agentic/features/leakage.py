"""The leakage audit: every feature, computed as of the cutoff, must not see later rows.

A plan's SQL says it reads only rows recorded before the cutoff; this module checks that it
does, in DuckDB, on a stable sample of the rows it predicts. For each sampled cutoff value it
computes every feature group twice, with the plan's own SQL (``feature_group_sql``):

1. on the warehouse as it is, and
2. on the warehouse with every row recorded at or after that cutoff removed: each table the
   plan aggregates is replaced by a TEMP view of its rows whose event time is before the cutoff
   (or unknown). The event time is the audit's **own** reading of the table, from the profile
   and the data (a time type, or text/epochs that parse with an allowed format), never the
   plan's ``time_column``, so a plan that forgets or mis-names its filter is caught.

A feature whose values differ between the two (NULL-safe, with a float tolerance) reads the
future: it **leaks**, with the rows compared, the rows that differ and one example. A group
that aggregates a table whose event time the audit cannot read is **unproven**. Entity
attributes and dimension lookups are static and not truncated. From the screening report, a
feature whose single-feature signal is suspiciously strong (binned AUC or uncertainty
coefficient near 1) is flagged as **strong**: not proof, but worth a look.

Everything runs on the guarded, read-only connection, with TEMP objects only, after the SQL
policy and the cost guard have passed each group's query (the SQL side is in
``leakage_compare``). Only counts and one example value
per leaking feature leave the warehouse.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from dagster_agentic.features.leakage_compare import (
    EventTimes,
    check_groups,
    compare,
    drop_temp,
    sample_spine,
)
from dagster_agentic.plan.models import Plan
from dagster_agentic.warehouse.connection import Warehouse, qualified_name
from dagster_agentic.warehouse.models import ScalarValue
from dagster_agentic.warehouse.times import TimeReading

if TYPE_CHECKING:
    from dagster_agentic.features.screening import ScreeningReport
    from dagster_agentic.goals.spec import Goal
    from dagster_agentic.plan.store import PlanBundle
    from dagster_agentic.warehouse.semantics import SchemaSemantics

SAMPLE_ROWS = 500
"""Spine rows (entity, cutoff) compared per audit: enough to see a leak on any busy table."""
MAX_CUTOFFS = 3
"""Distinct cutoff values audited (the most frequent): rows with other cutoffs are not sampled."""
STRONG_AUC = 0.97
STRONG_UNCERTAINTY = 0.8
"""A single feature this predictive (AUC, or share of the label's entropy) is suspicious."""
RELATIVE_TOLERANCE = 1e-6

_PREFIX = "__agentic_audit"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Leak(_Frozen):
    """A feature whose values change when rows at or after the cutoff are removed."""

    column: str
    group: str
    rows_compared: int
    rows_differing: int
    example: dict[str, ScalarValue] = Field(
        description="One differing row: entity_id, cutoff_at, the value as planned and the"
        " value on the warehouse without later rows."
    )


class Unproven(_Frozen):
    """A group that reads a table with many rows per entity whose event time cannot be read."""

    group: str
    table: str
    reason: str


class Strong(_Frozen):
    """A feature whose single-feature signal on the train split is suspiciously strong."""

    column: str
    auc: float | None
    uncertainty: float
    reason: str


class Truncation(_Frozen):
    """How the audit removed later rows of one table: by which column, read how."""

    table: str
    column: str
    reading: str


class LeakageAudit(_Frozen):
    """The verdict of one audit, with its evidence."""

    leaks: tuple[Leak, ...] = ()
    unproven: tuple[Unproven, ...] = ()
    strong: tuple[Strong, ...] = ()
    sample_rows: int = 0
    cutoffs: tuple[str, ...] = ()
    truncated: tuple[Truncation, ...] = ()
    static: tuple[str, ...] = Field(
        default=(), description="Tables read as static: entity attributes and dimensions."
    )
    features: int = 0
    seconds: float = 0.0
    note: str = ""

    @property
    def passed(self) -> bool:
        """No feature reads a later row and every aggregated table's time was read."""
        return not self.leaks and not self.unproven

    @property
    def leaking_columns(self) -> tuple[str, ...]:
        return tuple(leak.column for leak in self.leaks)

    @property
    def unproven_groups(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(u.group for u in self.unproven))

    def summary(self) -> str:
        head = (
            f"leakage audit {'passed' if self.passed else 'FAILED'}: {self.features} features"
            f" on {self.sample_rows} sampled rows at {len(self.cutoffs)} cutoff(s)"
            f" ({', '.join(self.cutoffs) or 'none'}), in {self.seconds:.2f} s"
        )
        lines = [head]
        if self.note:
            lines.append(f"  {self.note}")
        lines += [f"  truncated {t.table} by {t.column} ({t.reading})" for t in self.truncated]
        lines += [
            f"  leak: {leak.column} differs on {leak.rows_differing} of {leak.rows_compared}"
            f" rows without later rows (e.g. {leak.example})"
            for leak in self.leaks
        ]
        lines += [f"  unproven: {u.group} reads {u.table}: {u.reason}" for u in self.unproven]
        lines += [f"  strong: {s.column}: {s.reason}" for s in self.strong]
        if self.static:
            lines.append(f"  static: {'; '.join(self.static)}")
        return "\n".join(lines)


def audit_plan(
    warehouse: Warehouse,
    plan: Plan,
    *,
    sample: int = SAMPLE_ROWS,
    screening: ScreeningReport | None = None,
    semantics: SchemaSemantics | None = None,
    max_cutoffs: int = MAX_CUTOFFS,
) -> LeakageAudit:
    """Audit every feature of ``plan`` on ``warehouse`` (see the module docstring).

    ``semantics``, when the caller measured it on this very warehouse, gives the tables' event
    times; otherwise the audit profiles the tables it needs and reads their times itself.
    """
    started = time.perf_counter()
    strong = _strong(plan, screening)
    features = len(plan.feature_columns)
    static = _static(plan)
    if not plan.objective.cutoff_column:
        return LeakageAudit(
            strong=strong,
            static=static,
            features=features,
            seconds=round(time.perf_counter() - started, 3),
            note="the goal has no cutoff: there is no prediction time to read before",
        )
    times = _event_times(warehouse, plan, semantics)
    unproven = _unproven(plan, times)
    truncations = tuple(
        Truncation(table=t, column=c, reading=_reading_text(r))
        for t, (c, r) in sorted(times.items())
    )
    with warehouse.connect(read_only=True) as conn:
        check_groups(conn, warehouse, plan)
        cutoffs, rows = sample_spine(conn, plan, sample, max_cutoffs)
        differing = compare(conn, plan, times, cutoffs) if rows else []
        drop_temp(conn)
    leaks = [
        Leak(
            column=d.column,
            group=d.group,
            rows_compared=d.rows_compared,
            rows_differing=d.rows_differing,
            example=d.example,
        )
        for d in differing
    ]
    return LeakageAudit(
        leaks=tuple(leaks),
        unproven=unproven,
        strong=strong,
        sample_rows=rows,
        cutoffs=tuple(str(c) for c in cutoffs),
        truncated=truncations,
        static=static,
        features=features,
        seconds=round(time.perf_counter() - started, 3),
        note="" if rows else "no labelled row has a cutoff: nothing to compare",
    )


def audit_bundle(goal: Goal, bundle: PlanBundle) -> LeakageAudit:
    """The audit of a written plan version (a candidate at the gate) on the goal's warehouse,
    with the strong-signal flags of the screening kept with the version, if any."""
    from dagster_agentic.features.screening import SCREENING_FILE, ScreeningReport
    from dagster_agentic.warehouse.connection import goal_warehouse

    screening = None
    path = bundle.path / SCREENING_FILE
    if path.exists():
        import json

        report = json.loads(path.read_text()).get("report")
        if report is not None:
            try:
                screening = ScreeningReport.model_validate(report)
            except ValueError:
                screening = None  # a report of another shape: audit without the flags
    return audit_plan(goal_warehouse(goal), bundle.plan, screening=screening)


def without_leaks(plan: Plan, audit: LeakageAudit) -> tuple[Plan | None, tuple[str, ...]]:
    """``plan`` less its leaking features and unproven groups, and why; None if none remain."""
    leaking = set(audit.leaking_columns)
    unproven = set(audit.unproven_groups)
    reasons = [
        f"dropped {leak.column}: it leaks, {leak.rows_differing} of {leak.rows_compared} sampled"
        " rows change when rows at or after the cutoff are removed"
        for leak in audit.leaks
    ]
    reasons += [f"dropped group {u.group}: {u.reason}" for u in audit.unproven]
    groups = []
    for group in plan.feature_groups:
        if group.name in unproven:
            continue
        kept = tuple(f for f in group.features if group.column_name(f) not in leaking)
        if not kept:
            continue
        names = {group.column_name(f) for f in kept}
        expectations = tuple(e for e in group.expectations if e.column is None or e.column in names)
        groups.append(group.model_copy(update={"features": kept, "expectations": expectations}))
    if not reasons:
        return plan, ()
    if not groups:
        return None, tuple(reasons)
    return plan.model_copy(
        update={"feature_groups": tuple(groups), "rationale": (*plan.rationale, *reasons)}
    ), tuple(reasons)


# --- what is truncated, by which time ---------------------------------------------------------


def _aggregated(plan: Plan) -> dict[str, list[str]]:
    """Each table read with many rows per entity (a group's source or path) -> its groups."""
    out: dict[str, list[str]] = {}
    for group in plan.feature_groups:
        if group.kind == "entity_attributes":
            continue
        out.setdefault(group.source_table, []).append(group.name)
        if group.via is not None:
            out.setdefault(group.via.table, []).append(group.name)
    return out


def _event_times(warehouse: Warehouse, plan: Plan, semantics: SchemaSemantics | None) -> EventTimes:
    """Plan table -> (event time column, its reading if parsed) as the audit reads it."""
    from dagster_agentic.warehouse.profile import profile_warehouse
    from dagster_agentic.warehouse.semantics import event_time_column
    from dagster_agentic.warehouse.times import read_table_times

    tables = list(_aggregated(plan))
    found: EventTimes = {}
    if semantics is not None:
        for table in tables:
            described = semantics.table(table)
            if described is not None and described.event_time:
                reading = semantics.time_reading(table, described.event_time)
                found[table] = (described.event_time, reading)
        return found
    physical = {plan.physical(t): t for t in tables}
    if not physical:
        return found
    profile = profile_warehouse(warehouse, schema=plan.warehouse_schema, tables=sorted(physical))
    with warehouse.connect(read_only=True) as conn:
        for profiled in profile.tables:
            name = physical.get(profiled.name) or next(
                (t for p, t in physical.items() if p.lower() == profiled.name.lower()),
                profiled.name,
            )
            relation = qualified_name(plan.warehouse_schema, profiled.name)
            readings = read_table_times(conn, relation, profiled, frozenset())
            column = event_time_column(profiled, (r.column for r in readings))
            if column is not None:
                found[name] = (column, next((r for r in readings if r.column == column), None))
    return found


def _reading_text(reading: TimeReading | None) -> str:
    return "a time type" if reading is None else reading.described


def _unproven(plan: Plan, times: EventTimes) -> tuple[Unproven, ...]:
    return tuple(
        Unproven(
            group=group,
            table=table,
            reason=f"{table} has many rows per entity and no event time the audit can read,"
            " so no feature built on it can be shown to stop at the cutoff",
        )
        for table, groups in _aggregated(plan).items()
        if table not in times
        for group in groups
    )


def _static(plan: Plan) -> tuple[str, ...]:
    entity = [g.source_table for g in plan.feature_groups if g.kind == "entity_attributes"]
    lookups = [lookup.table for g in plan.feature_groups for lookup in g.lookups]
    return tuple(
        [f"{t} (entity attributes)" for t in dict.fromkeys(entity)]
        + [f"{t} (dimension)" for t in dict.fromkeys(lookups) if t not in entity]
    )


def _strength_reason(
    screening: ScreeningReport, best: Any, auc: float | None, uncertainty: float
) -> str:
    """Why one feature alone is suspiciously strong, in the task's own measure."""
    if screening.task == "regression":
        return (
            f"alone it explains {uncertainty:.0%} of the target's rank variance (Spearman rho"
            f" {best.rank_correlation}) on {best.rows:,} train rows"
        )
    return (
        f"alone it separates the classes (binned AUC {auc or 0:.3f}, {uncertainty:.0%} of the"
        f" label's entropy) on {best.rows:,} train rows"
    )


def _strong(plan: Plan, screening: ScreeningReport | None) -> tuple[Strong, ...]:
    if screening is None:
        return ()
    found = []
    for column in plan.feature_columns:
        score = screening.score(column)
        if score is None:
            continue
        best = score.best
        auc, u = best.auc, float(best.uncertainty)
        if (auc is not None and auc >= STRONG_AUC) or u >= STRONG_UNCERTAINTY:
            found.append(
                Strong(
                    column=column,
                    auc=auc,
                    uncertainty=u,
                    reason=_strength_reason(screening, best, auc, u),
                )
            )
    return tuple(found)
