"""Find the numeric and time conditions of a cohort: 'older than 60', 'above $20k',
'between 18 and 25', 'who signed up in 2024', 'who joined after March 2023'.

They are read before the metric, so that their numbers are never taken for a threshold; a
comparison right after a metric's name ('RMSE below 25,000') is the threshold and is left
alone. A percentage is a threshold too ('90% recall'), unless it sits next to a word that
names a numeric column ('more than 13% alcohol', 'alcohol above 13%'), or a compared
percentage qualifies the noun after it ('more than 13.5% sodium'): then it bounds that
column (or fails to resolve, listing the columns it may mean). A month with no year ('in
December'; 'may' only when written 'May') is a condition of its own, and so is a year after
a preposition ('in 2009', 'for 2016,', 'in the 2009 survey'; 'for 2000 workers' is a count,
not a year). Numbers may be written as words ('at least two').

The words that name a condition's column sit on either side of the number: before it
('income above 20k') or after it ('more than 5,000 applications', '2 or more bedrooms', '3
bedrooms or more', 'with 3 bedrooms', 'more than 10 years in the majors'). Words after the
number are claimed only when they name a numeric column (by a name part or an abbreviation
the column uses), so that they never name the target as well. A negation a few words back
turns a comparison into its opposite ('excluding loans above 20k', 'who are not older than
30'); ages have their idioms ('in their 50s', 'over 60 years old'). Which column a condition
reads is decided later, against the warehouse (:mod:`dagster_agentic.kernel.policy.ranges`).
Time conditions are found by :mod:`dagster_agentic.kernel.policy.condition_time`, counts and
the words after a number by :mod:`dagster_agentic.kernel.policy.condition_counts`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from dagster_agentic.kernel.policy.condition_base import (
    Condition,
    after_metric,
    before_metric,
    make_condition,
    negation,
    percent_after,
    value,
)
from dagster_agentic.kernel.policy.condition_clock import clock_conditions
from dagster_agentic.kernel.policy.condition_counts import equalities, with_noun_after
from dagster_agentic.kernel.policy.condition_days import with_days
from dagster_agentic.kernel.policy.condition_degrees import degree_bounds
from dagster_agentic.kernel.policy.condition_ordinals import ordinal_bounds
from dagster_agentic.kernel.policy.condition_patterns import (
    AGE_DECADE,
    AGE_OPS,
    AGED_RANGE,
    ALL_OPS,
    AND_OVER,
    AND_UNDER,
    BETWEEN,
    COMPARATIVE,
    COMPARE,
    DECADE_WORDS,
    LESS,
    NEGATORS,
    OPEN_YEAR,
    OPPOSITE,
    VALUE,
    YEARS_OLD,
)
from dagster_agentic.kernel.policy.condition_presence import presences
from dagster_agentic.kernel.policy.condition_time import time_conditions
from dagster_agentic.kernel.policy.metric import loose_threshold
from dagster_agentic.kernel.policy.text import LEXICON, METRIC_WORDS, POPULATION_NOUNS, STOPWORDS

__all__ = ["Condition", "find_conditions"]


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
    for match in BETWEEN.finditer(text):
        low, high = value(match.group("low")), value(match.group("high"))
        if low is None or high is None or after_metric(text, match.start(), metric_spans):
            continue
        found.append(
            make_condition(
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
    for match in AGED_RANGE.finditer(text):
        low, high = value(match.group("low")), value(match.group("high"))
        if low is not None and high is not None:
            found.append(
                make_condition(
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
    for match in AGE_DECADE.finditer(text):
        digits, word = match.group("digits"), match.group("word")
        first = float(digits) if digits else float(DECADE_WORDS[word.lower()])
        condition = make_condition(
            text, "range", match.start(), match.end(), "span", first, first + 10, age=True
        )
        found.append(replace(condition, context=()))
    for match in AND_UNDER.finditer(text):
        number = value(match.group("low"))
        if number is None or number.kind == "percent" or percent_after(text, match.end("low")):
            continue
        if after_metric(text, match.start("low"), metric_spans):
            continue  # 'an RMSE of 20 or less' is the threshold
        found.append(
            make_condition(
                text,
                "range",
                match.start(),
                match.end(),
                "<=",
                number.value,
                age=bool(match.group("lead")) or match.group("word").lower() == "younger",
                money=number.currency or number.kind == "amount",
            )
        )
    for match in AND_OVER.finditer(text):
        number = value(match.group("low"))
        if number is None or number.kind == "percent" or OPEN_YEAR.match(text, match.start("low")):
            continue  # '1976+ models' is a time (condition_time), not a number
        if after_metric(text, match.start("low"), metric_spans):
            continue  # 'an AUC of 0.8 or more' is the threshold
        found.append(
            make_condition(
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
    for match in COMPARE.finditer(text):
        op_text = " ".join(match.group("op").lower().split())
        number = value(match.group("value"))
        if number is None:
            continue
        if number.kind == "percent" or percent_after(text, match.end()):
            share = _percent_condition(text, match, metric_spans, names_numeric)
            if share is not None:
                found.append(share)
            continue
        if before_metric(text, match.end(), metric_spans):
            continue
        age = op_text in AGE_OPS
        if not age and after_metric(text, match.start(), metric_spans):
            continue
        found.append(
            make_condition(
                text,
                "range",
                match.start(),
                match.end(),
                ALL_OPS[op_text],
                number.value,
                age=age,
                money=number.currency or number.kind == "amount",
            )
        )
    for match in COMPARATIVE.finditer(text):
        written = re.match(VALUE, text[match.end() :])
        number = value(written.group(0)) if written else None
        words = match.group("op").lower().split()
        if written is None or number is None or " ".join(words) in ALL_OPS:
            continue
        if number.kind == "percent" or after_metric(text, match.start(), metric_spans):
            continue
        end = match.end() + len(written.group(0))
        if percent_after(text, end) or before_metric(text, end, metric_spans):
            continue
        op = "<" if words[0] in LESS else ">"
        condition = make_condition(
            text, "range", match.start(), end, op, number.value, money=number.kind == "amount"
        )
        adjective = tuple(w for w in words if w not in {"more", "less", "than"})
        found.append(replace(condition, context=(*condition.context, *adjective)))
    found = [_sexed(_years_old(text, _negated(text, c))) for c in found]
    spans, times = time_conditions(text)
    times = with_days(text, times)  # 'on weekends', 'weekdays in 2015'
    clocks = clock_conditions(text)  # 'before midday', 'after 6pm': a time of day
    found = [
        c for c in [*spans, *found, *times] if not any(k.core <= c.core < k.end for k in clocks)
    ]
    found += clocks
    # 'between 2015 and 2018' reads as a span of years rather than a range of numbers.
    spans = [c for c in [*spans, *times] if c.op == "between"]
    found = [
        c
        for c in found
        if c.kind != "range" or not any(t.core <= c.core and c.end <= t.end for t in spans)
    ]
    if names_numeric is None:
        return _without_threshold(text, _without_overlaps(found))
    found = [with_noun_after(text, c, names_numeric) for c in found]
    found.extend(equalities(text, metric_spans, names_numeric))
    found.extend(presences(text, names_numeric))  # 'that contain fly ash but no slag'
    found.extend(degree_bounds(text))  # 'formed south of 20°N'
    found.extend(ordinal_bounds(text, names_numeric))  # '6th inning onwards'
    return _without_threshold(text, _without_overlaps(found), names_numeric)


def _without_threshold(
    text: str, found: list[Condition], names: Callable[[str], bool] | None = None
) -> list[Condition]:
    """Without the comparison that is the metric's threshold said apart from it: one that
    names nothing ('Evaluate with ROC AUC; we need at least 0.75': only 'we need' before it)
    when the objective names one metric and no other number is its threshold
    (:func:`~dagster_agentic.kernel.policy.metric.loose_threshold`). With ``names`` (whether a
    word names a numeric column), a lower-case word that names no column and no population
    names nothing either ('we expect at least 0.97')."""
    bare = [c for c in found if _names_nothing(c, names)]
    if not bare:
        return found
    claimed = [(c.start, c.end) for c in found if c not in bare]
    number = loose_threshold(text, claimed)
    if number is None:
        return found
    return [c for c in found if not (c in bare and c.start <= number.start < c.end)]


def _names_nothing(condition: Condition, names: Callable[[str], bool] | None = None) -> bool:
    """A plain comparison whose words are all function words ('we need at least 0.75'), or,
    with ``names``, lower-case words that name no numeric column and no population ('we
    expect at least 0.97'): no column, population or age."""
    return (
        condition.kind == "range"
        and not condition.age
        and not condition.percent
        and not condition.after
        and condition.op in {">", ">=", "<", "<="}
        and all(_function_word(w, names) for w in condition.context)
    )


def _function_word(word: str, names: Callable[[str], bool] | None) -> bool:
    lower = word.lower()
    if lower in STOPWORDS | _PRONOUNS:
        return True
    return (
        names is not None
        and word.islower()
        and lower not in POPULATION_NOUNS
        and lower not in METRIC_WORDS
        and not names(word)
    )


_PRONOUNS = frozenset({"i", "we", "you", "they", "it", "we'd", "we'll", "i'd", "you'd", "that's"})


def _negated(text: str, condition: Condition) -> Condition:
    """A comparison a word before it negates, as its opposite: 'excluding loans above 20k'
    is amount <= 20000, 'who are not older than 30' is age <= 30 (see
    :func:`~dagster_agentic.kernel.policy.condition_base.negation`)."""
    where = negation(text, condition.core)
    if where is None:
        return condition
    op = "not between" if condition.op == "between" else OPPOSITE[condition.op]
    start = min(where, condition.start)
    named = tuple(w for w in condition.context if not _negating(w))
    return replace(
        condition,
        op=op,
        start=start,
        core=where,
        text=text[start : condition.end].strip(),
        context=named,
    )


def _years_old(text: str, condition: Condition) -> Condition:
    """'over 60 years old': the words after the number say it is an age, and are the
    condition's own (they never name the target)."""
    if condition.kind != "range":
        return condition
    match = YEARS_OLD.match(text, condition.end)
    if match is None:
        return condition
    end = match.end()
    return replace(condition, end=end, text=text[condition.start : end].strip(), age=True)


def _sexed(condition: Condition) -> Condition:
    """'men over 60', 'women under 25': a word for people of one sex right before a bare
    number makes the number an age, and stays a cohort word of its own (the sex: 'men' is
    male = 1, see :data:`~dagster_agentic.kernel.policy.text.LEXICON`), so the condition
    starts at the comparison and never swallows it."""
    if condition.kind != "range" or not condition.context or condition.money:
        return condition
    last = condition.context[-1].lower()
    if last not in LEXICON or LEXICON[last] not in {("male",), ("female",)}:
        return condition
    if not isinstance(condition.low, float) or not 0 <= condition.low <= 120:
        return condition
    start = condition.core
    return replace(
        condition,
        start=start,
        text=condition.text[start - condition.start :],
        context=(),
        age=True,
    )


def _negating(word: str) -> bool:
    lower = word.lower()
    return lower in NEGATORS or lower.endswith(("n't", "n’t"))


def _percent_condition(
    text: str,
    match: re.Match[str],
    metric_spans: list[tuple[int, int]],
    names_numeric: Callable[[str], bool] | None,
) -> Condition | None:
    """'more than 13% alcohol' / 'alcohol above 13%': a percentage next to a numeric
    column's name, not after or before a metric's name."""
    sign = re.match(r"\s*(?:%|per\s*cent\b|percent\b)", text[match.end() :], re.IGNORECASE)
    if names_numeric is None or sign is None or after_metric(text, match.start(), metric_spans):
        return None
    end = match.end() + sign.end()
    if before_metric(text, end, metric_spans):
        return None
    number = value(match.group("value"))
    if number is None:
        return None
    condition = make_condition(
        text,
        "range",
        match.start(),
        end,
        ALL_OPS[" ".join(match.group("op").lower().split())],
        number.value,
    )
    after = re.match(r"\s*([A-Za-z][A-Za-z_\-]*)", text[end:])
    if after is not None and (names_numeric(after.group(1)) or _qualified(after.group(1))):
        # '13.5% sodium' bounds what the noun names even when no column is called that:
        # the condition then fails to resolve and lists the columns, never a threshold.
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


def _qualified(word: str) -> bool:
    """Whether the word after a compared percentage is a noun it qualifies ('more than 13.5%
    sodium'): a content word, not a metric's ('90% recall') or a function word ('80% of')."""
    lower = word.lower()
    return len(lower) >= 2 and lower not in STOPWORDS and lower not in METRIC_WORDS


def _without_overlaps(found: list[Condition]) -> list[Condition]:
    kept: list[Condition] = []
    for condition in sorted(found, key=lambda c: (-(c.end - c.start), c.start)):
        if not any(condition.start < k.end and k.start < condition.end for k in kept):
            kept.append(condition)
    return sorted(kept, key=lambda c: c.start)
