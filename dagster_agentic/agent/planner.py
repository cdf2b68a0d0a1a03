"""From a goal to an accepted plan version: profile, interpret, propose, check, write.

Everything that can refuse (the kernel, the guardrails, the warehouse's dry run, the leakage
audit, dbt parse) runs before the version becomes accepted; a refused goal writes no plan.
Every version planned here, first plans and re-planned repairs alike, reads times that arrived
as text or epochs through a ``parse_time`` adapter, leaves out what it cannot read as of the
cutoff (``point_in_time``), and is audited for leakage (``features.leakage``): leaking features
are dropped with the reason, and the audit is kept with the version as ``leakage.json``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from dagster_agentic.agent.exclusions import resolve_exclusions
from dagster_agentic.agent.plan_checks import check_plan_sql, expected_matrix_rows
from dagster_agentic.agent.point_in_time import (
    enforce_point_in_time,
    raw_typed,
    static_reads,
    suite_for_adapters,
    time_adapters,
)
from dagster_agentic.agent.steps import refuse_oversized_matrix
from dagster_agentic.errors import DataError
from dagster_agentic.expectations.build import build_raw_suite
from dagster_agentic.expectations.models import ExpectationSuite
from dagster_agentic.features.adapters import adapted_sources, plan_ref
from dagster_agentic.features.dbt_project import parse_dbt_project, render_dbt_project
from dagster_agentic.features.leakage import LeakageAudit, audit_plan, without_leaks
from dagster_agentic.features.screening import (
    SCREENING_FILE,
    ScreeningReport,
    refuse_unlearnable_target,
    screen_features,
)
from dagster_agentic.features.sql import (
    warehouse_ref,
)
from dagster_agentic.goals.objective import Objective
from dagster_agentic.goals.spec import Goal
from dagster_agentic.healing.evidence import schema_diff
from dagster_agentic.kernel.policy.cohort import cohort_tables
from dagster_agentic.kernel.policy.features import left_out_sources
from dagster_agentic.kernel.protocol import (
    FeatureSelection,
    InterpretGoalRequest,
    Kernel,
    PlanProposal,
    ProposePlanRequest,
    SelectFeaturesRequest,
)
from dagster_agentic.kernel.traced import TracedKernel
from dagster_agentic.observability.spans import PREFIX, agent_span
from dagster_agentic.observability.trace import Trace
from dagster_agentic.plan.locks import planning_lock
from dagster_agentic.plan.models import FeatureGroup, Plan, RawColumn, RawTable
from dagster_agentic.plan.store import PlanBundle, PlanStore, write_json_atomic
from dagster_agentic.warehouse.connection import (
    Warehouse,
    goal_warehouse,
    qualified_name,
    quote_ident,
)
from dagster_agentic.warehouse.footprint import table_memory_bytes
from dagster_agentic.warehouse.locking import warehouse_lock
from dagster_agentic.warehouse.models import WarehouseProfile
from dagster_agentic.warehouse.profile import (
    catalog_triples,
    profile_warehouse,
    triples_fingerprint,
)
from dagster_agentic.warehouse.semantics import SchemaSemantics, analyse_schema

PROFILE_FILE, SEMANTICS_FILE = "profile.json", "semantics.json"
SUITE_FILE, LEAKAGE_FILE = "suite.json", "leakage.json"


def default_kernel(goal: Goal | None = None) -> Kernel:
    """The kernel that decides ``goal``: its ``kernel:`` model when it names one, else the
    offline policy kernel."""
    from dagster_agentic.kernel.policy.kernel import PolicyKernel

    if goal is not None and goal.kernel is not None:
        from dagster_agentic.kernel.llm.kernel import LLMKernel

        return LLMKernel(goal.kernel, trace=trace_for(goal), goal=goal.name)
    return PolicyKernel()


def goal_fingerprint(goal: Goal, kernel: Kernel) -> str:
    """Changes when anything the plan depends on in the declaration changes."""
    payload = {
        # Where the state lives is no part of the plan: a goal moved or replayed elsewhere
        # plans the same version. A model kernel's own version says what of its settings
        # shapes its decisions (not its budgets, time-outs or endpoint).
        "goal": goal.model_dump(mode="json", exclude={"state_dir", "kernel"}),
        "kernel": kernel.name,
        # A kernel whose policy changed plans again: same declaration, different decisions.
        "kernel_version": str(getattr(kernel, "version", "")),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def is_current(bundle: PlanBundle, goal: Goal, kernel: Kernel) -> bool:
    """The bundle was planned from this very declaration (and kernel)."""
    return bundle.plan.goal_fingerprint == goal_fingerprint(goal, kernel)


def agent_schema(goal: Goal) -> str:
    return f"agentic_{goal.name}"


def trace_for(goal: Goal) -> Trace:
    return Trace(goal.resolved_state_dir / "trace.sqlite")


def ensure_plan(goal: Goal, *, kernel: Kernel | None = None) -> PlanBundle:
    """The accepted plan of ``goal``, planning a new version when the declaration changed or
    the warehouse grew (a new table or column) since it was planned.

    A change that removes or retypes something the plan was built on is not planned around
    silently: the accepted version stays, and its expectations fail on the affected tables.
    Planning happens under the goal's planning lock, and the decision is taken again once the
    lock is held: of two processes that start at once, one plans, the other uses its plan.
    """
    kernel = kernel or default_kernel(goal)
    store = PlanStore.of(goal)

    from dagster_agentic.agent.growth import declined, judge_growth

    schema = ""

    def decide() -> tuple[PlanBundle | None, str]:
        nonlocal schema
        accepted = store.load_accepted()
        if accepted is None:
            return None, "declared"
        if not is_current(accepted, goal, kernel):
            return None, "goal changed"
        with warehouse_lock(goal.warehouse, write=False, purpose=f"goal {goal.name}: schema"):
            warehouse = goal_warehouse(goal)
            added = schema_additions(accepted, warehouse)
            schema = triples_fingerprint(catalog_triples(warehouse)) if added else ""
        if added and not declined(store, schema):
            return None, f"warehouse grew: {', '.join(added)}"
        return accepted, ""

    bundle, reason = decide()
    if bundle is not None:
        return bundle
    with planning_lock(goal.resolved_state_dir, goal.name):
        store.reclaim()  # versions abandoned by killed runs give their numbers back
        bundle, reason = decide()
        if bundle is not None:
            return bundle
        live = store.load_accepted()
        if live is None or not reason.startswith("warehouse grew"):
            return plan_goal(goal, kernel=kernel, reason=reason)
        # A grown warehouse is an opportunity, never a reason to lose ground: see agent.growth.
        candidate = plan_goal(goal, kernel=kernel, reason=reason, accept=False)
        return judge_growth(goal, store, live, candidate, schema)


def schema_additions(bundle: PlanBundle, warehouse: Warehouse) -> list[str]:
    """Tables and columns added to the warehouse since ``bundle`` was planned, when nothing it
    was built on went missing or changed type; otherwise nothing (that is for the checks)."""
    warehouse.require_exists()
    path = bundle.path / PROFILE_FILE
    if not path.exists():  # a version written before profiles were kept: compare fingerprints
        changed = triples_fingerprint(catalog_triples(warehouse)) != bundle.plan.profile_fingerprint
        return ["schema changed"] if changed else []
    reference = WarehouseProfile.model_validate_json(path.read_text())
    with warehouse.connect(read_only=True) as conn:
        diff = schema_diff(reference, conn)
    if diff.missing_tables or diff.missing_columns or diff.type_changes:
        return []
    tables = sorted(diff.new_tables)
    columns = sorted(f"{c.table}.{c.column}" for c in diff.new_columns)
    return [*(f"table {t}" for t in tables), *(f"column {c}" for c in columns)]


def plan_goal(
    goal: Goal, *, kernel: Kernel | None = None, reason: str = "replan", accept: bool = True
) -> PlanBundle:
    """Profile the warehouse, ask the kernel for a plan, check it, write and accept a version
    (or, with ``accept=False``, leave it a candidate for the healing gate: leased to this
    process until the gate accepts or settles it, abandoned if the process dies first)."""
    with agent_span("planner", goal=goal, attributes={PREFIX + "reason": reason}) as span:
        kernel = kernel or default_kernel(goal)
        warehouse = goal_warehouse(goal)
        warehouse.require_exists()
        store = PlanStore.of(goal)
        with (
            planning_lock(goal.resolved_state_dir, goal.name),
            warehouse_lock(goal.warehouse, write=False, purpose=f"goal {goal.name}: planning"),
        ):
            profile = profile_warehouse(warehouse)
            proposal = propose(goal, profile, kernel, valueless=remembered_valueless(store))
            plan = proposal.plan

            def render(path: Path, written: Plan) -> None:
                render_dbt_project(written, goal.warehouse, path / "dbt")
                parse_dbt_project(path / "dbt")
                proposal.write_evidence(path)

            bundle = store.write_version(
                plan, render, parent=store.accepted_version(), reason=reason, provisional=True
            )
            span.set(PREFIX + "plan_version", bundle.version)
            if not accept:
                return bundle
            store.accept(bundle.version)
        trace_for(goal).record(
            goal=goal.name,
            kind="action",
            name="accept_plan_version",
            actor="planner",
            inputs={"reason": reason, "parent": bundle.meta["parent"]},
            outputs={
                "version": bundle.version,
                "plan_fingerprint": bundle.meta["plan_fingerprint"],
            },
            duration_ms=0.0,
            plan_version=bundle.version,
        )
        return bundle


@dataclass(frozen=True)
class Proposal:
    """A checked plan and the evidence it was decided on (kept with the version, for audit)."""

    plan: Plan
    candidates: tuple[FeatureGroup, ...]
    profile: WarehouseProfile
    semantics: SchemaSemantics
    screening: ScreeningReport
    selection: FeatureSelection
    suite: ExpectationSuite
    leakage: LeakageAudit | None = None
    left_out: tuple[str, ...] = ()
    """Why each source (or proposed group) was left out to keep the plan point in time."""
    dropped: tuple[str, ...] = ()
    """Features and groups the leakage audit removed, and why."""

    def write_evidence(self, path: Path) -> None:
        write_json_atomic(path / PROFILE_FILE, self.profile.model_dump(mode="json"))
        write_json_atomic(path / SEMANTICS_FILE, self.semantics.model_dump(mode="json"))
        write_json_atomic(path / SUITE_FILE, self.suite.model_dump(mode="json"))
        write_json_atomic(
            path / SCREENING_FILE,
            {
                "candidates": [g.model_dump(mode="json") for g in self.candidates],
                "report": self.screening.model_dump(mode="json"),
                "selection": self.selection.model_dump(mode="json"),
            },
        )
        if self.leakage is not None:
            write_leakage(path, self.leakage, left_out=self.left_out, dropped=self.dropped)


def write_leakage(
    path: Path,
    audit: LeakageAudit,
    *,
    left_out: tuple[str, ...] = (),
    dropped: tuple[str, ...] = (),
) -> None:
    """The audit of a version as ``leakage.json``: its verdict, evidence and what it cost."""
    write_json_atomic(
        path / LEAKAGE_FILE,
        {
            "passed": audit.passed,
            "summary": audit.summary(),
            "audit": audit.model_dump(mode="json"),
            "left_out": list(left_out),
            "dropped": list(dropped),
        },
    )


def latest_prediction_time(conn: duckdb.DuckDBPyConnection, objective: Objective) -> str | None:
    """The latest cutoff in the label table (ISO), the moment freshness is measured against."""
    if not objective.cutoff_column:
        return None
    row = conn.execute(
        f"SELECT CAST(max(CAST({quote_ident(objective.cutoff_column)} AS TIMESTAMP)) AS VARCHAR)"
        f" FROM {qualified_name('main', objective.label_table)}"
    ).fetchone()
    return str(row[0]) if row and row[0] is not None else None


def load_suite(bundle: PlanBundle) -> ExpectationSuite:
    """The raw-table expectations of a plan version (none for versions written without them)."""
    path = bundle.path / SUITE_FILE
    if not path.exists():
        return ExpectationSuite(tables=(), expectations=())
    return ExpectationSuite.model_validate_json(path.read_text())


def remembered_valueless(store: PlanStore) -> dict[str, int]:
    """Feature columns that SHAP found without value in any earlier version: never retried."""
    from dagster_agentic.agent.steps import IMPORTANCE_FILE

    found: dict[str, int] = {}
    for version in store.versions():
        path = store.artifacts_dir(version) / IMPORTANCE_FILE
        if path.exists():
            for column in json.loads(path.read_text()).get("valueless", []):
                found.setdefault(str(column), version)
    return found


def propose(
    goal: Goal,
    profile: WarehouseProfile,
    kernel: Kernel,
    *,
    valueless: dict[str, int] | None = None,
) -> Proposal:
    """The kernel's decisions as a checked ``Plan`` (nothing is written).

    Candidates are proposed from the profile and the schema's semantics, checked by the
    guardrails, screened in the warehouse, and selected by the kernel; the plan holds only
    the selected features.
    """
    traced = TracedKernel(kernel, trace_for(goal), goal.name)
    warehouse = goal_warehouse(goal)
    objective = traced.interpret_goal(InterpretGoalRequest(goal=goal, profile=profile))
    excluded = resolve_exclusions(goal.exclude_columns, profile, objective)
    with warehouse.connect(read_only=True) as conn:
        semantics = analyse_schema(conn, profile, objective, excluded=excluded)
    proposal = traced.propose_plan(
        ProposePlanRequest(goal=goal, objective=objective, profile=profile, semantics=semantics)
    )
    timely, left_out = enforce_point_in_time(proposal.feature_groups, objective, semantics)
    left_out += left_out_sources(objective, profile, semantics)
    proposal = proposal.model_copy(update={"feature_groups": timely})
    if not proposal.feature_groups:
        raise DataError(
            f"no candidate features for {objective.entity_table}: it has no usable attributes"
            " and no table references it",
            fix="add tables that reference the entity (events, orders...) or entity columns,"
            " or point entity_table at another table",
        )
    candidates = _plan(
        goal, kernel, objective, profile, proposal.feature_groups, proposal, semantics
    )
    check_plan_sql(candidates, warehouse)
    ref = plan_ref(candidates, warehouse_ref(candidates.warehouse_schema, candidates.models_schema))
    screening = screen_features(candidates, warehouse, ref)
    if objective.cohort_sql and screening.cohort_rows == 0:
        raise DataError(
            f"the cohort of goal {goal.name!r} ({objective.cohort_description})"
            f" has no rows among the {screening.rows:,} labelled training rows: its metric"
            " could never be measured",
            fix="widen the cohort (overrides.cohort) or check the values its column holds",
        )
    refuse_unlearnable_target(screening, objective, goal.name)
    selection = traced.select_features(
        SelectFeaturesRequest(
            goal=goal, objective=objective, screening=screening, valueless=valueless or {}
        )
    )
    groups = _selected(candidates.feature_groups, selection.kept)
    plan = _plan(
        goal,
        kernel,
        objective,
        profile,
        groups,
        proposal,
        semantics,
        (*selection.rationale, *left_out),
    )
    check_plan_sql(plan, warehouse)
    leakage = audit_plan(warehouse, plan, screening=screening, semantics=semantics)
    audited, dropped = without_leaks(plan, leakage)
    if audited is None:
        raise DataError(
            f"every selected feature of goal {goal.name!r} reads rows after the cutoff or a"
            " table whose time cannot be read: " + "; ".join(dropped[:5]),
            fix="give the event tables a time column (a time type, ISO text or epochs) and"
            " make sure each feature reads only rows recorded before the cutoff",
        )
    if dropped:
        plan = audited
        check_plan_sql(plan, warehouse)
    refuse_oversized_matrix(plan, expected_matrix_rows(plan, profile))
    with warehouse.connect(read_only=True) as conn:
        footprint = {table.name: table_memory_bytes(conn, table) for table in profile.tables}
        suite = build_raw_suite(
            conn,
            profile,
            raw_typed(semantics),
            tuple(t.name for t in plan.raw_tables),
            reference_time=latest_prediction_time(conn, objective),
            objective=objective,
        )
        suite = suite_for_adapters(conn, suite, plan, adapted_sources(plan))
    sized = tuple(
        raw.model_copy(update={"memory_bytes": footprint.get(raw.name, 0)})
        for raw in plan.raw_tables
    )
    return Proposal(
        plan=plan.model_copy(
            update={"raw_tables": sized, "warehouse_bytes": sum(footprint.values())}
        ),
        candidates=candidates.feature_groups,
        profile=profile,
        semantics=semantics,
        screening=screening,
        selection=selection,
        suite=suite,
        leakage=leakage,
        left_out=left_out,
        dropped=dropped,
    )


def _selected(groups: tuple[FeatureGroup, ...], kept: frozenset[str]) -> tuple[FeatureGroup, ...]:
    """Groups with only their kept features (and expectations); empty groups disappear."""
    out = []
    for group in groups:
        features = tuple(f for f in group.features if group.column_name(f) in kept)
        if not features:
            continue
        names = {group.column_name(f) for f in features}
        expectations = tuple(e for e in group.expectations if e.column is None or e.column in names)
        out.append(group.model_copy(update={"features": features, "expectations": expectations}))
    return tuple(out)


def _plan(
    goal: Goal,
    kernel: Kernel,
    objective: Objective,
    profile: WarehouseProfile,
    groups: tuple[FeatureGroup, ...],
    proposal: PlanProposal,
    semantics: SchemaSemantics,
    selection_rationale: tuple[str, ...] = (),
) -> Plan:
    plan = Plan(
        goal=goal.name,
        goal_fingerprint=goal_fingerprint(goal, kernel),
        objective=objective,
        profile_fingerprint=profile.fingerprint,
        agent_schema=agent_schema(goal),
        raw_tables=(),
        feature_groups=groups,
        training_set=proposal.training_set,
        training=proposal.training,
        budget=goal.budget,
        kernel=kernel.name,
        rationale=(*objective.rationale, *proposal.rationale, *selection_rationale),
    )
    # A cohort one foreign key away reads its parent table too (``col IN (SELECT ...)``).
    parents = {name.rpartition(".")[2].lower() for name in cohort_tables(objective.cohort_sql)}
    used = {objective.entity_table, objective.label_table, *plan.tables}
    used |= {t.name for t in profile.tables if t.name.lower() in parents}
    sources = time_adapters(semantics, (t.name for t in profile.tables if t.name in used))
    plan = plan.model_copy(
        update={
            "sources": sources,
            "rationale": (
                *plan.rationale,
                *(f"{a.table}: {reason}" for a in sources for reason in a.reasons),
                *static_reads(plan),
            ),
        }
    )
    raw = tuple(
        RawTable(
            name=t.name,
            schema_name=t.schema_name,
            row_count=t.row_count,
            columns=tuple(RawColumn(name=c.name, data_type=c.data_type) for c in t.columns),
        )
        for t in profile.tables
        if t.name in used
    )
    return plan.model_copy(update={"raw_tables": raw})
