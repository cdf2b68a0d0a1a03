"""Capitalised names a cohort word introduces that nothing read: refused, never dropped.

After the reading, a capitalised word after a placing cohort word ('in', 'from', 'among',
'excluding', ...) or after a participle and its preposition ('sent by', 'made in') that no
phrase, condition, metric, column, table or value claimed names rows the goal means; the
objective is refused rather than answered for every row.
"""

from __future__ import annotations

from collections.abc import Iterable

from dagster_agentic.kernel.policy.claims import CLAUSE_END, PLACING
from dagster_agentic.kernel.policy.phrases import known_words
from dagster_agentic.kernel.policy.row_phrases import (
    AFTER_PARTICIPLE,
    participle,
    participle_words,
)
from dagster_agentic.kernel.policy.text import METRIC_WORDS, STOPWORDS, Token, name_match
from dagster_agentic.warehouse.models import WarehouseProfile


def unread_names(
    text: str,
    tokens: list[Token],
    claimed: Iterable[tuple[int, int]],
    profile: WarehouseProfile,
) -> list[Token]:
    """Capitalised words after a cohort word that nothing claimed and the warehouse does not
    name (no table, column or value): a cohort that would otherwise be dropped unread."""
    spans = list(claimed)
    names = [t.name for t in profile.tables] + [c.name for t in profile.tables for c in t.columns]
    unread: list[Token] = []
    for i, token in enumerate(tokens):
        if not token.is_word or not token.text[0].isupper() or i == 0:
            continue
        if any(a <= token.start < b for a, b in spans):
            continue
        before = text[: token.start].rstrip()
        if not before or before[-1] in ".!?:;(\"'":
            continue  # a sentence's first word
        lower = token.lower
        if lower in STOPWORDS or lower in METRIC_WORDS:
            continue
        if any(name_match(lower, name) == 2 for name in names):
            continue
        window: list[str] = []
        for prior in reversed(tokens[:i]):
            if CLAUSE_END.fullmatch(prior.text) or len(window) >= 4:
                break
            window.append(prior.lower)
        placed = any(w in PLACING for w in window[:3])
        # 'emails sent by our Sales team', 'cars made in Narnia': a participle and its
        # preposition place rows like 'from' does.
        pairs = zip(window[1:], window[:-1], strict=False)
        if placed or any(participle(a) and b in AFTER_PARTICIPLE for a, b in pairs):
            unread.append(token)
    lowered = participle_words(tokens, spans, known_words(profile))
    return unread + [t for t in lowered if t not in unread]
