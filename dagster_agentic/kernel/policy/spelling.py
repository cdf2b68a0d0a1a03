"""Typos in the words the reader depends on: 'predcit', 'wether', 'accuraccy', 'relased'.

A goal is read by its words: the metric's name, the task's verbs and the function words that
frame a question, and the warehouse's own names. A misspelled one of these matches nothing
and the goal is refused or, worse, read without it. So before reading, a word that matches no
word of that vocabulary exactly is compared with it by edit distance (Damerau: a letter
added, dropped, changed, or two neighbours swapped), and replaced by the one word it is close
to:

* only words of 5 letters or more, at distance 1 (2 for words of 8 letters or more);
* the same first letter (people rarely mistype the first one);
* never a word that a vocabulary word begins ('arrestee' of 'arrest': a derived word, not a
  typo), nor one a vocabulary word is close to in two different ways (two candidates: left
  as written, the reader then reports what it cannot read).

The vocabulary is the kernel's own (metric names, task verbs and function words) and the
warehouse's (the parts of table and column names, the words of short category values, and
the countries' names and demonyms where a column holds countries), so the correction
depends on the data, never on a list of known typos. Each correction is one
line of the rationale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dagster_agentic.kernel.policy.cohort_geo import geo_columns
from dagster_agentic.kernel.policy.countries import COUNTRIES
from dagster_agentic.kernel.policy.text import (
    METRIC_WORDS,
    STOPWORDS,
    name_tokens,
    singular,
    stem,
    word_set,
)
from dagster_agentic.warehouse.models import WarehouseProfile

# The kernel's own words beyond its stop and metric words: how metrics and tasks are said.
_KERNEL_WORDS = word_set(
    """
    accuracy precision recall sensitivity specificity squared absolute average averaged
    macro coefficient determination explained variance predict predicts predicted
    predicting prediction predictions classify estimate forecast whether which regression
    classification probability likelihood outcome
    """
)
_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|')*[^\W\d_]|[^\W\d_]")
_MAX_VALUE_WORDS = 4  # a category value of at most this many words lends its words


@dataclass(frozen=True)
class Correction:
    written: str
    corrected: str
    start: int
    shorthand: bool = False

    def note(self) -> str:
        if self.shorthand:
            return f"read {self.written!r} as {self.corrected!r}: a shorthand written out"
        return (
            f"read {self.written!r} as {self.corrected!r}: a typo of a word the reader knows "
            "(edit distance, same first letter)"
        )


def vocabulary(profile: WarehouseProfile) -> tuple[frozenset[str], frozenset[str]]:
    """The words a goal's reading depends on (a typo is corrected towards them: the kernel's
    metric and task words and the warehouse's names), and every word known as written
    (those and the function words, which are never corrected)."""
    targets = set(METRIC_WORDS) | _KERNEL_WORDS
    for table in profile.tables:
        targets.update(name_tokens(table.name))
        for column in table.columns:
            targets.update(name_tokens(column.name))
            if column.comment:
                targets.update(name_tokens(column.comment))
            if column.kind != "text":
                continue
            for value in column.values or column.top_values:
                if isinstance(value.value, str):
                    parts = _WORD.findall(value.value.lower())
                    if len(parts) <= _MAX_VALUE_WORDS:
                        targets.update(parts)
    if any(geo_columns(table) for table in profile.tables):
        targets |= _COUNTRY_WORDS  # 'Portugese guests' where a column holds countries
    targets = {w for w in targets if w.isalpha()}
    return frozenset(targets), frozenset(targets | STOPWORDS)


_COUNTRY_WORDS = frozenset(
    word.lower()
    for country in COUNTRIES
    for word in (country.name, country.demonym, *country.aliases)
    if word and " " not in word
)
"""The one-word names, demonyms and aliases of the countries: words a goal reads by where a
column of the warehouse holds countries (codes or names)."""


# Shorthands of terse goals: 'men w/ some college', 'loans w/o collateral'.
_SHORTHANDS = (
    (re.compile(r"(?<![\w/])w/o(?![\w/])", re.IGNORECASE), "without"),
    (re.compile(r"(?<![\w/])w/(?=\s)", re.IGNORECASE), "with"),
)


def _expand_shorthands(text: str) -> tuple[str, list[Correction]]:
    corrections: list[Correction] = []
    for pattern, word in _SHORTHANDS:
        found = list(pattern.finditer(text))
        for match in reversed(found):
            text = text[: match.start()] + word + text[match.end() :]
        corrections += [Correction(m.group(0), word, m.start(), shorthand=True) for m in found]
    return text, corrections


def correct_spelling(text: str, profile: WarehouseProfile) -> tuple[str, tuple[Correction, ...]]:
    """``text`` with each typo of a known word replaced, and the corrections made; the
    shorthands 'w/' and 'w/o' are written out ('with', 'without') first."""
    text, expanded = _expand_shorthands(text)
    targets, known = vocabulary(profile)
    by_first: dict[str, list[str]] = {}
    for word in targets:
        if len(word) >= 5:
            by_first.setdefault(word[0], []).append(word)
    stems = [w for w in known if len(w) >= 4]
    corrections: list[Correction] = []
    pieces: list[str] = []
    last = 0
    for match in _WORD.finditer(text):
        written = match.group(0)
        corrected = _correction(written.lower(), known, stems, by_first)
        if corrected is None:
            continue
        if written[0].isupper():
            corrected = corrected[0].upper() + corrected[1:]
        corrections.append(Correction(written, corrected, match.start()))
        pieces += [text[last : match.start()], corrected]
        last = match.end()
    pieces.append(text[last:])
    return "".join(pieces), (*expanded, *corrections)


# Endings that make another word of the same stem ('diamond'/'diamonds', 'survival'/
# 'survived', 'separately'/'separated'): two words that differ only by them are forms of
# one word, not a typo of it.
_ENDINGS = word_set(
    "s es ed d e ing al ly ely er ers ion ions ation ations ive ity ness ment ments y ies ied"
)


def _correction(
    word: str, known: frozenset[str], stems: list[str], by_first: dict[str, list[str]]
) -> str | None:
    if len(word) < 5 or not word.isalpha() or word in known or singular(word) in known:
        return None
    if not word.isascii():
        return None  # 'puntuación' of puntuacion: an accent, which names are read without
    if any(word.startswith(k) for k in stems if k[0] == word[0]):
        return None  # 'arrestee' of 'arrest', 'churners' of 'churn': derived, not mistyped
    bound = 2 if len(word) >= 8 else 1
    # A changed letter counts twice in a short word: 'grade' is no typo of 'grado', nor
    # 'scope' of 'score'; a letter added, dropped or swapped is ('wether', 'predcit').
    change = 1 if len(word) >= 8 else 2
    scored = {
        k: distance(word, k, bound, change)
        for k in by_first.get(word[0], ())
        if abs(len(k) - len(word)) <= bound and not _forms(word, k)
    }
    close = {k: d for k, d in scored.items() if d <= bound}
    if not close:
        return None
    nearest = min(close.values())
    choices = sorted(k for k, d in close.items() if d == nearest)
    if len({stem(k) for k in choices}) != 1:
        return None  # two words it may mean: left as written
    # Of a word's forms ('released', 'release'), the one closest in length to the writing.
    return min(choices, key=lambda k: (abs(len(k) - len(word)), k))


def _forms(a: str, b: str) -> bool:
    """Whether two words are forms of one stem: the same start, endings of :data:`_ENDINGS`."""
    common = 0
    while common < min(len(a), len(b)) and a[common] == b[common]:
        common += 1
    tails = (a[common:], b[common:])
    if common >= 4 and (tails in _DERIVED or tails[::-1] in _DERIVED):
        return True  # 'accurate' and 'accuracy', 'different' and 'difference'
    return common >= 4 and all(t == "" or t in _ENDINGS for t in tails)


# Endings that turn an adjective into its noun after a shared start: accura-te/-cy,
# differe-nt/-nce, consisten-t/-cy, preci-se/-sion.
_DERIVED = frozenset(
    {("te", "cy"), ("t", "ce"), ("t", "cy"), ("nt", "nce"), ("nt", "ncy"), ("se", "sion")}
)


def distance(a: str, b: str, bound: int, change: int = 1) -> int:
    """The optimal-string-alignment (Damerau) distance of ``a`` and ``b``, a changed letter
    costing ``change``, or ``bound + 1`` once it is certain to exceed ``bound``."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else change
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > bound:
            return bound + 1
        previous2, previous = previous, current
    return min(previous[len(b)], bound + 1)
