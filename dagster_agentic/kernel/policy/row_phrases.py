"""Cohort phrases read from the shape of the words around a number or a negation, where no
category value is written: 'orders that include item 10' or 'stops in the 4th and 5th
precincts' (an integer column the noun names), 'applicants without any derogatory reports'
(no row in a child table), and the participles that introduce a cohort like a preposition
('emails sent by our Sales team').
"""

from __future__ import annotations

import re
from collections.abc import Callable

from dagster_agentic.kernel.policy.phrases import Phrase
from dagster_agentic.kernel.policy.surface import ordinal_only
from dagster_agentic.kernel.policy.text import (
    METRIC_WORDS,
    STOPWORDS,
    Token,
    inside,
    name_tokens,
    singular,
    word_match,
    word_set,
)
from dagster_agentic.warehouse.models import WarehouseProfile

Column = tuple[str, str]  # (table, column)
ROWS: Column = ("", "")  # an absence phrase reads rows of a table, not a column's values
_WINDOW = 6


_ID_WORDS = frozenset({"id", "no", "nr", "num", "number", "code", "key", "ref", "fk", "pk"})
# Words after a number that open its range on one side: 'series 5 onwards', 'grade 4 and
# up', 'level 3 or higher', 'season 10+', 'round 2 or earlier'. English closes this list.
_OPEN_AFTER: dict[tuple[str, ...], str] = {
    ("onwards",): ">=",
    ("onward",): ">=",
    ("upwards",): ">=",
    ("+",): ">=",
    **{
        (joiner, word): ">="
        for joiner in ("and", "or")
        for word in ("up", "above", "over", "later", "higher", "more", "after", "beyond", "greater")
    },
    **{
        (joiner, word): "<="
        for joiner in ("and", "or")
        for word in ("below", "under", "lower", "earlier", "less", "fewer", "before", "down")
    },
}
# Words before the noun that bound the number: 'after season 3', 'up to grade 6'.
_OPEN_BEFORE: dict[tuple[str, ...], str] = {
    ("after",): ">",
    ("since",): ">=",
    ("before",): "<",
    ("until",): "<=",
    ("till",): "<=",
    ("beyond",): ">",
    ("up", "to"): "<=",
    ("prior", "to"): "<",
    ("no", "later", "than"): "<=",
}
_SPAN_WORDS = frozenset({"to", "through", "thru", "-", "–", "until"})
# Words that list numbers: 'religiousness 1 or 2', 'grades 4, 5 and 6'.
_LIST_WORDS = frozenset({",", "or", "and"})
_CLAUSE_ENDS = frozenset({",", ".", ";", ":", "!", "?", ")"})


def numbered_bound(words: tuple[str, ...]) -> tuple[str, int, int | None]:
    """The comparison a numbered phrase's words make: ('5',) is ``= 5``, ('5', 'onwards')
    ``>= 5``, ('after', '3') ``> 3``, ('5', 'to', '8') ``BETWEEN 5 AND 8``; the operator,
    the number and, for a span, its upper end."""
    lowered = tuple(w.lower() for w in words)
    digits = [i for i, w in enumerate(lowered) if w.isdigit()]
    first = int(lowered[digits[0]])
    if len(digits) >= 2 and set(lowered) & _LIST_WORDS:
        return "in", first, None
    if len(digits) == 2:
        return "between", first, int(lowered[digits[1]])
    before, after = lowered[: digits[0]], lowered[digits[0] + 1 :]
    if after in _OPEN_AFTER:
        return _OPEN_AFTER[after], first, None
    if before in _OPEN_BEFORE:
        return _OPEN_BEFORE[before], first, None
    if before == ("from",) and after in {("on",), ("onwards",), ("onward",)}:
        return ">=", first, None
    return "=", first, None


def _bound_words(tokens: list[Token], k: int) -> tuple[int, int]:
    """How many tokens before the noun at ``k`` and after its number at ``k + 1`` bound the
    number ('after season 3', 'series 5 onwards', 'from season 3 on', 'series 5 to 8')."""
    lowered = [t.lower for t in tokens]
    ahead = lowered[k + 2 : k + 4]
    spans = len(ahead) >= 2 and ahead[0] in _SPAN_WORDS and ahead[1].isdigit()
    if spans and int(ahead[1]) > int(lowered[k + 1]):
        return 0, 2
    after = 0
    for width in (2, 1):
        if tuple(ahead[:width]) in _OPEN_AFTER:
            after = width
            break
    if not after and (listed := _listed(lowered, k + 2)):
        return 0, listed
    before = 0
    for width in (3, 2, 1):
        if k - width >= 0 and tuple(lowered[k - width : k]) in _OPEN_BEFORE:
            before = width
            break
    # 'from season 3 on': 'on' closes the range only at a clause's end.
    closing = k + 3 >= len(tokens) or lowered[k + 3] in _CLAUSE_ENDS
    if not after and k >= 1 and lowered[k - 1] == "from" and ahead[:1] == ["on"] and closing:
        return 1, 1
    return before, after


def _listed(lowered: list[str], start: int) -> int:
    """How many tokens from ``start`` continue a list of numbers: ', 5 and 6' of 'grades 4, 5
    and 6', 'or 2' of 'religiousness 1 or 2'; 0 when none does."""
    j = start
    while j + 1 < len(lowered) and lowered[j] in _LIST_WORDS:
        step = 2 if lowered[j] == "," and lowered[j + 1] in {"or", "and"} else 1
        if j + step >= len(lowered) or not lowered[j + step].isdigit():
            break
        j += step + 1
    return j - start


def numbered(
    text: str,
    tokens: list[Token],
    spans: list[tuple[int, int]],
    profile: WarehouseProfile,
    intro: frozenset[str],
) -> list[tuple[Phrase, frozenset[Column]]]:
    """'orders that include item 10', 'for store 4': a word naming an integer column
    (``ItemID``, ``store_no``) followed by a whole number the column's range holds, after a
    cohort word. Words that bound the number belong to the phrase ('for series 5 onwards',
    'after season 3', 'grades 4 to 6'; see :func:`numbered_bound`), never dropped: an open
    range read as one value would narrow the cohort. The cohort reads the column where it
    lives (the entity, a table one hop away, or a child: 'has such a row')."""
    found: list[tuple[Phrase, frozenset[Column]]] = []
    for k in range(len(tokens) - 1):
        word, number = tokens[k], tokens[k + 1]
        if not word.is_word or not number.text.isdigit() or word.lower in STOPWORDS:
            continue
        # A phrase its shape found may end on the noun ('volunteers with satisfaction' of
        # '... satisfaction 4 or 5'): the numbered phrase reads it wider.
        if inside(number, spans) or any(a <= word.start < b != word.end for a, b in spans):
            continue
        value = int(number.text)
        before, after = _bound_words(tokens, k)
        # A list is read whole only where each of its numbers is a value the column spans:
        # 'store 4 and 2023' is a store and a year, not two stores.
        listed = [int(t.text) for t in tokens[k + 1 : k + 2 + after] if t.text.isdigit()]
        joiners = {t.lower for t in tokens[k + 2 : k + 2 + after]}
        listing = not before and len(listed) > 1 and bool(_LIST_WORDS & joiners)
        ranges = _integer_columns(profile, word.lower, [value])
        columns = set(ranges)
        if listing:
            spanned = {c for c, (lo, hi) in ranges.items() if all(lo <= v <= hi for v in listed)}
            columns, after = (spanned, after) if spanned else (columns, 0)
        window = [t.lower for t in tokens[max(0, k - _WINDOW) : k]]
        leads = intro | {"include", "including", "includes"}
        if not columns or not (before or set(window) & leads):
            continue
        begin, stop = tokens[k - before].start, tokens[k + 1 + after].end
        bound = [t.text for t in [*tokens[k - before : k], *tokens[k + 1 : k + 2 + after]]]
        phrase = Phrase(
            tuple(bound),
            word.lower,
            text[begin:stop],
            begin,
            stop,
            places_only=False,
            strong=True,
            hint=word.lower,
        )
        found.append((phrase, frozenset(columns)))
    return found


def _integer_columns(
    profile: WarehouseProfile, noun: str, values: list[int]
) -> dict[Column, tuple[float, float]]:
    """The integer columns ``noun`` names (a part of the name, not an id word) whose range
    holds every one of ``values``, with their ranges."""
    return {
        (table.name, column.name): (column.min, column.max)
        for table in profile.tables
        for column in table.columns
        if column.kind == "numeric"
        and isinstance(column.min, int | float)
        and isinstance(column.max, int | float)
        and float(column.min).is_integer()
        and all(column.min <= v <= column.max for v in values)
        and any(
            word_match(noun, part) == 2 or singular(noun) == part
            for part in name_tokens(column.name)
            if part not in _ID_WORDS
        )
    }


def ordinal_numbered(
    text: str,
    tokens: list[Token],
    spans: list[tuple[int, int]],
    profile: WarehouseProfile,
    intro: frozenset[str],
) -> list[tuple[Phrase, frozenset[Column]]]:
    """'stops in the 4th and 5th precincts', 'at the second site': ordinals, one or a list,
    before a noun that names an integer column whose range holds them, after a cohort word:
    the column is one of the numbers, as 'precincts 4 and 5' reads. The phrase's words are
    the numbers as digits, so :func:`numbered_bound` reads them as it reads 'precinct 4'."""
    found: list[tuple[Phrase, frozenset[Column]]] = []
    k = 0
    while k < len(tokens):
        first, j = ordinal_at(tokens, k)
        if first is None or inside(tokens[k], spans):
            k += 1
            continue
        values, words = [first], [str(first)]
        while j + 1 < len(tokens) and tokens[j].lower in _LIST_WORDS:
            following, after = ordinal_at(tokens, j + 1)
            if following is None:
                break
            values.append(following)
            words += [tokens[j].lower, str(following)]
            j = after
        noun = tokens[j] if j < len(tokens) else None
        window = [t.lower for t in tokens[max(0, k - _WINDOW) : k]]
        # 'in their first week' counts the entity's own time, not a value of a column.
        if (
            not window
            or window[-1] not in intro | {"the"}
            or noun is None
            or not noun.is_word
            or noun.lower in STOPWORDS
            or inside(noun, spans)
            or not set(window) & intro
        ):
            k = j
            continue
        columns = frozenset(_integer_columns(profile, noun.lower, values))
        if columns:
            begin, stop = tokens[k].start, noun.end
            phrase = Phrase(
                tuple(words),
                noun.lower,
                text[begin:stop],
                begin,
                stop,
                places_only=False,
                strong=True,
                hint=singular(noun.lower),
            )
            found.append((phrase, columns))
        k = j + 1
    return found


def ordinal_at(tokens: list[Token], i: int) -> tuple[int | None, int]:
    """The ordinal written at token ``i`` ('fourth'; '4th', which the tokenizer splits into
    '4' and 'th') and the index of the token after it."""
    if i >= len(tokens):
        return None, i
    token = tokens[i]
    if token.text.isdigit() and i + 1 < len(tokens) and tokens[i + 1].start == token.end:
        return ordinal_only(token.text + tokens[i + 1].text), i + 2
    return ordinal_only(token.text), i + 1


_ABSENT = frozenset({("without",), ("with", "no"), ("having", "no"), ("with", "zero")})
_ANY = frozenset({"any", "a", "an", "the", "one", "single"})


def absences(
    text: str, tokens: list[Token], spans: list[tuple[int, int]]
) -> list[tuple[Phrase, frozenset[Column]]]:
    """'without any derogatory reports', 'with no complaints': the entities that have no such
    row. Proposed whenever nothing else read the words, so that the cohort reads a child
    table the words name or is an error listing the candidates, never dropped."""
    found: list[tuple[Phrase, frozenset[Column]]] = []
    for k, token in enumerate(tokens):
        pair = (token.lower, tokens[k + 1].lower) if k + 1 < len(tokens) else (token.lower,)
        width = 1 if (token.lower,) in _ABSENT else 2 if pair in _ABSENT else 0
        if not width:
            continue
        j = k + width
        while j < len(tokens) and tokens[j].lower in _ANY:
            j += 1
        words: list[Token] = []
        while j < len(tokens) and len(words) < 4 and tokens[j].is_word:
            if tokens[j].lower in STOPWORDS or tokens[j].lower in METRIC_WORDS:
                break
            words.append(tokens[j])
            j += 1
        if not words or any(inside(t, spans) for t in [token, *words]):
            continue
        begin, stop = token.start, words[-1].end
        phrase = Phrase(
            ("not", *(w.text for w in words)),
            "",
            text[begin:stop],
            begin,
            stop,
            places_only=False,
            strong=True,
        )
        found.append((phrase, frozenset({ROWS})))
    return found


AFTER_PARTICIPLE = frozenset({"by", "in", "from", "at", "via", "through", "under"})
_INDEFINITE = frozenset({"a", "an", "some", "any"})
_IRREGULAR = word_set(
    """sent made built bought sold written run held given taken done shown grown paid won
    lost kept brought caught thought found drawn driven flown known seen chosen spent"""
)


def participle(word: str) -> bool:
    """A past participle: 'placed', 'issued', or a common irregular one ('sent', 'made')."""
    return word in _IRREGULAR or (len(word) >= 5 and word.endswith("ed"))


_AUXILIARIES = word_set("will would be is are was were been being get gets got have has had not")
_DETERMINERS = word_set("the our their its a an my your his her this that these those")


def participle_words(
    tokens: list[Token], spans: list[tuple[int, int]], known: Callable[[str], bool]
) -> list[Token]:
    """The first word of a cohort a participle introduces after its noun ('emails sent by
    the marketing team', 'orders placed by walk-in customers') when nothing claimed it and
    the warehouse knows none of its words: a cohort that cannot be read, never dropped. A
    participle after an auxiliary is the outcome's verb ('will be approved by'), no cohort."""
    found: list[Token] = []
    for k in range(1, len(tokens) - 2):
        lead, verb, by = tokens[k - 1], tokens[k], tokens[k + 1]
        if not (participle(verb.lower) and by.lower in AFTER_PARTICIPLE and lead.is_word):
            continue
        if lead.lower in _AUXILIARIES or lead.lower in STOPWORDS:
            continue
        j = k + 2
        while j < len(tokens) and tokens[j].lower in _DETERMINERS:
            j += 1
        if any(t.lower in _INDEFINITE for t in tokens[k + 2 : j]):
            continue  # 'found at a scene': an indefinite place names no rows
        words: list[Token] = []
        while j < len(tokens) and tokens[j].is_word and tokens[j].lower not in STOPWORDS:
            words.append(tokens[j])
            j += 1
        if not words or any(inside(t, spans) for t in words):
            continue
        if not any(known(part) for w in words for part in re.split(r"[\-_]+", w.lower) if part):
            found.append(words[0])
    return found
