"""Great Expectations on an in-memory pandas frame: imported on first use, run in an ephemeral,
offline context, results made JSON-able. The training matrix's checks
(:mod:`dagster_agentic.expectations.training_frame`) run through here."""

from __future__ import annotations

import datetime
import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd


def great_expectations() -> Any:
    """Great Expectations, imported on first use, with warnings left where they were (its
    import routes every warning of the process to logging). Usage statistics are switched off
    on each context (``enable_analytics(False)``), not through the process's environment."""
    show = warnings.showwarning
    import great_expectations as gx

    if warnings.showwarning is not show:
        logging.captureWarnings(False)
    return gx


def run_expectations(
    frame: pd.DataFrame, expectations: Sequence[Any], *, sample: int
) -> list[dict[str, Any]]:
    """One validation of ``frame`` in an ephemeral, offline context; results in input order.

    Each result is ``{"success": bool, "result": {...}, "error": str | None}``.
    """
    gx = great_expectations()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.enable_analytics(False)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas("training_frame")
        .add_dataframe_asset("training_set")
        .add_batch_definition_whole_dataframe("whole")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    for index, expectation in enumerate(expectations):
        expectation.meta = {"index": index}
    # Validated on the batch, not through a stored validation definition: nothing is kept.
    outcome = batch.validate(
        gx.ExpectationSuite(name="training_set", expectations=list(expectations)),
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": sample},
    )
    results: list[dict[str, Any]] = [{}] * len(expectations)
    for item in outcome.results:
        assert item.expectation_config is not None  # every result of a suite run has its own
        info = item.exception_info or {}
        raised = info.get("raised_exception") or any(
            isinstance(v, dict) and v.get("raised_exception") for v in info.values()
        )
        message = info.get("exception_message") or next(
            (v.get("exception_message") for v in info.values() if isinstance(v, dict)), None
        )
        results[int(item.expectation_config.meta["index"])] = {
            "success": bool(item.success),
            "result": dict(item.result or {}),
            "error": str(message or "the expectation could not be evaluated") if raised else None,
        }
    return results


def plain(value: Any) -> Any:
    """``value`` as JSON-able Python: numpy scalars unwrapped, NaN as None, times as ISO text."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.datetime64 | datetime.date):
        stamp = pd.Timestamp(value)
        return None if stamp is pd.NaT else stamp.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)
