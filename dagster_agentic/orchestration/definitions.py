"""Build a goal's Dagster definitions from one plan version.

raw tables -> <goal>/sources (the gate) -> feature models (dbt) -> training set (dbt) -> model
-> evaluation -> goal. The same function serves ``dagster dev``, run workers and the headless
runner, so every process builds the graph of the version it was given.

Every entry point is gated. The raw tables are external assets (read, never written), and
checks on an external asset run only where a job names them explicitly: "Materialize all",
``dg launch --assets '*'`` or declarative automation would skip them. So the plan's raw-table
expectations are the checks of ``<goal>/sources``, a materialisable asset in the goal's group
that every dbt model reading a source depends on. Any selection of the goal (the UI, the
command line, the goal's job or group, a schedule on them) includes it, and Dagster runs it
before the features; critical expectations are blocking, and a critical failure fails the gate
without materialising it, so nothing downstream runs on the refused data, not even a later
automation tick. The gate's code version covers the plan, its expectations and all of its dbt
SQL, so automation that rebuilds a feature for a code change requests the gate with it.
The gate is built in :mod:`dagster_agentic.orchestration.gate`; its check keys are
``<goal>/sources:<table>__<expectation>``.
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` annotation of
# asset functions at definition time and needs the real class, not a string.
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext

from dagster_agentic.features.dbt_project import training_set_asset_key
from dagster_agentic.goals.spec import Goal
from dagster_agentic.orchestration.healing import VERSION_TAG, healing_definitions
from dagster_agentic.orchestration.kernel_resource import RESOURCE_KEY, ModelKernelResource
from dagster_agentic.orchestration.keys import (
    automation_condition,
    evaluation_key,
    goal_key,
    job_name,
    model_key,
    plan_metadata,
    raw_key,
    reported_as_failure,
)
from dagster_agentic.orchestration.resources import (
    ArtifactStore,
    WarehouseResource,
    checked_artifacts,
    checked_warehouse,
)
from dagster_agentic.plan.store import PlanBundle, PlanStore


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


def dbt_feature_assets(bundle: PlanBundle, warehouse: Path) -> dg.AssetsDefinition:
    from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

    from dagster_agentic.observability.tools import dbt_span
    from dagster_agentic.orchestration.gate import sources_key
    from dagster_agentic.orchestration.resources import version_dbt

    gate = sources_key(bundle.plan.goal)

    class _Translator(DagsterDbtTranslator):
        def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
            if dbt_resource_props["resource_type"] == "source":
                return raw_key(dbt_resource_props["name"])
            return super().get_asset_key(dbt_resource_props)

        def get_asset_spec(
            self, manifest: Mapping[str, Any], unique_id: str, project: Any
        ) -> dg.AssetSpec:
            spec = super().get_asset_spec(manifest, unique_id, project)
            node = manifest.get("nodes", {}).get(unique_id, {})
            parents = node.get("depends_on", {}).get("nodes", [])
            if any(str(parent).startswith("source.") for parent in parents):
                spec = spec.merge_attributes(deps=[gate])  # reads raw data: through the gate
            return spec

        def get_asset_check_spec(
            self,
            asset_spec: dg.AssetSpec,
            manifest: Mapping[str, Any],
            unique_id: str,
            project: Any,
        ) -> dg.AssetCheckSpec | None:
            spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
            # The test's description as dbt rendered it (the generated YAML keeps it literal).
            described = manifest.get("nodes", {}).get(unique_id, {}).get("description")
            if spec is None or not described:
                return spec
            return spec._replace(description=str(described))

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
    def _features(context: AssetExecutionContext, dbt: DbtCliResource) -> Any:
        # The `dbt` resource's executable and flags, on this version's project and profile.
        runner = version_dbt(dbt, bundle)
        with (
            dbt_span(bundle),
            reported_as_failure(),
            dbt_writing(warehouse, bundle.plan.goal),
        ):
            yield from runner.cli(["build"], context=context).stream()

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


def model_asset(goal: Goal, bundle: PlanBundle, artifacts: Path) -> dg.AssetsDefinition:
    from dagster_agentic.agent.steps import FRAME_REFERENCE_FILE, frame_checks, train_step
    from dagster_agentic.expectations.training_frame import check_names
    from dagster_agentic.orchestration.presentation import model_kinds, model_story

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
        kinds=model_kinds(bundle, artifacts),
        code_version=bundle.meta["plan_fingerprint"],
        automation_condition=automation_condition(),
        description="The best of the plan's model candidates, trained on the training set.",
    )
    def _model(
        context: AssetExecutionContext,
        agentic_warehouse: WarehouseResource,
        agentic_artifacts: ArtifactStore,
    ) -> Iterator[Any]:
        warehouse = checked_warehouse(agentic_warehouse, goal)
        checked_artifacts(agentic_artifacts, bundle, artifacts)
        store = PlanStore.of(goal)
        live = store.accepted_version()
        reference = store.artifacts_dir(live) / FRAME_REFERENCE_FILE if live else None
        try:
            with reported_as_failure():
                outcome = train_step(plan, warehouse, artifacts, reference=reference)
        except dg.Failure:
            yield from check_results()  # why the training set was refused, if it was
            raise
        yield from check_results()
        context.log.info(f"trained {outcome.family}: {outcome.validation}")
        yield dg.MaterializeResult(
            metadata={
                **plan_metadata(bundle),
                "family": outcome.family,
                **_validation_metadata(outcome),
                "rows": dg.MetadataValue.json(outcome.rows),
                "egress_bytes": outcome.egress_bytes,
                "features": len(plan.feature_columns),
                **model_story(outcome),
            }
        )

    return _model


def evaluation_asset(bundle: PlanBundle, artifacts: Path) -> dg.AssetsDefinition:
    from dagster_agentic.agent.steps import evaluate_step
    from dagster_agentic.orchestration.presentation import evaluation_story

    plan = bundle.plan
    key = evaluation_key(plan.goal)

    @dg.asset(
        key=key,
        deps=[model_key(plan.goal)],
        group_name=plan.goal,
        kinds={"python"},
        code_version=bundle.meta["plan_fingerprint"],
        automation_condition=automation_condition(),
        description=f"{plan.objective.metric} on {plan.objective.cohort_description}, test split.",
    )
    def _evaluation(
        context: AssetExecutionContext, agentic_artifacts: ArtifactStore
    ) -> dg.MaterializeResult:
        checked_artifacts(agentic_artifacts, bundle, artifacts)
        with reported_as_failure():
            result = evaluate_step(plan, artifacts)
            story = evaluation_story(artifacts, result)
        cohort = result["cohort_test"]
        return dg.MaterializeResult(
            metadata={
                **plan_metadata(bundle),
                "metric": plan.objective.metric,
                "target": plan.objective.threshold,
                "value": cohort["value"],
                "verdict": cohort["verdict"],
                "interval": dg.MetadataValue.json(_interval(cohort)),
                "trivial": cohort["trivial_reason"] or "no",
                "validation_vs_test": result["validation_vs_test"],
                **_decision_metadata(result, cohort),
                "cohort": plan.objective.cohort_description,
                "cohort_test_rows": cohort["n_rows"],
                "all_test": dg.MetadataValue.json(result["all_test"]),
                **story,
            },
        )

    return _evaluation


def _decision_metadata(result: dict[str, Any], cohort: dict[str, Any]) -> dict[str, Any]:
    """Binary goals: the decision threshold, with its precision and recall. Multiclass and
    regression goals have none (argmax, or the value): how the metric was measured (test
    split or cross-validation), every metric of the task and the constant model's baseline."""
    threshold = result.get("threshold")
    if threshold is None:
        return {
            "task": result.get("task", ""),
            "measured_on": cohort["method_detail"],
            "metrics": dg.MetadataValue.json(cohort["metrics"]),
            "baseline": f"{cohort['baseline_description']}: {cohort['baseline']}",
        }
    return {
        "precision": cohort["precision"],
        "recall": cohort["recall"],
        "threshold": threshold["threshold"],
        "threshold_rule": threshold["rule"],
        "feasible_on_validation": bool(threshold["reachable"]),
    }


def _interval(cohort: dict[str, Any]) -> dict[str, Any]:
    """An evaluation's confidence interval and what it rests on, as asset metadata."""
    keys = ("interval_low", "interval_high", "level", "interval_method", "support")
    return {
        **{key.removeprefix("interval_"): cohort[key] for key in keys},
        "support_name": cohort["support_name"],
        "min_support": cohort["min_support"],
    }


def goal_asset(goal: Goal, bundle: PlanBundle, artifacts: Path) -> dg.AssetsDefinition:
    from dagster_agentic.agent.steps import EVALUATION_FILE, goal_status, read_artifact
    from dagster_agentic.healing.health import health_metadata
    from dagster_agentic.orchestration.presentation import (
        goal_story,
        verdict_check_result,
        verdict_check_spec,
    )

    plan = bundle.plan
    key = goal_key(plan.goal)

    @dg.asset(
        key=key,
        deps=[evaluation_key(plan.goal)],
        # The verdict is the goal asset's own check, so its health shows whether it was met.
        check_specs=[verdict_check_spec(key, bundle)],
        group_name=plan.goal,
        kinds={"python"},
        code_version=bundle.meta["plan_fingerprint"],
        automation_condition=automation_condition(),
        description=goal.objective,
    )
    def _goal(
        context: AssetExecutionContext, agentic_artifacts: ArtifactStore
    ) -> dg.MaterializeResult:
        checked_artifacts(agentic_artifacts, bundle, artifacts)
        with reported_as_failure():
            status = goal_status(plan, artifacts)
            verdict = verdict_check_result(bundle, read_artifact(artifacts, EVALUATION_FILE))
        context.log.info(f"goal {plan.goal}: {status['status']}: {status['why']}")
        return dg.MaterializeResult(
            metadata={
                **plan_metadata(bundle),
                "status": status["status"],
                "why": status["why"],
                "objective": goal.objective,
                "metric": status["metric"],
                "target": status["target"],
                "value": status["value"],
                "verdict": status["verdict"],
                "interval": dg.MetadataValue.json(
                    {
                        "low": status["interval"][0],
                        "high": status["interval"][1],
                        "level": status["level"],
                        "support": status["support"],
                        "support_name": status["support_name"],
                    }
                ),
                "trivial": status["trivial_reason"] or "no",
                "feasible_on_validation": status["feasible"],
                "cohort": status["cohort"],
                "model_family": status["model_family"],
                "egress_bytes": status["egress_bytes"],
                "warehouse_bytes": plan.warehouse_bytes,
                "egress_share": round(status["egress_bytes"] / max(plan.warehouse_bytes, 1), 6),
                "rationale": dg.MetadataValue.md("\n".join(f"- {r}" for r in plan.rationale)),
                # Health, and what a repair that went live with a loss gave up and cost.
                **{k: v for k, v in health_metadata(goal).items() if v is not None},
                "result": verdict.metadata["result"],
                **goal_story(goal, bundle),
            },
            check_results=[verdict],
        )

    return _goal


def build_definitions(
    goal: Goal,
    bundle: PlanBundle,
    *,
    kernel: Any = None,
    resources: Mapping[str, Any] | None = None,
) -> dg.Definitions:
    """The Definitions of one plan version of ``goal``; ``kernel`` (a
    :class:`ModelKernelResource`) becomes the heal job's ``agentic_kernel`` resource.
    ``resources`` replace the defaults (``agentic_warehouse``, ``dbt``, ``agentic_artifacts``)."""
    from dagster_agentic.orchestration.gate import sources_asset
    from dagster_agentic.orchestration.observe import raw_tables_observer
    from dagster_agentic.orchestration.predictions import predictions_asset
    from dagster_agentic.orchestration.resources import goal_resources, goal_with_resources

    goal = goal_with_resources(goal, resources or {})

    artifacts = PlanStore.of(goal).artifacts_dir(bundle.version)
    features = dbt_feature_assets(bundle, goal.warehouse)
    goal_assets: list[dg.AssetsDefinition] = [
        sources_asset(goal, bundle),
        features,
        model_asset(goal, bundle, artifacts),
        evaluation_asset(bundle, artifacts),
        goal_asset(goal, bundle, artifacts),
    ]
    # Scoring is asked for, never part of a run of the goal (nor of a candidate's gate run).
    scores = predictions_asset(goal, bundle)
    # The raw tables are observed (row count, latest time), never materialised.
    raw = raw_tables_observer(goal, bundle, raw_table_specs(bundle))
    assets: list[Any] = [raw, *goal_assets, scores]
    job = dg.define_asset_job(
        job_name(goal.name),
        selection=dg.AssetSelection.groups(goal.name) - dg.AssetSelection.assets(scores),
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
        watched = frozenset(key for assets_def in goal_assets for key in assets_def.keys)
        heal_job, sensor = healing_definitions(goal, watched, kernel=kernel is not None)
        jobs.append(heal_job)
        sensors.append(sensor)
    given = {**(resources or {}), **({} if kernel is None else {RESOURCE_KEY: kernel})}
    return dg.Definitions(
        assets=assets, jobs=jobs, sensors=sensors, resources=goal_resources(goal, bundle, given)
    )


def goal_definitions(
    goal: Goal, *, kernel: Any = None, resources: Mapping[str, Any] | None = None
) -> dg.Definitions:
    """Definitions of ``goal`` from its accepted plan, planning one if there is none yet.

    ``kernel`` is a kernel to plan with, or a :class:`ModelKernelResource`: then it plans,
    and the heal job takes it as a resource (its key from ``dg.EnvVar``). ``resources``
    replace those of :mod:`~dagster_agentic.orchestration.resources`; the goal follows the
    warehouse and artifacts directory they name.

    Example::

        import dagster_agentic as da

        defs = da.goal_definitions(
            da.Goal(name="churn", objective="...95% precision on European cohorts",
                    warehouse="data/warehouse.duckdb")
        )
    """
    from dagster_agentic.agent.planner import ensure_plan
    from dagster_agentic.orchestration.resources import goal_with_resources

    goal = goal_with_resources(goal, resources or {})
    if isinstance(kernel, ModelKernelResource):
        bundle = ensure_plan(goal, kernel=kernel.kernel(goal))
        return build_definitions(goal, bundle, kernel=kernel, resources=resources)
    return build_definitions(goal, ensure_plan(goal, kernel=kernel), resources=resources)


def _validation_metadata(outcome: Any) -> dict[str, Any]:
    """The kept model's validation scores: average precision and ROC AUC for two classes,
    the task's own scores (log loss, accuracy, RMSE, ...) otherwise."""
    if outcome.task == "binary_classification":
        return {
            "validation_average_precision": outcome.validation["average_precision"],
            "validation_roc_auc": outcome.validation["roc_auc"],
        }
    scores = {
        k: round(float(v), 6)
        for k, v in outcome.validation.items()
        if k not in ("average_precision", "roc_auc") and v == v
    }
    return {"validation": dg.MetadataValue.json(scores)}
