"""Columns the objective's words name equally well: what in the objective says which.

The target resolver (:mod:`~dagster_agentic.kernel.policy.target`) scores every candidate
column by the words that name it; when several share the best score, these tie-breakers are
tried in turn, each only where it leaves exactly one column, and each says in the notes why:

- words outside brackets beat words written only inside them (an aside);
- a number the objective writes that only one name holds ('height in 1997' of Height 1996 and
  Height 1997); where several names hold one of its numbers, the number written nearest to
  the words that name the column ('the deer browse in 1997 ... damage when surveyed in 1995');
- the noun phrase the ask governs ('predict whether the person is searched' of Person Searched
  and Vehicle Searched), by the words it names the column with, or by any word of that phrase
  that names the column, even one read as the population ('person') or as a cohort's word.

Nothing here picks a column that no word names: the candidates are the tied ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dagster_agentic.kernel.policy.text import STOPWORDS, Token, name_tokens, quote, tokenize
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile

Evidence = Callable[[str, ColumnProfile], tuple[int, str]]


@dataclass(frozen=True)
class Tied:
    """One of the columns the words name equally well, and the words that name it."""

    score: tuple[int, ...]
    words: str
    """The naming words, joined as the error quotes them: "deer', 'browse"."""
    how: str
    table: TableProfile
    column: ColumnProfile

    @property
    def name(self) -> str:
        return f"{self.table.name}.{self.column.name}"

    @property
    def word_list(self) -> list[str]:
        return [w for part in self.words.split("', '") for w in part.split()]


@dataclass(frozen=True)
class TieContext:
    """What of the objective the tie-breakers read."""

    text: str = ""
    numbers: Sequence[str] = ()
    aside: frozenset[str] = frozenset()
    asked: frozenset[str] = frozenset()


def break_ties(
    top: list[Tied], context: TieContext, evidence: Evidence, notes: list[str]
) -> list[Tied]:
    """The tied columns the objective tells apart; all of ``top`` when nothing does."""
    if len(top) > 1 and context.aside:
        # A column named only by words in brackets ('away' of '(home win, draw or away win)')
        # gives way to one the words outside them name.
        outside = [item for item in top if set(item.words.split("', '")) - context.aside]
        if outside and len(outside) < len(top):
            top = outside
    if len(top) > 1 and context.numbers:
        top = _by_number(top, context, notes)
    if len(top) > 1 and context.asked:
        top = _by_ask(top, context.asked, evidence, notes)
    return top


def _by_number(top: list[Tied], context: TieContext, notes: list[str]) -> list[Tied]:
    """A wide table keeps one column per year or size: the objective's number says which."""
    numbers = set(context.numbers)
    held = [item for item in top if numbers & set(name_tokens(item.column.name))]
    if len(held) == 1:
        number = sorted(numbers & set(name_tokens(held[0].column.name)))[0]
        how = "is in its name"
    elif len(held) > 1 and context.text:
        tokens = tokenize(context.text)
        nearest = {item.name: _nearest(item, numbers, tokens) for item in held}
        closest = min(nearest.values(), key=lambda found: found[0])
        held = [item for item in held if nearest[item.name][0] == closest[0]]
        distance, number, word = closest
        how = f"is in its name and written {distance} words from {quote(word)}"
        if distance >= _FAR:
            return top
    if len(held) != 1:
        return top
    notes.append(
        f"target {held[0].name} of {', '.join(item.name for item in top)}: the objective's "
        f"number {number} {how}"
    )
    return held


_FAR = 10**6


def _nearest(item: Tied, numbers: set[str], tokens: list[Token]) -> tuple[int, str, str]:
    """How many words apart the nearest of its numbers and of its naming words are written,
    and which: (distance, number, word)."""
    own = numbers & set(name_tokens(item.column.name))
    words = set(item.word_list)
    pairs = [
        (abs(i - j), a.lower, b.lower)
        for i, a in enumerate(tokens)
        if a.lower in own
        for j, b in enumerate(tokens)
        if b.lower in words
    ]
    return min(pairs, default=(_FAR, "", ""))


def _by_ask(
    top: list[Tied], asked: frozenset[str], evidence: Evidence, notes: list[str]
) -> list[Tied]:
    """'the number of visible skips on panels ...': the words the ask governs name the
    outcome; the others qualify it or set the scene."""
    governed = [item for item in top if set(item.words.split("', '")) & asked]
    reason = ""
    if len(governed) == 1:
        reason = f"{quote(governed[0].words)} is the noun the ask governs"
    else:
        # 'whether the person is searched': 'person' was read as the population, yet of
        # Person Searched and Vehicle Searched it is the one the ask names.
        content = sorted(w for w in asked if w.isalpha() and w not in STOPWORDS)
        naming: dict[str, list[str]] = {
            item.name: [w for w in content if _names(w, item, evidence)] for item in top
        }
        most = max(len(found) for found in naming.values())
        governed = [item for item in top if most and len(naming[item.name]) == most]
        if len(governed) == 1:
            said = ", ".join(quote(w) for w in naming[governed[0].name])
            reason = f"the ask's words {said} name it"
    if len(governed) != 1:
        return top
    notes.append(f"target {governed[0].name} of {', '.join(i.name for i in top)}: {reason}")
    return governed


def _names(word: str, item: Tied, evidence: Evidence) -> bool:
    strength, how = evidence(word, item.column)
    return strength >= 2 and how == "name"


def as_tied(scored: Sequence[tuple[Any, str, str, TableProfile, ColumnProfile]]) -> list[Tied]:
    return [Tied(score, word, how, table, column) for score, word, how, table, column in scored]
