"""Resolve a cohort's numeric and time conditions to a column: 'older than 60' -> age > 60,
'loans above $20k' -> loan_amount > 20000, 'signed up in 2024' -> signup_date in 2024.

The column is the one the condition's words name, before or after the number (its name or
comment: 'income', 'loans' ~ loan_amount, 'signed up' ~ signup_date, 'built' ~ YearBuilt,
'years in the majors' ~ years_in_majors; an abbreviation the column alone uses: 'bedrooms' ~
beds, 'applications' ~ apps). Of columns named equally often, the one whose whole name the
words cover wins ('price' is Price, not CompPrice). Failing a name, the one column of the right
sort: an age for 'older than', the one money-like column for '$20k', the one date column for
a time, the one calendar-year column (whole numbers within 1800..2100, named year, yr or
season) for a year when there is no date. Names are read by their letters
(:mod:`dagster_agentic.kernel.policy.condition_names`: 'years' ~ yrs, 'payments-to-income
ratio' ~ pirat). A bare number after people ('mothers under 25') is an age; with no column
named as one (in English or another language: Alter, edad), 'older than 40' reads the one
column whose values look like ages and span 40. A year reads a DATE column named as a year by
its year part ('up to 1980' of cars.Year). A child's column (several rows per entity) is read
when the words name it, as the entities with at least one such row. Anything else is an
error that lists the columns it could have meant, or those whose values span the number.

A percentage bound ('more than 13% alcohol') is compared in the column's own scale: 13 for a
column of percents, 0.13 for one of fractions (at most 1); so is an amount written with a
scale ('above 40k') that no value reaches, against a column that holds it in thousands (40).
A month with no year ('in December') reads a month-number column (values within 1..12) or
the month of the entity's date. An entity keyed by its date (a table of days) reads that date
for a bare 'in 2015'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.kernel.policy.by_meaning import condition_column_meant
from dagster_agentic.kernel.policy.categories import Scope
from dagster_agentic.kernel.policy.condition_ages import (
    PEOPLE,
    age_like,
    initialled_ages,
    is_age,
    people,
)
from dagster_agentic.kernel.policy.condition_clock import resolve_clock
from dagster_agentic.kernel.policy.condition_days import resolve_days
from dagster_agentic.kernel.policy.condition_names import (
    begins,
    marked,
    name_parts,
    naming_words,
    numeric_namer,
    part_names,
)
from dagster_agentic.kernel.policy.condition_patterns import EVENT_WORDS
from dagster_agentic.kernel.policy.conditions import Condition
from dagster_agentic.kernel.policy.range_bounds import (
    SCALE_NAMES,
    number_text,
    refuse_empty,
    stored_scale,
    unit_after,
)
from dagster_agentic.kernel.policy.sql import ident, literal
from dagster_agentic.kernel.policy.text import name_match, name_tokens, quote, word_set
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile

__all__ = ["Resolved", "numeric_namer", "resolve_condition"]

# Words in column names that mark an amount of money (for '$20k', 'above 50k').
MONEY_WORDS = word_set(
    """
    amount amt price cost income salary salaries wage wages pay payment payments balance
    loan loans value revenue spend spent charge charges fee fees total credit limit earnings
    premium fare rent sales usd eur gbp dollars euros budget deposit principal valuation
    """
)
_YEAR_WORDS = frozenset({"year", "yr", "years", "season", "seasons"})
_FILLER = word_set("is are was were a an the of who whose that with has have had")


@dataclass(frozen=True)
class Resolved:
    place: Scope
    column: ColumnProfile
    sql: str  # predicate over the column (of place.table)
    note: str


def resolve_condition(
    condition: Condition,
    candidates: list[Scope],
    exclude: tuple[str, str] | None,
    children: list[Scope] = (),  # type: ignore[assignment]
) -> Resolved:
    """The column and predicate of one condition; raises when it fits none or several.

    ``candidates`` are the entity and the tables one hop away; ``children`` the tables with
    several rows per entity. A child's column is read only when the words name it
    ('patients whose bilirubin went above 10' of lab results: the entities with at least one
    such row), never as the only column of a sort, and the entity's own columns win a tie."""
    if condition.kind == "clock":
        place, column, sql, why = resolve_clock(condition, candidates, exclude, _pick)
        return Resolved(place, column, sql, f"{place.table.name}.{column.name} ({why})")
    if condition.kind in {"time", "month", "days"}:
        return _time(condition, candidates, exclude)
    return _range(condition, candidates, exclude, list(children))


def _columns(
    candidates: list[Scope], exclude: tuple[str, str] | None, keep: object
) -> list[tuple[Scope, ColumnProfile]]:
    found = []
    fks = {place.via[0] for place in candidates if place.via}  # the entity's foreign keys
    for place in candidates:
        keys = {place.via[1]} if place.via else fks
        keys |= {k for k in place.table.candidate_keys if _identifier(place.table, k)}
        for column in place.table.columns:
            if exclude == (place.table.name, column.name) or column.name in keys:
                continue
            if keep(column):  # type: ignore[operator]
                found.append((place, column))
    return found


def _identifier(table: TableProfile, name: str) -> bool:
    """A unique column that names rows (text, or whole numbers 1..n), not a measurement."""
    column = table.column(name)
    if column is None or column.kind != "numeric":
        return True
    low, high = column.min, column.max
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        return True
    return float(high) - float(low) + 1 <= 1.01 * max(table.row_count, 1)


def _scores(
    words: tuple[str, ...], pool: list[tuple[Scope, ColumnProfile]]
) -> list[tuple[tuple[int, float], Scope, ColumnProfile]]:
    """Each column's score for the words: how many words name it, then how much of its own
    name they cover ('price' covers all of Price but half of CompPrice, so Price wins).

    A word no column's name matches may still name one by abbreviation ('applications' ~
    apps), when exactly one column of the pool abbreviates it that way."""
    named = [naming_words(words, c) for _, c in pool]
    plain = [w.lower() for w in words if w.lower() not in _FILLER and len(w) >= 3]
    unmatched = [w for w in plain if not any(w in n for n in named)]
    for word in unmatched:
        short = [i for i, (_, c) in enumerate(pool) if any(begins(t, word) for t in name_parts(c))]
        if len(short) == 1:
            named[short[0]].add(word)
    scored = []
    for (place, column), found in zip(pool, named, strict=True):
        tokens = name_tokens(column.name)
        # The name's own words; 'in' of years_in_majors only joins them.
        parts = [t for t in tokens if t not in _FILLER and len(t) >= 3] or tokens
        covered = sum(_covers(t, found, plain, len(parts)) for t in parts)
        share = covered / len(parts) if parts else 0.0
        scored.append(((len(found), share if found else 0.0), place, column))
    return scored


def _covers(part: str, found: set[str], plain: list[str], parts: int) -> float:
    """How much of one name part the words cover: all of it when a word names it (or, for a
    one-part name, when several words spell it: 'pirat'); half when a word only follows
    one letter of it ('npreg' of 'pregnancies': which count or kind the letter says is a
    guess)."""
    if any(part_names(w, part) for w in found if w in plain):
        return 1.0
    if any(marked(w, part) for w in found if w in plain):
        return 0.5
    return 1.0 if parts == 1 and len(found) >= 2 else 0.0  # an initialism: 'pirat'


def _pick(
    condition: Condition,
    pool: list[tuple[Scope, ColumnProfile]],
    fallback: list[tuple[Scope, ColumnProfile]],
    sort: str,
    far: list[tuple[Scope, ColumnProfile]] = (),  # type: ignore[assignment]
) -> tuple[Scope, ColumnProfile, str]:
    """The column the words name (of ``pool``, then of the children's columns ``far``);
    else the one column of ``fallback``; else an error listing the candidates."""
    scored = _scores(condition.words, [*pool, *far])
    best = max((s for s, _, _ in scored), default=(0, 0.0))
    kind = f"{sort} columns"
    if best[0]:
        top = [(p, c) for s, p, c in scored if s == best]
        near = [(p, c) for p, c in top if not p.many] or top  # the entity's own win a tie
        if len(near) == 1:
            return near[0][0], near[0][1], "its words name the column"
        fallback = [(p, c) for p, c in near if (p, c) in fallback] or near
        kind = "its words name each of the columns"
    if len(fallback) == 1:
        return fallback[0][0], fallback[0][1], f"the only {sort} column"
    if not fallback:
        kind = f"{sort} columns" if sort in {"date", "time-of-day"} else "numeric columns"
    spanning = _spanning(condition, pool) or _spanning(condition, far)
    unnamed = [
        w
        for w in condition.words
        if w.lower() not in _FILLER
        and len(w) >= 2
        and not any(name_match(w.lower(), p.table.name) == 2 for p, _ in pool if p.via is None)
    ]
    # A bare bound ('who are over 55', 'under 25 at release') that one column of the entity
    # or a table one hop away spans: no other column could hold such rows.
    own = [(p, c) for p, c in spanning if not p.many]
    if not best[0] and not fallback and not unnamed and not condition.percent and len(own) == 1:
        return (
            own[0][0],
            own[0][1],
            f"the only numeric column whose values span {_bounds(condition)}",
        )
    # 'broods found above 450 m' of alt_m, 'tumour over 20 mm' of size_mm: the unit
    # written after the number is the one a single spanning column's name gives.
    if not best[0]:
        unit = unit_after(condition)
        marked = [(p, c) for p, c in spanning if unit and unit in name_tokens(c.name)]
        if len(marked) == 1:
            return (
                marked[0][0],
                marked[0][1],
                f"the only numeric column whose values span {_bounds(condition)} and whose "
                f"name gives the unit written, {quote(unit)}",
            )
    meant = condition_column_meant(
        condition.clause or condition.text,
        spanning or ([] if condition.kind == "range" else pool),
        PEOPLE,
    )
    if meant is not None:
        return meant
    listed = fallback or spanning or pool
    if not fallback and spanning and len(spanning) < len(pool) + len(far):
        scaled = [c for _, c in spanning if stored_scale(condition, c) > 1]
        unit = f" (in {SCALE_NAMES[stored_scale(condition, scaled[0])]})" if scaled else ""
        kind = f"numeric columns whose values span {_bounds(condition)}{unit}"
    names = ", ".join(sorted(f"{p.table.name}.{c.name}" for p, c in listed)) or "none"
    said = ""
    if not best[0] and condition.percent and unnamed:
        said = f" ({', '.join(quote(w) for w in unnamed)} names no column)"
    raise ObjectiveError(
        f"cannot tell which column the cohort condition {quote(condition.text)} reads{said}; "
        f"{kind}: {names}",
        fix="name the column in the objective (e.g. 'with income above 20k'), or set "
        'cohort="<SQL predicate>" in the goal\'s overrides',
    )


def _spanning(
    condition: Condition, pool: list[tuple[Scope, ColumnProfile]]
) -> list[tuple[Scope, ColumnProfile]]:
    """The columns whose values (min to max) contain the condition's numbers, as written or,
    for '40k', in the column's thousands (:func:`_stored_scale`)."""
    bounds = [float(b) for b in (condition.low, condition.high) if isinstance(b, int | float)]
    if condition.kind != "range" or not bounds:
        return []
    return [
        (p, c)
        for p, c in pool
        if isinstance(c.min, int | float)
        and isinstance(c.max, int | float)
        and all(float(c.min) <= b / stored_scale(condition, c) <= float(c.max) for b in bounds)
    ]


def _bounds(condition: Condition) -> str:
    numbers = [number_text(float(b)) for b in (condition.low, condition.high) if b is not None]
    return " and ".join(numbers)


def _adjective(condition: Condition) -> bool:
    """Whether the comparison is an adjective's ('taller than 180', 'heavier than 90'): it
    says what is compared, so the number is no bare age."""
    if not condition.context:
        return False
    word = re.escape(condition.context[-1])
    return re.search(rf"(?<![\w]){word}\s+than\b", condition.text, re.IGNORECASE) is not None


def _range(
    condition: Condition,
    candidates: list[Scope],
    exclude: tuple[str, str] | None,
    children: list[Scope],
) -> Resolved:
    keep = lambda c: c.kind == "numeric" and not c.is_binary  # noqa: E731
    numeric = _columns(candidates, exclude, keep)
    far = _columns(children, exclude, keep)
    dated = _columns(candidates, exclude, lambda c: c.kind == "temporal" and _named_year(c))
    if _years(condition):
        numeric += dated  # 'up to 1980' of a DATE column named Year: its year is compared
    else:
        # A calendar year is never compared with a count: 'more than 10 years' of
        # experience is not 'year > 10'.
        numeric = [(p, c) for p, c in numeric if not _is_year(c)]
    bare = not (condition.after or condition.money or condition.percent or _adjective(condition))
    low = condition.low
    person = bare and isinstance(low, float) and 0 <= low <= 120 and people(condition.context)
    if condition.age or person:
        # 'older than 40', 'mothers under 25': a person's number with no unit is an age.
        sort = "age"
        fallback = [(p, c) for p, c in numeric if is_age(c)]
        if not fallback and (initialled := initialled_ages(condition, numeric)):
            fallback, sort = initialled, "initialled age"
        if not fallback and condition.age:
            own = [(p, c) for p, c in numeric if p.via is None]
            fallback, sort = age_like(_spanning(condition, own)), "age-like"
    elif condition.money:
        sort = "money-like"
        fallback = [(p, c) for p, c in numeric if MONEY_WORDS & set(name_tokens(c.name))]
    elif _years(condition):
        # 'between 2015 and 2018': whole numbers that are calendar years read the one year
        # column when no word names another.
        years = [(p, c) for p, c in numeric if _is_year(c) or c.kind == "temporal"]
        own = [(p, c) for p, c in years if p.via is None]
        fallback, sort = (own if len(own) == 1 else years), "year"
    else:
        sort, fallback = "numeric", []
    place, column, why = _pick(condition, numeric, fallback, sort, far)
    col = ident(column.name)
    if column.kind == "temporal":
        col = f"year({col})"
    if condition.percent and isinstance(column.max, int | float) and float(column.max) <= 1:
        # '13%' against a column of fractions (0..1) is 0.13; against one of percents, 13.
        condition = replace(condition, low=float(condition.low or 0) / 100)
    scale = stored_scale(condition, column)
    if scale > 1:
        high = condition.high
        condition = replace(
            condition,
            low=float(condition.low or 0) / scale,
            high=float(high) / scale if isinstance(high, int | float) else high,
        )
        why += f"; its values ({column.min:g} to {column.max:g}) are in {SCALE_NAMES[scale]}"
    refuse_empty(condition, place, column)
    if condition.op == "span":  # 'in their 50s': from 50 up to (not including) 60
        low, high = float(condition.low or 0), float(condition.high or 0)
        sql = f"{col} >= {number_text(low)} AND {col} < {number_text(high)}"
    elif condition.op in {"between", "not between"}:
        low, high = sorted((float(condition.low or 0), float(condition.high or 0)))
        sql = f"{col} {condition.op.upper()} {number_text(low)} AND {number_text(high)}"
    else:
        sql = f"{col} {condition.op} {number_text(float(condition.low or 0))}"
    if why.startswith("the only age-like"):
        why = f"no column is named as an age; the only one whose values ({column.min} to "
        why += f"{column.max}) fit a person's age and span {_bounds(condition)}"
    note = f"{place.table.name}.{column.name} ({why})"
    return Resolved(place, column, sql, note)


def _named_year(column: ColumnProfile) -> bool:
    """A column whose name says it holds a year ('Year', 'model_year', 'yr_built')."""
    return bool(_YEAR_WORDS & set(name_tokens(column.name)))


def _time(
    condition: Condition, candidates: list[Scope], exclude: tuple[str, str] | None
) -> Resolved:
    dated = _columns(candidates, exclude, lambda c: c.kind == "temporal")
    years = _columns(candidates, exclude, _is_year)
    # The one date column is meant only when a verb says which event: 'who joined in 2024',
    # not a bare 'in 2024' (that may be the label's period).
    told = any(w.lower().endswith("ed") or w.lower() in EVENT_WORDS for w in condition.context)
    entity_dates = [(p, c) for p, c in dated if p.via is None] if told else []
    # An entity that is a day (or any time) keyed by its date: 'days in 2015' reads that date.
    entity_dates = entity_dates or [
        (p, c)
        for p, c in dated
        if p.via is None
        and not p.table.candidate_keys
        and c.distinct_count == p.table.row_count > 0
    ]
    if condition.kind == "month":
        return _month(condition, candidates, exclude, dated, entity_dates)
    if condition.kind == "days":
        place, column, sql, why = resolve_days(condition, candidates, dated, entity_dates, _pick)
        return Resolved(place, column, sql, f"{place.table.name}.{column.name} ({why})")
    if not entity_dates:
        # A column of the entity whose name says year, a date ('Year' of cars) or a whole
        # number: a bare year ('1976 and later models') is that column's.
        named = [(p, c) for p, c in dated + years if p.via is None and _named_year(c)]
        entity_dates = named if len(named) == 1 else []
    if not dated and not entity_dates:
        # No date anywhere: the one year column ('in 2009', 'surveyed in 2009', 'for 2016'
        # over workers.year) is the only column the year can be compared with.
        own = [(p, c) for p, c in years if p.via is None]
        entity_dates = own if len(own) == 1 else years
    place, column, why = _pick(condition, dated + years, entity_dates, "date")
    col = ident(column.name)
    low, high = str(condition.low), condition.high
    if column.kind == "numeric" and condition.op == "between":  # 'from 2008 to 2012'
        sql = f"{col} BETWEEN {int(low[:4])} AND {int(str(high)[:4]) - 1}"
    elif column.kind == "numeric":  # a year column: 'built after 2000'
        year = int(low[:4])
        op = {"in": "=", ">": ">", "<": "<", ">=": ">=", "<=": "<="}[condition.op]
        sql = f"{col} {op} {year}"
    else:
        start, end = _date(low), _date(str(high)) if high else None
        if condition.op in {"in", "between"} and end:
            sql = f"{col} >= {start} AND {col} < {end}"
        elif condition.op == "in":
            sql = f"CAST({col} AS DATE) = {start}"
        elif condition.op == ">":
            sql = f"{col} >= {end}" if end else f"{col} > {start}"
        elif condition.op == "<=":
            sql = f"{col} < {end}" if end else f"{col} <= {start}"
        else:
            sql = f"{col} {condition.op} {start}"
    return Resolved(place, column, sql, f"{place.table.name}.{column.name} ({why})")


def _years(condition: Condition) -> bool:
    """Whether a range's bounds are all calendar years (whole numbers within 1800..2100)."""
    bounds = [b for b in (condition.low, condition.high) if b is not None]
    return bool(bounds) and all(
        isinstance(b, float) and b.is_integer() and 1800 <= b <= 2100 for b in bounds
    )


def _is_year(column: ColumnProfile) -> bool:
    """A column of calendar years: named year/yr/season, whole numbers within 1800..2100
    (so 'years_in_majors', a count of years, is not one)."""
    if column.kind != "numeric" or not _YEAR_WORDS & set(name_tokens(column.name)):
        return False
    low, high = column.min, column.max
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        return False
    return 1800 <= float(low) <= float(high) <= 2100 and float(low).is_integer()


def _month(
    condition: Condition,
    candidates: list[Scope],
    exclude: tuple[str, str] | None,
    dated: list[tuple[Scope, ColumnProfile]],
    entity_dates: list[tuple[Scope, ColumnProfile]],
) -> Resolved:
    """'in December', 'in October or November' (no year): a month-number column (values
    within 1..12, named month), else the month of the entity's date."""
    months = [int(m) for m in str(condition.low).split(",")]
    equals = f"= {months[0]}" if len(months) == 1 else f"IN ({', '.join(map(str, months))})"
    numbers = _columns(
        candidates,
        exclude,
        lambda c: (
            c.kind == "numeric"
            and "month" in name_tokens(c.name)
            and isinstance(c.min, int | float)
            and isinstance(c.max, int | float)
            and float(c.min) >= 1
            and float(c.max) <= 12
        ),
    )
    own = [(p, c) for p, c in numbers if p.via is None] or numbers
    if len(own) == 1:
        place, column = own[0]
        sql = f"{ident(column.name)} {equals}"
        why = "the only month-number column"
    else:
        place, column, why = _pick(condition, dated, entity_dates or dated, "date")
        sql = f"month({ident(column.name)}) {equals}"
    return Resolved(place, column, sql, f"{place.table.name}.{column.name} ({why})")


def _date(iso: str) -> str:
    return f"CAST({literal(iso)} AS DATE)"
