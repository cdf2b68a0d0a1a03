"""Find the time conditions of a cohort: a year or month after a preposition ('in 2009',
'before March 2023', 'from 2012 onwards', 'for the 2016 season'), a year bounded by the words
after it with no preposition ('1976 and later models', '1990 or earlier', '2010+'), a span
of years ('from 2008 to 2012'), a list of years that follow each other ('in 2010 or 2011'),
a decade ('in the 1990s') and a month of any year ('in December').

Which column a time reads (a date, or a whole-number year column) is decided later, against
the warehouse (:mod:`dagster_agentic.kernel.policy.ranges`).
"""

from __future__ import annotations

import re
from dataclasses import replace

from dagster_agentic.kernel.policy.condition_base import Condition, make_condition, negation
from dagster_agentic.kernel.policy.condition_patterns import (
    BOUNDARY,
    DECADE,
    FILLER,
    MONTH_NAME,
    MONTH_ONLY,
    MONTH_SPAN,
    MONTHS,
    NEXT_WORD,
    OPEN_YEAR,
    OPPOSITE,
    TIME,
    TIME_OPS,
    YEAR_LIST,
    YEAR_SPAN,
)


def time_conditions(text: str) -> tuple[list[Condition], list[Condition]]:
    """The spans of years (read before any range of numbers over the same words: 'between
    2015 and 2018' is years), then every other time condition."""
    spans: list[Condition] = []
    found: list[Condition] = []
    for match in MONTH_ONLY.finditer(text):
        if match.group("month") == "may" and not match.group("more"):
            continue  # the verb, not the month
        named = [match.group("month"), *MONTH_NAME.findall(match.group("more") or "")]
        months = [str(MONTHS.index(m.lower()) + 1) for m in named]
        found.append(
            make_condition(text, "month", match.start(), match.end(), "in", ",".join(months))
        )
    for match in MONTH_SPAN.finditer(text):
        opens, closes = (_month_number(match.group(g)) for g in ("first", "last"))
        if opens is None or closes is None or opens == closes:
            continue
        months = [str((opens - 1 + k) % 12 + 1) for k in range((closes - opens) % 12 + 1)]
        found.append(
            make_condition(text, "month", match.start(), match.end(), "in", ",".join(months))
        )
    for match in TIME.finditer(text):
        prep = " ".join((match.group("prep") or match.group("prep2")).lower().split())
        first, after = _period(match)
        bounded = any(match.group(g) for g in ("later", "onward", "plus", "earlier"))
        if prep == "for" and not bounded and not _year_ends_clause(text, match.end()):
            continue  # 'for 2000 workers' counts workers; 'for 2016, ...' names a year
        op = TIME_OPS[prep]
        if match.group("later") or match.group("onward") or match.group("plus"):
            op = ">="  # 'in 2010 or later', 'from 2012 onwards', 'for 1976 and later models'
        elif match.group("earlier"):
            op = "<="  # 'in 2010 or earlier'
        found.append(make_condition(text, "time", match.start(), match.end(), op, first, after))
    for match in OPEN_YEAR.finditer(text):
        year = int(match.group("year"))
        op = "<=" if match.group("earlier") else ">="
        found.append(
            make_condition(
                text,
                "time",
                match.start(),
                match.end(),
                op,
                f"{year:04d}-01-01",
                f"{year + 1:04d}-01-01",
            )
        )
    for match in YEAR_SPAN.finditer(text):
        first_year, last_year = sorted((int(match.group("first")), int(match.group("last"))))
        if match.group("prep").lower() == "for" and not _year_ends_clause(text, match.end()):
            continue
        joined = re.search(r"\band\b", match.group(0), re.IGNORECASE) is not None
        if joined and match.group("prep").lower() != "between" and last_year - first_year > 1:
            continue  # 'in 2010 and 2015' is two years, not the six between them
        spans.append(_years_between(text, match, first_year, last_year))
    for match in YEAR_LIST.finditer(text):
        years = sorted(int(y) for y in re.findall(r"\d{4}", match.group("years")))
        if len(years) == 2 and "," not in match.group("years") and " or " not in match.group(0):
            continue  # 'in 2010 and 2011': a span, read above
        if years != list(range(years[0], years[0] + len(years))):
            continue  # 'in 2008, 2010 or 2012': no span; the years stay unread, and refused
        if match.group("prep").lower() == "for" and not _year_ends_clause(text, match.end()):
            continue
        first_year, last_year = years[0], years[-1]
        spans.append(_years_between(text, match, first_year, last_year))
    for match in DECADE.finditer(text):
        decade = int(match.group("decade"))
        found.append(
            make_condition(
                text,
                "time",
                match.start(),
                match.end(),
                "between",
                f"{decade:04d}-01-01",
                f"{decade + 10:04d}-01-01",
            )
        )
    return spans, [_negated(text, c) for c in found]


def _negated(text: str, condition: Condition) -> Condition:
    """'not built after 2000' is built in 2000 or before; 'in 2009' has no opposite bound,
    so a negated 'in' is left to the words' other readings."""
    where = negation(text, condition.core)
    if where is None or condition.op not in OPPOSITE:
        return condition
    text_ = text[where : condition.end].strip()
    return replace(condition, op=OPPOSITE[condition.op], start=where, core=where, text=text_)


def _year_ends_clause(text: str, end: int) -> bool:
    """Whether a year is the end of its clause ('for 2016, RMSE ...', 'for 2016 with ...'),
    not a count of something ('for 2000 workers')."""
    match = NEXT_WORD.match(text, end)
    if match is None:
        return True
    return match.group(1).lower() in BOUNDARY | FILLER


def _period(match: re.Match[str]) -> tuple[str, str | None]:
    """The first day of the period a time phrase names, and the first day after it."""
    if match.group("date"):
        return match.group("date"), None
    year = int(match.group("year"))
    month = _month_number(match.group("month")) if match.group("month") else None
    if month is None:
        return f"{year:04d}-01-01", f"{year + 1:04d}-01-01"
    after = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}-01", f"{after[0]:04d}-{after[1]:02d}-01"


def _month_number(word: str) -> int | None:
    """1 for 'Jan', 'January' or 'jan.'; None for a word that is no month."""
    prefix = word.lower().rstrip(".")[:3]
    return next((k + 1 for k, m in enumerate(MONTHS) if m.startswith(prefix)), None)


def _years_between(text: str, match: re.Match[str], first: int, last: int) -> Condition:
    """The condition 'from the first of ``first`` up to the first of the year after ``last``'."""
    return make_condition(
        text,
        "time",
        match.start(),
        match.end(),
        "between",
        f"{first:04d}-01-01",
        f"{last + 1:04d}-01-01",
    )
