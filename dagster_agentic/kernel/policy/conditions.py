"""Find the numeric and time conditions of a cohort: 'older than 60', 'above $20k',
'between 18 and 25', 'who signed up in 2024', 'who joined after March 2023'.

They are read before the metric, so that their numbers are never taken for a threshold; a
comparison right after a metric's name ('RMSE below 25,000') is the threshold and is left
alone. A percentage is a threshold too ('90% recall'), unless it sits next to a word that
names a numeric column ('more than 13% alcohol', 'alcohol above 13%'): then it bounds that
column. A month with no year ('in December'; 'may' only when written 'May') is a condition of
its own. Which column a condition reads is decided later, against the warehouse
(:mod:`dagster_agentic.kernel.policy.ranges`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from dagster_agentic.kernel.policy.numbers import Number, find_numbers
from dagster_agentic.kernel.policy.text import POPULATION_NOUNS, word_set

_AGE_OPS = {
    "older than": ">",
    "younger than": "<",
    "aged over": ">",
    "aged under": "<",
    "aged above": ">",
    "aged below": "<",
    "over the age of": ">",
    "under the age of": "<",
    "aged at least": ">=",
    "aged at most": "<=",
}
_OPS = {
    "more than": ">",
    "greater than": ">",
    "higher than": ">",
    "larger than": ">",
    "bigger than": ">",
    "longer than": ">",
    "above": ">",
    "over": ">",
    "exceeding": ">",
    "in excess of": ">",
    ">": ">",
    "less than": "<",
    "fewer than": "<",
    "lower than": "<",
    "smaller than": "<",
    "shorter than": "<",
    "below": "<",
    "under": "<",
    "<": "<",
    "at least": ">=",
    "no less than": ">=",
    "not less than": ">=",
    ">=": ">=",
    "≥": ">=",
    "at most": "<=",
    "no more than": "<=",
    "not more than": "<=",
    "up to": "<=",
    "<=": "<=",
    "≤": "<=",
}
_ALL_OPS = {**_AGE_OPS, **_OPS}
# Comparatives that mean 'less': any other '<word>er than' ('taller than') means 'more'.
_LESS = word_set(
    """
    smaller shorter lower younger lighter cheaper fewer thinner narrower slower closer
    nearer earlier sooner less
    """
)
_COMPARATIVE = re.compile(
    r"(?<![\w])(?P<op>(?:more|less)\s+[a-z]+\s+than|[a-z]{2,}er\s+than)\s*", re.IGNORECASE
)
_OP_PATTERN = "|".join(
    re.escape(op).replace(r"\ ", r"\s+") for op in sorted(_ALL_OPS, key=len, reverse=True)
)
_VALUE = (
    r"[$€£¥]?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*(?:k|m|bn|thousand|million|billion)\b)?"
)
_COMPARE = re.compile(rf"(?<![\w])(?P<op>{_OP_PATTERN})\s*(?P<value>{_VALUE})", re.IGNORECASE)
_BETWEEN = re.compile(
    rf"(?<![\w])(?P<lead>aged\s+|ages\s+)?(?:between\s+)(?P<low>{_VALUE})\s*(?:and|-|–|to)\s*"
    rf"(?P<high>{_VALUE})",
    re.IGNORECASE,
)
_AND_OVER = re.compile(
    rf"(?<![\w])(?P<lead>aged?\s+)?(?P<low>{_VALUE})\s*(?:\+|(?:years?\s+old\s+)?(?:or|and)\s+"
    r"(?:older|over|above|more|up))",
    re.IGNORECASE,
)
_AGED_RANGE = re.compile(
    rf"(?<![\w])aged?\s+(?P<low>{_VALUE})\s*(?:-|–|to)\s*(?P<high>{_VALUE})", re.IGNORECASE
)
_MONTHS = tuple(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ]
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_TIME = re.compile(
    rf"(?<![\w])(?P<prep>in|during|after|before|since|until|till|prior\s+to|from)\s+"
    rf"(?:(?P<month>{_MONTH})\s+)?(?P<year>(?:18|19|20)\d\d)(?![\d\w])"
    rf"|(?<![\w])(?P<prep2>after|before|since|until|on|from)\s+(?P<date>\d{{4}}-\d\d-\d\d)",
    re.IGNORECASE,
)
_MONTH_ONLY = re.compile(
    r"(?<![\w])(?:in|during)\s+(?:the\s+month\s+of\s+)?(?P<month>" + "|".join(_MONTHS) + r")"
    r"(?!\s*,?\s*\d)(?![\w])",
    re.IGNORECASE,
)
"""'in December' with no year: a month of any year (see ``ranges._month``)."""
_TIME_OPS = {"in": "in", "during": "in", "on": "in", "by": "<", "until": "<", "till": "<"}
_TIME_OPS |= {"before": "<", "prior to": "<", "after": ">", "since": ">=", "from": ">="}
_BOUNDARY = word_set(
    """
    for with who whom whose that which where and or but among on in from to at by predict
    classify estimate model optimise optimize maximise maximize when while if
    """
)
_FILLER = word_set("a an the is are be been being was were has have had of to =")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*")


@dataclass(frozen=True)
class Condition:
    """A numeric or time condition of the cohort, as written."""

    kind: str  # "range" | "time" | "month" (low: the month's number, '12')
    text: str
    start: int
    end: int
    context: tuple[
        str, ...
    ]  # words before it that may name the column: ('income',), ('signed', 'up')
    op: str  # '>', '<', '>=', '<=', 'between'; time: 'in', '>', '<', '>='
    low: float | str | None  # numbers, or ISO dates for time
    high: float | str | None = None
    age: bool = False  # 'older than', 'aged'
    money: bool = False  # a currency sign or a scale suffix
    core: int = -1  # where the comparison itself starts (the context words come before)
    percent: bool = False  # '13% alcohol': compared in the column's own scale (13 or 0.13)


def find_conditions(
    text: str,
    metric_spans: list[tuple[int, int]],
    names_numeric: Callable[[str], bool] | None = None,
) -> list[Condition]:
    """The range and time conditions of ``text``, left to right, without overlaps.

    A percentage is a metric's threshold ('at least 90% recall'), except next to a word that
    names a numeric column (``names_numeric``): 'more than 13% alcohol', 'alcohol above 13%'
    bound the column, not a score.
    """
    found: list[Condition] = []
    for match in _BETWEEN.finditer(text):
        low, high = _value(match.group("low")), _value(match.group("high"))
        if low is None or high is None or _after_metric(text, match.start(), metric_spans):
            continue
        found.append(
            _condition(
                text,
                "range",
                match.start(),
                match.end(),
                "between",
                low.value,
                high.value,
                age=bool(match.group("lead")),
                money=low.currency or high.currency,
            )
        )
    for match in _AGED_RANGE.finditer(text):
        low, high = _value(match.group("low")), _value(match.group("high"))
        if low is not None and high is not None:
            found.append(
                _condition(
                    text,
                    "range",
                    match.start(),
                    match.end(),
                    "between",
                    low.value,
                    high.value,
                    age=True,
                )
            )
    for match in _AND_OVER.finditer(text):
        number = _value(match.group("low"))
        if number is None or number.kind == "percent":
            continue
        found.append(
            _condition(
                text,
                "range",
                match.start(),
                match.end(),
                ">=",
                number.value,
                age=bool(match.group("lead")) or "old" in match.group(0).lower(),
                money=number.currency or number.kind == "amount",
            )
        )
    for match in _COMPARE.finditer(text):
        op_text = " ".join(match.group("op").lower().split())
        number = _value(match.group("value"))
        if number is None:
            continue
        if number.kind == "percent" or _percent_after(text, match.end()):
            share = _percent_condition(text, match, metric_spans, names_numeric)
            if share is not None:
                found.append(share)
            continue
        if _before_metric(text, match.end(), metric_spans):
            continue
        age = op_text in _AGE_OPS
        if not age and _after_metric(text, match.start(), metric_spans):
            continue
        found.append(
            _condition(
                text,
                "range",
                match.start(),
                match.end(),
                _ALL_OPS[op_text],
                number.value,
                age=age,
                money=number.currency or number.kind == "amount",
            )
        )
    for match in _COMPARATIVE.finditer(text):
        value = re.match(_VALUE, text[match.end() :])
        number = _value(value.group(0)) if value else None
        words = match.group("op").lower().split()
        if value is None or number is None or " ".join(words) in _ALL_OPS:
            continue
        if number.kind == "percent" or _after_metric(text, match.start(), metric_spans):
            continue
        end = match.end() + len(value.group(0))
        if _percent_after(text, end) or _before_metric(text, end, metric_spans):
            continue
        op = "<" if words[0] in _LESS else ">"
        condition = _condition(
            text, "range", match.start(), end, op, number.value, money=number.kind == "amount"
        )
        adjective = tuple(w for w in words if w not in {"more", "less", "than"})
        found.append(replace(condition, context=(*condition.context, *adjective)))
    for match in _MONTH_ONLY.finditer(text):
        if match.group("month") == "may":
            continue  # the verb, not the month
        month = _MONTHS.index(match.group("month").lower()) + 1
        found.append(_condition(text, "month", match.start(), match.end(), "in", str(month)))
    for match in _TIME.finditer(text):
        prep = " ".join((match.group("prep") or match.group("prep2")).lower().split())
        first, after = _period(match)
        found.append(
            _condition(text, "time", match.start(), match.end(), _TIME_OPS[prep], first, after)
        )
    return _without_overlaps(found)


def _percent_condition(
    text: str,
    match: re.Match[str],
    metric_spans: list[tuple[int, int]],
    names_numeric: Callable[[str], bool] | None,
) -> Condition | None:
    """'more than 13% alcohol' / 'alcohol above 13%': a percentage next to a numeric
    column's name, not after or before a metric's name."""
    sign = re.match(r"\s*(?:%|per\s*cent\b|percent\b)", text[match.end() :], re.IGNORECASE)
    if names_numeric is None or sign is None or _after_metric(text, match.start(), metric_spans):
        return None
    end = match.end() + sign.end()
    if _before_metric(text, end, metric_spans):
        return None
    number = _value(match.group("value"))
    if number is None:
        return None
    condition = _condition(
        text,
        "range",
        match.start(),
        end,
        _ALL_OPS[" ".join(match.group("op").lower().split())],
        number.value,
    )
    after = re.match(r"\s*([A-Za-z][A-Za-z_\-]*)", text[end:])
    if after is not None and names_numeric(after.group(1)):
        return replace(
            condition,
            end=end + after.end(),
            text=text[condition.start : end + after.end()].strip(),
            context=(*condition.context, after.group(1)),
            percent=True,
        )
    if any(names_numeric(w) for w in condition.context):
        return replace(condition, percent=True)
    return None


def _condition(
    text: str,
    kind: str,
    start: int,
    end: int,
    op: str,
    low: float | str | None,
    high: float | str | None = None,
    *,
    age: bool = False,
    money: bool = False,
) -> Condition:
    context, begin = _context(text, start)
    text_ = text[begin:end].strip()
    return Condition(kind, text_, begin, end, context, op, low, high, age, money, start)


def _context(text: str, start: int) -> tuple[tuple[str, ...], int]:
    """Up to three words before a comparison that may name its column ('lot area'), back to
    the population noun they qualify ('loans above $20k')."""
    words = list(_WORD.finditer(text[:start]))
    picked: list[re.Match[str]] = []
    for word in reversed(words):
        lower = word.group(0).lower()
        between = text[word.end() : (picked[0].start() if picked else start)]
        if re.search(r"[^\s]", between) or lower in _BOUNDARY or len(picked) >= 3:
            break
        picked.insert(0, word)
        if lower in POPULATION_NOUNS:
            break  # 'fiber optic customers older than 65': the words before are the population's
    kept = [w for w in picked if w.group(0).lower() not in _FILLER]
    begin = kept[0].start() if kept else start
    return tuple(w.group(0) for w in kept), begin


def _after_metric(text: str, start: int, spans: list[tuple[int, int]]) -> bool:
    """Whether a comparison follows a metric's name, with only filler words between."""
    before = text[:start].rstrip()
    while True:
        if any(end == len(before) for _, end in spans):
            return True
        match = re.search(r"(?:^|\s)(\S+)$", before)
        if match is None or match.group(1).lower() not in _FILLER | {"of", "score", "an"}:
            return False
        before = before[: match.start(1)].rstrip()


def _percent_after(text: str, end: int) -> bool:
    """Whether the number ending at ``end`` is a percentage ('at least 60% macro-F1'): the
    value pattern stops before the sign, so the comparison reads a score, not a cohort."""
    return re.match(r"\s*(?:%|per\s*cent\b|percent\b)", text[end:], re.IGNORECASE) is not None


def _before_metric(text: str, end: int, spans: list[tuple[int, int]]) -> bool:
    """Whether a metric's name follows the number right away ('at least 0.8 ROC AUC'): the
    comparison is the threshold."""
    gap = len(text[end:]) - len(text[end:].lstrip())
    return any(start == end + gap for start, _ in spans)


def _value(raw: str) -> Number | None:
    numbers = find_numbers(raw.strip())
    return numbers[0] if len(numbers) == 1 else None


def _period(match: re.Match[str]) -> tuple[str, str | None]:
    """The first day of the period a time phrase names, and the first day after it."""
    if match.group("date"):
        return match.group("date"), None
    year = int(match.group("year"))
    month_text = (match.group("month") or "").lower().rstrip(".")
    if not month_text:
        return f"{year:04d}-01-01", f"{year + 1:04d}-01-01"
    month = next(i for i, name in enumerate(_MONTHS, 1) if name.startswith(month_text[:3]))
    after = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}-01", f"{after[0]:04d}-{after[1]:02d}-01"


def _without_overlaps(found: list[Condition]) -> list[Condition]:
    kept: list[Condition] = []
    for condition in sorted(found, key=lambda c: (-(c.end - c.start), c.start)):
        if not any(condition.start < k.end and k.start < condition.end for k in kept):
            kept.append(condition)
    return sorted(kept, key=lambda c: c.start)
