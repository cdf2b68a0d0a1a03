"""Every agent step as a span, following the OpenTelemetry GenAI semantic conventions.

A goal run is an ``invoke_agent <goal>`` span; planning and healing are ``invoke_agent
planner`` / ``invoke_agent healer`` spans inside it; the tools the agent uses (SQL in the
warehouse, dbt builds, training, evaluation, expectations) are ``execute_tool <tool>`` spans;
kernel decisions are ``decide <decision>`` spans. Our own attributes carry the
``dagster_agentic.`` prefix.

Spans always exist, with W3C ids, so the SQLite trace can name them (and an audit rebuild
the tree offline); they are OpenTelemetry spans, exported, only when an endpoint is
configured (see :mod:`dagster_agentic.observability.export`). Otherwise a span is a small
object in a context variable and nothing of OpenTelemetry is imported.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagster_agentic.observability import export
from dagster_agentic.observability.context import CURRENT

PREFIX = "dagster_agentic."
QUERY_TEXT_CHARS = 2000
"""db.query.text is kept whole up to this length (literals in it may come from data)."""
TEXT_CHARS = 500
"""Other free text on a span (a rationale, an error) is cut to this length."""


_BATCH, _HELD = 500, 5000
"""SQL records are written in batches of up to ``_BATCH``; before the trace exists, up to
``_HELD`` are held back."""


@dataclass
class Sink:
    """Where spans are also written as SQLite trace records: the goal's trace."""

    path: Path
    goal: str
    pending: list[tuple[Any, ...]] = field(default_factory=list)
    """SQL query records not written yet: they go in one transaction with the next record of
    another step (a commit per query would cost more than many of the queries)."""

    def write(self, span: Span, duration_ms: float) -> None:
        failed = "error.type" in span.outputs
        self.pending.append(
            (
                time.time(),
                self.goal,
                span.kind,
                span.name.split(" ", 1)[1],
                span.agent,
                span.inputs,
                {"status": "error" if failed else "ok", **span.outputs},
                duration_ms,
                span.plan_version,
                span.trace_id,
                span.span_id,
                span.parent_id,
            )
        )
        if span.inputs.get("gen_ai.tool.name") != "sql" or len(self.pending) >= _BATCH:
            self.flush()

    def flush(self, *, create: bool = False) -> None:
        """Write what is pending, into a trace that exists (or, with ``create``, a new one):
        until something else is recorded, a run that is refused may still leave nothing."""
        from dagster_agentic.observability.trace import Trace

        if not self.pending or not (create or self.path.exists() or len(self.pending) > _HELD):
            return
        rows, self.pending[:] = list(self.pending), []
        Trace(self.path).record_many(rows)

    def close(self, error: BaseException | None) -> None:
        """The end of the outermost span of the goal: a goal refused before anything was
        recorded writes nothing (its error, with the fix, is the record)."""
        from dagster_agentic.errors import GoalError

        if isinstance(error, GoalError) and not self.path.exists():
            self.pending.clear()
        self.flush(create=True)


@dataclass
class Span:
    """One step: what it is, its ids, and the attributes it was started and ended with."""

    name: str
    kind: str
    """'agent', 'tool' or 'decision': the trace record's kind."""
    operation: str
    agent: str
    trace_id: str
    span_id: str
    parent_id: str | None
    sink: Sink | None
    url: str | None
    """The OTLP endpoint the span is exported to; None: not exported."""
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    plan_version: int | None = None
    started: float = field(default_factory=time.perf_counter)
    otel: Any = None

    def set(self, key: str, value: Any) -> None:
        """An attribute learnt while the step ran (a byte count, a verdict, a cost)."""
        value = _plain(value)
        if value is None:
            return
        self.outputs[key] = value
        if self.otel is not None:
            self.otel.set_attribute(key, value)

    def event(self, name: str, attributes: dict[str, Any]) -> None:
        if self.otel is not None:
            self.otel.add_event(name, _attributes(attributes))


def current() -> Span | None:
    return CURRENT.get()


@contextmanager
def agent_span(
    agent: str,
    *,
    goal: Any = None,
    attributes: dict[str, Any] | None = None,
    plan_version: int | None = None,
) -> Iterator[Span]:
    """An ``invoke_agent`` span; with ``goal``, a root opened here exports to the goal's
    endpoint and writes to the goal's trace."""
    attrs = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent}
    if goal is not None:
        attrs[PREFIX + "goal"] = goal.name
    with _span(
        f"invoke_agent {agent}",
        "agent",
        agent,
        {**attrs, **(attributes or {})},
        goal=goal,
        plan_version=plan_version,
    ) as span:
        yield span


@contextmanager
def tool_span(
    tool: str, attributes: dict[str, Any] | None = None, *, plan_version: int | None = None
) -> Iterator[Span]:
    """An ``execute_tool`` span for one call of ``tool`` by the agent of the current span."""
    parent = CURRENT.get()
    agent = parent.agent if parent is not None else export.SERVICE
    attrs = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.agent.name": agent,
        "gen_ai.tool.name": tool,
        "gen_ai.tool.type": "function",
        "gen_ai.tool.call.id": f"call_{random.getrandbits(64):016x}",
    }
    with _span(
        f"execute_tool {tool}",
        "tool",
        agent,
        {**attrs, **(attributes or {})},
        plan_version=plan_version,
    ) as span:
        yield span


@contextmanager
def decision_span(decision: str, actor: str) -> Iterator[Span]:
    """A kernel decision. It writes no record of its own: the kernel's decision record is
    written inside it and carries its ids."""
    parent = CURRENT.get()
    attrs = {
        "gen_ai.operation.name": "decide",
        "gen_ai.agent.name": parent.agent if parent is not None else actor,
        PREFIX + "decision": decision,
        PREFIX + "kernel": actor,
    }
    with _span(f"decide {decision}", "decision", actor, attrs, record=False) as span:
        yield span


@contextmanager
def query_span(query: str, purpose: str | None = None) -> Iterator[Span]:
    """A SQL query in the warehouse. A query run inside another one's span (a fetch and the
    ``execute`` under it) is the same tool call: the outer span is reused."""
    parent = CURRENT.get()
    if parent is not None and parent.inputs.get("gen_ai.tool.name") == "sql":
        yield parent
        return
    text = " ".join(query.split())
    attrs: dict[str, Any] = {
        "db.system.name": "duckdb",
        "db.query.text": cap(text, QUERY_TEXT_CHARS),
        "db.operation.name": text.split(" ", 1)[0].upper() if text else "",
    }
    if purpose:
        attrs[PREFIX + "purpose"] = purpose
    with tool_span("sql", attrs) as span:
        yield span


def cap(text: str, limit: int = TEXT_CHARS) -> str:
    """``text`` without control characters, cut to ``limit`` characters (marked)."""
    clean = "".join(c if c.isprintable() else " " for c in text)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


@contextmanager
def _span(
    name: str,
    kind: str,
    agent: str,
    attributes: dict[str, Any],
    *,
    goal: Any = None,
    plan_version: int | None = None,
    record: bool = True,
) -> Iterator[Span]:
    parent = CURRENT.get()
    sink = parent.sink if parent is not None else None
    owned = sink is None and goal is not None
    if owned:
        sink = Sink(goal.resolved_state_dir / "trace.sqlite", goal.name)
    if parent is not None:
        url = parent.url
    else:
        url = export.goal_endpoint(goal) if goal is not None else export.endpoint()
    if plan_version is None and parent is not None:
        plan_version = parent.plan_version
    if plan_version is not None:
        attributes = {**attributes, PREFIX + "plan_version": plan_version}
    inputs = {k: v for k, v in ((k, _plain(v)) for k, v in attributes.items()) if v is not None}
    if sink is not None and sink.pending and inputs.get("gen_ai.tool.name") != "sql":
        sink.flush()  # the queries before this step are written before what it records
    span = _start(name, kind, agent, inputs, parent, sink, url, plan_version)
    token = CURRENT.set(span)
    attached = _attach(span)
    failure: BaseException | None = None
    try:
        yield span
    except BaseException as error:
        failure = error
        _fail(span, error)
        raise
    finally:
        _reset(token)
        _finish(span, attached, record)
        if owned and sink is not None:
            sink.close(failure)
        if parent is None and goal is not None:
            # A goal's run ends: its spans are sent now (bounded). A step outside any goal
            # run (a run worker's) leaves them to the background exporter: never a wait each.
            export.flush(url)


def _start(
    name: str,
    kind: str,
    agent: str,
    inputs: dict[str, Any],
    parent: Span | None,
    sink: Sink | None,
    url: str | None,
    plan_version: int | None,
) -> Span:
    otel = None
    tracer = export.tracer(url)
    if tracer is not None:
        from opentelemetry import trace

        context = trace.set_span_in_context(parent.otel) if parent and parent.otel else None
        otel = tracer.start_span(name, context=context, attributes=_attributes(inputs))
        ids = otel.get_span_context()
        trace_id, span_id = f"{ids.trace_id:032x}", f"{ids.span_id:016x}"
    else:
        trace_id = parent.trace_id if parent is not None else f"{_nonzero(128):032x}"
        span_id = f"{_nonzero(64):016x}"
    return Span(
        name=name,
        kind=kind,
        operation=str(inputs.get("gen_ai.operation.name", "")),
        agent=agent,
        trace_id=trace_id,
        span_id=span_id,
        parent_id=parent.span_id if parent is not None else None,
        sink=sink,
        url=url,
        inputs=inputs,
        plan_version=plan_version,
        otel=otel,
    )


def _attach(span: Span) -> Any:
    """Make the span OpenTelemetry's current one too, so the model kernel's ``chat`` spans
    (and an application's own) nest under it."""
    if span.otel is None:
        return None
    from opentelemetry import context, trace

    return context.attach(trace.set_span_in_context(span.otel))


def _fail(span: Span, error: BaseException) -> None:
    kind = type(error)  # fully qualified, as the conventions ask (builtins by name)
    qualified = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    span.outputs["error.type"] = qualified
    span.outputs[PREFIX + "error"] = cap(str(error))
    rule = getattr(error, "rule", None)
    if rule:  # a guardrail refused the step: its verdict, with the rule
        span.outputs[PREFIX + "guardrail.rule"] = str(rule)
        span.outputs[PREFIX + "guardrail.verdict"] = "refused"
    if span.otel is not None:
        from opentelemetry.trace import Status, StatusCode

        span.otel.set_attributes(_attributes(span.outputs))
        span.otel.record_exception(error)
        span.otel.set_status(Status(StatusCode.ERROR, cap(str(error))))


def _reset(token: Any) -> None:
    try:
        CURRENT.reset(token)
    except ValueError:  # ended in another context (a generator step resumed elsewhere)
        CURRENT.set(None)


def _finish(span: Span, attached: Any, record: bool) -> None:
    duration_ms = (time.perf_counter() - span.started) * 1000
    if span.otel is not None:
        from opentelemetry import context

        span.otel.end()
        if attached is not None:  # OpenTelemetry logs (never raises) a detach out of context
            context.detach(attached)
    if record and span.sink is not None:
        span.sink.write(span, duration_ms)


def _nonzero(bits: int) -> int:
    return random.getrandbits(bits) or 1


def _plain(value: Any) -> Any:
    """A value OpenTelemetry takes as an attribute: str, bool, int, float, or a list of one."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return [cap(v) for v in value]
    if isinstance(value, list | tuple) and all(isinstance(v, int | float) for v in value):
        return list(value)
    return cap(str(value))


def _attributes(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in values.items() if _plain(v) is not None}
