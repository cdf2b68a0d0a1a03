"""Relative clauses on the population, and restricting clauses, that nothing read: refused,
never dropped.

'for people who had a job in their first week out' restricts the rows as surely as 'for
people in Ohio'; so do 'When neither of the two offers involves changing trains, ...' and
'leaving out each household's first five trips'. When no phrase, condition or value the
reading used lies inside such a clause, and the clause neither speaks of the outcome
('customers who will churn', 'employees who left', a word of the target's name) nor only of
the population, the goal would be answered for every row; the objective is refused and the
clause quoted.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from dagster_agentic.kernel.policy.claims import CLAUSE_END
from dagster_agentic.kernel.policy.nouns import noun_forms
from dagster_agentic.kernel.policy.text import (
    LEXICON,
    METRIC_WORDS,
    STOPWORDS,
    Token,
    inside,
    name_tokens,
    singular,
    stem,
    word_set,
)

_RELATIVE = frozenset({"who", "whom", "whose", "that", "which"})
# People in general: 'people who', 'those who', 'anyone who'.
_GENERIC = word_set("people person persons those ones anyone everyone individuals somebody")
# A clause about what is to come is the outcome, not a cohort: 'customers who will churn'.
_PROSPECTIVE = word_set(
    "will would going likely unlikely might may could shall expected predicted set"
)
_LONGEST = 12


def _names_other(word: str, others: frozenset[str]) -> bool:
    """Whether ``word`` is a word of another column's name, in any form ('knowledge' of
    ``q7_eu_knowledge``)."""
    return bool({word, singular(word), stem(word)} & others)


def _related(word: str, names: set[str]) -> bool:
    """Whether ``word`` names the outcome: one of its name's words in any form, the same
    stem, or a lexicon word the name's words mean ('left' of ``attrition``)."""
    lower = word.lower()
    if lower in names or stem(lower) in {stem(n) for n in names}:
        return True
    return bool(set(LEXICON.get(lower, ())) & names)


def unread_clauses(
    text: str,
    tokens: list[Token],
    read: Iterable[tuple[int, int]],
    population: frozenset[str],
    outcome: tuple[str, str],
    accounted: set[str],
    others: frozenset[str] = frozenset(),
) -> list[str]:
    """The relative clauses after a population noun ('people who had a job in their first
    week out'; each of 'whose health limits them or who are over 55') that hold no read
    span and name rows: words of three letters or more that are no function, metric,
    outcome or population word, in a clause that does not speak of what is to come. A noun
    of the population is one of ``population`` or of ``accounted`` (the entity's and the
    outcome's tables' words). A clause that names the outcome still names rows when it names
    another column too (``others``, the words of the other columns' names): 'people who
    scored zero on the knowledge question about Europe' of a Europe-scale outcome."""
    spans = list(read)
    names = {
        f for part in (*name_tokens(outcome[1]), *name_tokens(outcome[0])) for f in noun_forms(part)
    }
    found: list[str] = []
    chained = -1  # where a clause ended on 'or'/'and' + a relative word: 'or who are over 55'
    for i, token in enumerate(tokens[:-1]):
        lower = token.lower
        noun = token.is_word and bool(
            {lower, singular(lower)} & (population | accounted) or lower in _GENERIC
        )
        if tokens[i + 1].lower not in _RELATIVE:
            continue
        if not (noun or i == chained or _ends_cohort(tokens, i, spans, population | accounted)):
            continue
        clause: list[Token] = []
        for k in range(i + 2, len(tokens)):
            later = tokens[k]
            if CLAUSE_END.fullmatch(later.text) or later.text == "," or len(clause) >= _LONGEST:
                break
            joins = later.lower in {"or", "and"} and k + 1 < len(tokens)
            if joins and tokens[k + 1].lower in _RELATIVE:
                chained = k
                break
            clause.append(later)
        if _names_rows(clause, spans, names, accounted, population, others=others):
            found.append(text[tokens[i + 1].start : clause[-1].end])
    return found


def _ends_cohort(
    tokens: list[Token], i: int, spans: list[tuple[int, int]], nouns: set[str] | frozenset[str]
) -> bool:
    """Whether the word at ``i`` ends a read span that qualifies a population noun, the
    noun inside it or right before it: 'men aged 60 or older' of 'men aged 60 or older who
    got chemotherapy' (the clause qualifies the men too)."""
    token = tokens[i]
    span = next(((a, b) for a, b in spans if a <= token.start < b), None)
    if span is None or tokens[i + 1].start < span[1]:
        return False
    before = [t for t in tokens if span[0] - 24 <= t.start < token.start and t.is_word]
    return any({t.lower, singular(t.lower)} & nouns for t in before)


def _names_rows(
    clause: list[Token],
    spans: list[tuple[int, int]],
    names: set[str],
    accounted: set[str],
    population: frozenset[str],
    *,
    ignore: frozenset[str] = frozenset(),
    ordered: bool = False,
    others: frozenset[str] = frozenset(),
) -> bool:
    """Whether a clause nothing read names rows: it holds no read span, says nothing of
    what is to come or of the outcome (``names``), and has a word of three letters or more
    that is no function, metric, population or ``ignore`` word; with ``ordered``, a number
    or an ordinal names rows too ('the first five trips')."""
    if not clause or any(inside(t, spans) for t in clause):
        return False
    words = [t.lower for t in clause if t.is_word]
    about_to = any(a == "about" and b == "to" for a, b in itertools.pairwise(words))
    if set(words) & _PROSPECTIVE or about_to:  # 'about to' is to come; 'about Europe' is not
        return False
    if any(_related(w, names) for w in words) and not any(
        len(w) >= 4 and w not in STOPWORDS and not _related(w, names) and _names_other(w, others)
        for w in words
    ):
        return False
    if any(
        len(w) >= 3
        and w not in STOPWORDS
        and w not in METRIC_WORDS
        and w not in accounted
        and w not in population
        and w not in ignore
        for w in words
    ):
        return True
    return ordered and any(t.lower in _ORDINALS or t.text[:1].isdigit() for t in clause)


# Words that open a clause restricting the rows: 'when neither offer ...', 'leaving out ...'.
_OPENERS = word_set("when whenever unless excluding except omitting ignoring for")
_TWO_WORD_OPENERS = {("leaving", "out"), ("leave", "out"), ("apart", "from"), ("other", "than")}


def unread_restrictions(
    text: str,
    tokens: list[Token],
    read: Iterable[tuple[int, int]],
    population: frozenset[str],
    outcome: tuple[str, str],
    accounted: set[str],
) -> list[str]:
    """The clauses opened by a restricting word ('when', 'unless', 'excluding',
    'leaving out', ...; 'for' when 'only' closes the clause: 'for the good-habitat quadrats
    only') up to the next comma or clause end, that hold no read span and name
    rows, as :func:`unread_clauses` judges them. A clause about what is to come ('when will
    they churn') or naming the outcome is left alone."""
    spans = list(read)
    # The outcome column's own words only: the rows of its table are what a restriction
    # restricts ('leaving out each household's first five trips' of a trips table).
    names = {f for part in name_tokens(outcome[1]) for f in noun_forms(part)}
    found: list[str] = []
    for i, token in enumerate(tokens[:-1]):
        pair = (token.lower, tokens[i + 1].lower)
        if token.lower in _OPENERS:
            first = i + 1
        elif pair in _TWO_WORD_OPENERS:
            first = i + 2
        else:
            continue
        if inside(token, spans):
            continue
        clause: list[Token] = []
        for later in tokens[first:]:
            if CLAUSE_END.fullmatch(later.text) or later.text == "," or len(clause) >= _LONGEST:
                break
            clause.append(later)
        if token.lower == "for":  # 'for the good-habitat quadrats only': restricts
            if not clause or clause[-1].lower != "only":
                continue
            clause = clause[:-1]
        # 'leaving out each household's first five trips': which rows, by their order.
        if _names_rows(clause, spans, names, accounted, population, ignore=_GENERIC, ordered=True):
            found.append(text[token.start : clause[-1].end])
    return found


def _phrase(tokens: list[Token], start: int, longest: int = _LONGEST) -> list[Token]:
    """The tokens from ``start`` up to the next comma, clause end, relative word or
    'and'/'or', at most ``longest``."""
    phrase: list[Token] = []
    for later in tokens[start:]:
        stop = later.lower in _RELATIVE or later.lower in {"and", "or"}
        if CLAUSE_END.fullmatch(later.text) or later.text == "," or stop:
            break
        if len(phrase) >= longest:
            break
        phrase.append(later)
    return phrase


# Words of time that, right after the population ('flights before noon') or after a
# participle of it ('quadrats searched before midday'), say which rows are meant.
_TIME_OPENERS = word_set("before after since until till during")
_PRONOUNS = word_set("they it he she we you i them their its his her our your")


def unread_times(
    text: str,
    tokens: list[Token],
    read: Iterable[tuple[int, int]],
    population: frozenset[str],
    outcome: tuple[str, str],
    accounted: set[str],
) -> list[str]:
    """The time phrases that qualify the population ('quadrats searched before midday',
    'orders after 6pm'), up to the next comma, clause end, relative word or 'and'/'or',
    that hold no read span and name rows, as :func:`unread_clauses` judges them."""
    spans = list(read)
    names = {f for part in name_tokens(outcome[1]) for f in noun_forms(part)}
    nouns = population | accounted

    def is_noun(token: Token) -> bool:
        return token.is_word and bool({token.lower, singular(token.lower)} & nouns)

    found: list[str] = []
    for i, token in enumerate(tokens[:-1]):
        if token.lower not in _TIME_OPENERS or inside(token, spans) or i == 0:
            continue
        before = tokens[i - 1]
        participle = i >= 2 and before.lower.endswith("ed") and is_noun(tokens[i - 2])
        # 'only seasons since ...': 'only' says the noun it comes before names rows.
        only = i >= 2 and tokens[i - 2].lower == "only" and before.is_word
        if not (is_noun(before) or participle or only):
            continue
        clause = _phrase(tokens, i + 1)
        # 'before they leave': what the population does, an event, not a time of the rows.
        if clause and clause[0].lower in _PRONOUNS:
            continue
        if _names_rows(clause, spans, names, accounted, population, ordered=True):
            found.append(text[(tokens[i - 1] if participle else token).start : clause[-1].end])
    return found


# '-ing' words that are no participle of the population: 'during', 'including', 'morning'.
_NOT_PARTICIPLES = word_set(
    "during including excluding according regarding concerning following pending "
    "morning evening during nothing something anything everything thing things king"
)


def unread_participles(
    text: str,
    tokens: list[Token],
    read: Iterable[tuple[int, int]],
    population: frozenset[str],
    outcome: tuple[str, str],
    accounted: set[str],
) -> list[str]:
    """The reduced relative clauses on the population ('pigs getting any vitamin E
    supplement', 'patients receiving the new drug'), from the '-ing' word after a population
    noun up to the next comma, clause end, relative word or 'and'/'or', that hold no read
    span and name rows, as :func:`unread_clauses` judges them ('customers leaving next
    month', the outcome, is left alone)."""
    spans = list(read)
    names = {f for part in name_tokens(outcome[1]) for f in noun_forms(part)}
    nouns = population | accounted
    found: list[str] = []
    for i, token in enumerate(tokens[1:-1], start=1):
        lower = token.lower
        before = tokens[i - 1]
        if not (token.is_word and lower.endswith("ing") and len(lower) >= 5):
            continue
        if lower in _NOT_PARTICIPLES or lower in STOPWORDS or inside(token, spans):
            continue
        if not (before.is_word and {before.lower, singular(before.lower)} & nouns):
            continue
        clause = [token, *_phrase(tokens, i + 1, _LONGEST - 1)]
        if len(clause) > 1 and _names_rows(clause, spans, names, accounted, population):
            found.append(text[token.start : clause[-1].end])
    return found


_ORDINALS = word_set(
    """first second third fourth fifth last earliest latest initial final one two three four
    five six seven eight nine ten eleven twelve"""
)
