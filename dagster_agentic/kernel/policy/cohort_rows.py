"""Cohort clauses over rows rather than values, and how a clause reaches another table.

'orders that include item 10' compares an integer column the noun names with the number,
where the column lives; 'with complaints' / 'without any complaints' selects the entities
that have (or, negated, have no) row in a child table the words name. A clause over a
parent, a one-to-one child or a child with several rows per entity reads as ``key IN
(SELECT ... FROM other WHERE ...)``.
"""

from __future__ import annotations

from dagster_agentic.kernel.policy.categories import Match, Scope, ambiguous
from dagster_agentic.kernel.policy.phrases import Phrase
from dagster_agentic.kernel.policy.sql import ident
from dagster_agentic.kernel.policy.text import abbreviates, name_match, name_tokens, quote
from dagster_agentic.warehouse.connection import qualified_name


def on_place(place: Scope, sql: str) -> str:
    """A predicate over a parent's columns as one over the entity's foreign key."""
    if place.via is None:
        return sql
    fk, key = place.via
    parent = qualified_name(place.table.schema_name, place.table.name)
    return f"{ident(fk)} IN (SELECT {ident(key)} FROM {parent} WHERE {sql})"


def via_note(place: Scope) -> str:
    if place.via is None:
        return ""
    if place.many:
        return (
            f", on the entities with at least one such row ({place.table.name} has several rows "
            f"per entity, linked by {place.table.name}.{place.via[1]} -> {place.via[0]})"
        )
    return f", reached through the foreign key {place.via[0]} -> {place.table.name}.{place.via[1]}"


def numbered_clause(
    phrase: Phrase, places: list[Scope], children: list[Scope], label: tuple[str, str] | None
) -> tuple[str, str, str] | None:
    """'item 10' (the noun names an integer column, the number is in its range): the column
    equals the number where it lives, the entity's own and one hop away before a child's."""
    if not phrase.hint or len(phrase.words) != 1 or not phrase.words[0].isdigit():
        return None
    value = int(phrase.words[0])
    for group in (places, children):
        hits = [
            (place, column)
            for place in group
            for column in place.table.columns
            if column.kind == "numeric"
            and (place.table.name, column.name) != label
            and (place.via is None or column.name != place.via[1])
            and isinstance(column.min, int | float)
            and isinstance(column.max, int | float)
            and column.min <= value <= column.max
            and any(
                name_match(phrase.hint, part) == 2
                for part in name_tokens(column.name)
                if part not in {"id", "no", "nr", "num", "code", "key", "ref", "fk"}
            )
        ]
        if len(hits) > 1:
            raise ambiguous(phrase.text, [Match(p, c, (), False, (0,), "number") for p, c in hits])
        if hits:
            place, column = hits[0]
            inner = f"{ident(column.name)} = {value}"
            where = f"{place.table.name}.{column.name}"
            shown = f"has a {place.table.name} row where {inner}" if place.many else inner
            return (
                on_place(place, inner),
                f"{phrase.text} ({shown})",
                f"cohort from the words {quote(phrase.text)}: {value} is in the range of "
                f"{where}, the column {quote(phrase.hint)} names" + via_note(place),
            )
    return None


def rows_clause(phrase: Phrase, children: list[Scope]) -> tuple[str, str, str] | None:
    """'with complaints', 'without any late payments' (after the negation is read): the
    entities that have a row in a child whose table the words name ('complaints' of
    ``customer_complaints``), ``key IN (SELECT fk FROM child WHERE fk IS NOT NULL)``."""
    named = [
        place
        for place in children
        if place.via is not None
        and any(
            name_match(word, place.table.name) == 2
            or any(abbreviates(part, word) for part in name_tokens(place.table.name))
            for word in phrase.words
            if len(word) >= 3
        )
    ]
    if len(named) != 1 or named[0].via is None:
        return None
    place = named[0]
    key, fk = place.via  # type: ignore[misc]
    child = qualified_name(place.table.schema_name, place.table.name)
    sql = f"{ident(key)} IN (SELECT {ident(fk)} FROM {child} WHERE {ident(fk)} IS NOT NULL)"
    return (
        sql,
        f"{' '.join(phrase.words)} (has a {place.table.name} row)",
        f"cohort from the words {quote(phrase.text)}: the entities with at least one row in "
        f"{place.table.name} (linked by {place.table.name}.{fk} -> {key}), a table the words "
        "name",
    )
