"""``<goal>/sources``: the gate between a goal's raw tables and everything built from them.

Why an asset and not checks on the raw tables: see :mod:`dagster_agentic.orchestration.definitions`.
The checks are the plan's raw-table expectations, validated in the warehouse (read-only);
their names are ``<table>__<expectation>``, the table part being the raw table's asset key.
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` annotation of
# asset functions at definition time and needs the real class, not a string.
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext

from dagster_agentic.goals.spec import Goal
from dagster_agentic.orchestration.keys import (
    automation_condition,
    plan_metadata,
    raw_key,
    reported_as_failure,
)
from dagster_agentic.orchestration.resources import WarehouseResource, checked_warehouse
from dagster_agentic.plan.store import PlanBundle


def sources_key(goal: str) -> dg.AssetKey:
    """The gate asset: the raw tables of the version, validated against its expectations."""
    return dg.AssetKey([goal, "sources"])


def source_check_name(table: str, expectation: str) -> str:
    """The gate's check for ``expectation`` on raw ``table``: unique across tables because the
    table part is the raw table's key (digest-suffixed when its name is not a Dagster name)."""
    return f"{raw_key(table).path[-1]}__{expectation}"


def sources_code_version(bundle: PlanBundle) -> str:
    """Changes whenever the plan, its expectations or any of its dbt SQL changes, so declarative
    automation that re-materialises a feature for a code change always requests the gate with
    it."""
    from dagster_agentic.agent.planner import SUITE_FILE

    manifest = json.loads(bundle.manifest.read_text())
    checksums = sorted(
        str(node.get("checksum", {}).get("checksum", ""))
        for node in manifest.get("nodes", {}).values()
    )
    digest = hashlib.sha256()
    digest.update(str(bundle.meta["plan_fingerprint"]).encode())
    suite = bundle.path / SUITE_FILE
    digest.update(suite.read_bytes() if suite.exists() else b"")
    digest.update("\n".join(checksums).encode())
    return digest.hexdigest()[:16]


def sources_asset(goal: Goal, bundle: PlanBundle) -> dg.AssetsDefinition:
    """``<goal>/sources``: the gate every feature reads through.

    The plan's expectations on the raw tables are checks of this asset, not of the raw tables:
    the raw tables are external (nothing materialises them), so checks on them ran only in a
    job that named them. This asset is in the goal's group and upstream of every dbt model that
    reads a source, so any selection a person or the daemon makes of the goal (``Materialize
    all``, ``dg launch --assets '*'``, the goal's group or job, declarative automation, a
    schedule on any of those) runs it first. Critical expectations are blocking checks: when
    one fails, nothing downstream runs on the bad data and the run fails, which the healing
    sensor sees whatever launched the run.
    """
    from dagster_agentic.agent.planner import load_suite
    from dagster_agentic.expectations.validate import validate_table
    from dagster_agentic.features.adapters import adapted_sources

    plan = bundle.plan
    suite = load_suite(bundle)
    relations = adapted_sources(plan)
    key = sources_key(goal.name)
    # A repaired version may read a table under its new name: the checks go with it.
    tables = [(table, plan.physical(table)) for table in suite.tables]
    specs = [
        dg.AssetCheckSpec(
            source_check_name(physical, e.name),
            asset=key,
            blocking=e.critical,
            description=f"{physical}: {e.reason}",
            metadata={"table": physical, "kind": e.kind, "critical": e.critical},
        )
        for table, physical in tables
        for e in suite.of(table)
    ]

    @dg.asset(
        key=key,
        deps=[raw_key(t.name) for t in plan.raw_tables],
        check_specs=specs,
        group_name=goal.name,
        kinds={"duckdb"},
        code_version=sources_code_version(bundle),
        automation_condition=automation_condition(),
        description="The raw tables this plan version reads, validated in the warehouse against"
        " its expectations before any feature is computed (read-only).",
    )
    def _sources(
        context: AssetExecutionContext, agentic_warehouse: WarehouseResource
    ) -> Iterator[Any]:
        warehouse = checked_warehouse(agentic_warehouse, goal)
        with reported_as_failure(), warehouse.connect(read_only=True) as conn:
            results = [
                (physical, validate_table(conn, suite, table, relations=relations))
                for table, physical in tables
            ]
        failed: dict[str, list[str]] = {}
        critical: list[str] = []
        for physical, table_results in results:
            for result in table_results:
                e = result.expectation
                if not result.passed:
                    failed.setdefault(physical, []).append(e.name)
                    if e.critical:
                        critical.append(source_check_name(physical, e.name))
                yield dg.AssetCheckResult(
                    asset_key=key,
                    check_name=source_check_name(physical, e.name),
                    passed=result.passed,
                    severity=dg.AssetCheckSeverity.ERROR
                    if e.critical
                    else dg.AssetCheckSeverity.WARN,
                    description=result.message,
                    metadata={
                        "table": physical,
                        "observed": dg.MetadataValue.json(result.observed),
                        "failing_sample": dg.MetadataValue.json(list(result.failing_sample)),
                        "reason": e.reason,
                        "plan_version": bundle.version,
                    },
                )
        if critical:
            # No materialisation: a gate recorded as updated would let declarative automation
            # run the features on the data it has just refused.
            raise dg.Failure(
                description=f"{len(critical)} critical expectation(s) of the raw tables failed:"
                f" {', '.join(critical[:10])}",
                metadata={"failed": dg.MetadataValue.json(failed)},
            )
        if failed:
            context.log.warning(f"raw tables failed expectations: {failed}")
        yield dg.MaterializeResult(
            metadata={
                **plan_metadata(bundle),
                "tables": dg.MetadataValue.json([physical for physical, _ in results]),
                "expectations": len(specs),
                "failed": dg.MetadataValue.json(failed),
            }
        )

    return _sources
