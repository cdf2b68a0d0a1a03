"""Cohorts named by a country or region ('European customers', 'outside the Americas'):
the entity's text column whose values are mostly countries or regions, read as codes, names
or region names in the case the column writes them.

Kept apart from :mod:`dagster_agentic.kernel.policy.cohort`, which tries a value as the
warehouse holds it first and comes here for a place the text names.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.kernel.policy.categories import Scope
from dagster_agentic.kernel.policy.cohort_errors import Clause, CohortContext, cohort_fix
from dagster_agentic.kernel.policy.countries import ALPHA3_OF
from dagster_agentic.kernel.policy.geography import (
    Place,
    ValueKind,
    classify_value,
    country_name,
    region_value_matches,
)
from dagster_agentic.kernel.policy.phrases import Phrase
from dagster_agentic.kernel.policy.sql import literal, predicate
from dagster_agentic.kernel.policy.text import name_tokens, quote
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


@dataclass(frozen=True)
class GeoColumn:
    column: ColumnProfile
    form: str  # "code" | "name" | "region"
    raw: tuple[str, ...]  # non-null top values
    recognised: tuple[tuple[str, ValueKind], ...]
    covered: bool  # the top values are all the column's values
    case: str  # "upper" | "lower" | "title"


def geo_columns(table: TableProfile) -> list[GeoColumn]:
    """Text columns whose top values are mostly countries or regions, best first."""
    ranked: list[tuple[tuple[bool, int, float, int], GeoColumn]] = []
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
        geo = GeoColumn(column, form, raw, recognised, covered, _case(recognised))
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


def geo_clause(phrase: Phrase, places: tuple[Place, ...], table: TableProfile) -> Clause | None:
    label = " and ".join(place.label for place in places)
    for geo in geo_columns(table):
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
                    fix=cohort_fix(CohortContext(table, [Scope(table)], None, frozenset())),
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


def _spell(code: str, geo: GeoColumn) -> str:
    """``code`` as the column writes countries: alpha-2 or alpha-3 codes, or names."""
    text = code if geo.form == "code" else country_name(code)
    alpha3 = sum(len(value) == 3 for value, _ in geo.recognised)
    if geo.form == "code" and 2 * alpha3 > len(geo.recognised) and code in ALPHA3_OF:
        text = ALPHA3_OF[code]
    return {"upper": text.upper(), "lower": text.lower()}.get(geo.case, text)


def _geo_result(
    phrase: Phrase,
    table: TableProfile,
    column: str,
    values: list[str],
    label: str,
    kind_word: str,
    note: str,
) -> Clause:
    sql = predicate(column, values)
    adjective = f" {label}" if " and " not in label else ""  # "in 9 European codes"
    inner = sql if len(values) == 1 else f"{column} in {len(values)}{adjective} {kind_word}"
    return Clause(
        sql,
        f"{label} {table.name} ({inner})",
        f"cohort from the words {quote(phrase.text)}: {note}",
    )
