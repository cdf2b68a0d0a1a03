"""English word forms: the bases a word may come from, so that 'denied', 'denials' and
'denying' meet 'deny', 'approved' and 'approval' meet 'approve', 'spends' and 'spending'
meet 'spend'.

A conservative suffix stripper: each rule removes one inflection or derivation (-s, -es,
-ies, -ed, -ied, -ing, -al, -ial, -er, -ers, -ness, -ment, -ion, -ation, -ance, -ence) and
proposes the bases it may leave: the stem as cut, with a final silent 'e' restored
('approv' -> 'approve'), with a doubled consonant undone ('stopped' -> 'stop'), and with the
y/i alternation undone ('denied', 'denial', 'happiness' -> 'deny', 'happy'). Two words are the
same word when their sets of bases meet. A base keeps at least three letters, so short words
('bus', 'red', 'sing') are never cut into nonsense that meets another word by chance.
"""

from __future__ import annotations

from functools import lru_cache

_VOWELS = frozenset("aeiouy")
# (suffix, minimum letters left): the longer suffixes first, so 'denials' is read as
# deni-al-s, not as 'denial' less an 's' only.
_SUFFIXES: tuple[tuple[str, int], ...] = (
    ("ations", 3),
    ("ation", 3),
    ("nesses", 3),
    ("ness", 3),
    ("ments", 3),
    ("ment", 3),
    ("ings", 3),
    ("ing", 3),
    ("ions", 5),
    ("ion", 5),
    ("ances", 4),
    ("ance", 4),
    ("ences", 4),
    ("ence", 4),
    ("als", 4),
    ("al", 4),
    ("ers", 4),
    ("er", 4),
    ("ied", 2),
    ("ies", 2),
    ("ed", 3),
    ("es", 3),
    ("s", 3),
)


_INFLECTIONS = frozenset({"s", "es", "ies", "ied", "ed", "ing", "ings"})


@lru_cache(maxsize=8192)
def bases(word: str, derived: bool = True) -> frozenset[str]:
    """The word (lower case) and the bases its suffixes may have been added to; applied
    twice, so that 'denials' gives 'denial' and then 'deny'. ``derived=False`` undoes only
    inflections (-s, -es, -ies, -ed, -ied, -ing), not derivations ('approval')."""
    lower = word.lower()
    found = {lower}
    frontier = {lower}
    for _ in range(2):
        step: set[str] = set()
        for form in frontier:
            step |= _strip(form, derived)
        step -= found
        found |= step
        frontier = step
    return frozenset(found)


def _strip(word: str, derived: bool) -> set[str]:
    out: set[str] = set()
    if not word.isalpha() or len(word) < 4:
        return out
    for suffix, keep in _SUFFIXES:
        if not word.endswith(suffix) or len(word) - len(suffix) < keep:
            continue
        if not derived and suffix not in _INFLECTIONS:
            continue
        stem = word[: -len(suffix)]
        if suffix in {"ies", "ied"}:
            out.add(stem + "y")  # denies, denied -> deny
            continue
        if suffix == "s" and word.endswith(("ss", "us", "is")):
            continue
        out |= _restore(stem)
    return {w for w in out if len(w) >= 3}


def _restore(stem: str) -> set[str]:
    """The bases a cut stem may stand for: itself, with 'e' ('approv' -> 'approve'),
    undoubled ('stopp' -> 'stop'), and 'i' read as 'y' ('deni' -> 'deny', 'happi' ->
    'happy')."""
    forms = {stem}
    if stem[-1] not in _VOWELS:
        forms.add(stem + "e")
    if len(stem) >= 4 and stem[-1] == stem[-2] and stem[-1] not in _VOWELS:
        forms.add(stem[:-1])
    if stem.endswith("i") and len(stem) >= 3:
        forms.add(stem[:-1] + "y")
    return forms


def same_word(a: str, b: str, derived: bool = True) -> bool:
    """Whether two words are forms of one word: their bases meet ('denied' ~ 'deny',
    'spending' ~ 'spends'; with ``derived``, also 'approval' ~ 'approved')."""
    if a.lower() == b.lower():
        return True
    return bool(bases(a, derived) & bases(b, derived))


def kinship(a: str, b: str) -> int:
    """2 when two words are inflections of one word ('denied', 'deny'), 1 when one is
    derived from the other's base ('denials', 'approval'), else 0."""
    if same_word(a, b, derived=False):
        return 2
    return 1 if same_word(a, b) else 0
