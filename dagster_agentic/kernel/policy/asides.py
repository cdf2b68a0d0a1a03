"""What a goal says in brackets: an aside that explains, not a condition.

'Predict the full-time result of each match (home win, draw or away win)' lists the
outcome's classes; 'the list price (USD)' gives a unit. Two readings follow:

* a word written only inside brackets is weaker evidence for the outcome than the words
  outside: of columns named equally well, one named only by an aside ('away' of away_goals)
  gives way to one the words outside name ('result' of ft_result);
* an aside whose items are, for the most part, values of the target column lists the
  target's classes ('(no effect, precautionary landing, aborted take-off or other)' of
  EFFECT): its words are read as such, never as a cohort.

A list after a colon at the end of a request ('classify how strong each storm gets at its
peak: depression, tropical storm, hurricane or major hurricane') is treated the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dagster_agentic.kernel.policy.categories import norm
from dagster_agentic.kernel.policy.naming import names_value
from dagster_agentic.kernel.policy.phrases import Phrase
from dagster_agentic.kernel.policy.text import Token
from dagster_agentic.warehouse.models import ColumnProfile

__all__ = [
    "aside_opening",
    "aside_spans",
    "aside_words",
    "class_lists",
    "is_aside",
    "unnamed_classes",
]

_BRACKETS = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]")
_COLON_LIST = re.compile(r":\s*([^.;:|?!]*)")
_ITEM_SPLIT = re.compile(r"\s*(?:,|;|/|\bor\b|\band\b|\+)\s*", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


def aside_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) of every bracketed aside, brackets included."""
    return [(m.start(), m.end()) for m in _BRACKETS.finditer(text)]


def aside_words(text: str, spans: Sequence[tuple[int, int]]) -> frozenset[str]:
    """The words (lower case) the text writes only inside asides."""
    inside: set[str] = set()
    outside: set[str] = set()
    for match in _WORD.finditer(text):
        word = match.group(0).lower()
        (inside if any(a <= match.start() < b for a, b in spans) else outside).add(word)
    return frozenset(inside - outside)


def class_lists(text: str, column: ColumnProfile) -> list[tuple[int, int]]:
    """The asides and colon lists whose items are mostly values of ``column`` (at least two
    items, more than half of them matched): they list the target's classes."""
    values = [v.value for v in (column.values or column.top_values) if isinstance(v.value, str)]
    if not values:
        return []
    found = []
    candidates = [
        (m.start(), m.end(), m.group(1) or m.group(2) or "") for m in _BRACKETS.finditer(text)
    ]
    candidates += [(m.start(), m.end(), m.group(1)) for m in _COLON_LIST.finditer(text)]
    for start, end, inner in candidates:
        items = [i for i in _ITEM_SPLIT.split(inner) if i and i.strip()]
        if len(items) < 2:
            continue
        matched = sum(1 for item in items if _names_a_value(item, values))
        if matched * 2 > len(items):
            found.append((start, end))
    return found


# 'classify each day as snow, thunderstorm, rain or fog', 'sort tickets into billing,
# technical or other': the classes, written after the verb's 'as' or 'into'.
_AS_LIST = re.compile(
    r"\b(?:classify|classified|categori[sz]e|label|tag|sort|split|assign)\b[^.;:?!]*?"
    r"\b(?:as|into)\s+([^.;:?!]*?\b(?:or|and)\b[^.;:?!,]*)",
    re.IGNORECASE,
)


def unnamed_classes(text: str, column: ColumnProfile) -> list[str]:
    """The classes an objective lists after 'classify ... as' (three or more items) when
    none of them names a value of ``column``: the column read is not the one whose classes
    the user wrote ('snow, thunderstorm, rain or fog' of station codes AKL, BOM, ...)."""
    values = [v.value for v in (column.values or column.top_values) if isinstance(v.value, str)]
    if not values:
        return []
    for match in _AS_LIST.finditer(text):
        items = [i.strip() for i in _ITEM_SPLIT.split(match.group(1)) if i and i.strip()]
        if len(items) >= 3 and not any(_names_a_value(item, values) for item in items):
            return items
    return []


def _names_a_value(item: str, values: Sequence[str]) -> bool:
    written = norm(item)
    if any(norm(v) == written for v in values):
        return True
    words = [w for w in _WORD.findall(item) if len(w) >= 3]
    return bool(words) and any(all(names_value(w, v) for w in words[:1]) for v in values)


def is_aside(phrase: Phrase) -> bool:
    """Whether a phrase restates the words before it ('(Sat/Sun)', 'i.e. Sat and Sun')."""
    return phrase.text.lower().startswith(("(", "i.e", "ie ", "namely", "that is"))


_ASIDES = (("(",), ("i", ".", "e", "."), ("ie",), ("namely",), ("that", "is"), ("i", ".", "e"))


def aside_opening(tokens: list[Token], start: int) -> int | None:
    """Where an aside that restates the words before it opens, right before ``start``: '('
    ('weekend orders (Sat/Sun)'), 'i.e.', 'namely', 'that is', a comma after it allowed."""
    end = start - 1 if start > 0 and tokens[start - 1].text == "," else start
    for marker in _ASIDES:
        begin = end - len(marker)
        if begin >= 0 and tuple(t.lower for t in tokens[begin:end]) == marker:
            if begin > 0 and tokens[begin - 1].text == "," and marker != ("(",):
                return begin - 1 if begin - 1 > 0 else None
            return begin
    return None
