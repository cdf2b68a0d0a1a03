"""Rows picked by their order that nothing read: refused, never dropped.

'stops in the 4th and 5th wards', 'sales in the second half of the year', 'patients at the
third site' restrict the rows as surely as 'stops in Ward 4'. Where such a phrase (a
preposition, 'the', one ordinal or a list of them, and the noun they count) holds no span
the reading used, and neither names the outcome ('the score at the fourth visit' of a
``Status at Visit 4`` target) nor follows a word of what is to come ('will churn in the
first year', the outcome's own window), the goal would be answered for every row: the
phrase is quoted in the error.
"""

from __future__ import annotations

from collections.abc import Iterable

from dagster_agentic.kernel.policy.nouns import noun_forms
from dagster_agentic.kernel.policy.row_phrases import ordinal_at
from dagster_agentic.kernel.policy.surface import ordinal
from dagster_agentic.kernel.policy.text import STOPWORDS, Token, inside, name_tokens, word_set

_PREPOSITIONS = word_set("in at on for from among during")
_LIST = word_set("and or ,")
_TO_COME = word_set("will would going likely might may could shall expected within")
_BEFORE = 6


def unread_ordinals(
    text: str, tokens: list[Token], read: Iterable[tuple[int, int]], outcome: tuple[str, str]
) -> list[str]:
    """The ordinal phrases after a preposition ('in the 4th and 5th wards') that nothing
    read, as written."""
    spans = list(read)
    parts = (*name_tokens(outcome[1]), *name_tokens(outcome[0]))
    names = {form for part in parts for form in noun_forms(part)}
    found: list[str] = []
    for i, token in enumerate(tokens):
        if token.lower not in _PREPOSITIONS or inside(token, spans):
            continue
        j = i + 2 if i + 1 < len(tokens) and tokens[i + 1].lower == "the" else i + 1
        number, j = ordinal_at(tokens, j)
        if number is None:
            continue
        while j + 1 < len(tokens) and tokens[j].lower in _LIST:
            following, after = ordinal_at(tokens, j + 1)
            if following is None:
                break
            j = after
        if j >= len(tokens) or not tokens[j].is_word or tokens[j].lower in STOPWORDS:
            continue
        if ordinal(tokens[j].text) is not None:
            continue  # 'from the first two days': a window of the history, read elsewhere
        end = j + 1
        if tuple(t.lower for t in tokens[end : end + 2]) == ("of", "the") and end + 2 < len(tokens):
            end += 3  # 'the second half of the year'
        phrase = tokens[i:end]
        if any(inside(t, spans) for t in phrase):
            continue
        if {t.lower for t in tokens[max(0, i - _BEFORE) : i]} & _TO_COME:
            continue
        if any(noun_forms(t.lower) & names for t in phrase if t.lower not in STOPWORDS):
            continue
        found.append(text[token.start : phrase[-1].end])
    return found
