"""Times of day in a cohort: 'quadrats searched before midday', 'flights leaving after 6pm',
'calls between 9am and 5pm', 'orders placed in the evening'.

A time of day is a clock reading, never a number of the data: it reads a column of times
(``TIME``), the time of a timestamp of the entity, or a whole-number hour column (named
hour, values within 0..23). Which one is decided as for any condition: the words name it,
or it is the only such column; else the objective is refused with the candidates.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.kernel.policy.categories import Scope
from dagster_agentic.kernel.policy.condition_base import Condition, make_condition
from dagster_agentic.kernel.policy.sql import ident
from dagster_agentic.kernel.policy.text import name_tokens, quote
from dagster_agentic.warehouse.connection import literal
from dagster_agentic.warehouse.models import ColumnProfile

Pick = Callable[
    [Condition, list[tuple[Scope, ColumnProfile]], list[tuple[Scope, ColumnProfile]], str],
    tuple[Scope, ColumnProfile, str],
]

# '6pm', '6 p.m.', '18:30', '6:30 am', 'noon', 'midday', 'midnight', "6 o'clock".
_CLOCK = (
    r"(?:noon|midday|midnight"
    r"|\d{1,2}(?::[0-5]\d)?\s*(?:a\.?m\.?|p\.?m\.?)(?![a-z])"
    r"|\d{1,2}\s*o['’]clock"
    r"|(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?)"
)
_OPS = {
    "before": "<",
    "earlier than": "<",
    "until": "<",
    "till": "<",
    "by": "<=",
    "no later than": "<=",
    "after": ">=",
    "later than": ">=",
    "from": ">=",
    "since": ">=",
    "no earlier than": ">=",
}
_BOUND = re.compile(
    r"(?<![\w-])(?P<op>no\s+later\s+than|no\s+earlier\s+than|earlier\s+than|later\s+than|"
    r"before|after|until|till|by|from|since)\s+(?P<at>" + _CLOCK + r")(?![\w:])",
    re.IGNORECASE,
)
_BETWEEN = re.compile(
    r"(?<![\w-])(?:between|from)\s+(?P<low>" + _CLOCK + r")\s+(?:and|to|until|till|-)\s+"
    r"(?P<high>" + _CLOCK + r")(?![\w:])",
    re.IGNORECASE,
)
# Parts of the day, as a clock reads them: from the first hour up to the second.
_PARTS = {"morning": (0, 12), "afternoon": (12, 18), "evening": (18, 24)}
_PART = re.compile(r"(?<![\w-])in\s+the\s+(?P<part>morning|afternoon|evening)(?![\w-])", re.I)


def _clock(written: str) -> str:
    """'6pm' -> '18:00:00', 'noon' -> '12:00:00', '9:30' -> '09:30:00'."""
    lower = " ".join(written.lower().split())
    if lower in {"noon", "midday"}:
        return "12:00:00"
    if lower == "midnight":
        return "00:00:00"
    match = re.match(r"(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?", lower)
    assert match is not None  # _CLOCK only matches times that start with the hour
    hour, minute, second = int(match.group(1)), int(match.group(2) or 0), int(match.group(3) or 0)
    if "p" in lower[match.end() :] and hour < 12:
        hour += 12
    elif "a" in lower[match.end() :] and hour == 12:
        hour = 0
    if hour > 23:
        raise ObjectiveError(
            f"{quote(written)} is not a time of day",
            fix="write the time as e.g. '6pm' or '18:00'",
        )
    return f"{hour:02d}:{minute:02d}:{second:02d}"


def clock_conditions(text: str) -> list[Condition]:
    """Every time-of-day condition of ``text``: a bound ('before midday', 'after 6pm'), a
    span ('between 9am and 5pm') or a part of the day ('in the evening')."""
    found: list[Condition] = []
    for match in _BETWEEN.finditer(text):
        start, stop = _clock(match.group("low")), _clock(match.group("high"))
        found.append(make_condition(text, "clock", match.start(), match.end(), "span", start, stop))
    for match in _BOUND.finditer(text):
        if any(c.core <= match.start() < c.end for c in found):
            continue
        op = _OPS[" ".join(match.group("op").lower().split())]
        at = _clock(match.group("at"))
        found.append(make_condition(text, "clock", match.start(), match.end(), op, at))
    for match in _PART.finditer(text):
        first, last = _PARTS[match.group("part").lower()]
        low = f"{first:02d}:00:00"
        high = None if last == 24 else f"{last:02d}:00:00"
        op = "span" if high else ">="
        found.append(make_condition(text, "clock", match.start(), match.end(), op, low, high))
    return sorted(found, key=lambda c: c.start)


def _kind(column: ColumnProfile) -> str | None:
    """How a column reads a clock: 'time', 'timestamp', 'hour', or None."""
    data_type = column.data_type.upper()
    if data_type.startswith("TIME") and not data_type.startswith("TIMESTAMP"):
        return "time"
    if data_type.startswith("TIMESTAMP"):
        return "timestamp"
    words = set(name_tokens(column.name))
    low, high = column.min, column.max
    if (
        column.kind == "numeric"
        and words & {"hour", "hr", "hours"}
        and isinstance(low, int | float)
        and isinstance(high, int | float)
        and 0 <= float(low) <= float(high) <= 23
    ):
        return "hour"
    return None


def resolve_clock(
    condition: Condition, candidates: list[Scope], exclude: tuple[str, str] | None, pick: Pick
) -> tuple[Scope, ColumnProfile, str, str]:
    """The place, column, predicate and reason of a time-of-day condition."""
    pool = [
        (p, c)
        for p in candidates
        for c in p.table.columns
        if _kind(c) is not None and exclude != (p.table.name, c.name)
    ]
    if not pool:
        raise ObjectiveError(
            f"the cohort condition {quote(condition.text)} is a time of day, but no column "
            "of the entity or a table next to it holds times (TIME, TIMESTAMP or an hour "
            "0..23)",
            fix='drop the time of day, or set cohort="<SQL predicate>" in the goal\'s overrides',
        )
    # A column of times is meant before a timestamp, which may be any event's.
    clocks = [(p, c) for p, c in pool if _kind(c) in {"time", "hour"}]
    own = [(p, c) for p, c in clocks if p.via is None] or clocks
    place, column, why = pick(condition, pool, own, "time-of-day")
    return place, column, clock_sql(condition, column), why


def clock_sql(condition: Condition, column: ColumnProfile) -> str:
    """The predicate of a time-of-day condition over ``column``."""
    kind = _kind(column)
    col = ident(column.name)
    low, high = str(condition.low), condition.high
    if kind == "hour":

        def value(at: str) -> str:
            hour, minute = int(at[:2]), int(at[3:5])
            return str(hour) if not minute else str(hour + minute / 60)

    else:
        if kind == "timestamp":
            col = f"CAST({col} AS TIME)"

        def value(at: str) -> str:
            return f"CAST({literal(at)} AS TIME)"

    if condition.op == "span":
        assert high is not None
        if str(high) <= low:  # 'between 10pm and 2am' wraps past midnight
            return f"({col} >= {value(low)} OR {col} < {value(str(high))})"
        return f"{col} >= {value(low)} AND {col} < {value(str(high))}"
    return f"{col} {condition.op} {value(low)}"
