"""One decision asked of a model: the prompt, the answer's checks, the retries, the record.

:func:`ask` sends the system prompt and the decision's prompt (a template file of the package,
filled with one JSON DATA document), parses the reply against the decision's pydantic answer
model, and hands it to the decision's ``accept``, which grounds it in the warehouse or raises
with the reason. A reply that is not JSON, misses a field, names what does not exist, holds
Jinja or code markers, or that ``accept`` refuses is sent back with the reason, at most
``max_answer_retries`` times; then :class:`Unanswered` says why, and the kernel decides by
policy. Every call, answered or failed, is one ``kind='llm'`` trace record.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from string import Template
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from dagster_agentic.errors import AgenticError, ObjectiveError
from dagster_agentic.goals.kernel_spec import ModelKernelSpec
from dagster_agentic.kernel.llm.client import Exchange, ProviderDown, Spend, request_hash
from dagster_agentic.kernel.llm.telemetry import Telemetry, fail_chat, finish_chat
from dagster_agentic.observability.trace import Trace

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")

# Template and code markers no answer may carry: they would become code if anything downstream
# rendered the text (dbt renders every model and YAML value as Jinja).
_MARKERS = re.compile(r"\{\{|\{%|\{#|<\?|<script", re.IGNORECASE)


class ModelRefused(ObjectiveError):
    """The model read the request and found it cannot be served as written: a final answer,
    never sent back."""


class Unanswered(Exception):
    """The model gave no usable answer; the message says why (for the trace and rationale)."""


@dataclass
class Asker:
    """Everything a decision's call shares: the model's spec, client, spend, trace, spans."""

    spec: ModelKernelSpec
    client: Any
    spend: Spend
    trace: Trace
    goal: str
    telemetry: Telemetry
    down: str | None = None
    """Why the provider gave no reply, once it has not: the rest of the run asks no more."""

    def ask(
        self,
        decision: str,
        data: dict[str, Any],
        answer: type[T],
        accept: Callable[[T], R],
        **notes: str,
    ) -> R:
        """The accepted result of ``decision``, or :class:`Unanswered`."""
        messages = [
            {"role": "system", "content": prompt("system")},
            {"role": "user", "content": prompt(decision, data=_document(data), **notes)},
        ]
        size = sum(len(m["content"]) for m in messages)
        if size > self.spec.max_prompt_chars:
            raise Unanswered(
                f"the prompt would be {size:,} characters, over kernel.max_prompt_chars="
                f"{self.spec.max_prompt_chars:,}"
            )
        schema = answer.model_json_schema()
        reasons: list[str] = []
        for _ in range(self.spec.max_answer_retries + 1):
            content = self._call(decision, messages, answer.__name__, schema)
            try:
                result = accept(parse(content, answer))
            except ModelRefused:
                raise
            except (ValueError, ValidationError, AgenticError, LookupError, TypeError) as error:
                # LookupError, TypeError: an answer shaped in a way no check foresaw is still
                # only an unusable answer, never a failed run.
                reason = _reason(error)
                reasons.append(reason)
                self.note(decision, "rejected", {"reason": reason})
                messages = [
                    *messages,
                    {"role": "assistant", "content": content},
                    {
                        "role": "user",
                        "content": "Your answer was rejected: "
                        + reason
                        + "\nAnswer again with one JSON object that fixes this.",
                    },
                ]
                continue
            return result
        raise Unanswered(
            f"{len(reasons)} answer(s) rejected; the last: {reasons[-1]}"
            if reasons
            else "no answer"
        )

    def _call(
        self, decision: str, messages: list[dict[str, str]], name: str, schema: dict[str, Any]
    ) -> str:
        if self.down is not None:
            raise Unanswered(f"the provider gave no reply earlier in this run: {self.down}")
        self.spend.check()
        started = time.perf_counter()
        with self.telemetry.chat() as span:
            try:
                exchange = self.client.complete(messages, name, schema)
            except ProviderDown as down:
                failed = Exchange(
                    request_hash=request_hash(messages, schema),
                    messages=tuple(messages),
                    schema_name=name,
                    content=None,
                    seconds=time.perf_counter() - started,
                    error=str(down),
                )
                self.spend.add(failed)
                self._record(decision, failed)
                fail_chat(span, str(down))
                self.down = str(down)
                raise Unanswered(f"the provider gave no reply: {down}") from None
            finish_chat(
                span,
                model=exchange.model,
                input_tokens=exchange.input_tokens,
                output_tokens=exchange.output_tokens,
            )
        self.spend.add(exchange)
        self._record(decision, exchange)
        return exchange.content or ""

    def _record(self, decision: str, exchange: Exchange) -> None:
        self.trace.record(
            goal=self.goal,
            kind="llm",
            name=decision,
            actor=f"llm:{self.spec.model}",
            inputs={"request_hash": exchange.request_hash, "messages": list(exchange.messages)},
            outputs={**exchange.record(), "spend": self.spend.summary()},
            duration_ms=exchange.seconds * 1000,
        )

    def note(self, decision: str, what: str, outputs: dict[str, Any]) -> None:
        self.trace.record(
            goal=self.goal,
            kind="llm",
            name=f"{decision}:{what}",
            actor=f"llm:{self.spec.model}",
            inputs={},
            outputs={**outputs, "spend": self.spend.summary()},
            duration_ms=0.0,
        )


def parse(content: str, answer: type[T]) -> T:
    """The answer in ``content``: one JSON object (a fenced block is unwrapped), with no
    template or code markers anywhere in it."""
    text = content.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, flags=re.DOTALL)
    if fenced:
        text = fenced.group(1)
    if _MARKERS.search(text):
        raise ValueError(
            "the answer holds template or code markers ({{, {%, {#, <script): answers are data"
            " and never carry Jinja or code"
        )
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"the answer is not valid JSON ({error.msg} at {error.pos})") from None
    if not isinstance(payload, dict):
        raise ValueError("the answer must be one JSON object")
    return answer.model_validate(payload)


def prompt(name: str, **values: str) -> str:
    """The template ``prompts/<name>.txt`` of the package with ``values`` filled in."""
    source = resources.files("dagster_agentic.kernel.llm").joinpath(f"prompts/{name}.txt")
    template = Template(source.read_text(encoding="utf-8"))
    defaults = {"overrides_note": ""}
    return template.substitute({**defaults, **values})


def _document(data: dict[str, Any]) -> str:
    # ensure_ascii keeps every character of the data inside a JSON string: nothing in a value
    # can close the fence or start a line of its own.
    return json.dumps(data, ensure_ascii=True, sort_keys=True, default=str)


def _reason(error: BaseException) -> str:
    if isinstance(error, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}"
            for e in error.errors()[:6]
        ]
        return "the answer does not match the schema: " + "; ".join(parts)
    if isinstance(error, AgenticError):
        return error.message + (f" (fix: {error.fix})" if error.fix else "")
    return str(error)
