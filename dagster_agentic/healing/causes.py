"""The vocabulary of diagnosis: the root causes the agent names and one diagnosis of one."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict

Cause = Literal[
    "renamed_column",
    "renamed_table",
    "removed_column",
    "changed_type",
    "unit_change",
    "relabelled_categories",
    "null_burst",
    "corrupt_values",
    "duplicated_rows",
    "partial_load",
    "stale_feed",
    "key_format_change",
    "orphan_keys",
    "distribution_drift",
    "clock_shift",
    "new_category",
    "training_divergence",
    "unknown",
]
CAUSES: tuple[str, ...] = get_args(Cause)


class Diagnosis(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    cause: Cause
    table: str
    column: str | None = None
    confidence: float
    explanation: str
    remedy: str
    details: dict[str, Any] = {}
