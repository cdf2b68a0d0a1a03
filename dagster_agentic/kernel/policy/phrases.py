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
_DETERMINERS = frozenset({"the", "our", "all", "my", "your", "their", "its", "those", "these"})
_CONNECTORS = frozenset({"and", "or", "&", ","})
# "customers in Germany", "users based in the US"
_LOCATORS = frozenset({"in", "from", "outside"})
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

    @property
    def hint(self) -> str | None:
        """A noun naming the column, e.g. 'plan' in 'on the premium plan'."""
        return self.head if self.head in PLAN_NOUNS else None


def find_phrases(text: str, tokens: list[Token]) -> list[Phrase]:
    """All cohort phrases, left to right; overlapping readings keep the longest."""
    found: list[Phrase] = []
    for i, token in enumerate(tokens):
        if token.lower in POPULATION_NOUNS or token.lower in PLAN_NOUNS:
            found.extend(_around_head(text, tokens, i))
        elif token.lower in {"in", "across", "throughout", "outside"}:
            weak = _weak_place(text, tokens, i)
            if weak is not None:
                found.append(weak)
    return _longest(found)


def _around_head(text: str, tokens: list[Token], i: int) -> list[Phrase]:
    phrases = []
    left = _left_words(tokens, i)
    if left is not None:
        start, words = left
        head = tokens[i].lower
        if words and words[-1].lower() in PLAN_NOUNS and head not in PLAN_NOUNS:
            head = words[-1].lower()  # "enterprise plan customers": the plan names the column
            words = words[:-1]
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
                )
            )
    located = _located(text, tokens, i)
    if located is not None:
        phrases.append(located)
    return phrases


def _left_words(tokens: list[Token], i: int) -> tuple[int, list[str]] | None:
    """Qualifying words before the head noun, if an introducing word precedes them."""
    j = i - 1
    words: list[Token] = []
    while j >= 0 and len(words) < _MAX_WORDS and _qualifier(tokens[j], bool(words)):
        words.insert(0, tokens[j])
        j -= 1
    while words and words[0].lower in _CONNECTORS:
        words.pop(0)
    k = tokens.index(words[0]) - 1 if words else i - 1
    while k >= 0 and tokens[k].lower in _DETERMINERS:
        k -= 1
    # A cohort starts a clause: after "on"/"for"/..., after punctuation, or at the start.
    if k >= 0 and tokens[k].lower not in _INTRO and tokens[k].is_word:
        return None
    if not words:
        return (i, [])
    return (tokens.index(words[0]), [w.text for w in words])


def _qualifier(token: Token, have_words: bool) -> bool:
    if token.lower in _CONNECTORS:
        return have_words
    if not token.is_word or token.lower in POPULATION_NOUNS or token.lower in METRIC_WORDS:
        return False
    # An acronym is a name even when it spells a function word: "US", "IT".
    return token.lower not in STOPWORDS or (len(token.text) >= 2 and token.text.isupper())


def _located(text: str, tokens: list[Token], i: int) -> Phrase | None:
    """'customers in Germany', 'users based in the US'."""
    j = i + 1
    if j < len(tokens) and tokens[j].lower in _LOCATOR_LEADS:
        j += 1
    if j >= len(tokens) or tokens[j].lower not in _LOCATORS:
        return None
    words = _right_words(tokens, j + 1)
    if not words:
        return None
    words = _place_prefix(words) or words
    # The span starts after the head, so "premium customers in Germany" keeps both phrases.
    begin, end = tokens[i + 1].start, words[-1].end
    return Phrase(
        _negated(tokens[j], words),
        tokens[i].lower,
        text[tokens[i].start : end],
        begin,
        end,
        places_only=True,
        strong=True,
    )


def _right_words(tokens: list[Token], j: int) -> list[Token]:
    while j < len(tokens) and tokens[j].lower in _DETERMINERS:
        j += 1
    words: list[Token] = []
    while j < len(tokens) and len(words) < _MAX_WORDS and _qualifier(tokens[j], bool(words)):
        if tokens[j].lower in PLAN_NOUNS:
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
