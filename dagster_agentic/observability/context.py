"""The span a step runs in, shared by the span layer and the SQLite trace.

A context variable, so that a step and everything it calls in the same thread (the headless
runner executes Dagster steps in-process) see the same parent without passing it along.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dagster_agentic.observability.spans import Span

CURRENT: ContextVar[Span | None] = ContextVar("dagster_agentic_span", default=None)


def current_ids() -> tuple[str | None, str | None, str | None]:
    """(trace_id, span_id, parent_span_id) of the current span; Nones outside any span."""
    span = CURRENT.get()
    if span is None:
        return None, None, None
    return span.trace_id, span.span_id, span.parent_id
