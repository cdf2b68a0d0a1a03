"""Resolve cohort phrases into a SQL predicate over the entity table's columns.

A phrase is read against the entity's columns, those one hop away and, for category values,
those of a child with several rows per entity ("has such a row"). A value the warehouse holds
as written ('CA' of a state column) is read before a country or region guess. A phrase that
cannot be resolved is an error that lists what was looked for; the description of each
clause says only what its SQL does.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.kernel.policy.categories import (
    Match,
    Scope,
    ambiguous,
    children,
    match_phrase,
    norm,
    places,
)
from dagster_agentic.kernel.policy.claims import is_aside
from dagster_agentic.kernel.policy.cohort_rows import (
    numbered_clause,
    on_place,
    rows_clause,
    via_note,
)
from dagster_agentic.kernel.policy.conditions import Condition
from dagster_agentic.kernel.policy.geography import (
    Place,
    ValueKind,
    classify_value,
    country_name,
    find_places,
    region_value_matches,
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
from dagster_agentic.kernel.policy.text import name_match, name_tokens, quote
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile, WarehouseProfile

# Column names that say "geography", best first; a penalty for look-alikes (US states and
# language codes share many two-letter codes with countries).
_GEO_NAMES = {
    "country": 3,
    "nation": 3,
    "region": 2,
    "market": 2,
    "geo": 2,
    "territory": 2,
    "continent": 2,
    "location": 1,
}
_NOT_GEO = frozenset({"state", "province", "city", "language", "lang", "locale", "currency"})
_FORMS = ("code", "name", "region")
_NEGATIONS = frozenset({"excluding", "except", "exclude", "not", "non", "outside"})
# Read back from a predicate by the planner and the expectations; they live with the SQL.
__all__ = ["Cohort", "CohortColumn", "cohort_columns", "cohort_tables", "resolve_cohort"]


@dataclass(frozen=True)
class Cohort:
    sql: str | None
    description: str


@dataclass(frozen=True)
class _Clause:
    sql: str
    description: str
    note: str


@dataclass(frozen=True)
class _GeoColumn:
    column: ColumnProfile
    form: str  # "code" | "name" | "region"
    raw: tuple[str, ...]  # non-null top values
    recognised: tuple[tuple[str, ValueKind], ...]
    covered: bool  # the top values are all the column's values
    case: str  # "upper" | "lower" | "title"


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
    context = _Context(table, places(profile, table), label, population, children(profile, table))
    clauses: list[_Clause] = []
    items: list[Phrase | Condition] = sorted(
        [*_widest(phrases), *conditions], key=lambda p: p.start
    )
    previous: tuple[Phrase | Condition, _Clause] | None = None
    for item in items:
        if isinstance(item, Condition):
            clause: _Clause | None = _condition_clause(item, context)
        else:
            clause = _resolve(item, context)
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
                    fix=_fix(context),
                )
        if all(clause.sql != kept.sql for kept in clauses):
            clauses.append(clause)
        previous = (item, clause)
    if not clauses:
        notes.append(f"cohort: all rows of {table.name} (the objective names no cohort)")
        return Cohort(None, "all rows")
    notes.extend(clause.note for clause in clauses)
    sql = " AND ".join(
        f"({c.sql})" if " AND " in c.sql and len(clauses) > 1 else c.sql for c in clauses
    )
    return Cohort(sql, " and ".join(clause.description for clause in clauses))


def _widest(phrases: list[Phrase]) -> list[Phrase]:
    """Of two overlapping phrases, the one whose words are all the other's and more (a value
    read wider than the phrase its shape gave: 'national league west' over 'national'); of
    two with the same words, the first."""

    def words(phrase: Phrase) -> set[str]:
        return {w.lower() for w in phrase.words} - _NEGATIONS - {"the"}

    def covers(q: int, p: int) -> bool:
        a, b = phrases[q], phrases[p]
        if q == p or not (a.start < b.end and b.start < a.end) or not words(b) <= words(a):
            return False
        return len(a.words) > len(b.words) or (words(a) == words(b) and q < p)

    return [p for i, p in enumerate(phrases) if not any(covers(q, i) for q in range(len(phrases)))]


@dataclass(frozen=True)
class _Context:
    table: TableProfile
    places: list[Scope]
    label: tuple[str, str] | None
    population: frozenset[str]
    children: list[Scope] = field(default_factory=list)  # several rows per entity


def _condition_clause(condition: Condition, context: _Context) -> _Clause:
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
    return _Clause(
        sql,
        f"{core} ({shown})",
        f"cohort from the words {quote(condition.text)}: {resolved.sql} on {resolved.note}"
        + via_note(resolved.place),
    )


def _resolve(phrase: Phrase, context: _Context) -> _Clause | None:
    """One phrase as a clause; a leading 'excluding'/'non-'/'not' negates the rest."""
    table = context.table
    first = phrase.words[0]
    rest = phrase.words[1:]
    if first.lower().startswith("non-") and len(first) > 4:
        rest = (first[4:], *rest)
    elif first.lower() not in _NEGATIONS or not rest:
        return _resolve_positive(phrase, context)
    clause = _resolve_positive(replace(phrase, words=rest), context)
    if clause is None:
        return None
    sql = f"NOT ({clause.sql})"
    marker = f" {table.name} ("
    if marker in clause.description:  # a place: 'European customers (...)'
        adjective = clause.description.split(marker)[0]
        description = f"{_neither(adjective.split(' and '), 'non-')} {table.name} ({sql})"
    else:
        description = f"{_neither(_listed(rest), 'not ')} ({sql})"
    return _Clause(sql, description, f"{clause.note}; negated by {first!r}")


def _listed(words: tuple[str, ...]) -> list[str]:
    """The items of a list of words: 'Europe and the Americas' -> 'Europe', 'the Americas'."""
    items: list[list[str]] = [[]]
    for word in words:
        if word.lower() in {"and", "or", ",", "/", "&", "nor"}:
            items.append([])
        else:
            items[-1].append(word)
    return [" ".join(item) for item in items if item]


def _neither(items: list[str], single: str) -> str:
    """A negated list as it reads: 'non-Asian', 'neither Europe nor the Americas'."""
    if len(items) == 1:
        return f"{single}{items[0]}"
    return f"neither {', '.join(items[:-1])} nor {items[-1]}"


def _resolve_positive(phrase: Phrase, context: _Context) -> _Clause | None:
    table = context.table
    found = find_places(list(phrase.words))
    if found and not phrase.hint:
        # A value the warehouse holds as written ('CA' of a state column, 'Georgia' of a
        # state name) is read as that value, not as the country or region it also spells.
        literal_clause = _value_clause(phrase, context, literal_only=True)
        if literal_clause is not None:
            return literal_clause
        clause = _geo_clause(phrase, found, table)
        if clause is not None:
            return clause
        clause = _value_clause(phrase, context)
        if clause is not None:
            return clause
        names = " and ".join(place.name for place in found)
        raise ObjectiveError(
            f"the cohort {quote(phrase.text)} names {names}, but no text column of {table.name} "
            f"holds {'regions' if all(p.is_region for p in found) else 'countries'} "
            "(country codes, country names or region names) to select it by",
            fix=_fix(context),
        )
    if not phrase.strong:
        return None
    numbered = numbered_clause(phrase, context.places, context.children, context.label)
    if numbered is not None:
        return _Clause(*numbered)
    counted = rows_clause(phrase, context.children)
    rows = _Clause(*counted) if counted is not None else None
    if rows is not None and not _strong_value(phrase, context):
        return rows  # 'without any fines' names the fines table, not the value 'F'
    clause = _value_clause(phrase, context) or rows
    if clause is None:
        raise _unresolved(phrase, context)
    return clause


def _strong_value(phrase: Phrase, context: _Context) -> bool:
    """Whether the words are a value by a strong fit (the same words or stems)."""
    matches = match_phrase(
        phrase.words,
        phrase.hint,
        [*context.places, *context.children],
        context.label,
        context.population,
    )
    return any(m.score[1] for m in matches)


def _geo_columns(table: TableProfile) -> list[_GeoColumn]:
    """Text columns whose top values are mostly countries or regions, best first."""
    ranked: list[tuple[tuple[bool, int, float, int], _GeoColumn]] = []
    for index, column in enumerate(table.columns):
        raw = tuple(v.value for v in column.top_values if isinstance(v.value, str))
        if column.kind != "text" or not raw:
            continue
        recognised = tuple((v, k) for v in raw if (k := classify_value(v)) is not None)
        if 2 * len(recognised) <= len(raw):
            continue
        forms = Counter(kind.form for _, kind in recognised)
        form = max(_FORMS, key=lambda f: (forms[f], -_FORMS.index(f)))
        tokens = set(name_tokens(column.name))
        name_score = (
            -1
            if tokens & _NOT_GEO
            else max((score for word, score in _GEO_NAMES.items() if word in tokens), default=0)
        )
        nulls = sum(1 for v in column.top_values if v.value is None)
        covered = len(column.top_values) - nulls >= column.distinct_count
        geo = _GeoColumn(column, form, raw, recognised, covered, _case(recognised))
        rank = (form == "region", -name_score, -len(recognised) / len(raw), index)
        ranked.append((rank, geo))
    return [geo for _, geo in sorted(ranked, key=lambda item: item[0])]


def _case(recognised: tuple[tuple[str, ValueKind], ...]) -> str:
    values = [v for v, _ in recognised]
    if all(v.isupper() for v in values):
        return "upper"
    if all(v.islower() for v in values):
        return "lower"
    return "title"


def _geo_clause(phrase: Phrase, places: tuple[Place, ...], table: TableProfile) -> _Clause | None:
    label = " and ".join(place.label for place in places)
    for geo in _geo_columns(table):
        name = geo.column.name
        if geo.form == "region":
            matches = [[v for v in geo.raw if region_value_matches(v, p)] for p in places]
            if not all(matches):
                continue
            values = sorted({v for found in matches for v in found})
            note = f"{table.name}.{name} holds region names; {', '.join(map(literal, values))} "
            note += f"stands for {' and '.join(p.name for p in places)}"
            return _geo_result(phrase, table, name, values, label, "regions", note)
        codes = frozenset().union(*(place.codes for place in places))
        present = sorted(
            {v for v, kind in geo.recognised if kind.form != "region" and kind.key in codes}
        )
        kind_word = "codes" if geo.form == "code" else "names"
        held = (
            f"{table.name}.{name} holds country {kind_word} "
            f"({len(geo.recognised)} of {len(geo.raw)} top values recognised)"
        )
        if geo.covered:
            if not present:
                raise ObjectiveError(
                    f"the cohort {quote(phrase.text)} selects no rows: {table.name}.{name} has "
                    f"no {label} value (its values: {', '.join(sorted(geo.raw))})",
                    fix=_fix(_Context(table, [Scope(table)], None, frozenset())),
                )
            values = present
            verb = "is" if len(values) == 1 else "are"
            note = f"{held}; {len(values)} of its {len(geo.raw)} values {verb} {label}"
        else:
            values = sorted(set(present) | {_spell(code, geo) for code in codes})
            note = (
                f"{held}; its top values do not cover all {geo.column.distinct_count} values, so "
                f"all {len(codes)} {label} {kind_word} are listed"
            )
        return _geo_result(phrase, table, name, values, label, kind_word, note)
    return None


def _spell(code: str, geo: _GeoColumn) -> str:
    text = code if geo.form == "code" else country_name(code)
    return {"upper": text.upper(), "lower": text.lower()}.get(geo.case, text)


def _geo_result(
    phrase: Phrase,
    table: TableProfile,
    column: str,
    values: list[str],
    label: str,
    kind_word: str,
    note: str,
) -> _Clause:
    sql = predicate(column, values)
    adjective = f" {label}" if " and " not in label else ""  # "in 9 European codes"
    inner = sql if len(values) == 1 else f"{column} in {len(values)}{adjective} {kind_word}"
    return _Clause(
        sql,
        f"{label} {table.name} ({inner})",
        f"cohort from the words {quote(phrase.text)}: {note}",
    )


def _value_clause(phrase: Phrase, context: _Context, literal_only: bool = False) -> _Clause | None:
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


def _match_clause(phrase: Phrase, match: Match) -> _Clause:
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
    return _Clause(sql, f"{words} ({shown_inner})", note + via_note(match.place))


def _unresolved(phrase: Phrase, context: _Context) -> ObjectiveError:
    words = quote(" ".join(phrase.words))
    where = " or ".join(p.table.name for p in [*context.places, *context.children])
    what = f"a known country or region, nor a value of a column of {where}"
    detail = _partly(phrase, context)
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
        fix=_fix(context),
    )


def _partly(phrase: Phrase, context: _Context) -> str:
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


def _fix(context: _Context) -> str:
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
