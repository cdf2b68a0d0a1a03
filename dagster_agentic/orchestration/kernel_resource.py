"""The model kernel as a Dagster resource, its key from the deployment's secrets.

Example::

    import dagster as dg
    import dagster_agentic as da

    defs = da.goal_definitions(
        goal,
        kernel=da.ModelKernelResource(
            model="anthropic/claude-sonnet-4-5",
            api_key=dg.EnvVar("ANTHROPIC_API_KEY"),
            max_usd=2.0,
        ),
    )

The goal is planned with it when the definitions load, and the heal job takes it as the
resource ``agentic_kernel`` whenever it diagnoses and repairs. The key is read from the
environment when a kernel is made and handed to the client directly: it is never part of the
goal, the plan, the trace or the run's config.
"""

from __future__ import annotations

from typing import Any, Literal

import dagster as dg
from pydantic import Field

from dagster_agentic.goals.kernel_spec import ModelKernelSpec
from dagster_agentic.goals.spec import Goal

RESOURCE_KEY = "agentic_kernel"


class ModelKernelResource(dg.ConfigurableResource):
    """A language model as the reasoning kernel of the goals it is given to."""

    model: str = Field(description="A litellm model string, '<provider>/<model>'.")
    api_key: str | None = Field(
        default=None, description="The provider's key; pass dg.EnvVar('...'), never a literal."
    )
    api_base: str | None = None
    mode: Literal["model", "hybrid"] = "hybrid"
    max_calls: int = 40
    max_tokens: int = 400_000
    max_usd: float | None = 1.0
    input_usd_per_million: float | None = None
    output_usd_per_million: float | None = None
    timeout_s: float = 60.0
    sample_values: bool = True
    otlp_endpoint: str | None = None

    def spec(self) -> ModelKernelSpec:
        fields = self.model_dump(exclude={"api_key"})
        return ModelKernelSpec(
            **{k: v for k, v in fields.items() if v is not None or k == "max_usd"}
        )

    def kernel(self, goal: Goal) -> Any:
        from dagster_agentic.agent.planner import trace_for
        from dagster_agentic.kernel.llm.kernel import LLMKernel

        key = self.api_key
        if isinstance(key, dg.EnvVar):
            key = key.get_value()
        return LLMKernel(self.spec(), trace=trace_for(goal), goal=goal.name, api_key=key)
