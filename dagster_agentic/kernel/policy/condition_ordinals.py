"""Find the open-ended bounds written with an ordinal: '6th inning onwards' (inning >= 6),
'from the 3rd visit on', '4th and later births', 'the 2nd round or later', and up to one:
'up to the 5th lap' (lap <= 5).

The noun after the ordinal names the column (claimed only when it names a numeric one, so a
category such as 'the 2nd shift' is left to the values), and which column is meant is
decided against the warehouse (:mod:`dagster_agentic.kernel.policy.ranges`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from dagster_agentic.kernel.policy.condition_base import Condition, bound
from dagster_agentic.kernel.policy.condition_counts import names_by_part

_ORDINAL = r"(?P<n>\d{1,4})(?:st|nd|rd|th)"
_NOUN = r"(?P<noun>[A-Za-z][A-Za-z\-]*)"
_LATER = re.compile(
    rf"\b(?:from\s+(?:the\s+)?)?{_ORDINAL}\s+(?:(?:and|or)\s+(?:later|subsequent|higher)\s+"
    rf"{_NOUN}|{_NOUN.replace('noun', 'after')}\s+(?:onwards?|on\b|or\s+later|and\s+later|"
    r"or\s+after|and\s+after|or\s+higher|and\s+up))",
    re.IGNORECASE,
)
_UP_TO = re.compile(
    rf"\b(?:up\s+to|through|until)\s+(?:the\s+)?{_ORDINAL}\s+{_NOUN}", re.IGNORECASE
)


def ordinal_bounds(text: str, names: Callable[[str], bool]) -> list[Condition]:
    """The ordinal bounds of ``text`` whose noun names a numeric column."""
    found: list[Condition] = []
    for pattern, op in ((_LATER, ">="), (_UP_TO, "<=")):
        for match in pattern.finditer(text):
            noun = match.groupdict().get("noun") or match.groupdict().get("after") or ""
            if not noun or not names_by_part(noun, names):
                continue
            number = float(match.group("n"))
            found.append(bound(text, match.start(), match.end(), op, number, after=(noun,)))
    return found
