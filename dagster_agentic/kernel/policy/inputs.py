"""The model's inputs, as a user lists them: 'suggests the asking price for every car from
its brand, body style, odometer reading and engine size', 'estimate the strength based on the
mix's recipe', 'predict the height using their 1996 measurements'.

Such a list says what the model may learn from, not which rows it answers for and not the
outcome: its words are neither cohort conditions nor outcome words. (The product finds its
features in the warehouse either way.) A list starts at 'from', 'based on', 'using' or
'given' followed by a possessive ('its', 'their', "the car's") and runs to the end of the
clause: a sentence's end, a semicolon, a bar, a closing bracket, or a metric or threshold
(:func:`input_spans` is given their spans). 'customers from Germany', 'strikes from 1995
onwards' and 'using the 2019 data' have no possessive and are left to the cohort.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["input_spans"]

_OPENING = re.compile(
    r"\b(?:from|based\s+on|using|given|off)\s+"
    r"(?:(?:its|their|his|her|each\s+\w+'s|the\s+\w+(?:'s|’s)|every\s+\w+'s)\b|\w+(?:'s|’s)\s)",
    re.IGNORECASE,
)
_END = re.compile(r"[.!?](?=\s|$)|[;|)\]]")


def input_spans(text: str, stops: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """The (start, end) of every list of inputs in ``text``; ``stops`` (metric and threshold
    spans) end a list."""
    found: list[tuple[int, int]] = []
    for match in _OPENING.finditer(text):
        end_match = _END.search(text, match.end())
        end = end_match.start() if end_match else len(text)
        end = min([end, *(a for a, _ in stops if a >= match.end())])
        if end > match.end():
            found.append((match.start(), end))
    return found
