"""Build a goal's Dagster definitions from one plan version.

raw tables -> feature models (dbt) -> training set (dbt) -> model -> evaluation -> goal.
The same function serves ``dagster dev``, run workers and the headless runner, so every
process builds the graph of the version it was given.
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` annotation of
# asset functions at definition time and needs the real class, not a string.
import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext

from dagster_agentic.errors import AgenticError
from dagster_agentic.expectations.models import ExpectationSuite, dagster_name
from dagster_agentic.features.dbt_project import training_set_asset_key
from dagster_agentic.goals.spec import Goal
from dagster_agentic.orchestration.healing import VERSION_TAG, healing_definitions
from dagster_agentic.plan.store import PlanBundle, PlanStore


def raw_key(table: str) -> dg.AssetKey:
    """The asset of a raw table. Dagster derives op input names from asset keys and allows only
    ``[A-Za-z0-9_]`` in them: other names get those characters replaced and a short digest of
    the real name, so two tables never share a key."""
    part = dagster_name(table)
    if part != table:
        part += "_" + hashlib.sha256(table.encode()).hexdigest()[:8]
    return dg.AssetKey(["raw", part])


def model_key(goal: str) -> dg.AssetKey:
    return dg.AssetKey([goal, "model"])


def evaluation_key(goal: str) -> dg.AssetKey:
    return dg.AssetKey([goal, "evaluation"])


def goal_key(goal: str) -> dg.AssetKey:
    return dg.AssetKey([goal])


def job_name(goal: str) -> str:
    return f"{goal}__goal"


def automation_condition() -> dg.AutomationCondition:
    """Materialise when upstream updated or when the code (the SQL, the plan) changed; never on a
    failed check alone, which without a code change would only fail again."""
    return dg.AutomationCondition.eager() | dg.AutomationCondition.code_version_changed()


@contextmanager
def reported_as_failure() -> Iterator[None]:
    """Errors of the core reach the UI as a ``Failure`` whose description carries the fix."""
    try:
        yield
    except AgenticError as error:
        raise dg.Failure(
            description=str(error), metadata={"error": type(error).__name__}
        ) from error


def raw_table_specs(bundle: PlanBundle) -> list[dg.AssetSpec]:
    """The warehouse tables the plan reads: external assets, described from the profile."""
    return [
        dg.AssetSpec(
            key=raw_key(table.name),
            group_name="raw",
            kinds={"duckdb"},
            description=f"Raw warehouse table {table.schema_name}.{table.name} (read-only).",
            metadata={
                "dagster/column_schema": dg.TableSchema(
                    columns=[dg.TableColumn(c.name, c.data_type) for c in table.columns]
                ),
                "dagster/row_count": table.row_count,
            },
        )
        for table in bundle.plan.raw_tables
    ]


def raw_table_checks(goal: Goal, bundle: PlanBundle) -> list[dg.AssetChecksDefinition]:
    """The plan's expectations on each raw table, validated in the warehouse; critical ones
    block every asset downstream of the table."""
    from dagster_agentic.agent.planner import load_suite

    suite = load_suite(bundle)
    checks = []
    for table in suite.tables:
        # A repaired version may read a table under its new name: the checks go with it.
        key = raw_key(bundle.plan.physical(table))
        specs = [
            dg.AssetCheckSpec(
                e.name,
                asset=key,
                blocking=e.critical,
                description=e.reason,
                metadata={"kind": e.kind, "critical": e.critical},
            )
            for e in suite.of(table)
        ]
        checks.append(_table_check(goal, bundle, suite, table, key, specs))
    return checks


def _table_check(
    goal: Goal,
    bundle: PlanBundle,
    suite: ExpectationSuite,
    table: str,
    key: dg.AssetKey,
    specs: list[dg.AssetCheckSpec],
) -> dg.AssetChecksDefinition:
    from dagster_agentic.expectations.validate import validate_table
    from dagster_agentic.features.adapters import adapted_sources
    from dagster_agentic.warehouse.connection import goal_warehouse

    relations = adapted_sources(bundle.plan)

    @dg.multi_asset_check(specs=specs, name=dagster_name(f"{goal.name}__raw_{table}_expectations"))
    def _check(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        with reported_as_failure(), goal_warehouse(goal).connect(read_only=True) as conn:
            results = validate_table(conn, suite, table, relations=relations)
        for result in results:
            e = result.expectation
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=e.name,
                passed=result.passed,
                severity=dg.AssetCheckSeverity.ERROR if e.critical else dg.AssetCheckSeverity.WARN,
                description=result.message,
                metadata={
                    "observed": dg.MetadataValue.json(result.observed),
                    "failing_sample": dg.MetadataValue.json(list(result.failing_sample)),
                    "reason": e.reason,
                },
            )

    return _check


def dbt_feature_assets(bundle: PlanBundle, warehouse: Path) -> dg.AssetsDefinition:
    from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

    from dagster_agentic.features.dbt_project import dbt_executable

    project_dir = str(bundle.dbt_dir)

    class _Translator(DagsterDbtTranslator):
        def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
            if dbt_resource_props["resource_type"] == "source":
                return raw_key(dbt_resource_props["name"])
            return super().get_asset_key(dbt_resource_props)

        def get_automation_condition(
            self, dbt_resource_props: Mapping[str, Any]
        ) -> dg.AutomationCondition | None:
            return automation_condition()

    @dbt_assets(
        # The manifest's content, not its path: dagster-dbt caches manifests by path, and a
        # version directory's manifest must never be mistaken for an earlier one's.
        manifest=json.loads(bundle.manifest.read_text()),
        name=f"{bundle.plan.goal}__dbt",
        dagster_dbt_translator=_Translator(),
    )
    def _features(context: AssetExecutionContext) -> Any:
        dbt = DbtCliResource(
            project_dir=project_dir, profiles_dir=project_dir, dbt_executable=dbt_executable()
        )
        with reported_as_failure(), dbt_writing(warehouse, bundle.plan.goal):
            yield from dbt.cli(["build"], context=context).stream()

    return _features


@contextmanager
def dbt_writing(warehouse: Path, goal: str) -> Iterator[None]:
    """dbt build is the one writer of the warehouse: it holds the warehouse lock exclusively
    (other runs wait for it), and DuckDB's own lock, held by a process outside the agent's
    lock, is reported as a ``WarehouseError`` with a fix instead of dbt's raw IO error."""
    from dagster_dbt.errors import DagsterDbtError

    from dagster_agentic.warehouse.locking import conflict_error, lock_conflict, warehouse_lock

    with warehouse_lock(warehouse, write=True, purpose=f"goal {goal}: dbt build"):
        try:
            yield
        except DagsterDbtError as error:
            if lock_conflict(str(error)):
                raise conflict_error(warehouse, "dbt build", str(error)) from error
            raise


def _plan_metadata(bundle: PlanBundle) -> dict[str, Any]:
    return {"plan_version": bundle.version, "plan_fingerprint": bundle.meta["plan_fingerprint"]}


def model_asset(goal: Goal, bundle: PlanBundle, artifacts: Path) -> dg.AssetsDefinition:
    from dagster_agentic.agent.steps import FRAME_REFERENCE_FILE, frame_checks, train_step
    from dagster_agentic.expectations.training_frame import check_names
    from dagster_agentic.warehouse.connection import goal_warehouse

    plan = bundle.plan
    key = model_key(plan.goal)
    specs = [
        dg.AssetCheckSpec(
            name,
            asset=key,
            description="Training set expectation (Great Expectations on the fetched matrix)",
            metadata={"critical": critical},
        )
        for name, critical in check_names(plan)
    ]

    def check_results() -> Iterator[dg.AssetCheckResult]:
        for check in frame_checks(artifacts):
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=check["name"],
                passed=bool(check["passed"]),
                severity=dg.AssetCheckSeverity.ERROR
                if check["critical"]
                else dg.AssetCheckSeverity.WARN,
                description=check["description"],
                metadata={
                    "observed": dg.MetadataValue.json(check["observed"]),
                    "failing_sample": dg.MetadataValue.json(check["failing_sample"]),
                },
            )

    @dg.asset(
        key=key,
        check_specs=specs,
        deps=[dg.AssetKey(training_set_asset_key(plan.goal))],
        group_name=plan.goal,
        kinds={"python", "lightgbm", "torch"},
        code_version=bundle.meta["plan_fingerprint"],
        automation_condition=automation_condition(),
        description="The best of the plan's model candidates, trained on the training set.",
    )
    def _model(context: AssetExecutionContext) -> Iterator[Any]:
        store = PlanStore(goal.resolved_state_dir, goal.name)
        live = store.accepted_version()
        reference = store.artifacts_dir(live) / FRAME_REFERENCE_FILE if live else None
        try:
            with reported_as_failure():
                outcome = train_step(plan, goal_warehouse(goal), artifacts, reference=reference)
        except dg.Failure:
            yield from check_results()  # why the training set was refused, if it was
            raise
        yield from check_results()
        context.log.info(f"trained {outcome.family}: {outcome.validation}")
        yield dg.MaterializeResult(
            metadata={
                **_plan_metadata(bundle),
                "family": outcome.family,
                "validation_average_precision": outcome.validation["average_precision"],
                "validation_roc_auc": outcome.validation["roc_auc"],
                "rows": dg.MetadataValue.json(outcome.rows),
                "candidates": dg.MetadataValue.json(outcome.reports),
                "egress_bytes": outcome.egress_bytes,
                "features": len(plan.feature_columns),
                "top_features": dg.MetadataValue.json(dict(outcome.importance[:10])),
                "artifacts": dg.MetadataValue.path(str(artifacts)),
            }
        )

    return _model


def evaluation_asset(bundle: PlanBundle, artifacts: Path) -> dg.AssetsDefinition:
    from dagster_agentic.agent.steps import (
        IMPORTANCE_FILE,
        SHAP_PLOT_FILE,
        evaluate_step,
        explanation_markdown,
        read_artifact,
    )

    plan = bundle.plan
    key = evaluation_key(plan.goal)

    @dg.asset(
        key=key,
        deps=[model_key(plan.goal)],
        group_name=plan.goal,
        kinds={"python"},
        code_version=bundle.meta["plan_fingerprint"],
        automation_condition=automation_condition(),
        check_specs=[dg.AssetCheckSpec("goal_met", asset=key, description="metric >= target")],
        description=f"{plan.objective.metric} on {plan.objective.cohort_description}, test split.",
    )
    def _evaluation(context: AssetExecutionContext) -> dg.MaterializeResult:
        with reported_as_failure():
            result = evaluate_step(plan, artifacts)
            importance = read_artifact(artifacts, IMPORTANCE_FILE)
            shap_summary = explanation_markdown(artifacts, importance)
        cohort = result["cohort_test"]
        return dg.MaterializeResult(
            metadata={
                **_plan_metadata(bundle),
                "metric": plan.objective.metric,
                "target": plan.objective.threshold,
                "value": cohort["value"],
                "precision": cohort["precision"],
                "recall": cohort["recall"],
                "threshold": result["threshold"]["threshold"],
                "cohort": plan.objective.cohort_description,
                "cohort_test_rows": cohort["n_rows"],
                "all_test": dg.MetadataValue.json(result["all_test"]),
                "shap_summary": dg.MetadataValue.md(shap_summary),
                "shap_summary_plot": dg.MetadataValue.path(str(artifacts / SHAP_PLOT_FILE)),
                "feature_importance": dg.MetadataValue.json(dict(importance["ranked_shares"][:25])),
                "valueless_features": dg.MetadataValue.json(importance["valueless"]),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name="goal_met",
                    passed=bool(cohort["met"]),
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={"explanation": cohort["explanation"]},
                )
            ],
        )

    return _evaluation


def goal_asset(goal: Goal, bundle: PlanBundle, artifacts: Path) -> dg.AssetsDefinition:
    from dagster_agentic.agent.steps import goal_status

    plan = bundle.plan

    @dg.asset(
        key=goal_key(plan.goal),
        deps=[evaluation_key(plan.goal)],
        group_name=plan.goal,
        kinds={"python"},
        code_version=bundle.meta["plan_fingerprint"],
        automation_condition=automation_condition(),
        description=goal.objective,
    )
    def _goal(context: AssetExecutionContext) -> dg.MaterializeResult:
        with reported_as_failure():
            status = goal_status(plan, artifacts)
        context.log.info(f"goal {plan.goal}: {status['status']}: {status['why']}")
        return dg.MaterializeResult(
            metadata={
                **_plan_metadata(bundle),
                "status": status["status"],
                "why": status["why"],
                "objective": goal.objective,
                "metric": status["metric"],
                "target": status["target"],
                "value": status["value"],
                "cohort": status["cohort"],
                "model_family": status["model_family"],
                "egress_bytes": status["egress_bytes"],
                "warehouse_bytes": plan.warehouse_bytes,
                "egress_share": round(status["egress_bytes"] / max(plan.warehouse_bytes, 1), 6),
                "rationale": dg.MetadataValue.md("\n".join(f"- {r}" for r in plan.rationale)),
            }
        )

    return _goal


def build_definitions(goal: Goal, bundle: PlanBundle) -> dg.Definitions:
    """The Definitions of one plan version of ``goal``."""
    artifacts = PlanStore(goal.resolved_state_dir, goal.name).artifacts_dir(bundle.version)
    assets: list[Any] = [
        *raw_table_specs(bundle),
        dbt_feature_assets(bundle, goal.warehouse),
        model_asset(goal, bundle, artifacts),
        evaluation_asset(bundle, artifacts),
        goal_asset(goal, bundle, artifacts),
    ]
    checks = raw_table_checks(goal, bundle)
    raw_keys = [raw_key(t.name) for t in bundle.plan.raw_tables]
    selection = dg.AssetSelection.groups(goal.name) | dg.AssetSelection.checks_for_assets(*raw_keys)
    job = dg.define_asset_job(
        job_name(goal.name),
        selection=selection,
        description=f"Materialise goal {goal.name!r}: {goal.objective}",
        tags={VERSION_TAG: str(bundle.version)},
    )
    jobs: list[Any] = [job]
    sensors: list[Any] = [
        # Open-source Dagster ships its default automation sensor stopped: this one runs.
        dg.AutomationConditionSensorDefinition(
            f"{goal.name}__automation",
            target=dg.AssetSelection.groups(goal.name),
            default_status=dg.DefaultSensorStatus.RUNNING,
            description="Re-materialises what a new plan version changed (code versions from"
            " the SQL and the plan).",
        )
    ]
    if goal.healing.enabled:
        heal_job, sensor = healing_definitions(goal, job_name(goal.name))
        jobs.append(heal_job)
        sensors.append(sensor)
    return dg.Definitions(assets=assets, asset_checks=checks, jobs=jobs, sensors=sensors)


def goal_definitions(goal: Goal, *, kernel: Any = None) -> dg.Definitions:
    """Definitions of ``goal`` from its accepted plan, planning one if there is none yet.

    Example::

        import dagster_agentic as da

        defs = da.goal_definitions(
            da.Goal(name="churn", objective="...95% precision on European cohorts",
                    warehouse="data/warehouse.duckdb")
        )
    """
    from dagster_agentic.agent.planner import ensure_plan

    return build_definitions(goal, ensure_plan(goal, kernel=kernel))
