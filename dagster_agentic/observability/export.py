"""Where spans go: one OTLP/HTTP tracer provider per endpoint and process, or none.

The endpoint is the goal's ``telemetry.otlp_endpoint``, else its model kernel's
``otlp_endpoint``, else the standard OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
OTEL_EXPORTER_OTLP_ENDPOINT (+ ``/v1/traces``); ``OTEL_SDK_DISABLED=true`` turns export off.
Without an endpoint nothing of OpenTelemetry is imported. The providers are this package's
own, never the process's global one, so an application's telemetry is left as it is.

Spans are batched and exported in the background; a run flushes them when it ends, for at
most ``FLUSH_SECONDS``, so a receiver that is down never holds up (or fails) a run.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

SERVICE = "dagster-agentic"
EXPORT_TIMEOUT_SECONDS = 2.0
"""One export request's time-out (the exporter retries within it)."""
FLUSH_SECONDS = 3.0
"""The longest a run waits for its spans to be sent when it ends."""

_PROVIDERS: dict[str, Any] = {}
_LOCK = threading.Lock()
_MISSING: set[str] = set()


def endpoint(*settings: str | None) -> str | None:
    """The traces endpoint: the first setting given, else the standard variables."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    for setting in settings:
        if setting:
            return setting
    traces = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if traces:
        return traces
    base = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    return base.rstrip("/") + "/v1/traces" if base else None


def goal_endpoint(goal: Any) -> str | None:
    """The endpoint of ``goal``'s runs (see the module's docstring)."""
    telemetry = getattr(goal, "telemetry", None)
    kernel = getattr(goal, "kernel", None)
    return endpoint(
        getattr(telemetry, "otlp_endpoint", None), getattr(kernel, "otlp_endpoint", None)
    )


def provider(url: str) -> Any:
    """The tracer provider exporting to ``url`` (made once per process)."""
    with _LOCK:
        found = _PROVIDERS.get(url)
        if found is None:
            found = _PROVIDERS[url] = _make_provider(url)
        return found


def tracer(url: str | None) -> Any:
    """A tracer exporting to ``url``; None without one."""
    if url is None or url in _MISSING:
        return None
    try:
        return provider(url).get_tracer("dagster_agentic")
    except ImportError as error:
        # An endpoint in the environment must not fail runs on a machine without the extra:
        # the SQLite trace still records every step.
        _MISSING.add(url)
        logging.getLogger(__name__).warning(
            "spans are not exported to %s: %s (install dagster-agentic[otel])", url, error
        )
        return None


def flush(url: str | None) -> None:
    """Send what is batched for ``url``, waiting at most ``FLUSH_SECONDS``; never raises."""
    found = _PROVIDERS.get(url) if url else None
    if found is None:
        return
    try:
        found.force_flush(timeout_millis=int(FLUSH_SECONDS * 1000))
    except Exception as error:  # the audit in SQLite stands; a lost export is not a failure
        logging.getLogger(__name__).warning("spans not exported to %s: %s", url, error)


def _make_provider(url: str) -> Any:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    made = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    exporter = OTLPSpanExporter(endpoint=url, timeout=EXPORT_TIMEOUT_SECONDS)
    made.add_span_processor(BatchSpanProcessor(exporter, export_timeout_millis=2000))
    return made
