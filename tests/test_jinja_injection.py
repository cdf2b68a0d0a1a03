"""Nothing from the warehouse, the goal or a kernel runs as Jinja in the generated dbt project.

Every channel carries the same five payloads (``tests/hostile.py``): ``run_query``, ``env_var``,
``adapter.execute``, ``modules`` and ``{% do %}``, each of which would leave a trace if dbt
rendered it. The goal is then planned and run for real (profile, kernel, dbt parse,
``dbt build`` through Dagster, training), and each test reads the warehouse, the generated
files and the built tables."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_agentic import Goal
from dagster_agentic.errors import AgenticError, GoalError
from dagster_agentic.kernel.policy.kernel import PolicyKernel
from dagster_agentic.kernel.protocol import (
    FeatureSelection,
    PlanProposal,
    ProposePlanRequest,
    SelectFeaturesRequest,
)
from dagster_agentic.plan.models import FeatureSpec
from dagster_agentic.plan.store import PlanBundle, PlanStore
from dagster_agentic.runner import RunSummary
from tests.conftest import EXAMPLE_OBJECTIVE
from tests.hostile import (
    CANARY,
    CANARY_VARIABLE,
    hostile_goal,
    ident,
    payload,
    payloads,
    planted_tables,
    rendered_traces,
    sql_text,
)

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Built:
    goal: Goal
    bundle: PlanBundle
    summary: RunSummary


def _build(goal: Goal, kernel: PolicyKernel) -> Built:
    from dagster_agentic.runner import run_goal

    with dg.instance_for_test() as instance:
        summary = run_goal(goal, instance=instance, kernel=kernel, heal=False)
    bundle = PlanStore(goal.resolved_state_dir, goal.name).load_accepted()
    assert bundle is not None
    return Built(goal, bundle, summary)


@pytest.fixture(scope="module")
def canary() -> object:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CANARY_VARIABLE, CANARY)
        yield


@pytest.fixture(scope="module")
def hostile_warehouse(
    pristine_warehouse: Path, tmp_path_factory: pytest.TempPathFactory, canary: object
) -> Built:
    """Payloads in a frequent category value, a column name, a table name and comments; in
    the objective and the cohort override."""
    directory = tmp_path_factory.mktemp("jinja_warehouse")
    goal = hostile_goal(pristine_warehouse, directory / "warehouse.duckdb")
    return _build(goal, PolicyKernel())


class HostileKernel(PolicyKernel):
    """A kernel whose answer carries the payloads: in a hypothesis, a rationale and a string
    literal of a feature's SQL expression."""

    name = "hostile"

    def propose_plan(self, request: ProposePlanRequest) -> PlanProposal:
        proposal = super().propose_plan(request)
        text = payload("kernel")
        group = next(g for g in proposal.feature_groups if g.kind == "child_aggregates")
        feature = FeatureSpec(
            name="n_kernel_literal",
            expression='count(*) FILTER (WHERE CAST(t."customer_id" AS VARCHAR) <> '
            + sql_text(text)
            + ")",
            hypothesis=f"a kernel's hypothesis {text}",
        )
        hostile = group.model_copy(
            update={"features": (*group.features, feature), "rationale": f"because {text}"}
        )
        groups = tuple(hostile if g is group else g for g in proposal.feature_groups)
        return proposal.model_copy(
            update={"feature_groups": groups, "rationale": (*proposal.rationale, text)}
        )

    def select_features(self, request: SelectFeaturesRequest) -> FeatureSelection:
        """The policy's selection, and the hostile feature kept whatever it scored."""
        selection = super().select_features(request)
        decisions = tuple(
            d.model_copy(update={"keep": True}) if d.column.endswith("__n_kernel_literal") else d
            for d in selection.decisions
        )
        return selection.model_copy(update={"decisions": decisions})


@pytest.fixture(scope="module")
def hostile_kernel(
    pristine_warehouse: Path, tmp_path_factory: pytest.TempPathFactory, canary: object
) -> Built:
    directory = tmp_path_factory.mktemp("jinja_kernel")
    warehouse = directory / "warehouse.duckdb"
    shutil.copy(pristine_warehouse, warehouse)
    goal = Goal(name="churn", objective=EXAMPLE_OBJECTIVE, warehouse=warehouse)
    return _build(goal, HostileKernel())


def _generated_text(bundle: PlanBundle) -> str:
    """Every file dbt wrote or read: the project, and what it compiled and ran."""
    texts = [p.read_text(errors="replace") for p in bundle.dbt_dir.rglob("*") if p.is_file()]
    return "\n".join(texts)


def _assert_inert(built: Built, channel: str) -> None:
    warehouse = built.goal.warehouse
    assert planted_tables(warehouse) == [], f"{channel}: a payload ran SQL"
    assert not list(warehouse.parent.glob("pw_*")), f"{channel}: a payload wrote a file"
    text = _generated_text(built.bundle)
    assert rendered_traces(text) == [], f"{channel}: a payload was rendered into a generated file"


def _ran(built: Built) -> list[Path]:
    """The SQL dbt ran (dagster-dbt writes each invocation's target into its own folder)."""
    return [p for p in (built.bundle.dbt_dir / "target").rglob("*.sql") if "run" in p.parts]


def _compiled(built: Built, model_suffix: str) -> str:
    paths = [p for p in _ran(built) if p.name.endswith(f"{model_suffix}.sql")]
    assert paths, f"dbt ran no model ending in {model_suffix}"
    return paths[0].read_text()


def test_run_is_real(hostile_warehouse: Built, hostile_kernel: Built) -> None:
    for built in (hostile_warehouse, hostile_kernel):
        assert built.summary.failed_step is None, built.summary.why
        assert "churn/training_set" in built.summary.assets


def test_category_value_is_read_as_the_raw_string(hostile_warehouse: Built) -> None:
    _assert_inert(hostile_warehouse, "value")
    plan = hostile_warehouse.bundle.plan
    reading = [
        (g, f, value)
        for g in plan.feature_groups
        for f in g.features
        for value in payloads("value")
        if g.source_table == "events" and sql_text(value) in f.expression
    ]
    assert reading, "no selected feature reads a payload category (the test has no teeth)"
    compiled = _compiled(hostile_warehouse, "churn__events")
    with duckdb.connect(str(hostile_warehouse.goal.warehouse), read_only=True) as conn:
        for group, feature, value in reading:
            assert sql_text(value) in compiled
            column = group.column_name(feature)
            built = conn.execute(
                f"SELECT sum({ident(column)}) FROM"
                f" {ident(plan.models_schema)}.{ident('churn__events')}"
            ).fetchone()
            raw = conn.execute(
                f"SELECT count(*) FROM events WHERE event_type = {sql_text(value)}"
            ).fetchone()
            assert built is not None and raw is not None
            assert built[0] and built[0] > 0, f"{column} never matched the raw payload string"
            assert built[0] <= raw[0]


def test_column_name_is_read_as_the_raw_name(hostile_warehouse: Built) -> None:
    _assert_inert(hostile_warehouse, "column")
    name = ident(payload("column"))
    plan = hostile_warehouse.bundle.plan
    assert any(name in f.expression for g in plan.feature_groups for f in g.features), (
        "no selected feature reads the renamed column (the test has no teeth)"
    )
    assert name in _compiled(hostile_warehouse, "churn__payments")


def test_table_name_is_read_as_the_raw_name(hostile_warehouse: Built) -> None:
    _assert_inert(hostile_warehouse, "table")
    table = payload("table")
    plan = hostile_warehouse.bundle.plan
    assert table in plan.tables, "the renamed table was not planned (the test has no teeth)"
    compiled = "\n".join(p.read_text() for p in _ran(hostile_warehouse))
    assert ident(table) in compiled


def test_comments_do_not_run(hostile_warehouse: Built) -> None:
    _assert_inert(hostile_warehouse, "comment")


def test_objective_does_not_run(hostile_warehouse: Built) -> None:
    _assert_inert(hostile_warehouse, "objective")
    # The objective was still read for what it asks, the payload words around it ignored.
    assert hostile_warehouse.bundle.plan.objective.metric == "precision"


def test_cohort_override_is_read_literally(hostile_warehouse: Built) -> None:
    _assert_inert(hostile_warehouse, "cohort")
    assert sql_text(payload("cohort")) in _compiled(hostile_warehouse, "churn__training_set")
    assert hostile_warehouse.summary.cohort  # the cohort was evaluated on its rows


@pytest.mark.parametrize("field", ["target", "entity_table"])
def test_name_overrides_are_refused_before_anything_is_written(
    warehouse_copy: Path, field: str
) -> None:
    from dagster_agentic.agent.planner import ensure_plan

    goal = Goal(
        name="churn",
        objective=EXAMPLE_OBJECTIVE,
        warehouse=warehouse_copy,
        overrides={field: payload(field)},
    )
    with pytest.raises(GoalError) as refused:
        ensure_plan(goal)
    assert field.replace("_", " ") in str(refused.value) or field in str(refused.value)
    assert PlanStore(goal.resolved_state_dir, goal.name).versions() == []
    assert planted_tables(warehouse_copy) == []


def test_kernel_answer_is_rendered_literally(hostile_kernel: Built) -> None:
    _assert_inert(hostile_kernel, "kernel")
    plan = hostile_kernel.bundle.plan
    features = [f for g in plan.feature_groups for f in g.features if f.name == "n_kernel_literal"]
    assert features, "the kernel's feature was not kept (the test has no teeth)"
    text = _generated_text(hostile_kernel.bundle)
    assert f"a kernel's hypothesis {payload('kernel')}" in text.replace("\n", " ")


def test_kernel_jinja_outside_a_literal_is_refused(warehouse_copy: Path) -> None:
    """An expression that is Jinja, not SQL, never reaches dbt: the guardrail refuses it."""
    from dagster_agentic.agent.planner import plan_goal

    class JinjaKernel(PolicyKernel):
        name = "jinja"

        def propose_plan(self, request: ProposePlanRequest) -> PlanProposal:
            proposal = super().propose_plan(request)
            group = proposal.feature_groups[0]
            feature = FeatureSpec(
                name="jinja", expression=payload("bare"), hypothesis="runs dbt's Jinja"
            )
            hostile = group.model_copy(update={"features": (*group.features, feature)})
            return proposal.model_copy(
                update={"feature_groups": (hostile, *proposal.feature_groups[1:])}
            )

    goal = Goal(name="churn", objective=EXAMPLE_OBJECTIVE, warehouse=warehouse_copy)
    with pytest.raises(AgenticError):
        plan_goal(goal, kernel=JinjaKernel())
    assert PlanStore(goal.resolved_state_dir, goal.name).versions() == []
    assert planted_tables(warehouse_copy) == []
