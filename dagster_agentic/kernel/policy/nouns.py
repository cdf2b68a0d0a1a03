"""The nouns of a warehouse and the words of a goal that name its population.

Population nouns are the fixed list and each table's name in the singular and plural; the
nouns that name a column are the words of the category columns' names ('contract',
'department') and of the tables other tables reference. A goal's population is the known
nouns it uses and the noun after 'which'/'each'/... ('which shipments', "each order's").
"""

from __future__ import annotations

from dataclasses import replace

from dagster_agentic.goals.objective import MAX_CLASSES
from dagster_agentic.kernel.policy.outcome_words import counted, plain
from dagster_agentic.kernel.policy.phrases import Nouns, known_words
from dagster_agentic.kernel.policy.text import (
    METRIC_WORDS,
    PLAN_NOUNS,
    POPULATION_NOUNS,
    STOPWORDS,
    Token,
    name_tokens,
    singular,
)
from dagster_agentic.warehouse.key_names import has_key_name
from dagster_agentic.warehouse.models import WarehouseProfile

TABLE_PREFIXES = ("dim_", "tbl_", "fact_", "fct_", "stg_", "raw_", "src_", "t_")
# A noun right after one of these names the population: "which shipments", "each house".
_POPULATION_LEADS = frozenset({"which", "each", "every", "per", "whose", "all"})
# ... and after 'which' only when a verb follows: 'which shipments will', not 'which contract'.
_VERBS_AFTER = frozenset(
    {
        "will",
        "would",
        "are",
        "is",
        "were",
        "was",
        "can",
        "could",
        "might",
        "may",
        "should",
        "do",
        "does",
        "did",
        "have",
        "has",
        "to",
        "that",
        "who",
        # 'which resumes get a callback', 'which members receive an offer'
        "get",
        "gets",
        "got",
        "receive",
        "receives",
        "received",
    }
)


def table_word(name: str) -> str | None:
    """The one word a table is named by, its prefix dropped ('tbl_Customers' -> 'customers'),
    or None for a name of several words."""
    bare = name.lower()
    for prefix in TABLE_PREFIXES:
        bare = bare.removeprefix(prefix)
    parts = name_tokens(bare)
    return parts[0] if len(parts) == 1 else None


def warehouse_nouns(profile: WarehouseProfile) -> Nouns:
    """Population nouns (the list plus each table's name, singular and plural) and the nouns
    that name a column (the words of category column names: 'contract', 'department')."""
    population = set(POPULATION_NOUNS)
    columns = set(PLAN_NOUNS)
    for table in profile.tables:
        word = table_word(table.name)
        if word is not None:
            forms = noun_forms(word)
            if table.row_count and any(r.child_table == table.name for r in profile.relationships):
                columns |= forms  # a parent table ('departments') names what it describes
            population |= forms
        for column in table.columns:
            if column.kind not in {"text", "boolean"} or column.name in table.candidate_keys:
                continue
            if column.distinct_count > MAX_CLASSES:
                continue
            words = [w for w in name_tokens(column.name) if len(w) >= 3 and w not in STOPWORDS]
            if len(words) == 1:
                columns |= noun_forms(words[0])
                population -= noun_forms(words[0])
            else:
                columns |= {w for w in words if w not in POPULATION_NOUNS}
    for table in profile.tables:
        for link in profile.parents_of(table.name):
            parent = profile.table(link.parent_table)
            if parent is not None:
                parts = name_tokens(parent.name)
                if parts:
                    columns |= noun_forms(parts[-1])
    population -= columns - POPULATION_NOUNS
    return Nouns(frozenset(population), frozenset(columns), known=known_words(profile))


def with_table_stems(nouns: Nouns, tokens: list[Token], profile: WarehouseProfile) -> Nouns:
    """``nouns`` with the objective's nouns that name a table by its stem, in any language
    ('plants' of a table ``plantor``): a one-word table name of five letters or more that
    the word's singular (four letters or more) starts, with at most three letters more.
    Such a word names the population as surely as the table's own name does."""
    names = {w for t in profile.tables if (w := table_word(t.name)) and len(w) >= 5}
    found: set[str] = set()
    for token in tokens:
        word = plain(token)
        if not token.is_word or word in STOPWORDS or word in METRIC_WORDS:
            continue
        if word in nouns.population or word in nouns.columns:
            continue
        root = singular(word)
        if len(root) >= 4 and any(
            n != root and n.startswith(root) and len(n) - len(root) <= 3 for n in names
        ):
            found |= noun_forms(root) | {word}
    if not found:
        return nouns
    return replace(nouns, population=nouns.population | frozenset(found))


def noun_forms(word: str) -> set[str]:
    """A noun's singular and plural: 'house' <-> 'houses', 'category' <-> 'categories'."""
    forms = {word}
    if word.endswith("ies"):
        forms.add(word[:-3] + "y")
    elif word.endswith(("ses", "xes", "ches", "shes")):
        forms.add(word[:-2])
    elif word.endswith("s") and not word.endswith("ss"):
        forms.add(word[:-1])
    elif word.endswith("y"):
        forms.add(word[:-1] + "ies")
    elif word.endswith(("x", "ch", "sh", "z")):
        forms.add(word + "es")  # 'mix' <-> 'mixes', 'batch' <-> 'batches'
    else:
        forms.add(word + "s")
    return forms


def population_words(tokens: list[Token], nouns: Nouns) -> set[str]:
    """The words that name the population, not the outcome: known population nouns, and the
    noun after 'which'/'each'/... ('which shipments', "each order's")."""
    found: set[str] = set()
    for i, token in enumerate(tokens):
        word = plain(token)
        if not token.is_word:
            continue
        if counted(tokens, i):  # 'the number of applications': the quantity, not who
            continue
        # Right after the lead in the text: with a cohort span between ('each boy's intake
        # band', 'boy's' taken by the cohort) the word is no longer the population noun.
        next_to = i > 0 and token.start - tokens[i - 1].end <= 1
        after_lead = next_to and tokens[i - 1].lower in _POPULATION_LEADS
        if tokens[i - 1].lower == "which" if i > 0 else False:
            after_lead = i + 1 < len(tokens) and tokens[i + 1].lower in _VERBS_AFTER
        if word in nouns.population or (after_lead and word not in STOPWORDS | METRIC_WORDS):
            found.add(word)
            modifier = _modifier(tokens, i)
            if modifier:
                found.add(modifier)
    return found


_ARTICLES = frozenset({"a", "an", "each", "every", "which"})


def _modifier(tokens: list[Token], i: int) -> str:
    """The one noun between an article and the population noun ('a crash occupant', 'each
    loan applicant'): it says who the rows are, so it names no outcome ('crash' of
    CRASH_YR must not outbid 'killed'). Empty when there is none."""
    if i < 2 or not tokens[i - 1].is_word or tokens[i - 2].lower not in _ARTICLES:
        return ""
    word = plain(tokens[i - 1])
    if word in STOPWORDS | METRIC_WORDS or tokens[i - 1].start - tokens[i - 2].end > 1:
        return ""
    return word


def column_parts(profile: WarehouseProfile) -> set[str]:
    """The singular words of the names of the columns that are no key."""
    return {
        singular(part)
        for table in profile.tables
        for column in table.columns
        if column.name not in table.candidate_keys and not has_key_name(column.name)
        for part in name_tokens(column.name)
    }


_MODIFIER_ARTICLES = frozenset({"the", "a", "an", "our", "their", "its"})


def column_modifiers(
    tokens: list[Token], population: set[str], profile: WarehouseProfile, parts: set[str]
) -> set[str]:
    """Generic population words used as a modifier of the noun right after them that a
    column's name holds and no table's: 'home' of 'the home side' over home_goals names the
    outcome, not who the rows are ('homes' of a housing warehouse stays the population).
    ``parts`` are the words of the column names (:func:`column_parts`)."""
    tables = {singular(w) for t in profile.tables for w in name_tokens(t.name)}
    found: set[str] = set()
    for before, token, after in zip(tokens, tokens[1:], tokens[2:], strict=False):
        word, next_word = plain(token), plain(after)
        if word not in population or word not in POPULATION_NOUNS or singular(word) != word:
            continue
        if word not in parts or word in tables or before.lower not in _MODIFIER_ARTICLES:
            continue
        # A singular noun after an article, then a noun that is no verb's form: 'the home
        # side', never 'guests arriving' or 'a customer churns'.
        modifies = after.is_word and after.start - token.end <= 1
        verb_like = next_word.endswith(("ing", "ed", "s"))
        if modifies and not verb_like and next_word not in STOPWORDS | population:
            found.add(word)
    return found


def counted_names(quantities: set[str], parts: set[str]) -> list[str]:
    """Counted words that are function words elsewhere ('goals' of 'how many goals', a word
    of 'our goal is ...') but a part of a column's name (``parts``, :func:`column_parts`):
    they name the outcome counted."""
    return sorted(q for q in quantities if q in STOPWORDS and singular(q) in parts)


def content_words(tokens: list[Token], population: frozenset[str] = POPULATION_NOUNS) -> list[str]:
    """Words that may name the outcome: no function words, metric words or population nouns."""
    words: list[str] = []
    for token in tokens:
        word = plain(token)
        if (
            token.is_word
            and len(word) >= 3
            and word not in STOPWORDS
            and word not in METRIC_WORDS
            and word not in population
            and word not in words
        ):
            words.append(word)
    return words
