"""The words that frame a number as a threshold, and those that ask how good a model must be.

English frames a threshold in a few fixed ways: a noun for the level to clear ('0.7 as the
bar', '0.7 is the minimum for AUC'), a verdict on it ('0.75 would be good', 'an R² of 0.3
would do', 'we will call it good at 55%'), and a request ('how well can we predict', "we're
looking for an accuracy of"). These words say how good is good enough: they never name the
outcome or a cohort, so the reader sets them aside with the metric's own name. The lexicon is
English's own, not a warehouse's.
"""

from __future__ import annotations

import re

from dagster_agentic.kernel.policy.numbers import find_numbers

_LEVEL_NOUNS = (
    r"(?:bar|benchmark|cut-?off|minimum|floor|ceiling|pass(?:ing)?\s+mark|mark|baseline"
    r"|target|goal|threshold)"
)
_VERDICTS = (
    r"(?:good|fine|ok|okay|acceptable|enough|great|sufficient|satisfactory|a\s+success"
    r"|a\s+win|success)"
)
_FRAME_AFTER = re.compile(
    r"\s*(?:or\s+(?:better|more|higher|above|less|lower|below)\s+)?"
    rf"((?:as|is|being)\s+(?:the|our|my|a|an)\s+{_LEVEL_NOUNS}\b(?:\s+for\b)?"
    rf"|(?:would|will|should|could|is|'d)\s+(?:be\s+(?:(?:very|really|quite|good)\s+)?{_VERDICTS}\b"
    r"|do\b|suffice\b|work\b))"
)
_FRAME_BEFORE = re.compile(
    rf"\b((?:call|consider)\s+it\s+(?:{_VERDICTS}|done)\s+(?:at|with|from))\s*"
)
# How a goal asks how good a model must be, without naming anything: 'how well can we
# predict', "we're looking for an accuracy of", 'we are hoping for an R² of 0.6'.
_ASKING = re.compile(
    r"\bhow\s+well\b|\b(?:we(?:'re|’re|\s+are)|i(?:'m|’m|\s+am))\s+(?:looking|hoping|aiming)"
    r"\s+for\b|\b(?:looking|hoping|aiming)\s+for\b(?=\s+(?:an?\s+|the\s+)?\S+\s+(?:of\s+)?\d)"
)


def frame_spans(text: str) -> list[tuple[int, int]]:
    """The spans of threshold frames next to a number, and of requests for a level."""
    lower = text.lower()
    spans: list[tuple[int, int]] = []
    for number in find_numbers(text):
        after = _FRAME_AFTER.match(lower, number.end)
        if after is not None:
            spans.append((after.start(1), after.end()))
        before = _FRAME_BEFORE.search(lower, 0, number.start)
        if before is not None and before.end() == number.start:
            spans.append((before.start(), before.end(1)))
    spans += [(m.start(), m.end()) for m in _ASKING.finditer(lower)]
    return spans
