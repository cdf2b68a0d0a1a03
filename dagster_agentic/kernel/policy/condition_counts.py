"""Find the conditions whose column the noun after the number names: counts ('with 3
bedrooms', 'cars that do not have 8 cylinders', 'without 2 garages', 'other than 4 doors'),
'3 bedrooms or more', 'whose year is 2009', and the noun phrase after any comparison ('more
than 10 years past their PhD', 'more than 5,000 applications').

Words after a number are claimed only when they name a numeric column, so that they never
name the target as well; which column is meant is decided against the warehouse
(:mod:`dagster_agentic.kernel.policy.ranges`).
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
from dagster_agentic.kernel.policy.condition_names import unit_words
from dagster_agentic.kernel.policy.condition_patterns import (
    BOUNDARY,
    COUNT,
    EQUALS,
    HYPHEN_UNIT,
    JOINERS,
    LINKS,
    NEXT_WORD,
    NOUN_OR_MORE,
    NOUN_PLUS,
    PERCENT_COUNT,
    UNEQUAL,
    UNIT_PLUS,
)
from dagster_agentic.kernel.policy.text import STOPWORDS

_NEGATED_LEADS = ("without", "other")


_LESS = frozenset({"fewer", "less", "under", "below", "lower", "shorter", "smaller", "lighter"})


def equalities(
    text: str, metric_spans: list[tuple[int, int]], names: Callable[[str], bool]
) -> list[Condition]:
    """A number equal (or not) to a column's value: 'with 3 bedrooms', 'having exactly 2
    baths', 'that do not have 8 cylinders', 'without 3 bedrooms' (the noun after the number
    names the column), '17-inch monitors' (the unit after the hyphen), 'whose year is 2009',
    'cylinders other than 8' (the word before)."""
    found: list[Condition] = []
    for match in COUNT.finditer(text):
        number = value(match.group("value"))
        if number is None or number.kind == "percent" or percent_after(text, match.end()):
            continue
        if after_metric(text, match.start("value"), metric_spans):
            continue
        lead = match.group("lead").lower()
        negated = lead.startswith(_NEGATED_LEADS) or "other" in lead
        start = match.start("value")
        if negated:
            start = match.start("lead")
        elif (where := negation(text, match.start())) is not None:
            negated, start = True, where  # 'do not have 8 cylinders'
        # The count starts at its number (or its negation): 'with' ends the words that may
        # name the column.
        op = "<>" if negated else "="
        condition = make_condition(text, "range", start, match.end(), op, number.value)
        if negated:
            condition = replace(condition, context=(), start=start, text=text[start : match.end()])
        condition = with_noun_after(text, condition, names)
        if condition.after and not before_metric(text, condition.end, metric_spans):
            found.append(condition)
    for match in PERCENT_COUNT.finditer(text):  # 'with 0% coinsurance'
        found += _percent_count(text, match, metric_spans, names)
    for match in NOUN_OR_MORE.finditer(text):
        less = match.group("dir").lower() in _LESS
        found += _named_bound(text, match, metric_spans, names, "<=" if less else ">=")
    for match in NOUN_PLUS.finditer(text):  # '1 carat+'
        found += _named_bound(text, match, metric_spans, names, ">=")
    for match in UNIT_PLUS.finditer(text):  # '8MB+ RAM'
        found += _named_bound(text, match, metric_spans, names, ">=")
    for match in HYPHEN_UNIT.finditer(text):  # '17-inch monitors'
        found += _named_bound(text, match, metric_spans, names, "=")
    for match in EQUALS.finditer(text):
        number = value(match.group("value"))
        if number is None or number.kind == "percent" or percent_after(text, match.end()):
            continue
        if not names(match.group("name")) or before_metric(text, match.end(), metric_spans):
            continue
        op = "<>" if UNEQUAL.search(match.group("op")) else "="
        found.append(
            make_condition(text, "range", match.start("op"), match.end(), op, number.value)
        )
    return found


def _percent_count(
    text: str,
    match: re.Match[str],
    metric_spans: list[tuple[int, int]],
    names: Callable[[str], bool],
) -> list[Condition]:
    """'with 0% coinsurance', 'without 100% cover': a percentage equal to (or not) what the
    noun after its sign names, when that noun names a numeric column; none otherwise ('with
    90% precision' is the metric's)."""
    number = value(match.group("value"))
    noun = match.group("noun")
    if number is None or not names_by_part(noun, names):
        return []
    if after_metric(text, match.start("value"), metric_spans) or before_metric(
        text, match.end(), metric_spans
    ):
        return []
    negated = match.group("lead").lower().startswith(_NEGATED_LEADS)
    start = match.start("lead") if negated else match.start("value")
    op = "<>" if negated else "="
    condition = make_condition(text, "range", start, match.end(), op, number.value)
    return [replace(condition, context=(), after=(noun,), percent=True)]


def _named_bound(
    text: str,
    match: re.Match[str],
    metric_spans: list[tuple[int, int]],
    names: Callable[[str], bool],
    op: str,
) -> list[Condition]:
    """The condition of a number (group ``low``) and the words that name its column (group
    ``noun``: '3 bedrooms or more', '1 carat+', '17-inch'), when every word of them names a
    numeric column; none otherwise."""
    number = value(match.group("low"))
    if number is None or after_metric(text, match.start(), metric_spans):
        return []
    named = [w for w in match.group("noun").split() if w.lower() not in JOINERS]
    # '8MB RAM or more': a unit that names no column is no part of the name.
    while len(named) > 1 and _is_unit(named[0]) and not names_by_part(named[0], names):
        named = named[1:]
    if not named or not all(names_by_part(w, names) for w in named):
        return []
    condition = make_condition(text, "range", match.start(), match.end(), op, number.value)
    return [replace(condition, after=tuple(named))]


def with_noun_after(text: str, condition: Condition, names: Callable[[str], bool]) -> Condition:
    """'more than 5,000 applications', '2 or more bedrooms', 'more than 10 years in the
    majors', 'more than 10 years past their PhD', 'more than 3 customer service calls': the
    noun phrase after the number names the column, as the words before it do.

    The words are claimed (so they never name the target) only when they read as what is
    counted: a noun that names a numeric column (by its stem or by an abbreviation the column
    uses: 'bedrooms' ~ beds, 'applications' ~ apps, 'years' ~ yrs), plural after a number
    other than one ('trees', not 'spend' of 'customers over 60 spend'), after at most two
    modifiers, and any further name parts joined by prepositions and possessives ('years in
    the majors', 'years past their PhD'). A past form right after the number is a verb
    ('loans above 20k defaulted') and ends the words.
    """
    if condition.kind != "range" or condition.percent or condition.after:
        return condition
    words: list[re.Match[str]] = []
    position = condition.end
    while len(words) < 7:
        match = NEXT_WORD.match(text, position)
        if match is None:
            break
        lower = match.group(1).lower()
        link = lower in LINKS
        verb = lower.endswith("ed") and "_" not in lower  # 'bikes_owned' is a name
        if not link and (lower in BOUNDARY or lower in STOPWORDS or verb):
            break
        words.append(match)
        position = match.end()
    texts = [m.group(1) for m in words]
    # '2,000 sq ft of living area': the unit and its 'of' come before the words that name.
    first = 0
    while first < len(texts) and _is_unit(texts[first]) and not names_by_part(texts[first], names):
        first += 1
    if first and first < len(texts) and texts[first].lower() == "of":
        first += 1
    naming = [
        i
        for i, w in enumerate(texts)
        if i >= first and w.lower() not in LINKS and names_by_part(w, names)
    ]
    if (
        not naming
        or naming[0] - first > 2
        or any(w.lower() in LINKS for w in texts[first : naming[0]])
    ):
        return condition
    last = naming[0]
    for index in naming[1:]:
        if any(w.lower() not in LINKS for w in texts[last + 1 : index]):
            break
        last = index
    head = texts[last].lower()
    counted = head.endswith("s") and not head.endswith(("ss", "us", "is"))
    unit = _is_unit(head) or first > 0
    if not (counted or unit or "_" in head or last > naming[0] or condition.low == 1):
        return condition
    end = words[last].end()
    return replace(
        condition,
        end=end,
        text=text[condition.start : end].strip(),
        after=tuple(w for w in texts[: last + 1] if w.lower() not in LINKS),
    )


def _is_unit(word: str) -> bool:
    """An abbreviated unit: 'sqft', 'km', 'kg' (no vowel), or one English writes short
    ('mi')."""
    return not re.search(r"[aeiou]", word.lower()) or bool(unit_words(word))


def names_by_part(word: str, names: Callable[[str], bool]) -> bool:
    """Whether ``word`` or an abbreviation of it (a leading part of 3 letters or more, as
    'apps' abbreviates 'applications') names a numeric column."""
    if names(word):
        return True
    lower = word.lower()
    return any(names(lower[:k]) for k in range(len(lower) - 1, 2, -1))
