"""Interpret a goal's objective text into a structured :class:`Objective`, without an LLM.

The rules are deterministic: the same text, profile and overrides always give the same
objective, and every decision leaves one readable line in ``Objective.rationale``.
"""

from __future__ import annotations

from dagster_agentic.errors import GoalError, ObjectiveError
from dagster_agentic.goals.objective import Objective
from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.kernel.policy.cohort import resolve_cohort
from dagster_agentic.kernel.policy.entity import find_cutoff, resolve_entity
from dagster_agentic.kernel.policy.metric import read_metric
from dagster_agentic.kernel.policy.phrases import Phrase, find_phrases
from dagster_agentic.kernel.policy.target import resolve_target
from dagster_agentic.kernel.policy.task import check_task
from dagster_agentic.kernel.policy.text import (
    METRIC_WORDS,
    PLAN_NOUNS,
    POPULATION_NOUNS,
    STOPWORDS,
    Token,
    name_match,
    tokenize,
)
from dagster_agentic.warehouse.models import TableProfile, WarehouseProfile


def interpret_objective(
    text: str, profile: WarehouseProfile, overrides: GoalOverrides
) -> Objective:
    """Resolve ``text`` against ``profile``; explicit ``overrides`` win over the text.

    Raises :class:`ObjectiveError` when the text cannot be interpreted and :class:`GoalError`
    when an override does not fit the warehouse; each error carries a ``fix``.
    """
    if not text.strip():
        raise ObjectiveError(
            "the objective is empty",
            fix="describe the goal, e.g. 'Optimise the churn model for 95% precision'",
        )
    notes = [check_task(text)]
    metric, threshold, metric_notes = read_metric(text, overrides)
    notes.extend(metric_notes)

    tokens = tokenize(text)
    phrases = [] if overrides.cohort is not None else find_phrases(text, tokens)
    in_phrases = [t for t in tokens if any(p.start <= t.start < p.end for p in phrases)]
    words = content_words([t for t in tokens if t not in in_phrases])
    target = resolve_target(profile, words, overrides.target, notes, content_words(in_phrases))
    label = _table(profile, target.table)
    # "for churned customers" describes the label, not a cohort.
    phrases = [p for p in phrases if not _names_column(p, target.column)]

    entity = resolve_entity(profile, label, target.column, words, overrides.entity_table, notes)
    cutoff = find_cutoff(label, notes)
    entity_table = _table(profile, entity.table)
    exclude = target.column if entity.table == label.name else None
    cohort = resolve_cohort(phrases, entity_table, exclude, overrides.cohort, notes)

    return Objective(
        entity_table=entity.table,
        entity_key=entity.key,
        label_table=label.name,
        label_key=entity.label_key,
        target_column=target.column,
        positive_value=target.positive_value,
        cutoff_column=cutoff,
        metric=metric,
        threshold=threshold,
        cohort_sql=cohort.sql,
        cohort_description=cohort.description,
        rationale=tuple(notes),
    )


def content_words(tokens: list[Token]) -> list[str]:
    """Words that may name the outcome: no function words, metric words or population nouns."""
    words: list[str] = []
    for token in tokens:
        word = token.lower
        if (
            token.is_word
            and len(word) >= 3
            and word not in STOPWORDS
            and word not in METRIC_WORDS
            and word not in POPULATION_NOUNS
            and word not in PLAN_NOUNS
            and word not in words
        ):
            words.append(word)
    return words


def _names_column(phrase: Phrase, column: str) -> bool:
    return any(name_match(word, column) == 2 for word in phrase.words)


def _table(profile: WarehouseProfile, name: str) -> TableProfile:
    table = profile.table(name)
    if table is None:  # every name comes from the profile itself
        raise GoalError(f"table {name!r} is not in the warehouse profile")
    return table
