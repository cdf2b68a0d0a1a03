"""Numbers as people write them in goals: '95%', '.85', '25,000', '$25k', '1.5m', '2 million',
and with a decimal comma as most of Europe writes them ('0,3', '1,25').

Both the metric reader (thresholds) and the cohort reader (ranges: 'older than 60', 'above
$20k') read numbers the same way, so that a number is claimed by exactly one of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A decimal comma: '0,3', '0,125' (no one writes a count of thousands as 0), '1,5', '12,75'
# (one or two digits after the comma: a thousands separator always takes three). Never a
# list of numbers written without spaces ('1,2,3').
DECIMAL_COMMA = r"(?:0,\d+|\d+,\d{1,2})(?!\d|,\d|\.\d)"
# A unit written against its number: '8MB', '16GB+', '3kg', '250ml', '5mi', '34kt'. The
# number ends at its digits and the unit reads as the word after it ('8 MB'), so that no
# number hides in a glued word ('6th', '1990s' and 'A3' stay words).
GLUED_UNIT = (
    r"(?i:kb|mb|gb|tb|mg|kg|g|lbs?|oz|ml|cl|km|cm|mi|ft|hrs?|mins?|secs?|yrs?|kts?|mph|kph"
    r"|km/h|hp|kw|kwh|mpg|sq\s?ft)(?![a-z])"
)
NUMBER = re.compile(
    r"(?<![\w.,])(?P<currency>[$€£¥])?\s?"
    rf"(?P<digits>{DECIMAL_COMMA}|\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s*(?P<percent>%|(?:percent|per\s?cent|pct)\b)"
    r"|(?P<suffix>[kKmMbB]|bn|mm|\s(?:thousand|million|billion)\b)?(?![\w]|\.\d|,\d{3})"
    rf"|(?={GLUED_UNIT}))"
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
        value = _value(digits)
        suffix = (match.group("suffix") or "").strip().lower()
        currency = match.group("currency") is not None
        start = match.start("currency") if currency else match.start("digits")
        raw = text[start : match.end()].strip()
        if match.group("percent"):
            numbers.append(Number(start, match.end(), raw, round(value / 100, 10), "percent"))
            continue
        value *= _SCALE.get(suffix, 1.0)
        comma = re.fullmatch(DECIMAL_COMMA, digits) is not None
        if currency or suffix or ("," in digits and not comma):
            kind = "amount"
        elif ("." in digits or comma) and value <= 1:
            kind = "fraction"
        else:
            kind = "bare"
        numbers.append(Number(start, match.end(), raw, value, kind, currency))
    return numbers


def _value(digits: str) -> float:
    """The value of the digits as written: '25,000' is 25000, '0,3' (a decimal comma) 0.3."""
    if re.fullmatch(DECIMAL_COMMA, digits):
        return float(digits.replace(",", "."))
    return float(digits.replace(",", ""))
