"""Find the conditions that ask for some or none of an amount, with no number written:
'mixes that contain fly ash but no blast-furnace slag' (fly_ash > 0 and slag = 0), 'pigs
getting any vitamin E supplement' (vitamin_e > 0), 'items containing some sugar'.

A verb of having ('contain', 'include', 'get', 'receive', 'use', 'have') or 'with some',
'with any', 'containing', then up to three words of which one names a numeric column: the
amount is above zero. A list after it that 'no' or 'without' opens ('but no slag', 'and
without copper') asks for none of the next amount, zero. The words are claimed only when
one of them names a numeric column, so 'customers who have a premium plan' stays a phrase
for a category; which column is meant, and whether it can be zero, is decided against the
warehouse (:mod:`dagster_agentic.kernel.policy.ranges`): a column whose smallest value is
above zero cannot hold 'none' and is an error there.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from dagster_agentic.kernel.policy.condition_base import Condition, bound
from dagster_agentic.kernel.policy.condition_counts import names_by_part
from dagster_agentic.kernel.policy.text import STOPWORDS

# 'that contain', 'which received', 'who got any', 'getting any', 'with some'.
_SOME = re.compile(
    r"\b(?:(?:that|which|who)\s+(?:contain|contains|contained|include|includes|included|"
    r"use|uses|used|get|gets|got|receive|receives|received|have|has|had|take|takes|took)|"
    r"containing|including|getting|receiving|given|using|with|having)"
    r"(?P<some>\s+(?:some|any))?\s+",
    re.IGNORECASE,
)
# 'but no slag', 'and without copper', 'and no', 'but not any'.
_NONE = re.compile(r"\s*,?\s*(?:but|and)\s+(?P<none>no|without|not\s+any|zero)\s+", re.IGNORECASE)
_WORD = re.compile(r"([A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*)")
_ENDS = frozenset({"and", "or", "but", "nor", "since", "as", "because", "than", "that", "who"})
_MAX_WORDS = 3
# Verbs that need 'some' or 'any' to ask for an amount: 'with fly ash' does, but 'with 3
# bedrooms' is a count (condition_counts) and 'with a fireplace' a flag or a category.
_NEEDS_SOME = ("with", "having", "given", "using", "getting", "receiving")


def presences(text: str, names: Callable[[str], bool]) -> list[Condition]:
    """The 'some of an amount' and 'none of an amount' conditions of ``text``."""
    found: list[Condition] = []
    for match in _SOME.finditer(text):
        lead = match.group(0).split()[0].lower()
        if lead in _NEEDS_SOME and not match.group("some"):
            continue
        words, end = _amount_words(text, match.end())
        if not words:
            continue
        found.append(bound(text, match.start(), end, ">", 0.0, after=words))
        position = end
        while (more := _NONE.match(text, position)) is not None:
            none_words, none_end = _amount_words(text, more.end())
            if not none_words:
                break
            found.append(bound(text, more.start("none"), none_end, "=", 0.0, after=none_words))
            position = none_end
    return [c for c in found if any(names_by_part(w, names) for w in c.after)]


def _amount_words(text: str, position: int) -> tuple[tuple[str, ...], int]:
    """Up to three content words from ``position`` (a hyphenated word is one), and where
    they end: 'fly ash' of 'fly ash but no ...', 'vitamin E supplement'."""
    words: list[str] = []
    end = position
    while len(words) < _MAX_WORDS:
        match = _WORD.match(text, position)
        if match is None:
            break
        lower = match.group(1).lower()
        if lower in _ENDS or (lower in STOPWORDS and not match.group(1).isupper()):
            break
        words.append(match.group(1))
        end = match.end()
        position = end
        while position < len(text) and text[position] == " ":
            position += 1
    return tuple(words), end
