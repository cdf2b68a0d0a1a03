"""Resolve cohort phrases into a SQL predicate over the entity table's columns."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.kernel.policy.categories import Match, Scope, ambiguous, match_phrase, places
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
from dagster_agentic.kernel.policy.sql import check_cohort_sql, ident, literal, predicate
from dagster_agentic.kernel.policy.text import name_match, name_tokens, quote
from dagster_agentic.warehouse.connection import qualified_name
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
    context = _Context(table, places(profile, table), label, population)
    clauses: list[_Clause] = []
    items: list[Phrase | Condition] = sorted([*phrases, *conditions], key=lambda p: p.start)
    for item in items:
        if isinstance(item, Condition):
            clause: _Clause | None = _condition_clause(item, context)
        else:
            clause = _resolve(item, context)
        if clause is None:
            notes.append(f"ignored {quote(item.text)}: {table.name} has no geographic column")
        elif all(clause.sql != kept.sql for kept in clauses):
            clauses.append(clause)
    if not clauses:
        notes.append(f"cohort: all rows of {table.name} (the objective names no cohort)")
        return Cohort(None, "all rows")
    notes.extend(clause.note for clause in clauses)
    sql = " AND ".join(
        f"({c.sql})" if " AND " in c.sql and len(clauses) > 1 else c.sql for c in clauses
    )
    return Cohort(sql, " and ".join(clause.description for clause in clauses))


@dataclass(frozen=True)
class _Context:
    table: TableProfile
    places: list[Scope]
    label: tuple[str, str] | None
    population: frozenset[str]


def _on_place(place: Scope, sql: str) -> str:
    """A predicate over a parent's columns as one over the entity's foreign key."""
    if place.via is None:
        return sql
    fk, key = place.via
    parent = qualified_name(place.table.schema_name, place.table.name)
    return f"{ident(fk)} IN (SELECT {ident(key)} FROM {parent} WHERE {sql})"


def _condition_clause(condition: Condition, context: _Context) -> _Clause:
    resolved = resolve_condition(condition, context.places, context.label)
    sql = _on_place(resolved.place, resolved.sql)
    return _Clause(
        sql,
        f"{condition.text} ({resolved.sql})",
        f"cohort from the words {quote(condition.text)}: {resolved.sql} on {resolved.note}"
        + _via(resolved.place),
    )


def _via(place: Scope) -> str:
    if place.via is None:
        return ""
    return f", reached through the foreign key {place.via[0]} -> {place.table.name}.{place.via[1]}"


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
    adjective = clause.description.split(f" {table.name} (")[0]
    description = f"non-{adjective} {table.name} ({sql})"
    return _Clause(sql, description, f"{clause.note}; negated by {first!r}")


def _resolve_positive(phrase: Phrase, context: _Context) -> _Clause | None:
    table = context.table
    found = find_places(list(phrase.words))
    if found and not phrase.hint:
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
    clause = _value_clause(phrase, context)
    if clause is None:
        raise _unresolved(phrase, context)
    return clause


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


def _value_clause(phrase: Phrase, context: _Context) -> _Clause | None:
    """'premium' of 'on the premium plan', 'monthly-contract', 'Support department': values of
    a column of the entity or of a parent (or a flag column the words name)."""
    matches = match_phrase(
        phrase.words, phrase.hint, context.places, context.label, context.population
    )
    if not matches:
        return None
    best = [m for m in matches if m.score == matches[0].score]
    if len({(m.place.table.name, m.column.name) for m in best}) > 1:
        raise ambiguous(phrase.text, best)
    return _match_clause(phrase, best[0])


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
    sql = _on_place(match.place, inner)
    words = " ".join(phrase.words)
    shown_inner = f"{match.place.table.name}.{inner}" if match.place.via else inner
    return _Clause(sql, f"{words} ({shown_inner})", note + _via(match.place))


def _unresolved(phrase: Phrase, context: _Context) -> ObjectiveError:
    words = quote(" ".join(phrase.words))
    where = " or ".join(p.table.name for p in context.places)
    what = f"a known country or region, nor a value of a column of {where}"
    detail = ""
    if phrase.hint:
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
    return ObjectiveError(
        f"cannot resolve the cohort {quote(phrase.text)}: {words} is not {what}{detail}",
        fix=_fix(context),
    )


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


@dataclass(frozen=True)
class CohortColumn:
    """A column of the entity table the cohort predicate reads, and the values it selects
    (as text, the way ``CAST(column AS VARCHAR)`` shows them) when it compares to literals."""

    column: str
    values: tuple[str, ...] = ()


def cohort_columns(sql: str | None) -> tuple[CohortColumn, ...]:
    """The entity columns a cohort predicate reads, in order of first use (none for all rows).

    A one-hop clause (``fk IN (SELECT key FROM parent WHERE ...)``) reads the foreign key;
    the parent's columns inside the subquery are not the entity's.

    Parsed, never pattern-matched, so a hand-written predicate is read the same way as one
    the kernel wrote; an unparseable one names no column (the planner refuses those earlier).
    """
    if not sql:
        return ()
    try:
        tree = sqlglot.parse_one(sql, dialect="duckdb")
    except SqlglotError:
        return ()
    selected: dict[str, list[str]] = {}
    for column in tree.find_all(exp.Column):
        if not _in_subquery(column):
            selected.setdefault(column.name, [])
    for node in tree.find_all(exp.EQ, exp.In):
        if _in_subquery(node):
            continue  # a parent's column, read through the foreign key the IN names
        target = node.this if isinstance(node.this, exp.Column) else None
        if isinstance(node, exp.EQ):
            other = node.expression
            if target is None and isinstance(other, exp.Column):
                target, other = other, node.this
            options = [other]
        else:
            options = list(node.expressions)
        if target is None or not options or not all(_is_literal(o) for o in options):
            continue
        selected.setdefault(target.name, []).extend(_text(o) for o in options)
    return tuple(CohortColumn(c, tuple(dict.fromkeys(v))) for c, v in selected.items())


def cohort_tables(sql: str | None, schema: str = "main") -> frozenset[str]:
    """The parent tables a cohort predicate reads through a one-hop subquery, as
    ``schema.table`` (the form ``guardrails.sql_policy.check_select`` allows tables in)."""
    if not sql:
        return frozenset()
    try:
        tree = sqlglot.parse_one(sql, dialect="duckdb")
    except SqlglotError:
        return frozenset()
    return frozenset(f"{t.db or schema}.{t.name}" for t in tree.find_all(exp.Table) if t.name)


def _in_subquery(node: Any) -> bool:
    """Whether a node lies inside a subquery (it reads a parent table, not the entity)."""
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.Query | exp.Subquery):
            return True
        parent = parent.parent
    return False


def _is_literal(node: exp.Expression) -> bool:
    return isinstance(node, exp.Literal | exp.Boolean)


def _text(node: exp.Expression) -> str:
    if isinstance(node, exp.Boolean):
        return "true" if node.this else "false"
    return str(node.this)
