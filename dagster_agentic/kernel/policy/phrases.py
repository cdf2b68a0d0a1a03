"""Find the phrases of an objective that narrow its population: "on European cohorts"."""

from __future__ import annotations

from dataclasses import dataclass

from dagster_agentic.kernel.policy.geography import find_places
from dagster_agentic.kernel.policy.text import (
    METRIC_WORDS,
    PLAN_NOUNS,
    POPULATION_NOUNS,
    STOPWORDS,
    Token,
)

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


@dataclass(frozen=True)
class Nouns:
    """The nouns a cohort phrase ends on: the population ('customers', 'employees', any
    entity table's name) and the nouns that name a column ('plan', 'contract', 'department':
    the words of the warehouse's category columns and tables)."""

    population: frozenset[str] = POPULATION_NOUNS
    columns: frozenset[str] = PLAN_NOUNS

    def is_head(self, word: str) -> bool:
        return word in self.population or word in self.columns

    def hint(self, word: str) -> str | None:
        return word if word in self.columns and word not in self.population else None


def find_phrases(text: str, tokens: list[Token], nouns: Nouns | None = None) -> list[Phrase]:
    """All cohort phrases, left to right; overlapping readings keep the longest."""
    nouns = nouns or Nouns()
    found: list[Phrase] = []
    for i, token in enumerate(tokens):
        if nouns.is_head(token.lower):
            found.extend(_around_head(text, tokens, i, nouns))
        elif token.lower.startswith("non-") and len(token.lower) > 4:
            bare = _bare_negation(text, tokens, i)
            if bare is not None:
                found.append(bare)
        elif token.lower in {"in", "across", "throughout", "outside"}:
            weak = _weak_place(text, tokens, i)
            if weak is not None:
                found.append(weak)
    return _longest(found)


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
