"""Which reasoning kernel decides a goal: the offline policy (the default) or a language model.

A goal with no ``kernel`` is decided by the policy kernel. With one, a model reachable through
litellm decides, inside hard budgets, and the policy kernel takes over whenever the model's
answer cannot be used or the provider stays down. No secret is ever part of a goal: the key is
read from the environment variable ``api_key_env`` names, when the call is made.

Example (YAML)::

    kernel:
      model: openai/gpt-4.1-mini
      max_usd: 0.50

or a local OpenAI-compatible server::

    kernel:
      model: hosted_vllm/qwen3-8b
      api_base: http://127.0.0.1:8000/v1
      input_usd_per_million: 0
      output_usd_per_million: 0
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Decision = Literal[
    "interpret_goal", "propose_plan", "select_features", "diagnose", "propose_repair"
]
DECISIONS: tuple[Decision, ...] = (
    "interpret_goal",
    "propose_plan",
    "select_features",
    "diagnose",
    "propose_repair",
)

_MODEL = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.:@/+-]+)?$")
_ENV = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")
_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")


class ModelKernelSpec(BaseModel):
    """A language model as the goal's reasoning kernel, with its budgets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field(
        description="A litellm model string, '<provider>/<model>' (openai/..., anthropic/...,"
        " ollama/..., bedrock/..., hosted_vllm/..., or openai/<name> with api_base for any"
        " OpenAI-compatible server) or a model litellm knows by name (gpt-4o-mini)."
    )
    api_base: str | None = Field(
        default=None, description="Base URL of the provider's API, e.g. http://127.0.0.1:8000/v1."
    )
    api_key_env: str | None = Field(
        default=None,
        description="Name of the environment variable holding the API key (never the key"
        " itself); default: the provider's own variable, as litellm reads it.",
    )
    mode: Literal["model", "hybrid"] = Field(
        default="hybrid",
        description="'hybrid': the policy kernel decides first and the model refines its"
        " decision (or reads what the policy refused); 'model': the model decides alone, the"
        " policy kernel only where the model's answer cannot be used.",
    )
    decisions: tuple[Decision, ...] = Field(
        default=DECISIONS,
        description="The decisions the model takes; the policy kernel takes the others.",
    )
    max_calls: int = Field(default=40, ge=1, description="Model calls per goal run.")
    max_tokens: int = Field(
        default=400_000, ge=1000, description="Prompt and completion tokens per goal run."
    )
    max_usd: float | None = Field(
        default=1.0,
        ge=0.0,
        description="Dollars per goal run, by litellm's local cost map (or the prices below);"
        " None: no dollar limit, the token and call limits still hold.",
    )
    input_usd_per_million: float | None = Field(
        default=None, ge=0.0, description="Price of prompt tokens where litellm has none."
    )
    output_usd_per_million: float | None = Field(
        default=None, ge=0.0, description="Price of completion tokens where litellm has none."
    )
    timeout_s: float = Field(default=60.0, gt=0, le=600, description="Wall time of one call.")
    max_retries: int = Field(
        default=3,
        ge=0,
        le=8,
        description="Retries of a call that timed out or got 429 or 5xx, with back-off.",
    )
    max_answer_retries: int = Field(
        default=2,
        ge=0,
        le=5,
        description="Times an unusable answer is sent back with the reason, before the policy"
        " kernel decides.",
    )
    max_prompt_chars: int = Field(
        default=60_000,
        ge=4000,
        description="Largest prompt; wide warehouses are summarised to fit.",
    )
    sample_values: bool = Field(
        default=True,
        description="Show the model the most frequent values of text columns (quoted as"
        " data); off: names, types and statistics only.",
    )
    temperature: float = Field(
        default=0.0, ge=0.0, le=2.0, description="Sampling temperature; 0: the steadiest answers."
    )
    seed: int = Field(default=0, description="Sent to providers that honour a seed.")
    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP traces endpoint (e.g. http://127.0.0.1:4318/v1/traces) that"
        " receives one span per model call; default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or"
        " OTEL_EXPORTER_OTLP_ENDPOINT when set, else no spans.",
    )

    @field_validator("model")
    @classmethod
    def _model_string(cls, value: str) -> str:
        if not _MODEL.match(value):
            raise ValueError(
                f"kernel.model {value!r} must be a litellm model string, '<provider>/<model>'"
                " or a model litellm knows by name, e.g. 'openai/gpt-4.1-mini',"
                " 'ollama/llama3.1' or 'gpt-4o-mini'"
            )
        return value

    @field_validator("api_base", "otlp_endpoint")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not _URL.match(value):
            raise ValueError(f"{value!r} must be an http:// or https:// URL")
        return value

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV.match(value):
            raise ValueError(
                f"kernel.api_key_env {value!r} must name an environment variable (upper case,"
                " digits, underscores), not hold the key"
            )
        return value

    @model_validator(mode="after")
    def _prices_together(self) -> ModelKernelSpec:
        if (self.input_usd_per_million is None) != (self.output_usd_per_million is None):
            raise ValueError("set input_usd_per_million and output_usd_per_million together")
        return self
