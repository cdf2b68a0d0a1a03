"""Days of the week in a cohort: 'on weekends', 'weekdays in 2015', 'not on Sundays'.

A day word is a condition on the day of the week. It is read from a column that holds day
names ('Sat', 'Sunday', any case, three letters at least) when the entity or a table one hop
away has one, else from the day of the week of the entity's date (DuckDB ``isodow``: Monday
is 1, Sunday 7). The days a word means are English itself (a weekend is Saturday and
Sunday), not data; the column is the data's. Several date columns and no word naming one
is an error that lists them, like any other condition.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.kernel.policy.categories import Scope
from dagster_agentic.kernel.policy.condition_base import Condition, make_condition, negation
from dagster_agentic.kernel.policy.sql import ident, literal
from dagster_agentic.warehouse.models import ColumnProfile

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAYS = (1, 2, 3, 4, 5)
_WEEKEND = (6, 7)
_DAY = re.compile(
    r"(?<![\w\-])(?:on\s+(?:the\s+)?)?(?P<word>week-?days?|work-?days?|week-?ends?"
    r"|(?:mon|tues|wednes|thurs|fri|satur|sun)days)(?![\w\-])",
    re.IGNORECASE,
)


def day_conditions(text: str) -> list[Condition]:
    """Every day word of ``text`` as a condition of kind ``days``: ``low`` lists the ISO day
    numbers ('6,7' for a weekend), ``op`` is 'in', or 'not in' after a negation ('not on
    weekends', 'excluding Sundays')."""
    found: list[Condition] = []
    for match in _DAY.finditer(text):
        word = match.group("word").lower().replace("-", "")
        if word.startswith(("weekday", "workday")):
            days: tuple[int, ...] = _WEEKDAYS
        elif word.startswith("weekend"):
            days = _WEEKEND
        else:
            days = (next(i for i, d in enumerate(DAYS, 1) if word.startswith(d[:3])),)
        start = match.start()
        negated = negation(text, start)
        condition = make_condition(
            text,
            "days",
            start if negated is None else negated,
            match.end(),
            "in" if negated is None else "not in",
            ",".join(str(d) for d in days),
        )
        found.append(condition)
    return found


def day_values(column: ColumnProfile) -> dict[int, list[str]]:
    """ISO day number -> the stored values naming that day, for a text column whose every
    value names a day of the week ('Mon'...'Sun', 'monday', 'Sat'); empty otherwise."""
    if column.kind != "text":
        return {}
    listed = [v.value for v in (column.values or column.top_values) if isinstance(v.value, str)]
    if len(listed) < 2 or len(listed) != column.distinct_count:
        return {}
    found: dict[int, list[str]] = {}
    for value in listed:
        low = value.strip().lower().rstrip(".")
        day = next((i for i, d in enumerate(DAYS, 1) if len(low) >= 3 and d.startswith(low)), None)
        if day is None:
            return {}
        found.setdefault(day, []).append(value)
    return found


def days_sql(condition: Condition, column: ColumnProfile) -> str:
    """The predicate of a ``days`` condition over ``column``: its stored day names, or the
    day of the week of a date."""
    days = [int(d) for d in str(condition.low).split(",")]
    names = day_values(column)
    negated = condition.op == "not in"
    if names:
        listed = [v for d in days for v in names.get(d, [])]
        if not listed:
            shown = ", ".join(DAYS[d - 1] for d in days)
            raise ObjectiveError(
                f"the cohort {condition.text.strip()!r} means {shown}, but {column.name} holds"
                " no such day",
                fix='rephrase the days, or set cohort="<SQL predicate>" in the goal\'s overrides',
            )
        values = ", ".join(literal(v) for v in listed)
        return f"{ident(column.name)} {'NOT IN' if negated else 'IN'} ({values})"
    numbers = ", ".join(str(d) for d in days)
    return f"isodow({ident(column.name)}) {'NOT IN' if negated else 'IN'} ({numbers})"


Pick = Callable[..., tuple[Scope, ColumnProfile, str]]


def resolve_days(
    condition: Condition,
    candidates: list[Scope],
    dated: list[tuple[Scope, ColumnProfile]],
    entity_dates: list[tuple[Scope, ColumnProfile]],
    pick: Pick,
) -> tuple[Scope, ColumnProfile, str, str]:
    """The place, column, predicate and reason of a ``days`` condition: the one column of
    day names (the entity's own first), else the date ``pick`` chooses as for any time
    condition (the words name it, or it is the only one)."""
    named = [(p, c) for p in candidates for c in p.table.columns if day_values(c)]
    own = [(p, c) for p, c in named if p.via is None and not p.many] or named
    if len(own) == 1:
        place, column = own[0]
        why = "the only column of day names"
    else:
        place, column, why = pick(condition, dated, entity_dates or dated, "date")
        why = f"the day of the week of {column.name}: {why}"
    return place, column, days_sql(condition, column), why


def with_days(text: str, times: list[Condition]) -> list[Condition]:
    """The time conditions with the day conditions of ``text`` added; a time right after a
    day word shares its event words ('who joined on weekdays in 2023': 'in 2023' is of
    'joined' too, not a bare year)."""
    found = sorted([*times, *day_conditions(text)], key=lambda c: c.start)
    shared: list[Condition] = []
    for condition in found:
        last = shared[-1] if shared else None
        if (
            last is not None
            and last.kind == "days"
            and last.context
            and not text[last.end : condition.start].strip()
        ):
            condition = replace(condition, context=last.context)
        shared.append(condition)
    return shared
