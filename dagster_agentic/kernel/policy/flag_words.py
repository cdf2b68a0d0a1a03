"""Words of a goal that name a yes/no column: 'trial members' of ``is_trial``, 'union' of
``UNION_FL``, 'men' of ``male``. A cohort word or the population noun before such a run
makes it a cohort phrase (see :mod:`dagster_agentic.kernel.policy.claims`).
"""

from __future__ import annotations

import re

from dagster_agentic.kernel.policy.text import (
    LEXICON,
    PLAIN_WORDS,
    STOPWORDS,
    Token,
    name_tokens,
    spelled_by_prefixes,
    word_match,
)
from dagster_agentic.warehouse.models import ColumnProfile, WarehouseProfile

Column = tuple[str, str]  # (table, column)
# Words of a flag's name that only say it is one: 'is_trial', 'UNION_FL', 'blnLeatherSeats'
# (a type tag of Hungarian notation), 'smoker_yn'.
_MARKERS = frozenset({"is", "has", "flag", "fl", "flg", "bln", "bool", "yn", "ind"})


def flag_columns(profile: WarehouseProfile) -> list[tuple[Column, list[str]]]:
    """Every yes/no column that is no key, with the words of its name that say what it
    flags ('is', 'has' and 'flag' left out)."""
    found = []
    for table in profile.tables:
        for column in table.columns:
            if column.is_binary and column.name not in table.candidate_keys:
                tokens = [t for t in name_tokens(column.name) if t.isalpha()]
                tokens = [t for t in tokens if t not in _MARKERS] or tokens
                found.append(((table.name, column.name), tokens))
    return found


def flag_at(
    words: list[Token], flags: list[tuple[Column, list[str]]]
) -> tuple[int, set[Column]] | None:
    """The longest run of up to three ``words`` (from the first) that names yes/no columns:
    its words are the flag's name words ('trial members' of ``is_trial``), the name is
    spelled by their starts ('afam'), or one sex word names a ``male``/``female`` flag."""
    for n in range(min(3, len(words)), 0, -1):
        run = [t.lower for t in words[:n]]
        if not all(words[i].is_word and run[i] not in STOPWORDS for i in range(n)):
            continue
        if n == 1 and len(LEXICON.get(run[0], ())) == 1:
            # 'men' names the flag ``male``; 'women' too, as its value that means no.
            meant = LEXICON[run[0]][0]
            sexes = {meant, {"male": "female", "female": "male"}.get(meant, meant)}
            hits = {where for where, tokens in flags if tokens in ([s] for s in sexes)}
            if hits:
                return 1, hits
        run = [PLAIN_WORDS.get(w, w) for w in run]  # 'kids' ~ children
        parts = [p for w in run for p in re.split(r"[\-_]+", w) if p]
        hits = {
            where
            for where, tokens in flags
            if (
                len(tokens) == n
                and all(word_match(w, t) == 2 for w, t in zip(run, tokens, strict=True))
            )
            or (len(tokens) == 1 and spelled_by_prefixes(tokens[0], parts))
            or _ends_name(parts, tokens)
        }
        if hits:
            return n, hits
    return None


def _ends_name(parts: list[str], tokens: list[str]) -> bool:
    """Two or more words (a hyphenated one split) that are the last words of a flag's name:
    'drive-thru' of ``ordered_through_drive_thru_flag``, 'CD-ROM' of ``cd_rom``. One word
    alone never does: 'customer' would name ``is_new_customer``."""
    if len(parts) < 2 or len(parts) > len(tokens):
        return False
    tail = tokens[len(tokens) - len(parts) :]
    return all(word_match(p, t) == 2 for p, t in zip(parts, tail, strict=True))


def two_quantities(column: ColumnProfile) -> bool:
    """A numeric column of two values other than 0 and 1 (points_per_win: 2 or 3) holds a
    quantity that happens to take two values, not a yes/no flag."""
    if column.kind != "numeric":
        return False
    low, high = column.min, column.max
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        return True
    return not {float(low), float(high)} <= {0.0, 1.0}
