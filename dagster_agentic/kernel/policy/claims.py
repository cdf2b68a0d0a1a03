"""Words of the objective the warehouse recognises, so that no cohort is dropped unread.

Cohort phrases are first found by their shape (a head noun and its qualifiers, see
:mod:`dagster_agentic.kernel.policy.phrases`). Shapes miss phrasings ('leaving out the ones
from Torgersen', 'who pay by electronic check', 'United Airlines flights'), so the words are
also read against the data itself:

* **Value spans.** A run of words equal to a category value of any table (a text column of
  at most ``MAX_CLASSES`` values, or every value of a dimension's name column), in any case,
  with any separators ('north ames' = 'North_Ames', 'ELK_GROVE' as stored), without a
  numbered prefix ('married' = '2. Married') and in any inflected or derived form ('condos' =
  'Condo', 'renters' = 'rent', 'data scientists' = 'Data scientist'), or to the leading words
  of one written together ('United Airlines' = 'United Air Lines Inc.'); the longest run
  wins; several joined by 'and'/'or'/',' are one span ('North Ames and Old Town').
  A frequent value of a column of many values counts only as written, case included ('ATL'
  of ``dest``): ordinary words ('manager', 'other') are too often such values by chance.
  A referenced key is left out: the foreign key that holds the same codes is read instead.
* **Flag spans.** Words that name a two-valued column and nothing else ('students' ~
  ``student``, 'senior citizens' ~ ``senior_citizen``).

A run that starts inside a phrase found by its shape and runs on past its end is a wider
reading of that phrase ('in the national league' + 'west' = 'National League West').

A span is a cohort when a cohort word precedes it in its clause, at most six words back (for,
in, of, from, among, excluding, leaving out, except, who, that, whose, where, with, ...; or a
previous cohort span, right before it or joined by 'and'), when it stands where the population
noun stands ('which renters will ...', 'each freelancer'), or when it qualifies the population
noun ('United Airlines flights'). A negation before it ('leaving out', 'excluding', 'not',
'non-', 'other than') negates it, unless a word naming a column lies between (the outcome's
verb: 'will not churn in Oncology'). A span that names only the target's own values
describes the outcome, not a cohort (the caller drops it).

Finally ``unread.unread_names`` lists capitalised words that follow a placing cohort word
('in', 'from', 'among', 'excluding', ...; see ``PLACING``) and that nothing claimed (no phrase,
condition, metric, column or table): the caller refuses the objective instead of answering
a broader question than the one asked.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from dagster_agentic.kernel.policy.asides import aside_opening
from dagster_agentic.kernel.policy.fields import in_cohort_field
from dagster_agentic.kernel.policy.flag_words import flag_at, flag_columns
from dagster_agentic.kernel.policy.option_rows import row_flag_after
from dagster_agentic.kernel.policy.phrases import Phrase
from dagster_agentic.kernel.policy.row_phrases import (
    absences,
    numbered,
    ordinal_numbered,
)
from dagster_agentic.kernel.policy.text import (
    LIST_CONNECTORS,
    METRIC_WORDS,
    STOPWORDS,
    Token,
    abbreviates,
    inside,
    name_match,
    name_tokens,
    singular,
    word_match,
    word_set,
)
from dagster_agentic.kernel.policy.value_forms import (
    category_forms,
    glued,
    is_run,
    value_at,
)
from dagster_agentic.kernel.policy.value_forms import (
    unclaimed_values as unclaimed_values,  # read with the other claims by the objective
)
from dagster_agentic.warehouse.models import WarehouseProfile

Column = tuple[str, str]  # (table, column)

INTRO = word_set(
    """
    for in of from among amongst excluding except exclude without who that whose where with
    on within across outside out at besides
    """
)
# Words after which a noun names the population ('which renters will', 'each freelancer').
_POPULATION_LEADS = word_set("which each every all per")
_DETERMINERS = word_set("the our all my your their its those these a an any")
_COPULAS = frozenset({"is", "are", "=", "equals", "of"})
_RELATIVES = frozenset({"who", "that", "which", "where"})
PLACING = word_set(
    "in from among amongst excluding except exclude without outside within across besides"
)
"""The cohort words after which an unread capitalised name is refused: they place or leave
out rows ('from Narnia', 'excluding Acme'); 'for' and 'with' also introduce who the model is
for ('for the Retention team'), so a name after them alone is not refused."""
NEGATING = word_set("not non excluding except exclude without outside besides")
_NEGATING_PAIRS = frozenset(
    {("leaving", "out"), ("leave", "out"), ("other", "than")}
    # 'when the applicant has no college degree', 'households with no kids'
    | {(verb, "no") for verb in ("has", "have", "had", "having", "with")}
)
# Negations of a verb rather than a preposition: 'who were never named Star Baker', 'that
# are no longer on the Gold plan', "who weren't in Europe". They negate the span when at
# most one content word (the verb) lies between: 'never missed a payment on the Gold plan'
# negates the payment, not the plan.
_VERB_NEGATING = word_set("never")
_VERB_NEGATING_PAIRS = frozenset({("no", "longer"), ("not", "ever")})
# Nouns that name a group of rows rather than the population ('the placebo arm', 'the
# control group', 'the Test set'): a value right before one is a cohort like one before the
# population noun.
_GROUP_NOUNS = word_set(
    """arm arms group groups cohort cohorts segment segments subgroup subgroups sample samples
    subset subsets set sets category categories class classes bucket buckets band bands
    stratum strata batch batches split splits"""
)
# 'Test case only', 'only Europe': a word that restricts the rows to the span.
_ONLY = frozenset({"only", "solely", "exclusively"})
CLAUSE_END = re.compile(r"[.;:!?()]")
_WINDOW = 6
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


def value_phrases(
    text: str,
    tokens: list[Token],
    profile: WarehouseProfile,
    taken: Iterable[tuple[int, int]],
    population: frozenset[str],
) -> list[ValuePhrase]:
    """Cohort phrases read from the data: value and flag spans a cohort word introduces or
    that qualify the population noun (see the module doc)."""
    tokens = _split_negations(glued(tokens))
    # A span right after 'not' ('not in Europe or Asia') is read again here, so that the
    # negation governs the whole list; the cohort keeps the wider, negated reading.
    # A phrase's shape may run across a comma that ends a clause ('quitting, Beta squad
    # only'): its parts are read on their own too; the cohort keeps the widest reading.
    spans = [_clauses(text, span)[0] for span in taken if not _after_not(tokens, span)]
    forms, flags = category_forms(profile), flag_columns(profile)
    names = [c.name for t in profile.tables for c in t.columns]
    found: list[ValuePhrase] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not token.is_word and not is_run(tokens[i : i + 3]):
            i += 1
            continue
        within = next((span for span in spans if span[0] <= token.start < span[1]), None)
        if within is not None:
            hit = _widening(tokens, i, within, spans, forms)
        else:
            free = list(itertools.takewhile(lambda t: not inside(t, spans), tokens[i:]))
            # The longer reading wins: 'college degree' is the flag college_degree, not the
            # value 'college' of another column and a loose 'degree'.
            valued, flagged_at = value_at(free, forms), flag_at(free, flags)
            hit = valued or flagged_at
            if valued and flagged_at and flagged_at[0] > valued[0]:
                hit = flagged_at
        if hit is None:
            i += 1
            continue
        n, columns = hit
        end = i + n
        # 'North Ames and Old Town', 'Europe and the Americas', 'Sat/Sun': values of the
        # same column joined by connectors.
        while end + 1 < len(tokens) and tokens[end].lower in LIST_CONNECTORS:
            skip = end + 1
            while skip < len(tokens) and tokens[skip].lower in {"the", "a", "an"}:
                skip += 1
            # The next value may open a phrase its shape found ('Sat/Sun orders'): the list
            # is read whole, and the cohort keeps the wider reading.
            opened = (
                [span for span in spans if span[0] == tokens[skip].start]
                if skip < len(tokens)
                else []
            )
            others = [span for span in spans if span not in opened]
            rest = _free_run(tokens[skip:], others)
            more = value_at(rest, forms)
            if more is None or not (more[1] & columns):
                break
            columns = columns & more[1]
            end = skip + more[0]
        tables = [t.name for t in profile.tables]
        introduced, negation = _introduction(
            tokens, i, end, found, population, names, columns, spans, tables
        )
        introduced = introduced or within is not None  # a phrase already, read wider
        # 'when Yoplait is featured': the value's own row states a flag; a condition.
        row = row_flag_after(tokens, end, columns, profile) if within is None else None
        if row is not None:
            introduced = True
        negated = negation is not None
        if introduced:
            read = spans + [(v.phrase.start, v.phrase.end) for v in found]
            first = i if within is not None else _modifiers(tokens, i, read, population, names)
            first = _column_named(tokens, first, read, columns)
            # 'Test case': the noun after the value names its column and is part of the phrase.
            named = end < len(tokens) and _names_one(tokens[end], columns)
            if row is not None:
                named = False
                flagged = tuple(t.text for t in tokens[end : end + row[0]])
                words = _phrase_words(tokens[first:end]) + flagged
                end += row[0]
                columns = {c for c in columns if c[0] == row[1]}
            else:
                words = _phrase_words(tokens[first : end + int(named)])
                end += int(named) + int(_described(tokens, end + int(named)))
            # The negation's words ('leaving out') belong to the phrase, not to the outcome.
            begin = negation.start if negation is not None else tokens[first].start
            marker = aside_opening(tokens, i)
            if marker is not None and negation is None and first == i:
                begin = tokens[marker].start  # the aside's text opens with its marker
            stop = tokens[end - 1].end
            phrase = Phrase(
                ("not", *words) if negated else words,
                "",
                text[begin:stop],
                begin,
                stop,
                places_only=False,
                strong=True,
                row=(len(flagged), row[1], row[2]) if row is not None else None,
            )
            found.append(ValuePhrase(phrase, frozenset(columns)))
        i = end
    read = [*spans, *((v.phrase.start, v.phrase.end) for v in found)]
    found += [ValuePhrase(p, c) for p, c in numbered(text, tokens, read, profile, INTRO)]
    read = [*spans, *((v.phrase.start, v.phrase.end) for v in found)]
    found += [ValuePhrase(p, c) for p, c in ordinal_numbered(text, tokens, read, profile, INTRO)]
    read = [*spans, *((v.phrase.start, v.phrase.end) for v in found)]
    return found + [ValuePhrase(p, c) for p, c in absences(text, tokens, read)]


def _free_run(tokens: list[Token], spans: list[tuple[int, int]]) -> list[Token]:
    """The tokens up to the first one inside a span."""
    return list(itertools.takewhile(lambda t: not inside(t, spans), tokens))


def _clauses(text: str, span: tuple[int, int]) -> list[tuple[int, int]]:
    """A span cut at each ', ' inside it ('15,000' stays whole); the parts after the first
    are read again as free words."""
    parts: list[tuple[int, int]] = []
    start = span[0]
    for match in re.finditer(r",\s", text[span[0] : span[1]]):
        parts.append((start, span[0] + match.start()))
        start = span[0] + match.end()
    parts.append((start, span[1]))
    return [(a, b) for a, b in parts if b > a]


def _after_not(tokens: list[Token], span: tuple[int, int]) -> bool:
    before = [t for t in tokens if t.end <= span[0]]
    return bool(before) and before[-1].lower in {"not", "never"}


def _phrase_words(run: list[Token]) -> tuple[str, ...]:
    """The words of a span as the cohort reads them: a list number kept with its value ('2.
    Married' one word), the copula between a column's name and its value left out."""
    words: list[str] = []
    k = 0
    while k < len(run):
        if k + 2 < len(run) and run[k].text.isdigit() and run[k + 1].text in {".", ")"}:
            words.append(f"{run[k].text}{run[k + 1].text} {run[k + 2].text}")
            k += 3
            continue
        if run[k].lower not in _COPULAS:
            words.append(run[k].text)
        k += 1
    return tuple(words)


def _column_named(
    tokens: list[Token], i: int, spans: list[tuple[int, int]], columns: set[Column]
) -> int:
    """Where the phrase starts when a column holding the value is written, as stored, right
    before it ('with INTL_PLAN yes', 'whose ShelveLoc is Good', 'where plan = gold'): the name
    then belongs to the phrase and decides between columns holding the same value."""
    k = i - 1
    if k >= 0 and tokens[k].lower in _COPULAS:
        k -= 1
    if k < 0 or not tokens[k].is_word or inside(tokens[k], spans):
        return i
    written = name_tokens(tokens[k].text)
    return k if any(name_tokens(name) == written for _, name in columns) else i


def _modifiers(
    tokens: list[Token],
    i: int,
    spans: list[tuple[int, int]],
    population: frozenset[str],
    columns: list[str],
) -> int:
    """Where the phrase of a value span at ``tokens[i]`` starts: at the words that qualify it
    between its cohort word and itself ('of senior data scientists' -> 'senior'), so that
    every word of the phrase is read or the cohort is an error, never a narrower one
    silently. Only a plain run counts: cohort word, determiners, qualifiers, the span;
    a function word, a population noun or a word naming a column ends it ('where the car
    seats get a good ...' is no run), and a relative pronoun starts none (its verb follows:
    'who work 2. Night')."""
    k = i - 1
    qualifiers: list[int] = []
    while k >= 0 and tokens[k].is_word and not inside(tokens[k], spans):
        word = tokens[k].lower
        if word in _DETERMINERS or word in INTRO or word in _POPULATION_LEADS:
            break
        if (
            word in STOPWORDS
            or word in METRIC_WORDS
            or word.removesuffix("'s") in population
            or any(name_match(word, c) == 2 for c in columns)
        ):
            return i
        qualifiers.insert(0, k)
        k -= 1
    if not qualifiers:
        return i
    while k >= 0 and tokens[k].lower in _DETERMINERS:
        k -= 1
    lead = tokens[k].lower if k >= 0 else ""
    # After a relative pronoun a verb comes first ('who work nights', 'that rent'): no run.
    introduced = (lead in INTRO or lead in _POPULATION_LEADS) and lead not in _RELATIVES
    return qualifiers[0] if introduced else i


def _widening(
    tokens: list[Token],
    i: int,
    span: tuple[int, int],
    spans: list[tuple[int, int]],
    forms: dict[str, set[Column]],
) -> tuple[int, set[Column]] | None:
    """A value that starts inside an already found phrase and runs to its end or past it:
    'national league west' over the phrase 'in the national league' (its noun 'league' names
    a column), 'Latin America and the Caribbean' over 'in Latin America', 'American league'
    over 'American' + the noun 'league'. The longest whole value wins: the wider phrase is
    proposed, and the cohort keeps it over the one it contains."""
    run = list(
        itertools.takewhile(
            lambda t: span[0] <= t.start < span[1] or not inside(t, spans), tokens[i:]
        )
    )
    hit = value_at(run, forms)
    if hit is None or run[hit[0] - 1].end < span[1]:
        return None
    return hit


def _names_one(token: Token, columns: set[Column]) -> bool:
    """Whether a word names one of the columns holding a value ('case' of ``case``)."""
    return token.is_word and any(
        word_match(token.lower, part) == 2 for _, name in columns for part in name_tokens(name)
    )


def _described(tokens: list[Token], k: int) -> bool:
    """Whether ``tokens[k]`` is a word that only describes the span before it: a noun of a
    group ('placebo arm') or 'only' ('Test case only')."""
    if k + 1 < len(tokens) and tokens[k].is_word and tokens[k + 1].lower in _ONLY:
        return tokens[k].lower not in STOPWORDS  # 'Beta squad only'
    return k < len(tokens) and tokens[k].lower in _GROUP_NOUNS | _ONLY


def _population_like(word: str, population: frozenset[str], tables: list[str]) -> bool:
    """A population noun, or a noun a table's name abbreviates ('countries' of ``ctry``)."""
    if word in population:
        return True
    one = singular(word)
    return any(
        abbreviates(part, one) or word_match(part, one) == 2
        for table in tables
        for part in name_tokens(table)
        if len(part) >= 3
    )


def _introduction(
    tokens: list[Token],
    start: int,
    end: int,
    found: list[ValuePhrase],
    population: frozenset[str],
    columns: list[str],
    held: set[Column] = frozenset(),  # type: ignore[assignment]
    spans: list[tuple[int, int]] = (),  # type: ignore[assignment]
    tables: list[str] = (),  # type: ignore[assignment]
) -> tuple[bool, Token | None]:
    """Whether a span at tokens[start:end] is a cohort, and the word that negates it.

    A negation counts unless a word naming a column lies between it and the span: 'will not
    churn in Oncology' negates the outcome, 'not living in Oncology' the cohort. A span
    joined by a connector to a negated one is negated too: 'not in Europe or Asia' leaves
    out both. A span in brackets or after 'i.e.' right after a phrase or a population noun
    restates it ('weekend orders (Sat/Sun)', 'weekend orders, i.e. Sat and Sun'). A field
    of a goal written in fields is a cohort (:func:`.fields.in_cohort_field`)."""
    if in_cohort_field(tokens, start, end):
        return True, None
    window: list[Token] = []
    chained = False
    inherited = False
    marker = aside_opening(tokens, start)
    if marker is not None and marker > 0:
        before = tokens[marker - 1]
        if inside(before, [*spans, *((v.phrase.start, v.phrase.end) for v in found)]) or (
            before.is_word and _population_like(before.lower, population, list(tables))
        ):
            return True, None
    for token in reversed(tokens[:start]):
        if CLAUSE_END.fullmatch(token.text) or len(window) >= _WINDOW:
            break
        previous = next((v for v in found if v.phrase.start <= token.start < v.phrase.end), None)
        if previous is not None:
            # Right after a cohort span ('remote data scientists') or joined to it by 'and'.
            joined = any(t.lower in LIST_CONNECTORS for t in window)
            chained = not window or joined
            inherited = joined and previous.phrase.words[:1] == ("not",)
            break
        window.insert(0, token)
    lowers = [t.lower for t in window]
    negation: Token | None = None
    for k in range(len(lowers) - 1, -1, -1):
        word = lowers[k]
        pair = (lowers[k - 1], word) if k else ("", word)
        verbal = word in _VERB_NEGATING or pair in _VERB_NEGATING_PAIRS or word.endswith("n't")
        if verbal:
            between = [w for w in lowers[k + 1 :] if w not in STOPWORDS and w.isalpha()]
            if len(between) <= 1:
                pairs = _VERB_NEGATING_PAIRS
                negation = window[k - 1] if pair in pairs else window[k]
            break
        if word in NEGATING or word.startswith("non-") or pair in _NEGATING_PAIRS:
            negation = window[k - 1] if pair in _NEGATING_PAIRS else window[k]
            break
        if word not in STOPWORDS and any(name_match(word, c) == 2 for c in columns):
            break  # the outcome's verb: 'will not churn in ...'
    introduced = chained or any(w in INTRO for w in lowers) or negation is not None
    # 'births to married mothers', 'loans to small firms': 'to' after the population noun.
    introduced = introduced or any(
        w == "to" and k and _population_like(lowers[k - 1], population, list(tables))
        for k, w in enumerate(lowers)
    )
    if lowers and lowers[-1] in _POPULATION_LEADS | _ONLY:
        introduced = True  # the span stands where the population does: 'which renters will'
    if end < len(tokens) and tokens[end].is_word:
        # 'African countries', 'placebo arm', 'Test case', 'Europe only': the span
        # qualifies the population, a group or its own column.
        following = tokens[end].lower.removesuffix("'s")
        introduced = (
            introduced
            or _population_like(following, population, list(tables))
            or _names_one(tokens[end], held)
            or _described(tokens, end)
        )
    if negation is None and inherited:
        # Marked at the span's own start: the phrase reads 'not' + its words.
        return introduced, Token("not", "not", tokens[start].start, tokens[start].start)
    return introduced, negation
