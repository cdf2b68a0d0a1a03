"""Phrases that name the population itself, every row of it, not a subset.

A goal often says where its rows live: 'mortgage applications' over a table
``mortgage_apps``, 'patients in the AIDS registry' over a warehouse called
``aids_registry``, 'credit card applications' over one called ``kreditkarten``. Such a
phrase selects nothing: it is noted in the rationale and read as no cohort. Every one of its
words must name a part of the name (by stem, abbreviation or, for the warehouse, in another
language), so a phrase with a word the name does not hold ('patients in the AIDS clinic')
stays a cohort to read; only the outcome's own words may follow it ('... registry die'). A
condition after it ('... registry from VIC') is read as ever.
"""

from __future__ import annotations

from collections.abc import Sequence

from dagster_agentic.kernel.policy.morphology import kinship
from dagster_agentic.kernel.policy.naming import abbreviates
from dagster_agentic.kernel.policy.phrases import Phrase
from dagster_agentic.kernel.policy.target import names_column
from dagster_agentic.kernel.policy.text import STOPWORDS, name_match, name_tokens, quote
from dagster_agentic.kernel.policy.translations import translates
from dagster_agentic.warehouse.models import ColumnProfile, WarehouseProfile

__all__ = ["names_population"]


def names_population(
    phrase: Phrase, profile: WarehouseProfile, target: ColumnProfile, notes: list[str]
) -> bool:
    """Whether ``phrase`` names a table or the warehouse, the population: noted when so."""
    return _names_table(phrase, profile, notes) or _names_warehouse(phrase, profile, target, notes)


def _spells(word: str, parts: Sequence[str]) -> bool:
    return any(name_match(word, p) == 2 or kinship(word, p) or abbreviates(word, p) for p in parts)


def _names_table(phrase: Phrase, profile: WarehouseProfile, notes: list[str]) -> bool:
    """The words, head included, spell a table's name ('mortgage applications' of
    mortgage_apps)."""
    words = [*phrase.words, *([phrase.head] if phrase.head else [])]
    if len(words) < 2:
        return False
    for table in profile.tables:
        parts = [p for p in name_tokens(table.name) if p.isalpha()]
        if len(parts) >= 2 and all(_spells(w, parts) for w in words):
            notes.append(
                f"{quote(phrase.text)} names the table {table.name}: the population, no cohort"
            )
            return True
    return False


def _names_warehouse(
    phrase: Phrase, profile: WarehouseProfile, target: ColumnProfile, notes: list[str]
) -> bool:
    """The qualifying words spell every part of the warehouse's own name ('AIDS registry'
    of aids_registry, 'credit card' of kreditkarten), save outcome words after them."""
    parts = [p for p in name_tokens(profile.name) if p.isalpha() and p not in STOPWORDS]
    words = [w for w in phrase.words if w.lower() not in STOPWORDS]
    while words and not _names_part(words[-1], parts) and names_column(words[-1], target):
        words.pop()  # 'patients in the AIDS registry die': the outcome's verb ends it
    if not parts or not words or any(w.lower() in {"not", "non"} for w in words):
        return False
    covered = {p for p in parts for w in words if _names_part(w, [p])}
    if covered != set(parts) or not all(_names_part(w, parts) for w in words):
        return False
    notes.append(
        f"{quote(phrase.text)} names the warehouse itself ({profile.name}): every row of "
        "it, no cohort"
    )
    return True


def _names_part(word: str, parts: Sequence[str]) -> bool:
    return _spells(word, parts) or any(translates(word, p) for p in parts)
