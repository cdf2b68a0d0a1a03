"""Resolve cohort phrases into a SQL predicate over the entity table's columns.

A phrase is read against the entity's columns, those one hop away and, for category values,
those of a child with several rows per entity ("has such a row"). A value the warehouse holds
as written ('CA' of a state column) is read before a country or region guess. A phrase that
cannot be resolved is an error that lists what was looked for; the description of each
clause says only what its SQL does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.kernel.policy.asides import is_aside
from dagster_agentic.kernel.policy.categories import (
    Match,
    ambiguous,
    children,
    match_phrase,
    norm,
    places,
)
from dagster_agentic.kernel.policy.cohort_errors import (
    Clause,
    CohortContext,
    cohort_fix,
    scene_only,
    unresolved,
)
from dagster_agentic.kernel.policy.cohort_geo import geo_clause
from dagster_agentic.kernel.policy.cohort_neighbours import introduces, option_context, option_pair
from dagster_agentic.kernel.policy.cohort_rows import (
    numbered_clause,
    on_place,
    rows_clause,
    via_note,
    zero_clause,
)
from dagster_agentic.kernel.policy.conditions import Condition
from dagster_agentic.kernel.policy.contradictions import refuse_contradictions
from dagster_agentic.kernel.policy.geography import (
    find_places,
)
from dagster_agentic.kernel.policy.option_rows import (
    flag_clause,
    option_children,
)
from dagster_agentic.kernel.policy.phrases import Phrase
from dagster_agentic.kernel.policy.ranges import resolve_condition
from dagster_agentic.kernel.policy.sql import (
    CohortColumn,
    check_cohort_sql,
    cohort_columns,
    cohort_tables,
    ident,
    literal,
    predicate,
)
from dagster_agentic.kernel.policy.text import (
    LIST_CONNECTORS,
    name_match,
    quote,
)
from dagster_agentic.warehouse.models import TableProfile, WarehouseProfile

_NEGATIONS = frozenset({"excluding", "except", "exclude", "not", "non", "outside"})
# Read back from a predicate by the planner and the expectations; they live with the SQL.
__all__ = ["Cohort", "CohortColumn", "cohort_columns", "cohort_tables", "resolve_cohort"]


@dataclass(frozen=True)
class Cohort:
    sql: str | None
    description: str


def resolve_cohort(
    phrases: list[Phrase],
    table: TableProfile,
    exclude: str | None,
    override: str | None,
    notes: list[str],
    conditions: list[Condition] = (),  # type: ignore[assignment]
    profile: WarehouseProfile | None = None,
    label: tuple[str, str] | None = None,
    population: frozenset[str] = frozenset(),
    text: str | None = None,
) -> Cohort:
    """The cohort predicate and its description.

    ``exclude`` is the target column when the entity table holds it, ``label`` the target as
    (table, column) wherever it is: no cohort ever filters on it. Each phrase and condition
    becomes one clause (joined by AND); one that cannot be resolved is an error, never dropped.
    """
    if override is not None:
        sql = check_cohort_sql(override, table, profile)
        notes.append(f"cohort from overrides.cohort: {sql}")
        return Cohort(sql, f"{table.name} where {sql}")
    label = label or ((table.name, exclude) if exclude else None)
    context = CohortContext(
        table,
        places(profile, table),
        label,
        population,
        children(profile, table),
        option_children(profile, table),
        profile,
    )
    clauses: list[Clause] = []
    spans: list[tuple[int, int]] = []  # where each clause's words are, for 'or' between
    items: list[Phrase | Condition] = sorted(
        [*_widest(phrases), *conditions], key=lambda p: p.start
    )
    previous: tuple[Phrase | Condition, Clause] | None = None
    paired: set[int] = set()
    for index, item in enumerate(items):
        if index in paired:
            continue
        if isinstance(item, Condition):
            try:
                clause: Clause | None = _condition_clause(item, context)
            except ObjectiveError:
                clause = option_context(item, context)
                if clause is None:
                    raise
        else:
            item = _negated_before(item, text)
            try:
                clause = _resolve(item, context)
            except ObjectiveError:
                option = option_pair(items, index, context)
                if option is not None:
                    paired.add(index + 1)
                    clauses.append(option)
                    continue
                if introduces(items, index, context):
                    notes.append(
                        f"not a cohort of its own: {quote(item.text)} names the table the "
                        "condition right after it reads"
                    )
                    continue
                if not scene_only(item, context):
                    raise
                notes.append(
                    f"not a cohort: {quote(item.text)} is in a sentence that only sets the "
                    f"scene (no metric, request or comparison), and no word of it is a value, "
                    f"place or table of the warehouse"
                )
                continue
        if clause is None:
            notes.append(f"ignored {quote(item.text)}: {table.name} has no geographic column")
            continue
        if isinstance(item, Phrase) and is_aside(item) and previous is not None:
            before, kept = previous
            # Right after the phrase, or after its population noun: 'weekend orders (...)'.
            near = before.end <= item.start <= before.end + 20
            same = kept.sql.split(" ", 1)[0] == clause.sql.split(" ", 1)[0]  # one column
            if near and same and kept.sql != clause.sql:
                raise ObjectiveError(
                    f"the cohort {quote(before.text)} reads as {kept.sql}, but the words "
                    f"{quote(item.text)} right after it, which restate it, read as {clause.sql}",
                    fix=cohort_fix(context),
                )
        if all(clause.sql != kept.sql for kept in clauses):
            clauses.append(clause)
            spans.append((item.start, item.end))
        previous = (item, clause)
    if not clauses:
        notes.append(f"cohort: all rows of {table.name} (the objective names no cohort)")
        return Cohort(None, "all rows")
    notes.extend(clause.note for clause in clauses)
    if len(spans) < len(clauses):  # a clause read from a pair: no 'or' is looked for
        spans = []
    groups = _alternatives(clauses, spans, text)
    if len(groups) < len(clauses):
        notes.append("cohort clauses joined by 'or' in the objective are alternatives (OR)")
    singles = [(g[0].sql, g[0].description) for g in groups if len(g) == 1]
    refuse_contradictions(singles, cohort_fix(context))
    parts = [
        " OR ".join(f"({c.sql})" if " AND " in c.sql or " OR " in c.sql else c.sql for c in g)
        if len(g) > 1
        else g[0].sql
        for g in groups
    ]
    sql = " AND ".join(
        f"({p})" if (" AND " in p or " OR " in p) and len(parts) > 1 else p for p in parts
    )
    description = " and ".join(" or ".join(c.description for c in g) for g in groups)
    return Cohort(sql, description)


# Only 'or' between two clauses, after a unit that closes the first ('8 cents/oz or ...').
_OR = re.compile(r"(?:/\s*[a-z]+\.?\s*)?,?\s*or(?:\s+(?:else|where|when|whose|with|if))?")


def _alternatives(
    clauses: list[Clause], spans: list[tuple[int, int]], text: str | None
) -> list[list[Clause]]:
    """The clauses in groups of alternatives: two clauses with only 'or' between their words
    ('Dannon costs under 8 cents or Weight Watchers is on feature') are one group, read as
    OR; every other pair is AND."""
    if text is None or len(spans) != len(clauses):
        return [[c] for c in clauses]
    groups: list[list[Clause]] = [[clauses[0]]]
    for k in range(1, len(clauses)):
        between = text[spans[k - 1][1] : spans[k][0]].strip(" ,").lower()
        if _OR.fullmatch(between):
            groups[-1].append(clauses[k])
        else:
            groups.append([clauses[k]])
    return groups


def _widest(phrases: list[Phrase]) -> list[Phrase]:
    """Of two overlapping phrases, the one whose words are all the other's and more (a value
    read wider than the phrase its shape gave: 'national league west' over 'national'); of
    two with the same words, the first."""

    def words(phrase: Phrase) -> set[str]:
        found = {w.lower() for w in phrase.words} - _NEGATIONS - {"the"}
        if phrase.hint and any(w.isdigit() for w in phrase.words):
            found.add(phrase.hint)  # 'satisfaction 4 or 5' reads the noun with its numbers
        return found

    def covers(q: int, p: int) -> bool:
        a, b = phrases[q], phrases[p]
        if q == p or not (a.start < b.end and b.start < a.end) or not words(b) <= words(a):
            return False
        wider = len(a.words) > len(b.words) or len(words(a)) > len(words(b))
        return wider or (words(a) == words(b) and q < p)

    return [p for i, p in enumerate(phrases) if not any(covers(q, i) for q in range(len(phrases)))]


def _condition_clause(condition: Condition, context: CohortContext) -> Clause:
    resolved = resolve_condition(condition, context.places, context.label, context.children)
    sql = on_place(resolved.place, resolved.sql)
    # The comparison as written, without the words before it ('freelancers aged 30 to 45'
    # describes 'aged 30 to 45'): those are another phrase's, or name the column the SQL shows.
    core = condition.text[max(condition.core - condition.start, 0) :].strip() or condition.text
    shown = resolved.sql
    if resolved.place.many:  # a child table: the entity has such a row
        shown = f"has a {resolved.place.table.name} row where {resolved.sql}"
    elif resolved.place.via:
        shown = f"{resolved.place.table.name}.{resolved.sql}"
    return Clause(
        sql,
        f"{core} ({shown})",
        f"cohort from the words {quote(condition.text)}: {resolved.sql} on {resolved.note}"
        + via_note(resolved.place),
    )


def _resolve(phrase: Phrase, context: CohortContext) -> Clause | None:
    """One phrase as a clause; a leading 'excluding'/'non-'/'not' negates the rest."""
    table = context.table
    first = phrase.words[0]
    rest = phrase.words[1:]
    if first.lower().startswith("non-") and len(first) > 4:
        rest = (first[4:], *rest)
    elif first.lower() not in _NEGATIONS or not rest:
        return _resolve_positive(phrase, context)
    try:
        clause = _resolve_positive(replace(phrase, words=rest), context)
    except ObjectiveError:
        # 'without any sodium': no value or child table is named; none of an amount may be.
        absent = phrase.text.lower().startswith(("without", "with no", "having no", "with zero"))
        zero = zero_clause(rest, phrase.text, context.places, context.label) if absent else None
        if zero is None:
            raise
        return Clause(*zero)
    if clause is None:
        return None
    sql = f"NOT ({clause.sql})"
    marker = f" {table.name} ("
    if marker in clause.description:  # a place: 'European customers (...)'
        adjective = clause.description.split(marker)[0]
        description = f"{_neither(adjective.split(' and '), 'non-')} {table.name} ({sql})"
    else:
        description = f"{_neither(_listed(rest), 'not ')} ({sql})"
    return Clause(sql, description, f"{clause.note}; negated by {first!r}")


_NEGATED_BEFORE = re.compile(r"\b(?:no|not|never|without)\s+(?:any\s+)?$", re.IGNORECASE)


def _negated_before(phrase: Phrase, text: str | None) -> Phrase:
    """A phrase a negation right before it negates: 'quadrats that had no deep standing water'
    is Deep_Standing_Water = 'No', never = 'Yes' (the phrase's own words start after 'no')."""
    first = phrase.words[0].lower() if phrase.words else ""
    if text is None or first in _NEGATIONS or first.startswith("non-") or first == "without":
        return phrase
    if _NEGATED_BEFORE.search(text[max(0, phrase.start - 16) : phrase.start]) is None:
        return phrase
    return replace(phrase, words=("not", *phrase.words))


def _codes_only(phrase: Phrase) -> bool:
    """Whether the phrase's places are all two-letter codes ('QA' of 'our QA team'): with no
    column that holds countries to read them by, they are more likely an acronym than a
    country, so they are read as words; a country's name is always read as a country."""
    words = [w for w in phrase.words if w.lower() not in LIST_CONNECTORS]
    return bool(words) and all(len(w) == 2 and w.isupper() for w in words)


def _listed(words: tuple[str, ...]) -> list[str]:
    """The items of a list of words: 'Europe and the Americas' -> 'Europe', 'the Americas'."""
    items: list[list[str]] = [[]]
    for word in words:
        if word.lower() in LIST_CONNECTORS:
            items.append([])
        else:
            items[-1].append(word)
    return [" ".join(item) for item in items if item]


def _neither(items: list[str], single: str) -> str:
    """A negated list as it reads: 'non-Asian', 'neither Europe nor the Americas'."""
    if len(items) == 1:
        return f"{single}{items[0]}"
    return f"neither {', '.join(items[:-1])} nor {items[-1]}"


def _resolve_positive(phrase: Phrase, context: CohortContext) -> Clause | None:
    table = context.table
    found = find_places(list(phrase.words))
    if found and not phrase.hint:
        # A value the warehouse holds as written ('CA' of a state column, 'Georgia' of a
        # state name) is read as that value, not as the country or region it also spells.
        literal_clause = _value_clause(phrase, context, literal_only=True)
        if literal_clause is not None:
            return literal_clause
        clause = geo_clause(phrase, found, table)
        if clause is not None:
            return clause
        clause = _value_clause(phrase, context)
        if clause is not None:
            return clause
        if not _codes_only(phrase):
            names = " and ".join(place.name for place in found)
            kind = "regions" if all(p.is_region for p in found) else "countries"
            raise ObjectiveError(
                f"the cohort {quote(phrase.text)} names {names}, but no text column of "
                f"{table.name} holds {kind} (country codes, country names or region names) "
                "to select it by",
                fix=cohort_fix(context),
            )
    if not phrase.strong:
        return None
    if phrase.row is not None:
        flagged = flag_clause(
            phrase, context.options, context.profile, context.label, context.population
        )
        if flagged is None:
            raise unresolved(phrase, context)
        return Clause(*flagged)
    numbered = numbered_clause(phrase, context.places, context.children, context.label)
    if numbered is not None:
        return Clause(*numbered)
    counted = rows_clause(phrase, context.children)
    rows = Clause(*counted) if counted is not None else None
    if rows is not None and not _strong_value(phrase, context):
        return rows  # 'without any fines' names the fines table, not the value 'F'
    clause = _value_clause(phrase, context) or rows or _restated(phrase, context)
    if clause is None:
        raise unresolved(phrase, context)
    return clause


def _restated(phrase: Phrase, context: CohortContext) -> Clause | None:
    """'students from minority backgrounds', 'members of Hispanic origin': after the
    population noun and its preposition, a value followed by a noun of its own that names
    nothing of the warehouse. The phrase is an attribute of the population, so its last noun
    says what kind of attribute the value is ('backgrounds', 'origin'), not another
    population; the value is read, and the note says the noun was read as a restatement.
    A capitalised noun is a name, never a restatement; the value must be a strong fit."""
    words = phrase.words
    last = words[-1]
    if not phrase.places_only or len(words) < 2 or not last.isalpha() or not last.islower():
        return None
    candidates = [*context.places, *context.children]
    if match_phrase((last,), None, candidates, context.label, context.population):
        return None
    if any(
        name_match(last, column.name) or name_match(last, place.table.name)
        for place in candidates
        for column in place.table.columns
    ):
        return None
    rest = replace(phrase, words=words[:-1], places_only=False)
    matches = match_phrase(rest.words, None, candidates, context.label, context.population)
    if not matches or not matches[0].score[1]:
        return None
    clause = _value_clause(rest, context)
    if clause is None:
        return None
    note = f"{clause.note}; {quote(last)} read as restating the kind of value, not as more rows"
    return Clause(clause.sql, clause.description, note)


def _strong_value(phrase: Phrase, context: CohortContext) -> bool:
    """Whether the words are a value by a strong fit (the same words or stems)."""
    matches = match_phrase(
        phrase.words,
        phrase.hint,
        [*context.places, *context.children],
        context.label,
        context.population,
    )
    return any(m.score[1] for m in matches)


def _value_clause(
    phrase: Phrase, context: CohortContext, literal_only: bool = False
) -> Clause | None:
    """'premium' of 'on the premium plan', 'monthly-contract', 'Support department': values of
    a column of the entity, of a table one hop away or of a child (or a flag column the words
    name). ``literal_only`` keeps only values the words spell exactly as stored."""
    matches = match_phrase(
        phrase.words,
        phrase.hint,
        [*context.places, *context.children],
        context.label,
        context.population,
    )
    if literal_only:
        matches = [m for m in matches if _spelled(phrase.words, m)]
    if not matches:
        return None
    best = [m for m in matches if m.score == matches[0].score]
    if len({(m.place.table.name, m.column.name) for m in best}) > 1:
        raise ambiguous(phrase.text, best)
    return _match_clause(phrase, best[0])


def _spelled(words: tuple[str, ...], match: Match) -> bool:
    """Whether the words spell the match's one value as stored: the same words whatever the
    case and separators ('Latin America and the Caribbean' = 'Latin America & the
    Caribbean'), and, for a short code, the same case too ('CA', not 'ca')."""
    if match.flag or len(match.values) != 1 or not isinstance(match.values[0], str):
        return False
    value = match.values[0].strip()
    written = " ".join(words)
    if len(value) <= 3:
        return written == value
    return norm(written) == norm(value)


def _match_clause(phrase: Phrase, match: Match) -> Clause:
    column = match.column
    where = f"{match.place.table.name}.{column.name}"
    if match.flag:
        value = match.values[0]
        own = "TRUE" if value is True else literal(value)
        inner = f"{ident(column.name)} = {own}"
        note = f"cohort from the words {quote(phrase.text)}: the flag column {where}"
    else:
        inner = predicate(column.name, list(match.values))
        shown = ", ".join(literal(v) for v in match.values)
        verb = "is a value" if len(match.values) == 1 else "are values"
        note = f"cohort from the words {quote(phrase.text)}: {shown} {verb} of {where}"
    sql = on_place(match.place, inner)
    words = " ".join(phrase.words)
    shown_inner = f"{match.place.table.name}.{inner}" if match.place.via else inner
    if match.place.many:
        shown_inner = f"has a {match.place.table.name} row where {inner}"
    return Clause(sql, f"{words} ({shown_inner})", note + via_note(match.place))
