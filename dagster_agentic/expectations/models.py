"""Expectations and their results, as data (JSON in the plan version, metadata in Dagster)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dagster_agentic.warehouse.models import ScalarValue

ExpectationKind = Literal[
    "table_exists",
    "column_exists",
    "column_type",
    "null_fraction_at_most",
    "between",
    "accepted_values",
    "row_count_between",
    "unique",
    "fresh_within_days",
    "drift_psi_at_most",
    "foreign_key_inclusion",
    "hour_profile_psi_at_most",
    "cohort_share_between",
]


def dagster_name(text: str) -> str:
    """``text`` as a valid Dagster op or check name: other characters become underscores."""
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DataExpectation(_Frozen):
    """One thing that must hold of a raw table for the plan's assumptions to hold."""

    kind: ExpectationKind
    table: str
    column: str | None = None
    critical: bool = Field(
        default=True, description="A failed critical expectation blocks downstream assets."
    )
    reason: str = ""
    data_type: str | None = None
    min_value: float | None = None
    max_value: float | None = None
    values: tuple[str, ...] = ()
    max_fraction: float | None = None
    max_days: float | None = None
    cut_points: tuple[float, ...] = ()
    reference_shares: tuple[float, ...] = ()
    max_psi: float | None = None
    window_days: float | None = Field(
        default=None, description="Only rows this many days before the reference time."
    )
    parent: str | None = Field(default=None, description="For a foreign key: 'table.column'.")
    predicate: str | None = Field(
        default=None,
        description="For the cohort's share: the objective's cohort predicate over the table.",
    )

    @property
    def name(self) -> str:
        """Stable, unique within a table, and a valid Dagster check name."""
        return dagster_name(f"{self.column}__{self.kind}" if self.column else self.kind)


class ExpectationSuite(_Frozen):
    """Every expectation on the raw tables of one plan version, grouped by table."""

    tables: tuple[str, ...]
    expectations: tuple[DataExpectation, ...]
    reference_time: str | None = Field(
        default=None, description="The latest prediction time when the suite was written."
    )

    def of(self, table: str) -> tuple[DataExpectation, ...]:
        return tuple(e for e in self.expectations if e.table == table)


class ExpectationResult(_Frozen):
    expectation: DataExpectation
    passed: bool
    observed: dict[str, Any] = Field(default_factory=dict)
    failing_sample: tuple[ScalarValue, ...] = ()
    message: str

    @property
    def blocking_failure(self) -> bool:
        return not self.passed and self.expectation.critical
