"""Calls to a language model through litellm: retried, budgeted, costed, replayable.

One :class:`Exchange` per call: the request (messages and the answer's JSON schema), the reply,
its tokens and dollars, and the attempts it took. A call that timed out or got 429 or 5xx is
tried again after a back-off; one that still fails, or fails otherwise (a refused key, an
unknown model), raises :class:`ProviderDown`, and the kernel decides by policy instead.
Budgets are checked before each call, so a run stops before it spends past one.

:class:`ReplayClient` answers from a recorded run's exchanges, in order, and refuses a request
it has no recording of: a replay takes the same decisions or says where it diverged.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from dagster_agentic.errors import GuardrailError
from dagster_agentic.goals.kernel_spec import ModelKernelSpec

BACKOFF_S = 0.5
BACKOFF_MAX_S = 8.0
HOSTS_VARIABLE = "DAGSTER_AGENTIC_MODEL_HOSTS"
"""When set, the only hosts a model kernel may call (comma-separated): the tests set it to
127.0.0.1, so no test can reach a real provider."""


class ProviderDown(Exception):
    """The provider gave no usable reply: the reason is the message."""


@dataclass(frozen=True)
class Exchange:
    """One model call as the trace records it."""

    request_hash: str
    messages: tuple[dict[str, str], ...]
    schema_name: str
    content: str | None
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float | None = None
    model: str = ""
    attempts: int = 1
    seconds: float = 0.0
    error: str | None = None

    def record(self) -> dict[str, Any]:
        return {**asdict(self), "messages": list(self.messages), "seconds": round(self.seconds, 3)}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Exchange:
        named = {f.name: record[f.name] for f in fields(cls)}
        return cls(**{**named, "messages": tuple(named["messages"])})


def request_hash(messages: Sequence[dict[str, str]], schema: dict[str, Any]) -> str:
    payload = json.dumps({"messages": list(messages), "schema": schema}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


@dataclass
class Spend:
    """What one goal run has spent on the model, against its budgets."""

    spec: ModelKernelSpec
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0
    unpriced_calls: int = 0

    def check(self) -> None:
        """Raise :class:`GuardrailError` (rule ``budget.model_*``) when a budget is spent."""
        spec = self.spec
        if self.calls >= spec.max_calls:
            self._stop("calls", f"{self.calls} model calls", f"max_calls={spec.max_calls}")
        if self.input_tokens + self.output_tokens >= spec.max_tokens:
            used = f"{self.input_tokens + self.output_tokens:,} tokens"
            self._stop("tokens", used, f"max_tokens={spec.max_tokens:,}")
        if spec.max_usd is not None and self.usd >= spec.max_usd:
            self._stop("usd", f"${self.usd:.4f}", f"max_usd={spec.max_usd:g}")

    def add(self, exchange: Exchange) -> None:
        self.calls += 1
        self.input_tokens += exchange.input_tokens
        self.output_tokens += exchange.output_tokens
        if exchange.usd is None:
            self.unpriced_calls += exchange.error is None
        else:
            self.usd += exchange.usd

    def summary(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "usd": round(self.usd, 6),
            "unpriced_calls": self.unpriced_calls,
        }

    def _stop(self, what: str, used: str, limit: str) -> None:
        raise GuardrailError(
            f"the model kernel's budget is spent: {used} this goal run ({limit}); the agent"
            " stops here, and the trace holds every call and its cost",
            fix=f"raise kernel.{limit.split('=')[0]} in the goal, or run it with the policy"
            " kernel (no 'kernel:' field)",
            rule=f"budget.model_{what}",
        )


Sleep = Callable[[float], None]


@dataclass
class LiteLLMClient:
    """Calls the model ``spec`` names through ``litellm.completion``."""

    spec: ModelKernelSpec
    sleep: Sleep = field(default=time.sleep)
    api_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        allowed_hosts(self.spec)
        self._litellm = litellm_module()
        self._structured = _supports_schema(self._litellm, self.spec.model)
        if self.spec.max_usd is not None and self.spec.input_usd_per_million is None:
            try:
                self._litellm.get_model_info(self.spec.model)
            except Exception:
                raise GuardrailError(
                    f"kernel.max_usd is set, but litellm's cost map has no price for"
                    f" {self.spec.model}, so the dollar budget could not be kept",
                    fix="set kernel.input_usd_per_million and kernel.output_usd_per_million"
                    " (0 for a local server), or kernel.max_usd: null to keep only the call"
                    " and token limits",
                    rule="budget.model_usd",
                ) from None

    def complete(
        self, messages: Sequence[dict[str, str]], schema_name: str, schema: dict[str, Any]
    ) -> Exchange:
        digest = request_hash(messages, schema)
        started = time.perf_counter()
        attempts, last = 0, ""
        while attempts <= self.spec.max_retries:
            attempts += 1
            try:
                response = self._litellm.completion(
                    **self._arguments(messages, schema_name, schema)
                )
            except _transient(self._litellm) as error:
                last = f"{type(error).__name__}: {_first_line(error)}"
                if attempts <= self.spec.max_retries:
                    self.sleep(min(BACKOFF_S * 2 ** (attempts - 1), BACKOFF_MAX_S))
                continue
            except Exception as error:  # a refused key, an unknown model: not worth retrying
                last = f"{type(error).__name__}: {_first_line(error)}"
                break
            return self._exchange(digest, messages, schema_name, response, attempts, started)
        raise ProviderDown(f"{self.spec.model} after {attempts} attempt(s): {last}")

    def _arguments(
        self, messages: Sequence[dict[str, str]], schema_name: str, schema: dict[str, Any]
    ) -> dict[str, Any]:
        spec = self.spec
        sent = [dict(m) for m in messages]
        if not self._structured:
            # JSON mode constrains the syntax only: the schema goes with the instructions.
            sent[0]["content"] += (
                "\n\nAnswer with one JSON object that matches this JSON schema:\n"
                + json.dumps(schema, sort_keys=True)
            )
        arguments: dict[str, Any] = {
            "model": spec.model,
            "messages": sent,
            "timeout": spec.timeout_s,
            "num_retries": 0,
            "temperature": spec.temperature,
            "seed": spec.seed,
            "drop_params": True,
        }
        if self._structured:
            arguments["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema_name, "schema": schema, "strict": False},
            }
        else:
            arguments["response_format"] = {"type": "json_object"}
        if spec.api_base:
            arguments["api_base"] = spec.api_base
        if self.api_key:
            arguments["api_key"] = self.api_key
        elif spec.api_key_env:
            key = os.environ.get(spec.api_key_env)
            if not key:
                raise ProviderDown(f"the environment variable {spec.api_key_env} is not set")
            arguments["api_key"] = key
        elif spec.api_base:
            # An OpenAI-compatible local server needs no key, but the client wants one.
            arguments["api_key"] = "none"
        return arguments

    def _exchange(
        self,
        digest: str,
        messages: Sequence[dict[str, str]],
        schema_name: str,
        response: Any,
        attempts: int,
        started: float,
    ) -> Exchange:
        usage = getattr(response, "usage", None)
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion = int(getattr(usage, "completion_tokens", 0) or 0)
        content = response.choices[0].message.content if response.choices else None
        return Exchange(
            request_hash=digest,
            messages=tuple(messages),
            schema_name=schema_name,
            content=content,
            input_tokens=prompt,
            output_tokens=completion,
            usd=self._cost(response, prompt, completion),
            model=str(getattr(response, "model", "") or self.spec.model),
            attempts=attempts,
            seconds=time.perf_counter() - started,
        )

    def _cost(self, response: Any, prompt: int, completion: int) -> float | None:
        spec = self.spec
        if spec.input_usd_per_million is not None and spec.output_usd_per_million is not None:
            return (
                prompt * spec.input_usd_per_million + completion * spec.output_usd_per_million
            ) / 1e6
        try:
            return float(self._litellm.completion_cost(completion_response=response))
        except Exception:
            return None


class LazyClient:
    """A :class:`LiteLLMClient` made at the first call: loading definitions or checking
    whether a plan is current never imports litellm."""

    def __init__(self, spec: ModelKernelSpec, api_key: str | None = None) -> None:
        self.spec, self._key = spec, api_key
        self._client: LiteLLMClient | None = None

    def complete(
        self, messages: Sequence[dict[str, str]], schema_name: str, schema: dict[str, Any]
    ) -> Exchange:
        if self._client is None:
            self._client = LiteLLMClient(self.spec, api_key=self._key)
        return self._client.complete(messages, schema_name, schema)


@dataclass
class ReplayClient:
    """Answers from recorded exchanges, matched by request, in the order they were made."""

    exchanges: list[Exchange]
    _used: set[int] = field(default_factory=set)

    @classmethod
    def from_trace(cls, trace: Any, goal: str) -> ReplayClient:
        """The exchanges a goal's trace recorded (``kind='llm'`` records of its calls)."""
        calls = [r for r in trace.records(goal=goal, kind="llm") if ":" not in r.name]
        if not calls:
            raise GuardrailError(
                f"the trace {trace.path} holds no model calls of goal {goal!r} to replay",
                fix="replay the trace of a goal run that used a model kernel",
                rule="replay",
            )
        return cls([Exchange.from_record(r.outputs) for r in calls])

    def complete(
        self, messages: Sequence[dict[str, str]], schema_name: str, schema: dict[str, Any]
    ) -> Exchange:
        digest = request_hash(messages, schema)
        for index, exchange in enumerate(self.exchanges):
            if index not in self._used and exchange.request_hash == digest:
                self._used.add(index)
                if exchange.error is not None:
                    raise ProviderDown(exchange.error)
                return exchange
        raise GuardrailError(
            f"the replay has no recorded answer to this {schema_name} request (hash {digest}):"
            " the run diverged from the recording here",
            fix="replay the trace of the same goal, warehouse and package version",
            rule="replay",
        )


def allowed_hosts(spec: ModelKernelSpec) -> None:
    """Refuse a model outside ``DAGSTER_AGENTIC_MODEL_HOSTS`` when it is set."""
    listed = os.environ.get(HOSTS_VARIABLE)
    if not listed:
        return
    from urllib.parse import urlsplit

    hosts = {h.strip().lower() for h in listed.split(",") if h.strip()}
    host = (urlsplit(spec.api_base).hostname or "").lower() if spec.api_base else None
    if host not in hosts:
        where = f"host {host}" if host else f"the provider's own endpoint ({spec.model})"
        raise GuardrailError(
            f"the model kernel may call only {', '.join(sorted(hosts))} here"
            f" ({HOSTS_VARIABLE}), not {where}",
            fix=f"set kernel.api_base to an allowed host, or unset {HOSTS_VARIABLE}",
            rule="model_host",
        )


def litellm_module() -> Any:
    """litellm, its cost map read from the installed package, never fetched: litellm reads
    the switch while it is imported, so the environment carries it for the import only."""
    from dagster_agentic.offline import LITELLM_SWITCHES, scoped_environ

    with scoped_environ(LITELLM_SWITCHES):
        import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    return litellm


def _supports_schema(litellm: Any, model: str) -> bool:
    try:
        return bool(litellm.supports_response_schema(model=model))
    except Exception:
        return False


def _transient(litellm: Any) -> tuple[type[BaseException], ...]:
    return (
        litellm.Timeout,
        litellm.RateLimitError,
        litellm.InternalServerError,
        litellm.ServiceUnavailableError,
        litellm.BadGatewayError,
        litellm.APIConnectionError,
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__
