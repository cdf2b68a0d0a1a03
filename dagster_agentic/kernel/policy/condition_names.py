"""Which words of a condition name a column, by any of the ways a name shortens them.

People write the words; a warehouse stores them shortened. A condition's words name a column
when a word and a part of the name share a stem ('incomes' ~ income), when the part begins
the word ('bili' of 'bilirubin', 'apps' of 'applications'), when the part is the word with
its vowels dropped ('yrs' of 'years', 'amt' of 'amount', 'qty' of 'quantity'), when the part
is one letter before the word's start ('npreg' of 'pregnancies', weaker), or when the
part spells a run of the words by their leading letters ('pirat' of 'payments-to-income
ratio', 'hf' of 'human freedom', 'bwt' of 'birth weight'). The run may be hyphenated and
may skip the short words that join it ('to', 'of', 'per'). Every rule works on letters, not
on a list of known abbreviations, so it reads names nobody listed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from dagster_agentic.kernel.policy.text import (
    METRIC_WORDS,
    STOPWORDS,
    name_tokens,
    stem,
    word_match,
    word_set,
)
from dagster_agentic.kernel.policy.translations import translates
from dagster_agentic.warehouse.models import ColumnProfile, WarehouseProfile

_FILLER = word_set("is are was were a an the of who whose that with has have had")
# Short words that join the words of a name and that its initials leave out.
_JOINERS = word_set("to of per and in on at the a an for by vs")
_VOWELS = frozenset("aeiou")


# Units written short after a number ('5 mi', '3 km', '2 hrs', '10 kg', '8 oz'): English's
# own abbreviations, each with the words a column's name spells the unit with
# (DistanceMiles, weight_kg, duration_hours). Only letter forms no other rule reads: 'mm' is
# a scale (million) to the number reader, and one-letter forms ('m', 'g', 'h') are too
# ambiguous to name anything.
UNITS: dict[str, tuple[str, ...]] = {
    "mi": ("miles", "mile"),
    "km": ("kilometers", "kilometres", "km", "kms"),
    "kms": ("kilometers", "kilometres", "km", "kms"),
    "cm": ("centimeters", "centimetres", "cm"),
    "ft": ("feet", "foot", "ft"),
    "in": ("inches", "inch"),
    "yd": ("yards", "yard"),
    "kg": ("kilograms", "kilogram", "kilos", "kg", "kgs"),
    "kgs": ("kilograms", "kilogram", "kilos", "kg", "kgs"),
    "lb": ("pounds", "pound", "lbs", "lb"),
    "lbs": ("pounds", "pound", "lbs", "lb"),
    "oz": ("ounces", "ounce", "oz"),
    "hr": ("hours", "hour", "hrs", "hr"),
    "hrs": ("hours", "hour", "hrs", "hr"),
    "min": ("minutes", "minute", "mins", "min"),
    "mins": ("minutes", "minute", "mins", "min"),
    "sec": ("seconds", "second", "secs", "sec"),
    "secs": ("seconds", "second", "secs", "sec"),
    "yr": ("years", "year", "yrs", "yr"),
    "yrs": ("years", "year", "yrs", "yr"),
    "mph": ("mph", "miles"),
    "kph": ("kph", "kmh", "kilometers", "kilometres"),
    "ml": ("milliliters", "millilitres", "ml"),
    "gal": ("gallons", "gallon", "gal"),
    "sqft": ("sqft", "square", "feet"),
}


def unit_words(word: str) -> tuple[str, ...]:
    """The words a unit's abbreviation stands for ('mi' -> 'miles', 'mile'), or none."""
    return UNITS.get(word.lower(), ())


def unit_abbreviations(word: str) -> tuple[str, ...]:
    """The abbreviations of a unit written out ('inch' -> 'in', 'feet' -> 'ft'), or none."""
    lower = word.lower()
    return tuple(short for short, words in UNITS.items() if lower in words and short != lower)


def name_parts(column: ColumnProfile) -> list[str]:
    """The parts of a column's name and of its comment."""
    return name_tokens(column.name) + (name_tokens(column.comment) if column.comment else [])


def naming_words(words: Sequence[str], column: ColumnProfile) -> set[str]:
    """The words (lower case; the joined 'signup' of 'signed up') that name ``column``."""
    tokens = name_parts(column)
    joined = "".join(stem(w) for w in words)  # 'signed up' -> 'signup'
    found: set[str] = set()
    for word in [*(w.lower() for w in words if w.lower() not in _FILLER), joined]:
        named = any(part_names(word, token) or marked(word, token) for token in tokens)
        units = (*unit_words(word), *unit_abbreviations(word))  # '5 mi' ~ DistanceMiles
        if named or any(unit in tokens for unit in units):
            found.add(word)
    found |= initialled(words, tokens)
    return found


def part_names(word: str, token: str) -> bool:
    """Whether one word names one part of a name: the same stem ('signed' ~ sign, 'incomes'
    ~ income), a word the part begins ('bili' of 'bilirubin'), a contraction
    (:func:`contracts`), or the word in another language ('income' of revenu_menage)."""
    if len(word) < 3:
        return False
    if word_match(word, token) == 2 or word_match(word.removesuffix("d"), token) == 2:
        return True
    if len(stem(word)) >= 4 and stem(token).startswith(stem(word)):
        return True
    return begins(token, word) or contracts(token, word) or bool(translates(word, token))


def marked(word: str, token: str) -> bool:
    """Whether a name part is one letter before the word or its start, as names mark a count
    or a kind of what the word says ('npreg' for 'pregnancies', 'ovisits' for 'visits'):
    weaker than the word itself, so a column named by the word alone wins (see
    :mod:`dagster_agentic.kernel.policy.ranges`)."""
    token, word = token.lower(), word.lower()
    rest = token[1:]
    if not (token.isalpha() and word.isalpha()) or len(rest) < 4 or len(word) < 4:
        return False
    return word_match(word, rest) == 2 or begins(rest, word)


def begins(token: str, word: str) -> bool:
    """Whether a name part is the start of a longer word: 'apps' of 'applications', 'beds'
    of 'bedrooms', 'bili' of 'bilirubin' (3 letters or more, so 'yr' is not 'year')."""
    short = token.lower().removesuffix("s")
    return 3 <= len(short) < len(word) and word.lower().startswith(short)


def contracts(token: str, word: str) -> bool:
    """Whether a name part is the word with letters left out, as contractions are written:
    the same first and last letter, the rest consonants taken in order ('yrs' of 'years',
    'amt' of 'amount', 'hrs' of 'hours', 'nbr' of 'number'). A part with a vowel after its
    first letter is a word of its own ('age' is not 'average')."""
    token, word = token.lower(), word.lower()
    if not (token.isalpha() and word.isalpha()) or not 3 <= len(token) < len(word):
        return False
    if token[0] != word[0] or token[-1] != word[-1] or _VOWELS & set(token[1:]):
        return False
    letters = iter(word[1:])
    return all(ch in letters for ch in token[1:])


def initialled(words: Sequence[str], tokens: Sequence[str]) -> set[str]:
    """The words a name part spells by their leading letters, in order ('pirat' of
    'payments-to-income ratio', 'pi' of 'payments income', 'bwt' of 'birth weight'): each
    word gives a piece that starts with its first letter and takes further letters in order,
    and the pieces make the whole part. Joining words ('to', 'of', 'per') may be skipped; a
    part that is a word of the text itself is no initialism."""
    pieces: list[tuple[str, str]] = []  # (piece, the word it came from)
    for word in words:
        for piece in re.split(r"[\-/_]+", word.lower()):
            if piece.isalpha() and piece not in _JOINERS and piece not in _FILLER:
                pieces.append((piece, word.lower()))
    plain = {p for p, _ in pieces}
    found: set[str] = set()
    for token in tokens:
        if not (token.isalpha() and 2 <= len(token) <= 8) or token in plain:
            continue
        for size in range(2, min(len(token), 4) + 1):
            for i in range(len(pieces) - size + 1):
                run = pieces[i : i + size]
                if spells(token, tuple(p for p, _ in run)):
                    found |= {w for _, w in run}
    return found


def spells(token: str, run: tuple[str, ...]) -> bool:
    """Whether ``token`` is one piece of each word of ``run`` in turn, each piece starting
    with its word's first letter and taking the rest of its letters in order."""
    if not run:
        return not token
    word, rest = run[0], run[1:]
    if not token or token[0] != word[0]:
        return False
    for end in range(1, len(token) - len(rest) + 1):
        letters = iter(word[1:])
        if all(ch in letters for ch in token[1:end]) and spells(token[end:], rest):
            return True
    return False


def numeric_namer(profile: WarehouseProfile) -> Callable[[str], bool]:
    """Whether a word names a column a range can read: a numeric column that is not a 0/1
    flag, by a part of its name (:func:`part_names`: 'alcohol' ~ alcohol, 'years' ~
    years_in_coop and yrs_since_phd, 'bilirubin' ~ bili). A flag is left out, so that 'loans
    above 20k that default' never claims 'default' (the outcome) as the condition's column."""
    parts = [
        token
        for table in profile.tables
        for column in table.columns
        if column.kind == "numeric" and not column.is_binary
        for token in name_parts(column)
    ]
    stems = {stem(t) for t in parts}
    whole = {
        column.name.lower()
        for table in profile.tables
        for column in table.columns
        if column.kind == "numeric" and not column.is_binary
    }

    def names_numeric(word: str) -> bool:
        lower = word.lower()
        if lower in STOPWORDS or lower in METRIC_WORDS or len(lower) < 2:
            return False
        if lower in whole or stem(lower) in stems:  # 'bikes_owned', 'bikes'
            return True
        if any(unit in parts for unit in unit_words(lower)):  # '5 mi' ~ DistanceMiles
            return True
        if any(short in parts for short in unit_abbreviations(lower)):  # 'inch' ~ screen_in
            return True
        return any(
            word_match(lower, t) == 2
            or contracts(t, lower)
            or marked(lower, t)
            or (len(t) >= 4 and begins(t, lower))  # 'unemp' of 'unemployment'
            for t in parts
        )

    return names_numeric
