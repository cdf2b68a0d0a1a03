"""Goals written in fields: 'ln wage | black or hispanic | 12+ yrs of school | mae 0.35'.

The first field names the outcome, a field holding a metric's name sets the bar, and every
other field says which rows: a value named there is a cohort even with no cohort word
before it ('| sedans + coupes with under 15k miles |', '| villages Dukou + Zhangxi |').
"""

from __future__ import annotations

from dagster_agentic.kernel.policy.text import METRIC_WORDS, Token, word_set

# The words of a metric's own name: a field that holds one sets the bar ('| MAE <= 2000 |');
# the other metric words also qualify rows ('under 15k miles', 'positive results').
_METRIC_NAMES = METRIC_WORDS - word_set(
    "under true false positive positives negative negatives measure curve area mean root"
)


def in_cohort_field(tokens: list[Token], start: int, end: int) -> bool:
    """A span that is a field of a goal written in fields, after the first: 'ln wage | black
    or hispanic | mae 0.35', '| Flash Cab, trips longer than 5 mi |'; or a span inside such a
    field that names no metric ('| sedans + coupes with under 15k miles |', '| villages
    Dukou + Zhangxi |'): the first field names the outcome, a metric's field the bar, and
    every other field the rows."""
    fielded = start >= 2 and tokens[start - 1].text == "|"
    if fielded and (end >= len(tokens) or tokens[end].text in {"|", ","}):
        return True
    first = next((k for k in range(start - 1, -1, -1) if tokens[k].text == "|"), None)
    if first is None or first == 0:
        return False
    last = next((k for k in range(end, len(tokens)) if tokens[k].text == "|"), len(tokens))
    field = tokens[first + 1 : last]
    return not any(t.lower in _METRIC_NAMES for t in field)
