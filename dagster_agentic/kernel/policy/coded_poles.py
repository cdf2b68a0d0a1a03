"""One-letter codes of a two-valued outcome read as the initials of its two poles: 'A'/'D'
(alive, dead), 'W'/'L' (won, lost), 'P'/'F' (passed, failed), 'G'/'B' (good, bad), 'A'/'I'
(adult, immature). An outcome word for a pole ('die', 'death', 'mortality' for dead; 'go
bad' for bad) names the column and says which code is the event.

Only a column whose two values are exactly the pair's initials is read so: 'D' alone means
nothing, and a word names the pole only by its own forms, never by a guess.
"""

from __future__ import annotations

from collections.abc import Sequence

from dagster_agentic.kernel.policy.morphology import kinship
from dagster_agentic.kernel.policy.text import word_match, word_set

_POLES: dict[str, frozenset[str]] = {
    "alive": word_set("alive survive survives survived survival surviving living"),
    "dead": word_set("die dies died dying death deaths dead mortality deceased fatal killed"),
    "won": word_set("win wins won winning"),
    "lost": word_set("lose loses lost losing loss"),
    "passed": word_set("pass passes passed passing"),
    "failed": word_set("fail fails failed failing failure"),
    "good": word_set("good"),
    "bad": word_set("bad default defaults defaulted"),
    "adult": word_set("adult adults mature"),
    "immature": word_set("immature juvenile juveniles young"),
}
_PAIRS = (
    ("alive", "dead"),
    ("won", "lost"),
    ("passed", "failed"),
    ("good", "bad"),  # a loan book's G/B
    ("adult", "immature"),  # an animal's A/I
)


def pole_code(word: str, values: Sequence[object]) -> tuple[str, str] | None:
    """The code among ``values`` (two one-letter values, the initials of a pair of poles)
    that stands for the pole ``word`` names, and that pole: ('D', 'dead') for 'die' of A/D."""
    codes = {str(v).upper(): str(v) for v in values if isinstance(v, str) and len(v) == 1}
    if len(codes) != 2 or len(values) != 2:
        return None
    lower = word.lower()
    for pair in _PAIRS:
        if set(codes) != {pole[0].upper() for pole in pair}:
            continue
        for pole in pair:
            if any(word_match(lower, w) == 2 or kinship(lower, w) == 2 for w in _POLES[pole]):
                return codes[pole[0].upper()], pole
    return None
