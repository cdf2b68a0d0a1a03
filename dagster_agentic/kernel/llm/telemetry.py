"""OpenTelemetry spans for the model kernel, following the GenAI semantic conventions.

Each kernel decision is an ``invoke_agent dagster-agentic`` span; each model call inside it a
``chat {model}`` span with the ``gen_ai.*`` attributes for the provider, the model and the
token usage. Spans go to an OTLP/HTTP endpoint only when one is configured (the goal's
``kernel.otlp_endpoint``, else the standard OTEL_EXPORTER_OTLP_* variables, else the endpoint of
the goal run the decision is taken in); otherwise nothing is imported and nothing is sent. The
tracer providers are :mod:`dagster_agentic.observability.export`'s, shared with the goal run's
spans, never the process's global one, so an application's telemetry is left as it is. Inside
a goal run, these spans are children of the run's ``decide`` spans.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from dagster_agentic.goals.kernel_spec import ModelKernelSpec
from dagster_agentic.observability import export
from dagster_agentic.observability.spans import current

AGENT = "dagster-agentic"


def endpoint(spec: ModelKernelSpec) -> str | None:
    return export.endpoint(spec.otlp_endpoint)


class Telemetry:
    """The kernel's spans; a no-op without an endpoint."""

    def __init__(self, spec: ModelKernelSpec, goal: str) -> None:
        self.spec, self.goal = spec, goal
        self._url = endpoint(spec)
        self._tracer: Any = export.tracer(self._url)

    @property
    def _active(self) -> Any:
        """The kernel's own tracer, else the exporting goal run's (its spans nest there)."""
        if self._tracer is not None:
            return self._tracer
        run = current()
        return export.tracer(run.url) if run is not None and run.otel is not None else None

    @contextmanager
    def agent(self, decision: str) -> Iterator[None]:
        tracer = self._active
        if tracer is None:
            yield
            return
        with tracer.start_as_current_span(
            f"invoke_agent {AGENT}",
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": AGENT,
                "gen_ai.provider.name": provider(self.spec.model),
                "gen_ai.request.model": self.spec.model,
                "dagster_agentic.goal": self.goal,
                "dagster_agentic.decision": decision,
            },
        ):
            yield

    def chat(self) -> Any:
        tracer = self._active
        if tracer is None:
            return nullcontext(None)
        return tracer.start_as_current_span(
            f"chat {self.spec.model}",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": provider(self.spec.model),
                "gen_ai.request.model": self.spec.model,
                "gen_ai.request.temperature": self.spec.temperature,
                "gen_ai.request.seed": self.spec.seed,
                "gen_ai.output.type": "json",
            },
        )

    def flush(self) -> None:
        export.flush(self._url)


def finish_chat(span: Any, *, model: str, input_tokens: int, output_tokens: int) -> None:
    if span is None:
        return
    span.set_attribute("gen_ai.response.model", model)
    span.set_attribute("gen_ai.usage.input_tokens", input_tokens)
    span.set_attribute("gen_ai.usage.output_tokens", output_tokens)


def fail_chat(span: Any, error: str) -> None:
    if span is None:
        return
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute("error.type", error.split(":", 1)[0])
    span.set_status(Status(StatusCode.ERROR, error))


_PROVIDERS = {
    "bedrock": "aws.bedrock",
    "azure": "azure.ai.openai",
    "azure_ai": "azure.ai.inference",
    "vertex_ai": "gcp.vertex_ai",
    "gemini": "gcp.gemini",
    "mistral": "mistral_ai",
    "xai": "x_ai",
    "watsonx": "ibm.watsonx.ai",
}
"""litellm's provider names where the GenAI conventions spell them otherwise."""


def provider(model: str) -> str:
    """The ``gen_ai.provider.name`` of a litellm model string ('openai/...' -> 'openai'; a
    bare name as litellm resolves it)."""
    if "/" in model:
        prefix = model.split("/", 1)[0].lower()
    else:
        try:
            from dagster_agentic.kernel.llm.client import litellm_module

            prefix = str(litellm_module().get_llm_provider(model)[1])
        except Exception:
            prefix = "unknown"
    return _PROVIDERS.get(prefix, prefix)
