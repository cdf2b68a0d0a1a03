"""The one error hierarchy of dagster-agentic.

Every error says what went wrong and how to fix it::

    AgenticError
     +-- GoalError              a goal that cannot be understood or resolved against the warehouse
     |    +-- ObjectiveError    the objective text cannot be interpreted
     +-- WarehouseError         a missing warehouse, table or column; an unreadable file
     +-- DataError              data that cannot be trained on (empty, one-class target, ...)
     +-- GuardrailError         an action outside the guardrails (unsafe SQL, budget exceeded)
     +-- PlanStoreError         a plan version that is missing, corrupt or concurrently written
     +-- DbtError               dbt failed to parse or build the generated project
"""

from __future__ import annotations


class AgenticError(Exception):
    """Base class. ``fix`` is a short instruction shown after the message."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(f"{message}\n  fix: {fix}" if fix else message)


class GoalError(AgenticError):
    """A goal that cannot be understood or resolved against the warehouse."""


class ObjectiveError(GoalError):
    """The objective's text cannot be interpreted into a structured objective."""


class WarehouseError(AgenticError):
    """A missing warehouse file, table or column, or a warehouse that cannot be read."""


class DataError(AgenticError):
    """Data that cannot be trained or evaluated on: empty, a one-class target, no cohort rows."""


class GuardrailError(AgenticError):
    """An action the guardrails refuse: unsafe SQL, a budget exceeded.

    ``rule`` names the guardrail that refused (``statement``, ``table``, ``function``, ``cost``,
    ``timeout``, ``budget.egress`` ...), so a refusal can be audited and counted by rule.
    """

    def __init__(self, message: str, *, fix: str | None = None, rule: str = "guardrail") -> None:
        self.rule = rule
        super().__init__(f"[{rule}] {message}", fix=fix)


class PlanStoreError(AgenticError):
    """A plan version that is missing, corrupt or written concurrently."""


class DbtError(AgenticError):
    """dbt failed to parse or build the generated project."""
