"""The surface forms a category value is written in besides its own spelling: ordinals and
number words ('second' ~ '2nd' ~ 2), and short forms of a word in either direction
('Department' ~ 'dept', 'emerg' ~ 'emergency').

The ordinals and number words are a small lexicon because language itself fixes them; the
short forms are read from the letters alone: a short form starts like the word, keeps its
letters in order, and is a cut-off ('emerg'), a contraction without inner vowels ('mgmt',
'intl') or a cut-off closed by the word's last letter ('dept', 'govt', 'natl').
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dagster_agentic.kernel.policy.condition_patterns import NUMBER_WORDS
from dagster_agentic.kernel.policy.text import abbreviates, norm, word_match
from dagster_agentic.warehouse.models import ColumnProfile

_ORDINAL_WORDS = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
]
_NUMBER = {w: i + 1 for i, w in enumerate(_ORDINAL_WORDS)}
_NUMBER.update({w: int(v) for w, v in NUMBER_WORDS.items() if v >= 1})
_NUMERAL = re.compile(r"^(\d{1,3})(st|nd|rd|th)?$")
_VOWELS = frozenset("aeiou")


def ordinal(word: str) -> int | None:
    """The number a word spells as an ordinal or a count: 'third', '3rd', 'three', '3' -> 3."""
    lower = word.lower()
    if lower in _NUMBER:
        return _NUMBER[lower]
    found = _NUMERAL.match(lower)
    if found is None:
        return None
    suffix = found.group(2)
    number = int(found.group(1))
    if suffix and suffix != _suffix(number):
        return None  # '2th' is no ordinal
    return number


def ordinal_only(word: str) -> int | None:
    """The number of an ordinal as such, never of a count: 'fourth', '4th' -> 4; 'four', '4'
    -> None."""
    lower = word.lower()
    if lower in _ORDINAL_WORDS:
        return _ORDINAL_WORDS.index(lower) + 1
    found = _NUMERAL.match(lower)
    return ordinal(lower) if found is not None and found.group(2) else None


def _suffix(number: int) -> str:
    if 10 <= number % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")


def number_form(word: str) -> str:
    """A word with an ordinal or number word written as one key ('#3'), else the word, so
    that 'third' and '3rd' compare equal wherever words are compared."""
    number = ordinal(word)
    return word if number is None else f"#{number}"


def shortens(short: str, word: str) -> bool:
    """Whether ``short`` is a short form of ``word``: 'dept' of 'department', 'emerg' of
    'emergency', 'intl' of 'international'. Three letters at least, two fewer than the word,
    alphabetic, and the same first letter."""
    short, word = short.lower(), word.lower()
    if len(short) < 3 or len(word) < len(short) + 2 or not (short.isalpha() and word.isalpha()):
        return False
    if short[0] != word[0]:
        return False
    if word.startswith(short):
        return True  # a cut-off: 'emerg', 'admin'
    if abbreviates(short, word):
        return True  # a contraction: 'mgmt', 'intl'
    # A cut-off closed by the word's last letter: 'dept', 'govt', 'asst'; the cut keeps at
    # least three letters and ends before a vowel, so it cuts the word at a syllable.
    cut = short[:-1]
    return (
        len(cut) >= 3
        and short[-1] == word[-1]
        and word.startswith(cut)
        and word[len(cut)] in _VOWELS | {short[-1]}
    )


def short_form_of(a: str, b: str) -> bool:
    """Whether one of two words is a short form of the other."""
    return shortens(a, b) or shortens(b, a)


def cut_forms(word: str) -> set[str]:
    """The short forms of a word that can be listed: its cut-offs ('emer', 'emerg', ...) and
    its cut-offs closed by its last letter ('dept' of 'department'); see :func:`shortens`."""
    lower = word.lower()
    if len(lower) < 5 or not lower.isalpha():
        return set()
    found = {lower[:k] for k in range(3, len(lower) - 1)}
    found |= {
        lower[:k] + lower[-1] for k in range(3, len(lower) - 2) if lower[k] in _VOWELS | {lower[-1]}
    }
    return found


_CODE = re.compile(r"(?<![\w])([A-Za-z0-9]{1,3})\s*(?:=|:)\s*([A-Za-z][A-Za-z ]*?)\s*(?=[,;.)/]|$)")


def comment_codes(
    column: ColumnProfile, values: Sequence[object]
) -> dict[str, str | int | float | bool]:
    """A coded column's documented labels, from its comment ('1 = male, 2 = female'): each
    label's words -> the value it stands for, kept only when the code is a value held."""
    if not column.comment:
        return {}
    held = {str(v).removesuffix(".0"): v for v in values}
    found: dict[str, str | int | float | bool] = {}
    for code, label in _CODE.findall(column.comment):
        if code in held:
            found[norm(label)] = held[code]  # type: ignore[assignment]
    return found


def coded_value(
    part: list[str], codes: dict[str, str | int | float | bool]
) -> list[tuple[int, str | int | float | bool]]:
    """'female patients' over sex coded 1/2 with the comment '1 = male, 2 = female'."""
    hits = [
        value
        for label, value in codes.items()
        if len(part) == len(label.split())
        and all(word_match(w, t) == 2 for w, t in zip(part, label.split(), strict=True))
    ]
    return [(2, hits[0])] if len(hits) == 1 else []
