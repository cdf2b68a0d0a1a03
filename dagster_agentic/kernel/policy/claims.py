"""Words of the objective the warehouse recognises, so that no cohort is dropped unread.

Cohort phrases are first found by their shape (a head noun and its qualifiers, see
:mod:`dagster_agentic.kernel.policy.phrases`). Shapes miss phrasings ('leaving out the ones
from Torgersen', 'who pay by electronic check', 'United Airlines flights'), so the words are
also read against the data itself:

* **Value spans.** A run of words equal to a category value of any table (a text column of
  at most ``MAX_CLASSES`` values), in any case and with any separators ('north ames' =
  'North_Ames'), or to the leading words of one written together ('United Airlines' = 'United
  Air Lines Inc.'); several joined by 'and'/'or'/',' are one span ('North Ames and Old Town').
  A frequent value of a column of many values counts only as written, case included ('ATL'
  of ``dest``): ordinary words ('manager', 'other') are too often such values by chance.
  A referenced key is left out: the foreign key that holds the same codes is read instead.
* **Flag spans.** Words that name a two-valued column and nothing else ('students' ~
  ``student``, 'senior citizens' ~ ``senior_citizen``).

A span is a cohort when a cohort word precedes it in its clause, at most six words back (for,
in, of, from, among, excluding, leaving out, except, who, that, whose, with, ...; or a
previous cohort span and 'and'), or when it qualifies the population noun ('United Airlines
flights'). A negation before it ('leaving out', 'excluding', 'not', 'non-', 'other than')
negates it, unless a word naming a column lies between (the outcome's verb: 'will not churn
in Oncology'). A span that names only the target's own values describes the outcome, not a
cohort (the caller drops it).

Finally :func:`unread_names` lists capitalised words that follow a placing cohort word ('in',
'from', 'among', 'excluding', ...; see ``_PLACING``) and that nothing claimed (no phrase,
condition, metric, column or table): the caller refuses the objective instead of answering
a broader question than the one asked.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from dagster_agentic.goals.objective import MAX_CLASSES
from dagster_agentic.kernel.policy.categories import norm
from dagster_agentic.kernel.policy.phrases import Phrase
from dagster_agentic.kernel.policy.text import (
    METRIC_WORDS,
    STOPWORDS,
    Token,
    name_match,
    name_tokens,
    word_match,
    word_set,
)
from dagster_agentic.warehouse.models import ColumnProfile, WarehouseProfile

Column = tuple[str, str]  # (table, column)

INTRO = word_set(
    """
    for in of from among amongst excluding except exclude without who that whose with on
    within across outside out at besides
    """
)
_PLACING = word_set(
    "in from among amongst excluding except exclude without outside within across besides"
)
"""The cohort words after which an unread capitalised name is refused: they place or leave
out rows ('from Narnia', 'excluding Acme'); 'for' and 'with' also introduce who the model is
for ('for the Retention team'), so a name after them alone is not refused."""
NEGATING = word_set("not non excluding except exclude without outside besides")
_NEGATING_PAIRS = frozenset({("leaving", "out"), ("leave", "out"), ("other", "than")})
_CONNECTORS = frozenset({"and", "or", "&", ",", "nor"})
_CLAUSE_END = re.compile(r"[.;:!?()]")
_WINDOW = 6
_MAX_SPAN = 6
_UNITS = re.compile(
    r"\b(?:in|as)\s+(?:seconds|minutes|mins|hours|days|weeks|months|years|grams|kilograms|kg"
    r"|pounds|lbs|dollars|euros|cents|percent|percentage\s+points|points|miles|kilometres"
    r"|kilometers|km|metres|meters|cm|mm)\b",
    re.IGNORECASE,
)
"""'in minutes', 'in grams': the unit the target is measured in, never a cohort or target."""


@dataclass(frozen=True)
class ValuePhrase:
    phrase: Phrase
    columns: frozenset[Column]  # every column whose values (or name, for a flag) it matches


def _inside(token: Token, spans: list[tuple[int, int]]) -> bool:
    return any(a <= token.start < b for a, b in spans)


def _split_negations(tokens: list[Token]) -> list[Token]:
    """'non-students' as 'non' and 'students', so the negation and the flag read apart."""
    out: list[Token] = []
    for t in tokens:
        if t.lower.startswith("non-") and len(t.text) > 4:
            out.append(Token(t.text[:3], "non", t.start, t.start + 3))
            out.append(Token(t.text[4:], t.lower[4:], t.start + 4, t.end))
        else:
            out.append(t)
    return out


def unit_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _UNITS.finditer(text)]


def _categories(profile: WarehouseProfile) -> dict[str, set[Column]]:
    """Normalised value forms -> the columns that hold them: the value itself, and its
    leading runs of two or more words squashed together ('unitedairlines')."""
    forms: dict[str, set[Column]] = {}
    # A referenced key is reached through the foreign key that holds the same codes; a
    # small dimension's unique name ('United Air Lines Inc.') is a value like any other.
    joins = {(r.parent_table, r.parent_column) for r in profile.relationships}
    for table in profile.tables:
        for column in table.columns:
            if column.kind != "text" or (table.name, column.name) in joins:
                continue
            many = not _is_category(column)
            for listed in column.values or column.top_values:
                if not isinstance(listed.value, str) or len(listed.value.strip()) < 2:
                    continue
                words = norm(listed.value).split()
                if not words:
                    continue
                where = (table.name, column.name)
                if many:
                    # A column of many values ('ATL' of 101 airports): only its frequent
                    # values, and only as written (case and all), are read from the text.
                    forms.setdefault("=" + listed.value.strip(), set()).add(where)
                    continue
                forms.setdefault(" ".join(words), set()).add(where)
                forms.setdefault("".join(words), set()).add(where)
                for k in range(2, len(words)):
                    forms.setdefault("".join(words[:k]), set()).add(where)
    return forms


def _is_category(column: ColumnProfile) -> bool:
    return column.kind == "text" and 2 <= column.distinct_count <= MAX_CLASSES


def _flags(profile: WarehouseProfile) -> list[tuple[Column, list[str]]]:
    found = []
    for table in profile.tables:
        for column in table.columns:
            if column.is_binary and column.name not in table.candidate_keys:
                tokens = [t for t in name_tokens(column.name) if t.isalpha()]
                tokens = [t for t in tokens if t not in {"is", "has", "flag"}] or tokens
                found.append(((table.name, column.name), tokens))
    return found


def _value_at(words: list[Token], forms: dict[str, set[Column]]) -> tuple[int, set[Column]] | None:
    """The longest run of ``words`` (from the first) that is one value: its length, columns."""
    for n in range(min(_MAX_SPAN, len(words)), 0, -1):
        run = words[:n]
        if not all(t.is_word for t in run) or all(t.lower in STOPWORDS for t in run):
            continue
        if any(t.lower in METRIC_WORDS for t in run):
            continue
        spaced = norm(" ".join(t.text for t in run))
        written = "=" + " ".join(t.text for t in run)
        found = forms.get(spaced) or forms.get(spaced.replace(" ", "")) or forms.get(written)
        if found:
            return n, found
    return None


def _flag_at(
    words: list[Token], flags: list[tuple[Column, list[str]]]
) -> tuple[int, set[Column]] | None:
    for n in range(min(3, len(words)), 0, -1):
        run = [t.lower for t in words[:n]]
        if not all(words[i].is_word and run[i] not in STOPWORDS for i in range(n)):
            continue
        hits = {
            where
            for where, tokens in flags
            if len(tokens) == n
            and all(word_match(w, t) == 2 for w, t in zip(run, tokens, strict=True))
        }
        if hits:
            return n, hits
    return None


def value_phrases(
    text: str,
    tokens: list[Token],
    profile: WarehouseProfile,
    taken: Iterable[tuple[int, int]],
    population: frozenset[str],
) -> list[ValuePhrase]:
    """Cohort phrases read from the data: value and flag spans a cohort word introduces or
    that qualify the population noun (see the module doc)."""
    spans = list(taken)
    tokens = _split_negations(tokens)
    forms, flags = _categories(profile), _flags(profile)
    names = [c.name for t in profile.tables for c in t.columns]
    found: list[ValuePhrase] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not token.is_word or _inside(token, spans):
            i += 1
            continue
        free = list(itertools.takewhile(lambda t: not _inside(t, spans), tokens[i:]))
        hit = _value_at(free, forms) or _flag_at(free, flags)
        if hit is None:
            i += 1
            continue
        n, columns = hit
        end = i + n
        # 'North Ames and Old Town': values of the same column joined by connectors.
        while end + 1 < len(tokens) and tokens[end].lower in _CONNECTORS:
            rest = list(itertools.takewhile(lambda t: not _inside(t, spans), tokens[end + 1 :]))
            more = _value_at(rest, forms)
            if more is None or not (more[1] & columns):
                break
            columns = columns & more[1]
            end = end + 1 + more[0]
        introduced, negation = _introduction(tokens, i, end, found, population, names)
        negated = negation is not None
        if introduced:
            words = tuple(t.text for t in tokens[i:end])
            # The negation's words ('leaving out') belong to the phrase, not to the outcome.
            begin = negation.start if negation is not None else tokens[i].start
            stop = tokens[end - 1].end
            phrase = Phrase(
                ("not", *words) if negated else words,
                "",
                text[begin:stop],
                begin,
                stop,
                places_only=False,
                strong=True,
            )
            found.append(ValuePhrase(phrase, frozenset(columns)))
        i = end
    return found


def _introduction(
    tokens: list[Token],
    start: int,
    end: int,
    found: list[ValuePhrase],
    population: frozenset[str],
    columns: list[str],
) -> tuple[bool, Token | None]:
    """Whether a span at tokens[start:end] is a cohort, and the word that negates it.

    A negation counts unless a word naming a column lies between it and the span: 'will not
    churn in Oncology' negates the outcome, 'not living in Oncology' the cohort."""
    window: list[Token] = []
    chained = False
    for token in reversed(tokens[:start]):
        if _CLAUSE_END.fullmatch(token.text) or len(window) >= _WINDOW:
            break
        if any(v.phrase.start <= token.start < v.phrase.end for v in found):
            chained = bool(window) and any(t.lower in _CONNECTORS for t in window)
            break
        window.insert(0, token)
    lowers = [t.lower for t in window]
    negation: Token | None = None
    for k in range(len(lowers) - 1, -1, -1):
        word = lowers[k]
        pair = (lowers[k - 1], word) if k else ("", word)
        if word in NEGATING or word.startswith("non-") or pair in _NEGATING_PAIRS:
            negation = window[k - 1] if pair in _NEGATING_PAIRS else window[k]
            break
        if word not in STOPWORDS and any(name_match(word, c) == 2 for c in columns):
            break  # the outcome's verb: 'will not churn in ...'
    introduced = chained or any(w in INTRO for w in lowers) or negation is not None
    if end < len(tokens) and tokens[end].is_word:
        following = tokens[end].lower.removesuffix("'s")
        introduced = introduced or following in population
    return introduced, negation


def unread_names(
    text: str,
    tokens: list[Token],
    claimed: Iterable[tuple[int, int]],
    profile: WarehouseProfile,
) -> list[Token]:
    """Capitalised words after a cohort word that nothing claimed and the warehouse does not
    name (no table, column or value): a cohort that would otherwise be dropped unread."""
    spans = list(claimed)
    names = [t.name for t in profile.tables] + [c.name for t in profile.tables for c in t.columns]
    unread: list[Token] = []
    for i, token in enumerate(tokens):
        if not token.is_word or not token.text[0].isupper() or i == 0:
            continue
        if any(a <= token.start < b for a, b in spans):
            continue
        before = text[: token.start].rstrip()
        if not before or before[-1] in ".!?:;(\"'":
            continue  # a sentence's first word
        lower = token.lower
        if lower in STOPWORDS or lower in METRIC_WORDS:
            continue
        if any(name_match(lower, name) == 2 for name in names):
            continue
        window: list[str] = []
        for prior in reversed(tokens[:i]):
            if _CLAUSE_END.fullmatch(prior.text) or len(window) >= 3:
                break
            window.append(prior.lower)
        if any(w in _PLACING for w in window):
            unread.append(token)
    return unread
