"""Resolve cohort phrases into a SQL predicate over the entity table's columns."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.kernel.policy.geography import (
    Place,
    ValueKind,
    classify_value,
    country_name,
    find_places,
    region_value_matches,
)
from dagster_agentic.kernel.policy.phrases import Phrase
from dagster_agentic.kernel.policy.sql import check_cohort_sql, ident, literal, predicate
from dagster_agentic.kernel.policy.text import name_match, name_tokens, quote
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile

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
) -> Cohort:
    """The cohort predicate and its description; ``exclude`` is the target column."""
    if override is not None:
        sql = check_cohort_sql(override, table)
        notes.append(f"cohort from overrides.cohort: {sql}")
        return Cohort(sql, f"{table.name} where {sql}")
    clauses: list[_Clause] = []
    for phrase in phrases:
        clause = _resolve(phrase, table, exclude)
        if clause is None:
            notes.append(f"ignored {quote(phrase.text)}: {table.name} has no geographic column")
        elif all(clause.sql != kept.sql for kept in clauses):
            clauses.append(clause)
    if not clauses:
        notes.append(f"cohort: all rows of {table.name} (the objective names no cohort)")
        return Cohort(None, "all rows")
    notes.extend(clause.note for clause in clauses)
    return Cohort(
        " AND ".join(clause.sql for clause in clauses),
        " and ".join(clause.description for clause in clauses),
    )


def _resolve(phrase: Phrase, table: TableProfile, exclude: str | None) -> _Clause | None:
    """One phrase as a clause; a leading 'excluding'/'non-' negates the rest."""
    first = phrase.words[0]
    rest = phrase.words[1:]
    if first.lower().startswith("non-") and len(first) > 4:
        rest = (first[4:], *rest)
    elif first.lower() not in _NEGATIONS or not rest:
        return _resolve_positive(phrase, table, exclude)
    clause = _resolve_positive(replace(phrase, words=rest), table, exclude)
    if clause is None:
        return None
    sql = f"NOT ({clause.sql})"
    adjective = clause.description.split(f" {table.name} (")[0]
    description = f"non-{adjective} {table.name} ({sql})"
    return _Clause(sql, description, f"{clause.note}; negated by {first!r}")


def _resolve_positive(phrase: Phrase, table: TableProfile, exclude: str | None) -> _Clause | None:
    places = find_places(list(phrase.words))
    if places:
        clause = _geo_clause(phrase, places, table)
        if clause is not None or not phrase.strong:
            return clause
        names = " and ".join(place.name for place in places)
        raise ObjectiveError(
            f"the cohort {quote(phrase.text)} names {names}, but no text column of {table.name} "
            f"holds {'regions' if all(p.is_region for p in places) else 'countries'} "
            "(country codes, country names or region names) to select it by",
            fix=_fix(table),
        )
    if not phrase.strong:
        return None
    clause = None if phrase.places_only else _value_clause(phrase, table, exclude)
    if clause is None:
        raise _unresolved(phrase, table)
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
                    fix=_fix(table),
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


def _norm(value: str) -> str:
    return " ".join(re.split(r"[\s_\-]+", value.strip().lower()))


def _value_clause(phrase: Phrase, table: TableProfile, exclude: str | None) -> _Clause | None:
    """'premium' in 'on the premium plan' as a value of a text column (or a boolean flag)."""
    parts = _parts(phrase.words)
    columns = [c for c in table.columns if c.kind == "text" and c.name != exclude]
    lookups = {
        c.name: {
            _norm(str(v.value)): str(v.value) for v in c.top_values if isinstance(v.value, str)
        }
        for c in columns
    }
    matches = [c for c in columns if all(_norm(p) in lookups[c.name] for p in parts)]
    if phrase.hint and len(matches) > 1:
        matches = [c for c in matches if name_match(phrase.hint, c.name)] or matches
    if len(matches) > 1:
        names = sorted(f"{table.name}.{c.name}" for c in matches)
        raise ObjectiveError(
            f"the cohort {quote(phrase.text)} is a value of several columns: {', '.join(names)}",
            fix=_fix(table),
        )
    words = " ".join(phrase.words)
    if matches:
        column = matches[0]
        values = sorted({lookups[column.name][_norm(p)] for p in parts})
        sql = predicate(column.name, values)
        verb = "is a value" if len(values) == 1 else "are values"
        shown = ", ".join(map(literal, values))
        note = f"cohort from the words {quote(phrase.text)}: {shown} {verb} of "
        note += f"{table.name}.{column.name}"
        return _Clause(sql, f"{words} {table.name} ({sql})", note)
    return _flag_clause(phrase, table, exclude, parts)


def _flag_clause(
    phrase: Phrase, table: TableProfile, exclude: str | None, parts: list[str]
) -> _Clause | None:
    """'active customers' -> is_active = TRUE, for a boolean or 0/1 column named by the word."""
    if len(parts) != 1 or " " in parts[0]:
        return None
    flags = [
        c
        for c in table.columns
        if c.is_binary
        and c.name != exclude
        and c.kind in {"boolean", "numeric"}
        and name_match(parts[0], c.name) == 2
    ]
    if len(flags) != 1:
        return None
    column = flags[0]
    sql = f"{ident(column.name)} = {'TRUE' if column.kind == 'boolean' else '1'}"
    note = f"cohort from the words {quote(phrase.text)}: the flag column {table.name}.{column.name}"
    return _Clause(sql, f"{parts[0]} {table.name} ({sql})", note)


def _parts(words: tuple[str, ...]) -> list[str]:
    """Split 'basic and standard' into its values."""
    parts: list[str] = []
    current: list[str] = []
    for word in words:
        if word.lower() in {"and", "or", "&", ","}:
            if current:
                parts.append(" ".join(current))
            current = []
        else:
            current.append(word)
    if current:
        parts.append(" ".join(current))
    return parts


def _unresolved(phrase: Phrase, table: TableProfile) -> ObjectiveError:
    words = quote(" ".join(phrase.words))
    what = (
        "a known country or region"
        if phrase.places_only
        else (f"a known country or region, nor a value of a text column of {table.name}")
    )
    detail = ""
    if phrase.hint:
        hinted = [c for c in table.columns if c.kind == "text" and name_match(phrase.hint, c.name)]
        for column in hinted[:1]:
            values = sorted(str(v.value) for v in column.top_values if v.value is not None)
            detail = f" ({table.name}.{column.name} has {', '.join(map(literal, values))})"
    return ObjectiveError(
        f"cannot resolve the cohort {quote(phrase.text)}: {words} is not {what}{detail}",
        fix=_fix(table),
    )


def _fix(table: TableProfile) -> str:
    example = "country = 'DE'"
    for column in table.columns:
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
    """The columns a cohort predicate reads, in order of first use (none for all rows).

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
        selected.setdefault(column.name, [])
    for node in tree.find_all(exp.EQ, exp.In):
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


def _is_literal(node: exp.Expression) -> bool:
    return isinstance(node, exp.Literal | exp.Boolean)


def _text(node: exp.Expression) -> str:
    if isinstance(node, exp.Boolean):
        return "true" if node.this else "false"
    return str(node.this)
