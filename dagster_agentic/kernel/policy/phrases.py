"""Find the phrases of an objective that narrow its population: "on European cohorts".

A phrase is proposed when its words may select rows. Words that only set the scene ('our
retention team covers ...', 'each worker from the rest of the survey', 'stores from best to
worst', 'for our audit team') are no cohort: when the warehouse's words are known
(``Nouns.known``), a phrase whose words name nothing (no value, table, category or flag
column of the warehouse, no place, no proper name) is left out, unless a cohort word
introduces it ('for high-value customers', 'excluding ...') or it gives an attribute
('customers with the highest spend'): those are always proposed, so that they select rows or
are an error, never dropped. A unit of the organisation ('team', 'department', ...) the
warehouse does not hold is who the model is for, so a cohort word before it does not count.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from dagster_agentic.kernel.policy.geography import find_places
from dagster_agentic.kernel.policy.text import (
    METRIC_WORDS,
    PLAN_NOUNS,
    POPULATION_NOUNS,
    STOPWORDS,
    Token,
    name_tokens,
    stem,
    word_set,
)
from dagster_agentic.warehouse.models import WarehouseProfile

# Words that introduce a cohort: "on European cohorts", "for German customers".
_INTRO = frozenset(
    {"on", "for", "in", "among", "amongst", "across", "within", "of", "from", "to", "which", "at"}
)
# Words that introduce a cohort and negate it: "excluding trial members".
_NEGATING = frozenset({"excluding", "except", "exclude", "without", "outside"})
_DETERMINERS = frozenset(
    {"the", "our", "all", "my", "your", "their", "its", "those", "these", "a", "an", "any"}
)
_CONNECTORS = frozenset({"and", "or", "&", ","})
# "customers in Germany", "users based in the US"
_LOCATORS = frozenset({"in", "from", "outside", "on", "at", "within"})
_LOCATOR_LEADS = frozenset({"based", "located", "living", "headquartered"})
_MAX_WORDS = 5
# Units of an organisation ('our retention team', 'the finance department'): who the model
# is for, rarely whom it is about.
_ORGANISATION = word_set(
    """
    team teams group groups staff board department departments unit units division divisions
    desk office committee squad crew function org organisation organization
    """
)
# Locators that give an attribute of the head ('customers with the highest spend'): always a
# cohort, unlike a source or a setting ('worker from the rest of the survey').
_ATTRIBUTES = frozenset({"with", "having", "whose", "without"})


@dataclass(frozen=True)
class Phrase:
    """A cohort phrase: its words, the noun it qualifies, and how sure the reading is."""

    words: tuple[str, ...]  # the qualifying words, original case: ("European",)
    head: str  # "cohorts", "plan"; "" for a bare "in the US"
    text: str  # the phrase as written, for messages
    start: int
    end: int
    places_only: bool  # "customers in X": X must be a place
    strong: bool  # unresolvable -> error; a weak phrase ("in the US") is dropped instead
    hint: str | None = None  # a noun naming the column: 'plan' of 'on the premium plan'
    # In a sentence that only sets the scene (see :func:`context_sentences`): a phrase there
    # that names nothing of the warehouse is noted and left out, not an error.
    context: bool = False
    # The value's own row states a flag: 'Yoplait is featured' over a child with a row per
    # entity and brand (see :mod:`option_rows`): how many trailing words name the flag, the
    # child table and its flag column.
    row: tuple[int, str, str] | None = None


@dataclass(frozen=True)
class Nouns:
    """The nouns a cohort phrase ends on: the population ('customers', 'employees', any
    entity table's name) and the nouns that name a column ('plan', 'contract', 'department':
    the words of the warehouse's category columns and tables)."""

    population: frozenset[str] = POPULATION_NOUNS
    columns: frozenset[str] = PLAN_NOUNS
    # Whether a word names something of the warehouse (see :func:`known_words`); None when
    # the warehouse is not known, and then every phrase is proposed.
    known: Callable[[str], bool] | None = field(default=None, compare=False)

    def is_head(self, word: str) -> bool:
        return word in self.population or word in self.columns

    def hint(self, word: str) -> str | None:
        return word if word in self.columns and word not in self.population else None


def find_phrases(text: str, tokens: list[Token], nouns: Nouns | None = None) -> list[Phrase]:
    """All cohort phrases, left to right; overlapping readings keep the longest."""
    nouns = nouns or Nouns()
    tokens = _identifiers(tokens)
    found: list[Phrase] = []
    for i, token in enumerate(tokens):
        if nouns.is_head(token.lower):
            found.extend(
                p for p in _around_head(text, tokens, i, nouns) if _selects(p, tokens, nouns)
            )
        elif token.lower.startswith("non-") and len(token.lower) > 4:
            bare = _bare_negation(text, tokens, i)
            if bare is not None:
                found.append(bare)
        elif token.lower in {"in", "across", "throughout", "outside"}:
            weak = _weak_place(text, tokens, i)
            if weak is not None:
                found.append(weak)
    scene = context_sentences(tokens)
    return [
        replace(p, context=True) if any(a <= p.start < b for a, b in scene) else p
        for p in _longest(found)
    ]


# Words that make a sentence a request or a condition: it asks for something ('predict',
# 'flag', 'we want', 'which ones'), or compares ('over 30', 'at least').
_REQUEST = word_set(
    """
    predict predicts forecast classify flag identify detect estimate score rank find spot
    catch tell know want wants need needs like wish aim optimise optimize model train build
    help which who whom whether how what than over under above below least most more less
    between only
    """
)
_ENDS = frozenset({".", "!", "?", ";"})


def context_sentences(tokens: list[Token]) -> list[tuple[int, int]]:
    """The spans of the sentences that only set the scene ('Our clinic screens Pima women
    for type 2 diabetes.'): of an objective of two sentences or more, one with no metric word
    (masked as '§' by the caller), no question, no request or comparison word, while another
    sentence has a metric word or a request. Empty when no sentence asks for anything."""
    sentences: list[list[Token]] = [[]]
    for token in tokens:
        sentences[-1].append(token)
        if token.text in _ENDS:
            sentences.append([])
    sentences = [s for s in sentences if any(t.is_word for t in s)]
    if len(sentences) < 2:
        return []

    def asks(sentence: list[Token]) -> bool:
        return any(t.text in {"§", "?"} or t.lower in _REQUEST for t in sentence)

    asking = [asks(s) for s in sentences]
    if not any(asking):
        return []
    return [(s[0].start, s[-1].end) for s, a in zip(sentences, asking, strict=True) if not a]


def _identifiers(tokens: list[Token]) -> list[Token]:
    """Tokens with each identifier written in the text whole again: 'years_in_majors' is
    one word, not 'years', '_', 'in', ..."""
    merged: list[Token] = []
    for token in tokens:
        last = merged[-1] if merged else None
        joins = last is not None and last.end == token.start
        if joins and last is not None and (token.text == "_" or last.text.endswith("_")):
            text = last.text + token.text
            merged[-1] = Token(text, text.lower(), last.start, token.end)
        else:
            merged.append(token)
    return [t for t in merged if t.text != "_"]


def _selects(phrase: Phrase, tokens: list[Token], nouns: Nouns) -> bool:
    """Whether a phrase may select rows rather than set the scene (see the module doc).

    Always: a phrase naming a column ('in the Support department'), an attribute or a
    negation after the head ('customers with ...', 'customers not in ...'), a phrase whose
    head a cohort word introduces ('for premium customers', 'for customers in ...'; 'of' and
    'to' only link a head to what is said of it). Else it needs a word the warehouse knows, a
    place or a proper name; a qualifier before its head may also be named by that head
    ('premium customers' over a table of customers)."""
    if nouns.known is None:
        return True
    # 'diabetes screening model': the head noun qualifies the model it comes before, so
    # the words say what the model is about; only words the warehouse knows select rows.
    subject = not phrase.places_only and _before_artefact(tokens, phrase.end)
    if phrase.hint and not subject:
        return True
    first = next(i for i, t in enumerate(tokens) if t.start >= phrase.start)
    located = phrase.places_only
    words = [t for t in tokens if phrase.start <= t.start < phrase.end and t.is_word]
    if located:
        # 'customers with the highest spend', 'not in ...', 'outside ...': an attribute or a
        # negation; 'for customers in ...': the head itself is introduced as a cohort.
        first -= 1  # the head noun, right before the span
        if words and words[0].lower in _ATTRIBUTES | _NEGATING | {"not"}:
            return True
    k = first - 1
    while k >= 0 and tokens[k].lower in _DETERMINERS:
        k -= 1
    # 'of' and 'to' only link the head to what is said of it ('the level of workers from
    # the rest of the survey'); they introduce a qualifier before the head, not after it.
    intro = _INTRO - {"of", "to", "which", "from", "at"} if located else _INTRO
    # 'for our retention team': a unit of the organisation the model is for, unless the
    # warehouse holds such units (a table of teams) - then it may be the population.
    for_whom = not located and phrase.head in _ORGANISATION and not nouns.known(phrase.head)
    if _asker(phrase, words, nouns):
        return False
    if k >= 0 and tokens[k].lower in intro | _NEGATING and not for_whom and not subject:
        return True
    if not located and phrase.words[0].lower() in _NEGATING | {"not"}:
        return True
    if not located and nouns.known(phrase.head) and not subject:
        return True
    if subject:
        words = [t for t in words if t.lower not in {phrase.head, phrase.hint}]
    for token in words:
        if _proper(token, tokens) or find_places([token.text]):
            return True
        if token.lower in STOPWORDS | _CONNECTORS:
            continue
        if _known_part(token.lower, nouns):
            return True
    return False


def _asker(phrase: Phrase, words: list[Token], nouns: Nouns) -> bool:
    """Whether the phrase names who asks, not rows: a unit of the organisation the warehouse
    holds nothing about ('Our QA team signs off', 'the appraisal team in Saratoga County
    wants'), none of whose other words the warehouse knows. 'the placebo group' is rows where
    'placebo' is a value."""
    assert nouns.known is not None
    if phrase.head not in _ORGANISATION or nouns.known(phrase.head):
        return False
    others = [t.lower for t in words if t.lower != phrase.head and t.lower not in STOPWORDS]
    return not any(_known_part(word, nouns) for word in others)


def _known_part(word: str, nouns: Nouns) -> bool:
    """Whether the warehouse knows the word or a part of it ('support' of 'support-desk')."""
    assert nouns.known is not None
    return any(nouns.known(part) for part in re.split(r"[\-_/]+", word) if part)


# Nouns for what is built, not whom it is about: 'a churn prediction model'.
ARTEFACTS = word_set("model models classifier classifiers predictor predictors regressor estimator")


def _before_artefact(tokens: list[Token], end: int) -> bool:
    """Whether the word right after a phrase ending at ``end`` names the model itself."""
    after = next((t for t in tokens if t.start >= end), None)
    return after is not None and after.lower in ARTEFACTS


def _proper(token: Token, tokens: list[Token]) -> bool:
    """A name written as one: capitalised away from a sentence's start ('Narnia'), or an
    acronym ('US')."""
    if len(token.text) >= 2 and token.text.isupper():
        return True
    if not token.text[0].isupper():
        return False
    index = tokens.index(token)
    return index > 0 and tokens[index - 1].text not in {".", "!", "?", ":", ";"}


def known_words(profile: WarehouseProfile) -> Callable[[str], bool]:
    """Whether a word names something that can select rows of the warehouse: a table (a part
    of its name), a category or flag column (a part of its name: 'student', 'contract'), or
    a word of a text value, in any of their forms ('renters' ~ 'rent', 'freelancers' ~
    'freelance', 'condos' ~ 'Condo'). A measure's name ('sales', 'income') is left out: on
    its own before a noun it says whose team or report it is ('our sales team'), not which
    rows."""
    stems: set[str] = set()
    for table in profile.tables:
        stems.update(stem(w) for w in name_tokens(table.name))
        for column in table.columns:
            if column.kind != "numeric" or column.is_binary:
                stems.update(stem(w) for w in name_tokens(column.name))
            for value in (*column.values, *column.top_values):
                if isinstance(value.value, str):
                    stems.update(stem(w) for w in re.findall(r"[a-z0-9]+", value.value.lower()))
    stems = {s for s in stems if len(s) >= 2}
    long = sorted(s for s in stems if len(s) >= 4)

    def known(word: str) -> bool:
        lower = word.lower()
        if len(lower) < 2 or lower in STOPWORDS:
            return False
        root = stem(lower)
        if {root, stem(lower + "s")} & stems:  # 'tree' ~ 'trees' (stem 'tre')
            return True
        return len(root) >= 4 and any(s.startswith(root) or root.startswith(s) for s in long)

    return known


def _bare_negation(text: str, tokens: list[Token], i: int) -> Phrase | None:
    """'for non-smokers': a negated word right after an introducing word is a cohort."""
    k = i - 1
    while k >= 0 and tokens[k].lower in _DETERMINERS:
        k -= 1
    if k >= 0 and tokens[k].lower not in _INTRO | _NEGATING and tokens[k].is_word:
        return None
    token = tokens[i]
    return Phrase((token.text,), "", token.text, token.start, token.end, False, True)


def _around_head(text: str, tokens: list[Token], i: int, nouns: Nouns) -> list[Phrase]:
    phrases = []
    left = _left_words(tokens, i, nouns)
    if left is not None:
        start, words = left
        head = tokens[i].lower
        hint = nouns.hint(head)
        if len(words) > 1 and hint is None and nouns.hint(words[-1].lower()):
            hint = words[-1].lower()  # "enterprise plan customers": the plan names the column
            words = words[:-1]
        if words and words[0].lower() in _NEGATING and len(words) == 1:
            words = []  # "excluding customers": no qualifier
        if words:
            begin = tokens[start].start
            phrases.append(
                Phrase(
                    tuple(words),
                    head,
                    text[begin : tokens[i].end],
                    begin,
                    tokens[i].end,
                    places_only=False,
                    strong=True,
                    hint=hint,
                )
            )
    located = _located(text, tokens, i, nouns)
    if located is not None:
        phrases.append(located)
    return phrases


def _left_words(tokens: list[Token], i: int, nouns: Nouns) -> tuple[int, list[str]] | None:
    """Qualifying words before the head noun, if an introducing word precedes them."""
    j = i - 1
    words: list[Token] = []
    while j >= 0 and len(words) < _MAX_WORDS and _qualifier(tokens[j], bool(words), nouns):
        words.insert(0, tokens[j])
        j -= 1
        if words[0].lower in _NEGATING:
            break
    while words and words[0].lower in _CONNECTORS:
        words.pop(0)
    if words and words[0].lower in _NEGATING:
        return (tokens.index(words[0]), [w.text for w in words])
    k = tokens.index(words[0]) - 1 if words else i - 1
    while k >= 0 and tokens[k].lower in _DETERMINERS:
        k -= 1
    # A cohort starts a clause: after "on"/"for"/..., after punctuation, or at the start.
    if k >= 0 and tokens[k].lower not in _INTRO and tokens[k].is_word:
        return None
    if not words:
        return (i, [])
    texts = [w.text for w in words]
    if k >= 1 and tokens[k - 1].lower == "not":  # "not on the premium plan"
        return (k - 1, ["not", *texts])
    return (tokens.index(words[0]), texts)


def _qualifier(token: Token, have_words: bool, nouns: Nouns | None = None) -> bool:
    if token.lower in _CONNECTORS:
        return have_words
    population = nouns.population if nouns else POPULATION_NOUNS
    if token.lower.endswith(("'s", "’s")):
        return False  # "each order's shipping tier": a possessive ends the phrase
    if not token.is_word or token.lower in population or token.lower in METRIC_WORDS:
        return False
    # An acronym is a name even when it spells a function word: "US", "IT".
    return token.lower not in STOPWORDS or (len(token.text) >= 2 and token.text.isupper())


def _located(text: str, tokens: list[Token], i: int, nouns: Nouns) -> Phrase | None:
    """'customers in Germany', 'users based in the US', 'employees in the Support
    department', 'customers not on the premium plan'."""
    j = i + 1
    negated = j < len(tokens) and tokens[j].lower == "not"  # "customers not on the ... plan"
    j += int(negated)
    led = j < len(tokens) and (
        tokens[j].lower in _LOCATOR_LEADS or tokens[j].lower.endswith(("ing", "ed"))
    )
    j += int(led)
    # After a participle, 'by'/'with'/'via' introduce the value: "customers paying by check".
    locators = _LOCATORS | {"with", "having"}
    locators |= {"by", "via", "using", "through"} if led else set()
    if j >= len(tokens) or tokens[j].lower not in locators:
        return None
    words = _right_words(tokens, j + 1, nouns)
    if not words:
        return None
    after = tokens.index(words[-1]) + 1
    hint = nouns.hint(tokens[after].lower) if after < len(tokens) else None
    if hint is not None:  # "in the Support department": the noun names the column
        end = tokens[after].end
        texts = tuple(w.text for w in words)
        return Phrase(
            ("not", *texts) if negated else texts,
            tokens[i].lower,
            text[tokens[i].start : end],
            tokens[i + 1].start,
            end,
            places_only=False,
            strong=True,
            hint=hint,
        )
    words = _place_prefix(words) or words
    # The span starts after the head, so "premium customers in Germany" keeps both phrases.
    begin, end = tokens[i + 1].start, words[-1].end
    read = _negated(tokens[j], words)
    return Phrase(
        ("not", *read) if negated else read,
        tokens[i].lower,
        text[tokens[i].start : end],
        begin,
        end,
        places_only=True,
        strong=True,
    )


def _right_words(tokens: list[Token], j: int, nouns: Nouns | None = None) -> list[Token]:
    nouns = nouns or Nouns()
    while j < len(tokens) and tokens[j].lower in _DETERMINERS:
        j += 1
    words: list[Token] = []
    while j < len(tokens) and len(words) < _MAX_WORDS and _qualifier(tokens[j], bool(words), nouns):
        if nouns.hint(tokens[j].lower) and words:
            break
        words.append(tokens[j])
        j += 1
    while words and words[-1].lower in _CONNECTORS:
        words.pop()
    return words


def _place_prefix(words: list[Token]) -> list[Token]:
    """The longest leading run of words that reads as places ('Europe' of 'Europe, precision')."""
    for end in range(len(words), 0, -1):
        if words[end - 1].lower not in _CONNECTORS and find_places([w.text for w in words[:end]]):
            return words[:end]
    return []


def _weak_place(text: str, tokens: list[Token], i: int) -> Phrase | None:
    """'in the US', 'across Europe': kept only when the words are all places."""
    words = _place_prefix(_right_words(tokens, i + 1))
    if not words:
        return None
    begin, end = tokens[i].start, words[-1].end
    return Phrase(
        _negated(tokens[i], words),
        "",
        text[begin:end],
        begin,
        end,
        places_only=True,
        strong=False,
    )


def _negated(locator: Token, words: list[Token]) -> tuple[str, ...]:
    """The phrase's words; 'outside Europe' keeps 'outside' so the cohort is negated."""
    texts = tuple(w.text for w in words)
    return ("outside", *texts) if locator.lower == "outside" else texts


def _longest(phrases: list[Phrase]) -> list[Phrase]:
    kept: list[Phrase] = []
    for phrase in sorted(phrases, key=lambda p: (-(p.end - p.start), p.start)):
        if not any(phrase.start < k.end and k.start < phrase.end for k in kept):
            kept.append(phrase)
    return sorted(kept, key=lambda p: p.start)
