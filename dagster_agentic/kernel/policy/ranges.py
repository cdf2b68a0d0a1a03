"""Resolve a cohort's numeric and time conditions to a column: 'older than 60' -> age > 60,
'loans above $20k' -> loan_amount > 20000, 'signed up in 2024' -> signup_date in 2024.

The column is the one the condition's words name (its name or comment: 'income', 'loans' ~
loan_amount, 'signed up' ~ signup_date, 'built' ~ YearBuilt); failing that, the one column of
the right sort: an age for 'older than', the one money-like column for '$20k', the one date
column for a time. Anything else is an error that lists the columns it could have meant.

A percentage bound ('more than 13% alcohol') is compared in the column's own scale: 13 for a
column of percents, 0.13 for one of fractions (at most 1). A month with no year ('in
December') reads a month-number column (values within 1..12) or the month of the entity's
date. An entity keyed by its date (a table of days) reads that date for a bare 'in 2015'.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.kernel.policy.categories import Scope
from dagster_agentic.kernel.policy.conditions import Condition
from dagster_agentic.kernel.policy.sql import ident, literal
from dagster_agentic.kernel.policy.text import name_tokens, quote, stem, word_match, word_set
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile

# Words in column names that mark an amount of money (for '$20k', 'above 50k').
MONEY_WORDS = word_set(
    """
    amount amt price cost income salary salaries wage wages pay payment payments balance
    loan loans value revenue spend spent charge charges fee fees total credit limit earnings
    premium fare rent sales usd eur gbp dollars euros budget deposit principal valuation
    """
)
_AGE_WORDS = frozenset({"age", "aged", "ages"})
PEOPLE = word_set(
    """
    customers users clients members subscribers people persons individuals patients
    employees staff workers students pupils players athletes passengers travellers travelers
    borrowers applicants candidates residents tenants drivers riders guests visitors buyers
    shoppers donors voters citizens policyholders cardholders homeowners adults
    """
)
_YEAR_WORDS = frozenset({"year", "yr", "years"})
# Past forms that do not end in -ed: 'signed up', 'born', 'built in 1990'.
_EVENT_WORDS = word_set("up born built made sold began begun won lost left came went got took")
_FILLER = word_set("is are was were a an the of who whose that with has have had")


@dataclass(frozen=True)
class Resolved:
    place: Scope
    column: ColumnProfile
    sql: str  # predicate over the column (of place.table)
    note: str


def resolve_condition(
    condition: Condition, candidates: list[Scope], exclude: tuple[str, str] | None
) -> Resolved:
    """The column and predicate of one condition; raises when it fits none or several."""
    if condition.kind in {"time", "month"}:
        return _time(condition, candidates, exclude)
    return _range(condition, candidates, exclude)


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


def _named(words: tuple[str, ...], column: ColumnProfile) -> int:
    """How many of ``words`` name the column (verbs too: 'hired' ~ hire_date)."""
    tokens = name_tokens(column.name) + (name_tokens(column.comment) if column.comment else [])
    joined = "".join(stem(w) for w in words)  # 'signed up' -> 'signup'
    count = 0
    for word in [*(w.lower() for w in words if w.lower() not in _FILLER), joined]:
        if any(_verb_match(word, token) for token in tokens):
            count += 1
    return count


def _verb_match(word: str, token: str) -> bool:
    if len(word) < 3:
        return False
    if word_match(word, token) == 2 or word_match(word.removesuffix("d"), token) == 2:
        return True
    return len(stem(word)) >= 4 and stem(token).startswith(stem(word))


def _pick(
    condition: Condition,
    pool: list[tuple[Scope, ColumnProfile]],
    fallback: list[tuple[Scope, ColumnProfile]],
    sort: str,
) -> tuple[Scope, ColumnProfile, str]:
    scored = [(_named(condition.context, c), p, c) for p, c in pool]
    best = max((s for s, _, _ in scored), default=0)
    if best:
        top = [(p, c) for s, p, c in scored if s == best]
        if len(top) == 1:
            return top[0][0], top[0][1], "its words name the column"
        fallback = [(p, c) for p, c in top if (p, c) in fallback] or top
    if len(fallback) == 1:
        return fallback[0][0], fallback[0][1], f"the only {sort} column"
    listed = fallback or pool
    names = ", ".join(sorted(f"{p.table.name}.{c.name}" for p, c in listed)) or "none"
    raise ObjectiveError(
        f"cannot tell which column the cohort condition {quote(condition.text)} reads; "
        f"{sort} columns: {names}",
        fix="name the column in the objective (e.g. 'with income above 20k'), or set "
        'cohort="<SQL predicate>" in the goal\'s overrides',
    )


def _people(words: tuple[str, ...]) -> bool:
    """Whether the words before a bare number name people ('customers over 65')."""
    return any(w.lower() in PEOPLE for w in words)


def _range(
    condition: Condition, candidates: list[Scope], exclude: tuple[str, str] | None
) -> Resolved:
    numeric = _columns(candidates, exclude, lambda c: c.kind == "numeric" and not c.is_binary)
    if condition.age:
        sort = "age"
        fallback = [(p, c) for p, c in numeric if _AGE_WORDS & set(name_tokens(c.name))]
    elif condition.money:
        sort = "money-like"
        fallback = [(p, c) for p, c in numeric if MONEY_WORDS & set(name_tokens(c.name))]
    else:
        sort, fallback = "numeric", []
        ages = [(p, c) for p, c in numeric if _AGE_WORDS & set(name_tokens(c.name))]
        low = condition.low
        if isinstance(low, float) and 0 <= low <= 120 and _people(condition.context):
            fallback = ages  # 'customers over 65': a person's number with no unit is an age
            sort = "age" if ages else sort
    place, column, why = _pick(condition, numeric, fallback, sort)
    col = ident(column.name)
    if condition.percent and isinstance(column.max, int | float) and float(column.max) <= 1:
        # '13%' against a column of fractions (0..1) is 0.13; against one of percents, 13.
        condition = replace(condition, low=float(condition.low or 0) / 100)
    if condition.op == "between":
        low, high = sorted((float(condition.low or 0), float(condition.high or 0)))
        sql = f"{col} BETWEEN {_num(low)} AND {_num(high)}"
    else:
        sql = f"{col} {condition.op} {_num(float(condition.low or 0))}"
    note = f"{place.table.name}.{column.name} ({why})"
    return Resolved(place, column, sql, note)


def _time(
    condition: Condition, candidates: list[Scope], exclude: tuple[str, str] | None
) -> Resolved:
    dated = _columns(candidates, exclude, lambda c: c.kind == "temporal")
    years = _columns(
        candidates,
        exclude,
        lambda c: c.kind == "numeric" and bool(_YEAR_WORDS & set(name_tokens(c.name))),
    )
    # The one date column is meant only when a verb says which event: 'who joined in 2024',
    # not a bare 'in 2024' (that may be the label's period).
    told = any(w.lower().endswith("ed") or w.lower() in _EVENT_WORDS for w in condition.context)
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
    place, column, why = _pick(condition, dated + years, entity_dates, "date")
    col = ident(column.name)
    low, high = str(condition.low), condition.high
    if column.kind == "numeric":  # a year column: 'built after 2000'
        year = int(low[:4])
        op = {"in": "=", ">": ">", "<": "<", ">=": ">=", "<=": "<="}[condition.op]
        sql = f"{col} {op} {year}"
    else:
        start, end = _date(low), _date(str(high)) if high else None
        if condition.op == "in" and end:
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


def _month(
    condition: Condition,
    candidates: list[Scope],
    exclude: tuple[str, str] | None,
    dated: list[tuple[Scope, ColumnProfile]],
    entity_dates: list[tuple[Scope, ColumnProfile]],
) -> Resolved:
    """'in December' (no year): a month-number column (values within 1..12, named month),
    else the month of the entity's date."""
    month = int(str(condition.low))
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
        sql = f"{ident(column.name)} = {month}"
        why = "the only month-number column"
    else:
        place, column, why = _pick(condition, dated, entity_dates or dated, "date")
        sql = f"month({ident(column.name)}) = {month}"
    return Resolved(place, column, sql, f"{place.table.name}.{column.name} ({why})")


def _date(iso: str) -> str:
    return f"CAST({literal(iso)} AS DATE)"


def _num(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)
