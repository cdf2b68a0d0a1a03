"""Components of dagster-agentic, listed by ``dg list components``."""

from dagster_agentic.orchestration.component import GoalComponent

__all__ = ["GoalComponent"]
