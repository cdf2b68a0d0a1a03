"""Phrases read together with the comparison beside them.

A value no column reads alone may sit on one row of an option table with the comparison right
after it ('whose charter boat option would cost less than $50'); the words before a
comparison may name such an option ('trips where Dannon costs under 8 cents'); and a phrase
may only name the table one hop away that the comparison after it reads ('candidates at
centres with 20+ entries'), no cohort of its own.
"""

from __future__ import annotations

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.kernel.policy.cohort_errors import Clause, CohortContext
from dagster_agentic.kernel.policy.conditions import Condition
from dagster_agentic.kernel.policy.option_rows import condition_clause
from dagster_agentic.kernel.policy.phrases import Phrase
from dagster_agentic.kernel.policy.ranges import resolve_condition
from dagster_agentic.kernel.policy.text import STOPWORDS, name_tokens, singular, word_match

__all__ = ["introduces", "option_context", "option_pair"]


def option_pair(
    items: list[Phrase | Condition], index: int, context: CohortContext
) -> Clause | None:
    """A value that no column reads alone, right before a comparison ('whose charter boat
    option would cost less than $50'): both on one row of an option table, or None."""
    phrase = items[index]
    following = items[index + 1] if index + 1 < len(items) else None
    if not isinstance(phrase, Phrase) or not isinstance(following, Condition):
        return None
    if not 0 <= following.start - phrase.end <= 24:  # at most a noun between: 'option'
        return None
    found = condition_clause(
        phrase, following, context.options, context.profile, context.label, context.population
    )
    return Clause(*found) if found is not None else None


def introduces(items: list[Phrase | Condition], index: int, context: CohortContext) -> bool:
    """Whether a phrase no value reads only names the table one hop away that the condition
    right after it reads: 'candidates at centres with 20+ entries' (entries a column of the
    candidates' centre), 'customers in stores with more than 50 staff'."""
    phrase = items[index]
    following = items[index + 1] if index + 1 < len(items) else None
    if not isinstance(phrase, Phrase) or not isinstance(following, Condition):
        return False
    if not 0 <= following.start - phrase.end <= 12:  # 'with', 'that have'
        return False
    try:
        resolved = resolve_condition(following, context.places, context.label, context.children)
    except ObjectiveError:
        return False
    if resolved.place.via is None:
        return False  # the entity's own column: the phrase would be a cohort of its own
    parts = name_tokens(resolved.place.table.name)
    words = [w.lower() for w in phrase.words if w.lower() not in STOPWORDS]
    return bool(words) and all(
        any(word_match(f, p) == 2 for f in {w, singular(w)} for p in parts) for w in words
    )


def option_context(condition: Condition, context: CohortContext) -> Clause | None:
    """'trips where Dannon costs under 8 cents': the words before the comparison name an
    option of an option table (the longest run of them that does), and the comparison
    reads that option's row; None when no option table reads both."""
    words = tuple(condition.context)
    for n in range(len(words), 0, -1):
        phrase = Phrase(
            words[:n], "", " ".join(words[:n]), condition.start, condition.start, False, True
        )
        found = condition_clause(
            phrase, condition, context.options, context.profile, context.label, context.population
        )
        if found is not None:
            return Clause(*found)
    return None
