"""The condition type and the small readers every condition finder shares: where a
comparison's naming words start, its number, whether a metric's name sits right before or
after it, and whether a word a few places back negates it.

Kept apart from :mod:`dagster_agentic.kernel.policy.conditions` (numeric comparisons), and
the time and count finders, which all build conditions the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dagster_agentic.kernel.policy.condition_patterns import (
    BOUNDARY,
    EVENT_WORDS,
    FILLER,
    NEGATORS,
    NUMBER_WORDS,
    WORD,
)
from dagster_agentic.kernel.policy.numbers import Number, find_numbers
from dagster_agentic.kernel.policy.text import POPULATION_NOUNS, word_set

# Auxiliaries between a negation and what it negates: 'do not have', 'are not older than'.
_AUXILIARIES = word_set(
    "do does did have has had having is are was were be been being a an the any who that"
)
# Words that link a metric's name to its comparison when the two are said apart: a modal or
# a copula and the verbs of reaching a level ('recall should be at least 0.9', 'the RMSE must
# stay under 800', 'recall needs to be at least 0.7', 'AUC ideally reaching 0.8 or more').
_METRIC_LINKS = word_set(
    """should must shall will would could can may might need needs needed ought has have
    it to be is are stay stays remain remains come comes in at reach reaches reaching get
    gets hit hits ideally really always still hopefully preferably"""
)
# Negations that take an object before the comparison: 'excluding loans above 20k'.
_PREPOSED = word_set("excluding except without")


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
    # '>', '<', '>=', '<=', '=', '<>', 'between', 'not between', 'span' (low <= x < high);
    # time: 'in', '>', '<', '>=', '<=', 'between'
    op: str
    low: float | str | None  # numbers, or ISO dates for time
    high: float | str | None = None
    age: bool = False  # 'older than', 'aged'
    money: bool = False  # a currency sign or a scale suffix
    core: int = -1  # where the comparison itself starts (the context words come before)
    percent: bool = False  # '13% alcohol': compared in the column's own scale (13 or 0.13)
    after: tuple[str, ...] = ()  # words after the number naming the column: ('applications',)
    clause: str = ""  # the words around it ('for items with more than 30 g of protein')

    @property
    def words(self) -> tuple[str, ...]:
        """Every word that may name the condition's column, before and after the number."""
        return (*self.context, *self.after)


def make_condition(
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
    """A condition whose comparison starts at ``start``, with the words before it that may
    name its column (:func:`context`)."""
    words, begin = context(text, start)
    if kind in {"time", "month"}:
        # Of the words before a time, only the event's verb is the condition's own ('workers
        # surveyed in 2009'); a noun is the population or the outcome ('predict hf_score in
        # 2016'), so it is left to be read as such, and still helps name the date column.
        verbs = [m for m in WORD.finditer(text, begin, start) if verb(m.group(0))]
        begin = verbs[0].start() if verbs else start
    text_ = text[begin:end].strip()
    return Condition(
        kind,
        text_,
        begin,
        end,
        words,
        op,
        low,
        high,
        age,
        money,
        start,
        clause=clause(text, start, end),
    )


def bound(
    text: str,
    start: int,
    end: int,
    op: str,
    low: float,
    *,
    context: tuple[str, ...] = (),
    after: tuple[str, ...] = (),
) -> Condition:
    """A range condition whose comparison is the whole span ``start``..``end`` and whose
    column the given words name: ``context`` before the number, ``after`` it ('latitude' of
    'south of 20°N', 'inning' of '6th inning onwards', 'fly ash' of 'that contain fly ash')."""
    return Condition(
        "range",
        text[start:end].strip(" ,"),
        start,
        end,
        context,
        op,
        low,
        core=start,
        after=after,
        clause=clause(text, start, end),
    )


# Where a clause ends: a comma or semicolon before a space, a bar, a bracket, a colon, or a
# sentence's end. A comma between digits ('2,000') joins them.
_CLAUSE_END = re.compile(r"[,;]\s|[|()\[\]:]|[.!?](?:\s|$)")


def clause(text: str, at: int, end: int | None = None) -> str:
    """The words around a comparison, within its clause: up to three before ``at`` and six
    after ``end`` ('for items with more than 30 g of protein' of 'Can the sodium content be
    estimated for items with more than 30 g of protein? An MAE of 300 mg is the bar.')."""
    end = at if end is None else end
    begin = 0
    for match in _CLAUSE_END.finditer(text, 0, at):
        begin = match.end()
    after = _CLAUSE_END.search(text, end)
    stop = after.start() if after else len(text)
    before = list(re.finditer(r"\S+", text[begin:at]))[-3:]
    following = list(re.finditer(r"\S+", text[end:stop]))[:6]
    first = begin + before[0].start() if before else at
    last = end + following[-1].end() if following else end
    return text[first:last].strip()


def verb(word: str) -> bool:
    lower = word.lower()
    return lower.endswith("ed") or lower in EVENT_WORDS


def context(text: str, start: int) -> tuple[tuple[str, ...], int]:
    """Up to three words before a comparison that may name its column ('lot area'), back to
    the population noun they qualify ('loans above $20k')."""
    words = list(WORD.finditer(text[:start]))
    picked: list[re.Match[str]] = []
    for word in reversed(words):
        lower = word.group(0).lower()
        between = text[word.end() : (picked[0].start() if picked else start)]
        if re.search(r"[^\s]", between) or lower in BOUNDARY or len(picked) >= 3:
            break
        picked.insert(0, word)
        if lower in POPULATION_NOUNS:
            break  # 'fiber optic customers older than 65': the words before are the population's
    kept = [w for w in picked if w.group(0).lower() not in FILLER]
    begin = kept[0].start() if kept else start
    return tuple(w.group(0) for w in kept), begin


def negation(text: str, start: int) -> int | None:
    """Where the word that negates the comparison or count at ``start`` begins, or None.

    'cars that do not have 8 cylinders', "who aren't older than 30": a 'not' (or -n't, or
    'never') with only auxiliaries between; 'excluding loans above 20k', 'except homes with 3
    bedrooms': a preposed negation with at most one word (what it excludes) between. A
    past form between is the event the time is of ('not built after 2000')."""
    words = list(WORD.finditer(text[:start]))[-5:]
    nouns = 0
    end = start
    for index in range(len(words) - 1, -1, -1):
        word = words[index]
        if re.search(r"[^\s]", text[word.end() : end]):
            return None  # punctuation: another clause
        lower = word.group(0).lower()
        if lower in NEGATORS or lower.endswith(("n't", "n’t")):
            return word.start() if nouns == 0 or lower in _PREPOSED else None
        previous = words[index - 1].group(0).lower() if index else ""
        if lower in _AUXILIARIES or verb(lower) or (lower == "for" and previous in _PREPOSED):
            end = word.start()  # 'not built after 2000', 'except for homes with 3 bedrooms'
            continue
        if lower in BOUNDARY or nouns:
            return None
        nouns += 1
        end = word.start()
    return None


def after_metric(text: str, start: int, spans: list[tuple[int, int]]) -> bool:
    """Whether a comparison follows a metric's name, with only filler words between, or the
    words that link a metric to its level ('recall should be at least 0.9', at most five)."""
    before = text[:start].rstrip()
    links = 0
    while True:
        if any(end == len(before) for _, end in spans):
            return True
        match = re.search(r"(?:^|\s)(\S+)$", before)
        if match is None:
            return False
        word = match.group(1).lower()
        if word in _METRIC_LINKS and links < 5:
            links += 1
        elif word not in FILLER | {"of", "score", "an"}:
            return False
        before = before[: match.start(1)].rstrip()


def percent_after(text: str, end: int) -> bool:
    """Whether the number ending at ``end`` is a percentage ('at least 60% macro-F1'): the
    value pattern stops before the sign, so the comparison reads a score, not a cohort."""
    return re.match(r"\s*(?:%|per\s*cent\b|percent\b)", text[end:], re.IGNORECASE) is not None


def before_metric(text: str, end: int, spans: list[tuple[int, int]]) -> bool:
    """Whether a metric's name follows the number right away ('at least 0.8 ROC AUC'): the
    comparison is the threshold."""
    gap = len(text[end:]) - len(text[end:].lstrip())
    return any(start == end + gap for start, _ in spans)


def value(raw: str) -> Number | None:
    word = " ".join(raw.strip().lower().split())
    if word in NUMBER_WORDS:
        return Number(0, len(word), word, NUMBER_WORDS[word], "bare")
    numbers = find_numbers(raw.strip())
    return numbers[0] if len(numbers) == 1 else None
