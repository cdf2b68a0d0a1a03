"""Bounds of a numeric cohort condition checked against the column they compare: an amount
written with a scale ('above 40k') that only the column's thousands can hold, and a bound no
value reaches (a cohort that would be empty is refused, never answered).
"""

from __future__ import annotations

import re

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.kernel.policy.categories import Scope
from dagster_agentic.kernel.policy.condition_base import Condition
from dagster_agentic.kernel.policy.text import quote, word_set
from dagster_agentic.warehouse.models import ColumnProfile

_WRITTEN_SCALE = re.compile(
    r"\d\s*(?:(?P<k>k|thousands?)|(?P<m>m|mm|millions?))(?![\w])|(?P<sep>\d,\d{3}(?!\d))",
    re.IGNORECASE,
)
SCALE_NAMES = {1000.0: "thousands", 1e6: "millions"}


def stored_scale(condition: Condition, column: ColumnProfile) -> float:
    """1000 when an amount written with a scale ('above 40k', '$2 million') lies beyond every
    value of a column that holds the number in that scale (an income of 2 to 72, in
    thousands, as many data sets store money): the condition is compared in the column's
    unit. 1 otherwise: a number the column's values reach is compared as written."""
    match = _WRITTEN_SCALE.search(condition.text)
    low, high = column.min, column.max
    if match is None or not isinstance(low, int | float) or not isinstance(high, int | float):
        return 1.0
    scale = 1e6 if match.group("m") else 1000.0  # '40k', or '40,000' written in full
    bounds = [float(b) for b in (condition.low, condition.high) if isinstance(b, int | float)]
    if not bounds or any(float(low) <= b <= float(high) for b in bounds):
        return 1.0
    inside = all(float(low) <= b / scale <= float(high) for b in bounds)
    return scale if inside else 1.0


def refuse_empty(condition: Condition, place: Scope, column: ColumnProfile) -> None:
    """Raise when the comparison selects none of the column's values ('income above 40000'
    of a column from 12 to 95): the cohort would be empty, a question nobody asked."""
    low, high = column.min, column.max
    if column.kind != "numeric" or not isinstance(low, int | float):
        return
    if not isinstance(high, int | float) or not isinstance(condition.low, int | float):
        return
    bound, top = float(condition.low), float(condition.high or condition.low)
    empty = {
        ">": bound >= high,
        ">=": bound > high,
        "<": bound <= low,
        "<=": bound < low,
        "=": not low <= bound <= high,
        "between": min(bound, top) > high or max(bound, top) < low,
        "span": bound > high or top <= low,
    }.get(condition.op, False)
    if empty:
        raise ObjectiveError(
            f"the cohort condition {quote(condition.text)} selects no rows: "
            f"{place.table.name}.{column.name} holds values from {number_text(float(low))} to "
            f"{number_text(float(high))}",
            fix='write the bound in the column\'s unit, or set cohort="<SQL predicate>" in '
            "the goal's overrides",
        )


def number_text(value: float) -> str:
    """A bound as SQL and messages write it: '40' for 40.0, '12.5' as it is."""
    return str(int(value)) if value.is_integer() else repr(value)


# Units of measure a column's name often ends in (alt_m, size_mm, weight_kg, area_ha).
_UNITS = word_set("mm cm m km g kg mg lb lbs oz ha ml mph kph kmh kt kts ft min hrs sec mb hpa")


def unit_after(condition: Condition) -> str:
    """The unit of measure written right after the condition's number ('450 m', '20 mm',
    '25 kg'), lower case; '' when none is."""
    low = condition.low
    if not isinstance(low, int | float) or not condition.clause:
        return ""
    number = re.escape(number_text(float(low))).replace(r"\.", r"[.,]")
    found = re.search(rf"(?<![\d.]){number}\s*([A-Za-z]+)\b", condition.clause)
    if found is None or found.group(1).lower() not in _UNITS:
        return ""
    return found.group(1).lower()
