"""How a word of the objective names a part of a column's name, beyond the same stem.

People write the plural ('wages' for wage, 'salaries' for salary), a hyphenated compound
the name writes in one piece ('out-of-state' for outstate), a run of words the name
shortens to initials or pieces ('human freedom' for the hf of hf_score, 'square footage' for
sqft), a word the name spells with letters left out ('marital' for maritl) or cuts short
('arrival' for arr_delay), and an outcome in other words ('leave' for Attrition).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from dagster_agentic.kernel.policy.morphology import bases, kinship
from dagster_agentic.kernel.policy.text import abbreviates as contraction
from dagster_agentic.kernel.policy.text import name_match, name_tokens, word_match, word_set
from dagster_agentic.warehouse.models import ColumnProfile

OUTCOME_SYNONYMS: tuple[frozenset[str], ...] = (
    word_set(
        "leave leaving left quit quits resign resigns resignation depart departs exit"
        " attrition churn lapse cancel cancellation terminate termination turnover"
    ),
    word_set(
        "buy buys bought purchase purchases convert conversion subscribe subscription takeup uptake"
    ),
    word_set("default defaults delinquent delinquency delinq"),
    word_set("late lateness delay delayed tardy overdue"),
    word_set("sell sells sold selling sale sales"),
    word_set("deny denial reject rejection refuse refusal decline turndown"),
    word_set("approve approval accept acceptance grant granted admit admission"),
)
"""Outcome words that names seldom spell the way a user does: a word of a group names a
column whose name has another word of the same group ('leave' -> Attrition, 'buy' ->
Purchase, 'late' -> arr_delay). Weaker than the column's own name, so a column named by the
word itself always wins."""
_JOINERS = frozenset({"of", "to", "the", "and", "per", "a", "in", "on"})
_VOWELS = frozenset("aeiou")


def forms(word: str) -> tuple[str, ...]:
    """A word and its singular: 'wages' -> wage, 'salaries' -> salary, 'boxes' -> box.

    The stem alone cuts 'wages' to 'wag' and 'salaries' to 'salari', which no longer meet the
    column's own name (wage, salary)."""
    lower = word.lower()
    if "-" in lower:  # 'out-of-state' -> outofstate, outstate: a name drops the hyphens
        parts = [p for p in lower.split("-") if p]
        joined = "".join(parts)
        short = "".join(p for p in parts if p not in _JOINERS)
        return tuple(dict.fromkeys([word, joined, short, *forms(joined)[1:]]))
    if len(lower) < 4 or not lower.endswith("s") or lower.endswith(("ss", "us", "is")):
        return (word,)
    if lower.endswith("ies"):
        return word, lower[:-3] + "y"
    if lower.endswith(("ses", "xes", "zes", "ches", "shes")):
        return word, lower[:-2], lower[:-1]
    return word, lower[:-1]


def initialism(words: Sequence[str], column: ColumnProfile) -> tuple[str, tuple[str, ...]]:
    """The objective's words a short name part stands for: 'hf' of hf_score for 'human
    freedom', 'sqft' for 'square footage' (:func:`_spells`). The words (two or three) must
    follow each other in the objective, and the part (2 to 6 letters) must not be a word of
    its own. A part longer than the initials ('sqft', 'bwt') takes no vowel after its first
    letter, as contractions are written: 'age' is a word, not 'average evaluation'; the
    initials alone ('bmi' of 'body mass index') may take any letter."""
    for token in name_tokens(column.name):
        if not (token.isalpha() and 2 <= len(token) <= 6) or token in words:
            continue
        for size in range(2, min(len(token), 3) + 1):
            if len(token) > size and _VOWELS & set(token[1:]):
                continue
            for i in range(len(words) - size + 1):
                run = tuple(words[i : i + size])
                if _spells(token, run):
                    return token, run
    return "", ()


def compound(words: Sequence[str], column: ColumnProfile) -> tuple[str, tuple[str, ...]]:
    """A name part written as one word that the objective writes as two to four in a row:
    'lowbirthweight' for 'low birth weight', 'takeup' for 'take up', 'homeowner' for 'home
    owner' (the last word in any form: 'birth weights'). The part and the run."""
    lowered = [w.lower() for w in words]
    for token in name_tokens(column.name):
        if not (token.isalpha() and len(token) >= 6) or token in lowered:
            continue
        for size in (2, 3, 4):
            for i in range(len(lowered) - size + 1):
                run = lowered[i : i + size]
                if not all(w.isalpha() for w in run):
                    continue
                head = "".join(run[:-1])
                if any(head + last == token for last in forms(run[-1])):
                    return token, tuple(words[i : i + size])
    return "", ()


def _spells(token: str, run: tuple[str, ...]) -> bool:
    """Whether ``token`` is one piece of each word of ``run`` in turn, each piece starting
    with its word's first letter and taking the rest of its letters in order: 'hf' of
    'human freedom', 'sqft' of 'square footage'."""
    if not run:
        return not token
    word, rest = run[0], run[1:]
    if not token or token[0] != word[0]:
        return False
    for end in range(1, len(token) - len(rest) + 1):
        if _subsequence(token[1:end], word[1:]) and _spells(token[end:], rest):
            return True
    return False


def abbreviates(word: str, name: str) -> bool:
    """A name part of at least three letters that begins a longer word of the objective
    ('arr' of arr_delay abbreviates 'arrival', 'dep' 'departure', 'apps' 'applications';
    'qty' does not 'quality'), or that spells the word with letters left out, keeping its
    first and last letter and most of it ('maritl' for 'marital')."""
    word = word.lower()
    for token in name_tokens(name):
        if not token.isalpha() or len(token) < 3:
            continue
        for part in forms(token):
            if len(word) >= len(part) + 2 and word.startswith(part):
                return True
        if (
            len(token) >= 4
            and len(token) >= 0.75 * len(word)
            and token != word
            and (token[0], token[-1]) == (word[0], word[-1])
            and _subsequence(token, word)
        ):
            return True
    return False


def contracts(word: str, name: str) -> bool:
    """Whether ``word`` is the initials of a name of several words ('mpg' of
    Miles_per_Gallon, 'dob' of date_of_birth, 'ltv' of LifetimeValue), with or without its
    joining words ('mg' of miles_per_gallon): a short word, not a word of the name itself."""
    lower = word.lower()
    tokens = [t for t in name_tokens(name) if t.isalpha()]
    if len(tokens) < 2 or not 2 <= len(lower) <= 6 or not lower.isalpha() or lower in tokens:
        return False
    full = "".join(t[0] for t in tokens)
    bare = "".join(t[0] for t in tokens if t not in _JOINERS)
    return lower in {full, bare} and len(bare) >= 2


def names_value(word: str, value: str) -> bool:
    """Whether ``word`` names a category value in any form: the same stem or word form
    ('segmented' ~ 'Segmented'), or a part of the value abbreviates it as stored codes do
    ('assistant' ~ AsstProf, 'associate' ~ AssocProf, 'professor' ~ Prof)."""
    if name_match(word, value) == 2:
        return True
    lower = word.lower()
    for token in name_tokens(value):
        if not token.isalpha():
            continue
        if kinship(lower, token):
            return True
        if len(token) >= 3 and len(lower) >= len(token) + 2 and lower.startswith(token):
            return True
        if contraction(token, lower):
            return True
    return False


def _subsequence(short: str, long: str) -> bool:
    letters = iter(long)
    return all(ch in letters for ch in short)


def synonyms(word: str) -> frozenset[str]:
    """The outcome words ``word`` may stand for (itself excluded), by ``OUTCOME_SYNONYMS``,
    in any of its forms ('denied', 'rejections')."""
    found: set[str] = set()
    for group in OUTCOME_SYNONYMS:
        if any(word_match(word, member) == 2 or kinship(word, member) for member in group):
            found |= group
    return frozenset(found - {word})


# What 'how <adjective>' asks for: 'how heavy' a weight, 'how long' a duration, 'how old' an
# age. General English dimension adjectives, each with the nouns columns are named by.
MEASURES: dict[str, tuple[str, ...]] = {
    "heavy": ("weight", "mass"),
    "long": ("duration", "time", "length", "minutes", "hours", "days", "seconds"),
    "old": ("age",),
    "tall": ("height",),
    "high": ("height",),
    "far": ("distance",),
    "big": ("size", "area"),
    "large": ("size", "area"),
    "fast": ("speed",),
    "quickly": ("speed", "time", "duration"),
    "expensive": ("price", "cost"),
    "hot": ("temperature",),
    "warm": ("temperature",),
    "deep": ("depth",),
    "wide": ("width",),
}
_PARTICLES = frozenset({"down", "up", "out", "off", "back", "over"})


def asked_measures(words: Sequence[str]) -> list[str]:
    """The nouns 'how <adjective>' asks for: 'how heavy will the babies be' -> weight."""
    found: list[str] = []
    for before, word in itertools.pairwise(words):
        if before == "how":
            found += [m for m in MEASURES.get(word, ()) if m not in found]
    return found


def phrasal_verbs(words: Sequence[str]) -> list[str]:
    """A verb and its particle as one word, the way names and synonyms write them:
    'turned down' -> turndown, 'dropped out' -> dropout, 'signs up' -> signup."""
    found: list[str] = []
    for verb, particle in itertools.pairwise(words):
        if particle not in _PARTICLES or not verb.isalpha() or len(verb) < 3:
            continue
        for base in sorted(bases(verb, derived=False), key=len):
            if len(base) >= 3 and base.isalpha() and base + particle not in found:
                found.append(base + particle)
    return found


# The words that ask for the outcome: what follows them, up to the first preposition or
# clause boundary, is the outcome's own noun phrase ('predict the number of visible skips on
# panels ...', 'a model that fills in the weight in grams').
_ASK = re.compile(
    r"\b(?:predict(?:s|ing)?|estimat(?:e|es|ing)|forecast(?:s|ing)?|fill(?:s|ing)?\s+in"
    r"|work\s+out|anticipate|classify|model\s+of|number\s+of|how\s+many|how\s+much)\s+",
    re.IGNORECASE,
)
_PHRASE_END = word_set(
    """
    on for in at among amongst across within from with by to per during before after since
    until when where whose who that which if than only but and or
    """
)


def asked_words(text: str) -> frozenset[str]:
    """The words of the noun phrases right after the words that ask for the outcome
    ('predict', 'estimate', 'fill in', 'number of', 'how many'): of columns named equally
    well, the one these words name is the one asked for."""
    found: set[str] = set()
    for match in _ASK.finditer(text):
        for word in re.findall(r"[^\s,;:.!?()]+", text[match.end() : match.end() + 80])[:5]:
            lower = word.lower()
            if lower in _PHRASE_END:
                break
            found.add(lower)
    return frozenset(found)
