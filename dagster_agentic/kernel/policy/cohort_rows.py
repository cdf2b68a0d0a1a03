"""Cohort clauses over rows rather than values, and how a clause reaches another table.

'orders that include item 10' compares an integer column the noun names with the number,
where the column lives; 'with complaints' / 'without any complaints' selects the entities
that have (or, negated, have no) row in a child table the words name. A clause over a
parent, a one-to-one child or a child with several rows per entity reads as ``key IN
(SELECT ... FROM other WHERE ...)``.
"""

from __future__ import annotations

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.kernel.policy.categories import Match, Scope, ambiguous
from dagster_agentic.kernel.policy.phrases import Phrase
from dagster_agentic.kernel.policy.row_phrases import numbered_bound
from dagster_agentic.kernel.policy.sql import ident
from dagster_agentic.kernel.policy.text import (
    abbreviates,
    name_match,
    name_tokens,
    quote,
    spelled_by_prefixes,
)
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
    equals the number where it lives, the entity's own and one hop away before a child's;
    'series 5 onwards', 'after season 3', 'grades 4 to 6' bound it instead."""
    digits = [int(w) for w in phrase.words if w.isdigit()]
    if not phrase.hint or not digits or not phrase.words:
        return None
    op, value, upper = numbered_bound(phrase.words)
    if op != "in" and len(digits) > 2:
        return None
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
            and all(column.min <= v <= column.max for v in digits)
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
            if op == "in":
                inner = f"{ident(column.name)} IN ({', '.join(str(v) for v in digits)})"
            elif op == "between":
                inner = f"{ident(column.name)} BETWEEN {value} AND {upper}"
            else:
                inner = f"{ident(column.name)} {op} {value}"
            where = f"{place.table.name}.{column.name}"
            listed = ", ".join(str(v) for v in digits)
            numbers = f"{listed} are" if op == "in" else f"{value} is"
            shown = f"has a {place.table.name} row where {inner}" if place.many else inner
            bounded = (
                ", each number listed"
                if op == "in"
                else f", bounded as {op} by the words around it"
                if op != "="
                else ""
            )
            return (
                on_place(place, inner),
                f"{phrase.text} ({shown})",
                f"cohort from the words {quote(phrase.text)}: {numbers} in the range of "
                f"{where}, the column {quote(phrase.hint)} names{bounded}" + via_note(place),
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


def zero_clause(
    words: tuple[str, ...], text: str, places: list[Scope], label: tuple[str, str] | None
) -> tuple[str, str, str] | None:
    """'without any sodium', 'with no overtime hours': none of an amount, ``column = 0``,
    when the words name exactly one numeric column of the entity or a table one hop away
    (its name or a word of it, a name that is the word's first letters such as ``Na`` of
    'natrium' or ``ot_hrs`` of 'overtime hours', or its comment) and the column holds zeros.
    Rows where the amount is unknown (NULL) are not read as none; a column without zeros,
    or several columns the words name, is an error listing them."""
    wanted = [w.lower() for w in words if w.isalpha()]
    if not wanted:
        return None
    hits = [
        (place, column)
        for place in places
        if not place.many
        for column in place.table.columns
        if column.kind == "numeric"
        and not column.is_binary
        and (place.table.name, column.name) != label
        and column.name not in place.table.candidate_keys
        and (place.via is None or column.name != place.via[1])
        and _names_amount(wanted, column.name, column.comment)
    ]
    if not hits:
        return None
    shown = ", ".join(sorted(f"{p.table.name}.{c.name}" for p, c in hits))
    if len(hits) > 1:
        raise ObjectiveError(
            f"the cohort {quote(text)} reads as none of an amount, but the words name several "
            f"numeric columns: {shown}",
            fix='name the column as the warehouse does, or set cohort="<SQL predicate>" in '
            "the goal's overrides",
        )
    place, column = hits[0]
    where = f"{place.table.name}.{column.name}"
    if not isinstance(column.min, int | float) or column.min != 0:
        raise ObjectiveError(
            f"the cohort {quote(text)} reads as {where} = 0, but {where} holds no zero (its "
            f"smallest value is {column.min!r}), so 'none' cannot be read from it",
            fix='set cohort="<SQL predicate>" in the goal\'s overrides',
        )
    inner = f"{ident(column.name)} = 0"
    nulls = (
        f"; the {column.null_fraction:.0%} of rows where it is unknown (NULL) are not read as none"
        if column.null_fraction > 0
        else ""
    )
    return (
        on_place(place, inner),
        f"{text} ({f'{place.table.name}.' if place.via else ''}{inner})",
        f"cohort from the words {quote(text)}: none of the amount {where}, which the words "
        f"name and whose smallest value is 0{nulls}" + via_note(place),
    )


def _names_amount(words: list[str], name: str, comment: str | None) -> bool:
    parts = name_tokens(name)
    if len(words) == 1:
        word = words[0]
        if any(name_match(word, part) == 2 or abbreviates(part, word) for part in parts):
            return True
        # A name that is the word's first letters: 'Ba' of 'barium', 'Fe' not of 'iron'.
        compact = "".join(parts)
        if len(parts) == 1 and 2 <= len(compact) < len(word) and word.startswith(compact):
            return True
    elif len(parts) == 1 and spelled_by_prefixes(parts[0], words):
        return True  # 'ot' / 'othrs' of 'overtime hours'
    elif len(parts) == len(words) and all(
        name_match(w, p) == 2 or abbreviates(p, w) or w.startswith(p)
        for w, p in zip(words, parts, strict=True)
    ):
        return True
    described = name_tokens(comment) if comment else []
    return bool(described) and all(any(name_match(w, d) == 2 for d in described) for w in words)
