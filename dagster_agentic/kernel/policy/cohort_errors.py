"""The errors a cohort phrase ends in when the warehouse does not read it: what was looked
for, what part of the phrase does read ('senior' is nothing the warehouse holds), and the
override to write instead."""

from __future__ import annotations

from dataclasses import dataclass, field

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.kernel.policy.categories import Scope, match_phrase
from dagster_agentic.kernel.policy.cohort_rows import rows_clause
from dagster_agentic.kernel.policy.geography import find_places
from dagster_agentic.kernel.policy.phrases import Phrase
from dagster_agentic.kernel.policy.sql import literal, predicate
from dagster_agentic.kernel.policy.text import name_match, quote
from dagster_agentic.warehouse.models import TableProfile, WarehouseProfile


@dataclass(frozen=True)
class Clause:
    """One condition of a cohort: its SQL, how it is described, and how it was read."""

    sql: str
    description: str
    note: str


@dataclass(frozen=True)
class CohortContext:
    table: TableProfile
    places: list[Scope]
    label: tuple[str, str] | None
    population: frozenset[str]
    children: list[Scope] = field(default_factory=list)  # several rows per entity
    # Every child with several rows per entity, option tables included (see option_rows).
    options: list[Scope] = field(default_factory=list)
    profile: WarehouseProfile | None = None


def unresolved(phrase: Phrase, context: CohortContext) -> ObjectiveError:
    words = quote(" ".join(phrase.words))
    where = " or ".join(p.table.name for p in [*context.places, *context.children])
    what = f"a known country or region, nor a value of a column of {where}"
    detail = partly(phrase, context)
    if phrase.hint and not detail:
        for place in context.places:
            hinted = [
                c
                for c in place.table.columns
                if c.kind == "text"
                and (
                    name_match(phrase.hint, c.name)
                    or (place.via and name_match(phrase.hint, place.table.name))
                )
                and (place.table.name, c.name) != context.label
            ]
            for column in hinted[:1]:
                values = sorted(str(v.value) for v in column.top_values if v.value is not None)
                detail = (
                    f" ({place.table.name}.{column.name} has {', '.join(map(literal, values))})"
                )
            if detail:
                break
    if context.children and not detail:
        tables = ", ".join(sorted(p.table.name for p in context.children))
        detail = f", nor the name of a table with several rows per entity (candidates: {tables})"
    return ObjectiveError(
        f"cannot resolve the cohort {quote(phrase.text)}: {words} is not {what}{detail}",
        fix=cohort_fix(context),
    )


def partly(phrase: Phrase, context: CohortContext) -> str:
    """What of a phrase the data does read, and the words it does not: 'data scientists' is
    a role, 'senior' is nothing the warehouse holds. Empty when no part of it reads."""
    words = [w for w in phrase.words if w.lower() != "not"]
    candidates = [*context.places, *context.children]
    for size in range(len(words) - 1, 0, -1):
        for start in range(len(words) - size + 1):
            part = tuple(words[start : start + size])
            matches = match_phrase(part, None, candidates, context.label, context.population)
            matches = [m for m in matches if m.score[1]]  # a strong fit, not an initial
            if matches:
                best = matches[0]
                shown = ", ".join(literal(v) for v in best.values) or "the flag"
                unread = ", ".join(quote(w) for w in words[:start] + words[start + size :])
                return (
                    f" ({quote(' '.join(part))} reads as {best.place.table.name}."
                    f"{best.column.name} {shown}, but {unread} is no value or column of the "
                    "warehouse, and a cohort is never read narrower than written)"
                )
    return ""


def cohort_fix(context: CohortContext) -> str:
    """The override to write instead, with an example over a column that is not the label."""
    table = context.table
    example = "country = 'DE'"
    for column in table.columns:
        if (table.name, column.name) == context.label or column.name in table.candidate_keys:
            continue
        values = [v.value for v in column.top_values if isinstance(v.value, str)]
        if column.kind == "text" and values:
            example = predicate(column.name, [values[0]])
            break
    example = example.replace('"', '\\"')
    return (
        f'set cohort="<SQL predicate>" explicitly in the goal\'s overrides, a boolean SQL '
        f'predicate over {table.name}, e.g. cohort="{example}"; or rephrase the cohort'
    )


def scene_only(phrase: Phrase, context: CohortContext) -> bool:
    """Whether an unresolved phrase may be left out: it sits in a sentence that only sets
    the scene ('Our clinic screens Pima women for ...') and no part of it reads as a value,
    a place or a table of the warehouse; a phrase of which any word selects rows stays an
    error."""
    if not phrase.context or find_places(list(phrase.words)):
        return False
    return not partly(phrase, context) and rows_clause(phrase, context.children) is None
