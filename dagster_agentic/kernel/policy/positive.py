"""The positive class of a binary target: the value the objective names as the event.

Read in order: a boolean column's True; a 0/1 column's 1; a value that reads as yes; the one
value the text names as the event ('will be Citrus Hill', 'buys Minute Maid rather than
Citrus Hill': a value after 'rather than', 'instead of', 'not', 'vs' is the other class); a
value the outcome words name ('churned' of 'churn', not 'not_churned'); else the minority
value. A 50/50 split has no minority, so the words are read before the counts.
"""

from __future__ import annotations

import itertools
import re

from dagster_agentic.errors import GoalError
from dagster_agentic.kernel.policy.coded_poles import pole_code
from dagster_agentic.kernel.policy.text import name_match, name_tokens
from dagster_agentic.warehouse.models import ColumnProfile

_NEGATION = frozenset({"not", "no", "non", "never", "un"})
# Yes in the languages warehouses are often written in (ja/nein, oui/non, sí/no, sim/não).
_YES = frozenset({"yes", "y", "true", "t", "1", "positive", "pos", "ja", "oui", "si", "sí", "sim"})
_ORDINAL = re.compile(r"^\d+\s*[.)]\s*(?=\S)")


def _plain(value: object) -> str:
    """A value as a word: '1. Yes' -> 'yes' (a numbered category keeps its word)."""
    return _ORDINAL.sub("", str(value).strip()).lower()


def positive_value(
    column: ColumnProfile, words: list[str], text: str = ""
) -> tuple[str | int | bool, str]:
    """The value that counts as the positive class, with the reason.

    A value the outcome words name ('cancel' -> 'cancelled'), else the one the text writes
    out as the event ('will be Citrus Hill', 'buys Minute Maid rather than Citrus Hill'),
    wins over counts; a value written after 'rather than', 'instead of', 'not', 'vs' is the
    other class either way. A 50/50 split has no minority, and the rationale says so."""
    if column.kind == "boolean":
        return True, "boolean column"
    values = [tv for tv in (column.values or column.top_values) if tv.value is not None]
    if column.kind == "numeric":
        return _numeric_positive(column, [tv.value for tv in values])
    if not values:
        raise GoalError(
            f"cannot tell the positive class of {column.name}: its profile lists no values",
            fix="profile the warehouse again, or recode the target as 0/1",
        )
    yes = [tv for tv in values if _plain(tv.value) in _YES]
    if len(yes) == 1:
        return str(yes[0].value), f"the value {yes[0].value!r} reads as yes"
    mentions = _mentions([str(tv.value) for tv in values], text)
    other = {value for value, contrasted in mentions if contrasted}
    keywords = [*words, *name_tokens(column.name)]
    named = [
        tv
        for tv in values
        if any(name_match(w, str(tv.value)) for w in keywords) and str(tv.value) not in other
    ]
    if len(named) > 1:  # 'churned' and 'not_churned' both match 'churn': drop the negation
        named = [tv for tv in named if not _NEGATION & set(name_tokens(str(tv.value)))]
    if len(named) == 1:
        return str(named[0].value), f"the value {named[0].value!r} matches the objective's words"
    coded = [(w, found) for w in words if (found := pole_code(w, [tv.value for tv in values]))]
    if coded:
        word, (code, pole) = coded[0]
        return code, f"the code {code!r} is the initial of {pole!r}, which {word!r} names"
    event = _event(mentions)
    if event is not None:
        return event
    minority = min(values, key=lambda tv: (tv.count, str(tv.value)))
    total = sum(tv.count for tv in values)
    if all(tv.count == minority.count for tv in values):
        return (
            str(minority.value),
            f"the values are equally frequent ({minority.count} of {total} rows each) and the "
            f"objective names none as the event: the first in order, {minority.value!r}",
        )
    return (
        str(minority.value),
        f"the minority value ({minority.count} of {total} rows)",
    )


_CONTRAST = re.compile(
    r"(?:\bthan|\binstead\s+of|\bnot|\bnor|\bover|\bvs\.?|\bversus|\bagainst|\bexcept|\bbut)"
    r"\s+(?:the\s+|a\s+|an\s+)?$"
)


def _mentions(values: list[str], text: str) -> list[tuple[str, bool]]:
    """The values the text writes out, each with whether every mention is the other class
    ('rather than Citrus Hill')."""
    lower = text.lower()
    named: list[tuple[str, bool]] = []
    for value in values:
        parts = re.split(r"[\s_\-/.,]+", value.strip().lower())
        parts = [p for p in parts if p]
        if not parts:
            continue
        if len("".join(parts)) < 3:
            # A short code counts only as written, case included ('PS'), or spelt by the
            # initials of the words it stands for ('poorly segmented' -> PS).
            spots = _code_spots(value.strip(), text)
        else:
            pattern = r"(?<![\w])" + r"[\s_\-/.,]+".join(map(re.escape, parts)) + r"(?![\w])"
            spots = [m.start() for m in re.finditer(pattern, lower)]
            spots += _code_spots(value.strip(), text) if value.isupper() else []
        if spots:
            contrasted = all(_CONTRAST.search(lower[max(0, i - 20) : i]) for i in spots)
            named.append((value, contrasted))
    return named


# Words of quality that codes abbreviate by one of them: 'badly segmented' is the PS
# ('poorly segmented') of a PS/WS code, 'good' the W of 'well'. The two groups share no
# initial, so a word never spells a code of the other group.
_QUALITY = (
    frozenset({"bad", "badly", "poor", "poorly", "ill"}),
    frozenset({"good", "well"}),
)


def _initials(word: str) -> set[str]:
    """The letters a word may stand for in a code: its own first, or a quality word's mate's."""
    lower = word.lower()
    letters = {lower[0]}
    for group in _QUALITY:
        if lower in group:
            letters |= {w[0] for w in group}
    return letters


def _code_spots(code: str, text: str) -> list[int]:
    """Where a code of capitals ('PS', 'WS', 'NY') is written as stored, or as the initials
    of a run of words ('poorly segmented', 'well-segmented' for PS, WS)."""
    if not (code.isalpha() and code.isupper() and 2 <= len(code) <= 4):
        return []
    spots = [m.start() for m in re.finditer(rf"(?<![\w]){re.escape(code)}(?![\w])", text)]
    words = [(m.start(), m.group(0)) for m in re.finditer(r"[A-Za-z]+", text)]
    size = len(code)
    for i in range(len(words) - size + 1):
        run = words[i : i + size]
        gaps = [text[a[0] + len(a[1]) : b[0]] for a, b in itertools.pairwise(run)]
        spelt = all(c.lower() in _initials(w) for c, (_, w) in zip(code, run, strict=True))
        if spelt and all(g in {" ", "-"} for g in gaps) and all(len(w) >= 2 for _, w in run):
            spots.append(run[0][0])
    return spots


def _event(named: list[tuple[str, bool]]) -> tuple[str, str] | None:
    """The one value the text names as the event, with the reason; None when it names none,
    or several without saying which is the other class."""
    if not named:
        return None
    events = [v for v, contrasted in named if not contrasted]
    if len(events) != 1:
        return None
    if len(named) == 1:
        return events[0], f"the objective names the value {events[0]!r}"
    others = ", ".join(repr(v) for v, contrasted in named if contrasted)
    return events[0], f"the objective names {events[0]!r} as the event and {others} as the other"


def _numeric_positive(column: ColumnProfile, values: list[object]) -> tuple[int, str]:
    observed = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if not observed:
        observed = [v for v in (column.min, column.max) if isinstance(v, int | float)]
    if observed and {float(v) for v in observed} <= {0.0, 1.0}:
        return 1, "integer 0/1 column"
    if len(observed) >= 2 and all(float(v).is_integer() for v in observed):
        low, high = int(min(observed)), int(max(observed))
        return high, f"the larger of the two values {low} and {high}"
    raise GoalError(
        f"cannot tell the positive class of {column.name}: its values are not 0/1",
        fix="recode the target as 0/1 or boolean in the warehouse",
    )
