"""Goals written in fields: 'ln wage | black or hispanic | 12+ yrs of school | mae 0.35'.

The first field names the outcome, a field holding a metric's name sets the bar, and every
other field says which rows: a value named there is a cohort even with no cohort word
before it ('| sedans + coupes with under 15k miles |', '| villages Dukou + Zhangxi |').
"""

from __future__ import annotations

from dagster_agentic.kernel.policy.text import (
    LIST_CONNECTORS,
    METRIC_WORDS,
    STOPWORDS,
    Token,
    word_set,
)

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


def unread_in_fields(
    tokens: list[Token], read: list[tuple[int, int]], accounted: set[str]
) -> list[tuple[str, list[str]]]:
    """The fields that select rows with words the reading did not use, and those words: a
    field nothing was read from; a capitalised word ('| Victoria + Queensland excluded |'); an
    item of a list another item of which was read ('| blood transfusion or haemophilia |'
    read as blood alone). Any of them would narrow the rows less than written. ``accounted``
    are the words of the population, the entity and the outcome."""
    bars = [k for k, t in enumerate(tokens) if t.text == "|"]
    found: list[tuple[str, list[str]]] = []
    fields = [tokens[a + 1 : b] for a, b in zip(bars, [*bars[1:], len(tokens)], strict=False)]
    for field in (item for whole in fields for item in _items(whole)):
        if not field or any(t.lower in _METRIC_NAMES for t in field):
            continue
        unread = [
            k
            for k, t in enumerate(field)
            if t.is_word
            and t.lower.replace("-", "").isalpha()
            and t.lower not in STOPWORDS | LIST_CONNECTORS
            and t.lower not in accounted
            and not _read(t, read)
        ]
        if not unread:
            continue
        text = " ".join(t.text for t in field)
        if not any(_read(t, read) for t in field):
            found.append((text, [field[k].text for k in unread]))
            continue
        missed = [
            field[k].text
            for k in unread
            if field[k].text[:1].isupper() or _listed_after_read(field, k, read)
        ]
        if missed:
            found.append((text, missed))
    return found


def _items(field: list[Token]) -> list[list[Token]]:
    """A field's items between commas ('four-seamers only, 6th inning onwards'): each says
    which rows on its own, so one nothing was read from is unread even when another was."""
    items: list[list[Token]] = [[]]
    for token in field:
        if token.text == ",":
            items.append([])
        else:
            items[-1].append(token)
    return [item for item in items if item]


def _read(token: Token, read: list[tuple[int, int]]) -> bool:
    return any(a <= token.start < b for a, b in read)


def _listed_after_read(field: list[Token], k: int, read: list[tuple[int, int]]) -> bool:
    """Whether the word at ``k`` is the next item of a list whose item before was read:
    'haemophilia' of 'blood transfusion or haemophilia' with 'blood' read."""
    j = k - 1
    while j >= 0 and field[j].lower in {"the", "a", "an"}:
        j -= 1
    if j < 1 or field[j].lower not in LIST_CONNECTORS:
        return False
    before = field[:j]
    words = [t for t in before if t.is_word and t.lower not in STOPWORDS]
    return bool(words) and any(_read(t, read) for t in words[-2:])
