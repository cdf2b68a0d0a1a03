"""Numbers as people write them in goals: '95%', '.85', '25,000', '$25k', '1.5m', '2 million'.

Both the metric reader (thresholds) and the cohort reader (ranges: 'older than 60', 'above
$20k') read numbers the same way, so that a number is claimed by exactly one of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NUMBER = re.compile(
    r"(?<![\w.,])(?P<currency>[$€£¥])?\s?"
    r"(?P<digits>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s*(?P<percent>%|(?:percent|per\s?cent|pct)\b)"
    r"|(?P<suffix>[kKmMbB]|bn|mm|\s(?:thousand|million|billion)\b)?(?![\w]|\.\d|,\d{3}))"
)
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6}
_SCALE |= {"b": 1e9, "bn": 1e9, "billion": 1e9}


@dataclass(frozen=True)
class Number:
    """One number of a text, with where it is and how it was written."""

    start: int
    end: int
    raw: str
    value: float
    kind: str  # "percent" (value is a fraction) | "fraction" | "amount" | "bare"
    currency: bool = False


def find_numbers(text: str) -> list[Number]:
    """Every number of ``text``, left to right; percentages become fractions (95% -> 0.95).

    An amount is a number with a currency sign, a scale suffix (k, m, million) or thousands
    separators; a fraction is a decimal at most 1 written without them; the rest is bare.
    """
    numbers = []
    for match in NUMBER.finditer(text):
        digits = match.group("digits")
        value = float(digits.replace(",", ""))
        suffix = (match.group("suffix") or "").strip().lower()
        currency = match.group("currency") is not None
        start = match.start("currency") if currency else match.start("digits")
        raw = text[start : match.end()].strip()
        if match.group("percent"):
            numbers.append(Number(start, match.end(), raw, round(value / 100, 10), "percent"))
            continue
        value *= _SCALE.get(suffix, 1.0)
        if currency or suffix or "," in digits:
            kind = "amount"
        elif "." in digits and value <= 1:
            kind = "fraction"
        else:
            kind = "bare"
        numbers.append(Number(start, match.end(), raw, value, kind, currency))
    return numbers
