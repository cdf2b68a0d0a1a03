"""The raw tables as observable sources: "Observe sources" in the UI (or a sensor that
launches the observation) records each table's row count and its latest timestamp, and a
data version from them, so the raw tables show when they last changed.

Read-only and short: one shared hold of the warehouse lock and one read-only connection for a
``count(*)`` and a ``max()`` per timestamp column of each table. dbt's build waits for the
shared hold only as long as those queries take, and an observation that finds a build
running waits at most :data:`OBSERVE_LOCK_SECONDS` before it fails with the holder's name.
"""

# No `from __future__ import annotations`: Dagster inspects annotations of what it wraps.
import datetime as dt
import hashlib
import warnings
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster import BetaWarning

from dagster_agentic.goals.spec import Goal
from dagster_agentic.orchestration.keys import raw_key, reported_as_failure
from dagster_agentic.plan.models import RawTable
from dagster_agentic.plan.store import PlanBundle

OBSERVE_LOCK_SECONDS = 30.0
_TIME_TYPES = ("TIMESTAMP", "DATE")


def time_columns(table: RawTable) -> list[str]:
    """The table's date and timestamp columns, as profiled."""
    return [c.name for c in table.columns if c.data_type.upper().startswith(_TIME_TYPES)]


def table_state(conn: Any, schema: str, table: RawTable, physical: str) -> dict[str, Any]:
    """Row count and latest time of each time column, read with one aggregate query."""
    from dagster_agentic.warehouse.connection import qualified_name, quote_ident

    times = time_columns(table)
    selects = ["count(*)", *(f"max({quote_ident(c)})" for c in times)]
    row = conn.execute(f"SELECT {', '.join(selects)} FROM {qualified_name(schema, physical)}")
    values = row.fetchone()
    latest = {c: v for c, v in zip(times, values[1:], strict=True) if v is not None}
    return {"rows": int(values[0]), "latest": latest}


def data_version(state: dict[str, Any]) -> str:
    """Changes when the row count or a latest time changes."""
    text = f"{state['rows']}|" + "|".join(f"{c}={v}" for c, v in sorted(state["latest"].items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _timestamp(value: Any) -> float | None:
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return moment.timestamp()
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).timestamp()
    return None


def _result(key: dg.AssetKey, state: dict[str, Any]) -> dg.ObserveResult:
    metadata: dict[str, Any] = {"dagster/row_count": state["rows"]}
    stamps = [t for t in (_timestamp(v) for v in state["latest"].values()) if t is not None]
    if stamps:
        metadata["latest_timestamp"] = dg.MetadataValue.timestamp(max(stamps))
    metadata["latest"] = dg.MetadataValue.json({c: str(v) for c, v in state["latest"].items()})
    return dg.ObserveResult(
        asset_key=key, data_version=dg.DataVersion(data_version(state)), metadata=metadata
    )


def raw_tables_observer(
    goal: Goal, bundle: PlanBundle, specs: list[dg.AssetSpec]
) -> dg.AssetsDefinition:
    """One observation of every raw table the plan reads."""
    plan = bundle.plan

    def _observe(context: dg.AssetExecutionContext) -> Iterator[dg.ObserveResult]:
        import duckdb

        from dagster_agentic.warehouse.connection import goal_warehouse
        from dagster_agentic.warehouse.locking import warehouse_lock

        states: list[tuple[dg.AssetKey, dict[str, Any] | str]] = []
        purpose = f"goal {goal.name}: observe raw tables"
        with (
            reported_as_failure(),
            warehouse_lock(
                goal.warehouse, write=False, purpose=purpose, timeout=OBSERVE_LOCK_SECONDS
            ),
            goal_warehouse(goal).connect(read_only=True) as conn,
        ):
            for table in plan.raw_tables:
                try:
                    state: dict[str, Any] | str = table_state(
                        conn, plan.warehouse_schema, table, plan.physical(table.name)
                    )
                except duckdb.Error as error:  # gone or changed: said, not fatal to the rest
                    state = str(error).splitlines()[0][:300]
                states.append((raw_key(table.name), state))
        for key, state in states:
            if isinstance(state, str):
                context.log.warning(f"{key.to_user_string()}: {state}")
                yield dg.ObserveResult(
                    asset_key=key,
                    data_version=dg.DataVersion("unreadable"),
                    metadata={"error": state},
                )
            else:
                yield _result(key, state)

    # Observable sources are the way Dagster records activity on data it does not write; the
    # decorator is marked beta in this Dagster, which would warn in every process that loads it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BetaWarning)
        return dg.multi_observable_source_asset(
            specs=specs,
            name=f"{goal.name}__observe_raw",
            description="Row count and latest time of each raw table (read-only).",
        )(_observe)
