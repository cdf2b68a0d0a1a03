"""Cohorts on a child table with one row per entity and option: a purchase's shelf offers
(one per brand, with a price and an 'on feature' flag), an angler's fishing modes (one per
mode, with a price), an employee's survey topics (one per topic, with a score).

A value of such a table's option column means nothing alone (every entity has a row for
every brand); it only says which row a second condition reads: 'when Yoplait is featured'
is the purchases whose YOPLAIT row has the flag set, 'anglers whose charter boat option
would cost less than $50' those whose charter row has a price under 50. Both conditions
are read on the same row: ``key IN (SELECT fk FROM child WHERE option = v AND other)``. The
option's value may be held by a dimension the child references ('charter boat' of
``fishing_modes.mode_name`` for the code ``CHT`` of ``mode_offers.mode_code``).
"""

from __future__ import annotations

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.kernel.policy.categories import Match, Scope, match_phrase, norm
from dagster_agentic.kernel.policy.cohort_rows import on_place
from dagster_agentic.kernel.policy.conditions import Condition
from dagster_agentic.kernel.policy.phrases import Phrase
from dagster_agentic.kernel.policy.ranges import resolve_condition
from dagster_agentic.kernel.policy.sql import ident, literal, predicate
from dagster_agentic.kernel.policy.text import STOPWORDS, Token, name_tokens, quote, word_match
from dagster_agentic.warehouse.connection import qualified_name
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile, WarehouseProfile

Column = tuple[str, str]
# Words between a value and the words naming its row's flag: 'Yoplait is featured',
# 'Dannon is on feature', 'the store brand was being promoted'.
_LINKS = frozenset(
    {"is", "are", "was", "were", "be", "being", "been", "gets", "get", "got", "has", "have"}
)
_PREPOSITIONS = frozenset({"on", "in", "at", "under", "for"})
_YES = frozenset({"yes", "y", "true", "t", "1"})
_NOT = frozenset({"not", "never", "isn't", "aren't", "wasn't", "weren't"})


def option_children(profile: WarehouseProfile | None, entity: TableProfile) -> list[Scope]:
    """Each child with several rows per entity, linked by the entity's key (the option
    tables among them are those :func:`categories.children` leaves out)."""
    if profile is None:
        return []
    found: list[Scope] = []
    for link in profile.children_of(entity.name):
        child = profile.table(link.child_table)
        if (
            child is None
            or child.name == entity.name
            or link.parent_column not in entity.candidate_keys
            or link.child_column in child.candidate_keys
            or any(s.table.name == child.name for s in found)
        ):
            continue
        found.append(Scope(child, (link.parent_column, link.child_column), many=True))
    return found


def row_flag_after(
    tokens: list[Token], end: int, columns: set[Column], profile: WarehouseProfile
) -> tuple[int, str, str] | None:
    """After a value span ending at ``tokens[end]``: 'is featured', 'is on feature', 'was
    on display' naming a two-valued column of a table that holds the value. The number of
    tokens the words take, the table and the flag column."""
    j = end
    while j < len(tokens) and tokens[j].lower in _LINKS | _NOT:
        j += 1
    if j == end or all(t.lower in _NOT for t in tokens[end:j]):
        return None
    while j < len(tokens) and tokens[j].lower in _PREPOSITIONS | {"the", "a"}:
        j += 1
    tables = {table for table, _ in columns}
    for width in (2, 1):
        run = tokens[j : j + width]
        if len(run) < width or not all(t.is_word and t.lower not in STOPWORDS for t in run):
            continue
        hits = [
            (table.name, column.name)
            for table in profile.tables
            if table.name in tables
            for column in table.columns
            if column.is_binary and _names_flag([t.lower for t in run], column.name)
        ]
        if len(hits) == 1:
            return j + width - end, hits[0][0], hits[0][1]
    return None


def _names_flag(words: list[str], name: str) -> bool:
    parts = [p for p in name_tokens(name) if p.isalpha() and p not in STOPWORDS | {"is", "has"}]
    return len(parts) == len(words) and all(
        _verb_of(w, p) for w, p in zip(words, parts, strict=True)
    )


def _verb_of(word: str, part: str) -> bool:
    """A word of the flag's name, or its participle: 'featured' of ``feature``,
    'promoted' of ``promo``... only as the name's own word plus 'd' or 'ed'."""
    if word_match(word, part) == 2:
        return True
    return word.endswith("d") and part in {word[:-1], word[:-2]} and len(part) >= 4


def yes_value(column: ColumnProfile) -> str | int | bool | None:
    """The value that means yes of a two-valued column: TRUE, 'Y'/'yes', 1 of 0/1, or -1 of
    the -1/0 booleans Access writes."""
    if column.kind == "boolean":
        return True
    values = [v.value for v in (column.values or column.top_values) if v.value is not None]
    yes = [v for v in values if norm(str(v)) in _YES]
    if len(yes) == 1 and isinstance(yes[0], str | int):
        return yes[0]
    if column.kind == "numeric" and {float(v) for v in values if isinstance(v, int | float)} <= {
        0.0,
        1.0,
    }:
        return 1
    if column.kind == "numeric" and {
        float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)
    } == {0.0, -1.0}:
        return -1  # the -1/0 booleans of Access and Visual Basic: TRUE is -1
    return None


def option_value(
    words: tuple[str, ...],
    child: Scope,
    profile: WarehouseProfile | None,
    label: Column | None,
    population: frozenset[str],
) -> tuple[str, Match] | None:
    """The predicate over the child's own columns that selects the option the words name:
    a value of one of its columns, or of a dimension one of its columns references."""
    scopes = [Scope(child.table)]
    if profile is not None:
        for link in profile.parents_of(child.table.name):
            parent = profile.table(link.parent_table)
            if parent is not None:
                scopes.append(Scope(parent, (link.child_column, link.parent_column)))
    via = child.via[1] if child.via else None
    matches = [
        m
        for m in match_phrase(words, None, scopes, label, population)
        if not (m.place.via is None and m.column.name == via) and not m.flag and m.score[1]
    ]
    if not matches:
        return None
    best = [m for m in matches if m.score == matches[0].score]
    if len({(m.place.table.name, m.column.name) for m in best}) > 1:
        return None
    match = best[0]
    return on_place(match.place, predicate(match.column.name, list(match.values))), match


def option_sql(child: Scope, inner: str) -> str:
    """The entities with a row of the child where ``inner`` holds."""
    assert child.via is not None
    key, fk = child.via
    table = qualified_name(child.table.schema_name, child.table.name)
    return f"{ident(key)} IN (SELECT {ident(fk)} FROM {table} WHERE {inner})"


def flag_clause(
    phrase: Phrase,
    options: list[Scope],
    profile: WarehouseProfile | None,
    label: Column | None,
    population: frozenset[str],
) -> tuple[str, str, str] | None:
    """'when Yoplait is featured': the entities whose row for the option has the flag set."""
    if phrase.row is None:
        return None
    count, table, flag = phrase.row
    child = next((s for s in options if s.table.name == table), None)
    column = child.table.column(flag) if child is not None else None
    if child is None or column is None:
        return None
    words = phrase.words[: len(phrase.words) - count]
    value = option_value(words, child, profile, label, population)
    yes = yes_value(column)
    if value is None or yes is None:
        return None
    own = "TRUE" if yes is True else literal(yes)
    negated = any(w.lower() in _NOT for w in phrase.words[len(words) :])
    test = f"{ident(flag)} = {own}"
    inner = f"{value[0]} AND " + (f"NOT ({test})" if negated else test)
    shown = " ".join(words)
    return (
        option_sql(child, inner),
        f"{phrase.text} (has a {table} row where {inner})",
        f"cohort from the words {quote(phrase.text)}: {table} has a row per entity and option; "
        f"{quote(shown)} selects the option ({value[1].place.table.name}.{value[1].column.name}) "
        f"and the flag {table}.{flag} is read on that same row",
    )


def condition_clause(
    phrase: Phrase,
    condition: Condition,
    options: list[Scope],
    profile: WarehouseProfile | None,
    label: Column | None,
    population: frozenset[str],
) -> tuple[str, str, str] | None:
    """'anglers whose charter boat option would cost less than $50': the option the words
    name and the comparison right after them, on the same row of one option table. None
    unless exactly one option table holds both."""
    if phrase.row is not None or phrase.words[:1] == ("not",):
        return None
    found = []
    for child in options:
        value = option_value(phrase.words, child, profile, label, population)
        if value is None:
            continue
        try:
            resolved = resolve_condition(condition, [Scope(child.table)], label)
        except ObjectiveError:
            continue
        found.append((child, value, resolved))
    if len(found) != 1:
        return None
    child, (option, match), resolved = found[0]
    inner = f"{option} AND {resolved.sql}"
    table = child.table.name
    # The option's words inside the condition ('Dannon costs under 8 cents') are shown once.
    shown = (
        condition.text
        if phrase.end <= condition.start and phrase.start == condition.start
        else (f"{phrase.text} {condition.text}")
    )
    return (
        option_sql(child, inner),
        f"{shown} (has a {table} row where {inner})",
        f"cohort from the words {quote(phrase.text)} and {quote(condition.text)}: {table} has "
        f"a row per entity and option; {quote(' '.join(phrase.words))} selects the option "
        f"({match.place.table.name}.{match.column.name}) and {resolved.sql} is read on that "
        f"same row ({resolved.note})",
    )
