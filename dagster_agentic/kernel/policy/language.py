"""Objectives written in another language than English are refused with a clear error.

The policy kernel reads English: its words for metrics, comparisons, negation and
populations are English. An objective in Spanish or French would otherwise be read word by
word ('Prédire le mode' as a cohort), and fail with a misleading message or, worse, be read
wrongly. The language is told by function words, the short words every sentence of a
language uses ('para', 'las', 'con'; 'pour', 'les', 'avec'), counted against English ones;
names in another language inside an English goal ('customers in Pays de la Loire') do not
tip it, because their function words are few and the English ones many.
"""

from __future__ import annotations

import re

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.kernel.policy.text import word_set

_ENGLISH = word_set(
    """the of for with and to in which each every at least most predict will who whose
    is are be than more less above below under over from by on our we want should can
    what how many much per all any not no"""
)
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "Spanish": word_set(
        """el los las del para con por que una cada cuáles cuál qué predecir menos más
        entre como sus cuyos cuyas son será serán tienen"""
    ),
    "French": word_set(
        """le les des du pour avec par qui une chaque au aux dont moins plus prédire
        entre sont sera seront leur leurs ont"""
    ),
    "German": word_set(
        """der die das und für mit von ein eine jede jeden welche mindestens vorhersagen
        bei den dem des sind wird werden nicht"""
    ),
    "Italian": word_set(
        """il lo gli per con di del della che una ogni almeno prevedere tra sono sarà
        degli delle"""
    ),
    "Portuguese": word_set(
        """os para com do da dos das que um uma cada pelo pela menos prever entre são
        será"""
    ),
    "Dutch": word_set("""het een en voor met van die dat elke minstens voorspellen zijn wordt"""),
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
MIN_FOREIGN = 3


def refuse_foreign(text: str) -> None:
    """Raise when ``text`` reads as another language: at least :data:`MIN_FOREIGN`
    distinct function words of that language, and more of them than English ones."""
    words = {w.lower() for w in _WORD.findall(text)}
    english = len(words & _ENGLISH)
    counts = {name: words & found for name, found in _FUNCTION_WORDS.items()}
    language, seen = max(counts.items(), key=lambda item: (len(item[1]), item[0]))
    if len(seen) < MIN_FOREIGN or len(seen) <= english:
        return
    shown = ", ".join(f"'{w}'" for w in sorted(seen)[:6])
    raise ObjectiveError(
        f"the objective reads as {language} ({shown}); the policy kernel reads goals written"
        " in English",
        fix="write the objective in English (e.g. 'Predict which customers will churn with"
        " 90% precision'), or set target=, metric=, threshold= and cohort= in the goal's"
        " overrides",
    )
