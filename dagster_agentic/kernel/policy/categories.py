"""Read a cohort phrase's words as values of a column: 'monthly-contract customers' ->
Contract = 'Month-to-month', 'in the Support department' -> a department named 'Support',
'trial members' -> plan = 'Trial' or the flag is_trial.

The columns searched are the entity table's, those of each table one foreign key away (the
entity's parent, e.g. departments for employees), those of each one-to-one child (one row
per entity that references it, e.g. a customer's contract) and, last, those of each child
with several rows per entity (a respondent's roles), read as "has such a row". A word of
the phrase either names a column (its name, a contraction of it such as 'intl', its comment,
its table's name) or is a value: the same words in any case, with any separators ('month to
month' = 'Month-to-month'), without a numbered prefix ('married' = '2. Married') and in any
inflected or derived form ('condos' = 'Condo', 'renters' = 'rent', 'freelancers' =
'freelance'); or each word a stem or prefix of a word of the value ('monthly' ~
'Month-to-month', 'fiber' ~ 'Fiber optic'), or a value word of three letters or more the
word starts with ('Fridays' ~ 'Fri').

Evidence is weighed in this order: a column the phrase's noun names ('plan' of 'on the
international plan'); a strong fit (the same words or stems) over a weak one (a prefix, an
initial); a column of the entity or one hop away over a child's; the closer fit (an exact
value over a partial one); the longer value; the number of the phrase's words that name the
column; the entity's own column over a parent's. Two columns equal on all of these are an
error that lists both. A column coded with single letters ('F'/'M') is matched by a word's
initial ('female' -> 'F'), more weakly than any spelled-out or prefix fit, only when every
value is one letter (three at most: grades A to E are no initials) and exactly one is that
initial. A column of codes documented in its comment ('1 = male, 2 = female') is matched by
the labels the comment gives.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.goals.objective import MAX_CLASSES
from dagster_agentic.kernel.policy.surface import (
    coded_value,
    comment_codes,
    number_form,
    short_form_of,
)
from dagster_agentic.kernel.policy.text import (
    LEXICON,
    LIST_CONNECTORS,
    PLAIN_WORDS,
    abbreviates,
    derives_from,
    lemma,
    lemmas,
    name_tokens,
    norm,
    quote,
    spelled_by_prefixes,
    unaccented,
    word_match,
)
from dagster_agentic.kernel.policy.translations import translates
from dagster_agentic.kernel.policy.yes_no import no_value, yes_values
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile, WarehouseProfile

_ARTICLES = frozenset({"the", "a", "an"})
_MAX_INITIALS = 3  # letters a column may hold for each to be read as a word's initial
_INITIAL = 0  # the fit of a one-letter code read from a word's initial: weaker than a prefix


@dataclass(frozen=True)
class Scope:
    """Where a column lives: the entity table itself, a parent one hop away, or a child.

    ``via`` is (entity column, column of ``table``) as the predicate reads them: ``entity
    column IN (SELECT table column FROM table WHERE ...)``. ``many`` marks a child with
    several rows per entity: the predicate then selects the entities with at least one such
    row."""

    table: TableProfile
    via: tuple[str, str] | None = None  # (entity FK column, parent key column)
    many: bool = False


@dataclass(frozen=True)
class Match:
    """A column and the values the phrase selects in it (or a flag column, values empty)."""

    place: Scope
    column: ColumnProfile
    values: tuple[str | int | float | bool, ...]
    flag: bool
    # (hint names it, a strong fit, not a child's, fit, words the value spells, naming words,
    # the entity's own, -values)
    score: tuple[int, ...]
    how: str


def places(profile: WarehouseProfile | None, entity: TableProfile) -> list[Scope]:
    """The entity table, each parent table its foreign keys reference, and each one-to-one
    child: a table with one row per entity that references it (``contracts.customer_ref``
    unique, referencing ``customers``), reached as ``key IN (SELECT fk FROM child WHERE ...)``.
    A child with several rows per entity is not one hop: which of its rows would count?"""
    found = [Scope(entity)]
    if profile is None:
        return found
    seen = {entity.name}
    for link in profile.parents_of(entity.name):
        parent = profile.table(link.parent_table)
        if parent is not None and parent.name not in seen:
            seen.add(parent.name)
            found.append(Scope(parent, (link.child_column, link.parent_column)))
    for link in profile.children_of(entity.name):
        child = profile.table(link.child_table)
        if (
            child is not None
            and child.name not in seen
            and link.child_column in child.candidate_keys
            and link.parent_column in entity.candidate_keys
        ):
            seen.add(child.name)
            found.append(Scope(child, (link.parent_column, link.child_column)))
    return found


def children(profile: WarehouseProfile | None, entity: TableProfile) -> list[Scope]:
    """Each child with several rows per entity (``roles.person_ref`` referencing
    ``people``, not unique): its category values select the entities with at least one such
    row, ``key IN (SELECT fk FROM child WHERE ...)``. Searched only for category values,
    after every column of the entity and of the tables one hop away.

    A child keyed by the entity and a category (one row per customer and period, per
    purchase and brand, per employee and survey topic) is left out: a value of its other
    columns means nothing without the category ('High' of which topic?)."""
    if profile is None:
        return []
    near = {place.table.name for place in places(profile, entity)}
    found: list[Scope] = []
    # The entity's own key, and the key of a table holding one row per entity that the
    # entity references one to one (a label or a decisions table its unique column points
    # at): a child of that table has several rows per entity too.
    owners: list[tuple[str, str, TableProfile]] = [
        (key, key, entity) for key in entity.candidate_keys
    ]
    for link in profile.parents_of(entity.name):
        parent = profile.table(link.parent_table)
        if parent is not None and link.child_column in entity.candidate_keys:
            owners.append((link.child_column, link.parent_column, parent))
    for own_key, owner_key, owner in owners:
        for link in profile.children_of(owner.name):
            child = profile.table(link.child_table)
            if (
                child is None
                or link.parent_column != owner_key
                or child.name in near
                or child.name == entity.name
                or any(s.table.name == child.name for s in found)
                or link.child_column in child.candidate_keys
                or _keyed_by_category(child, link.child_column)
            ):
                continue
            found.append(Scope(child, (own_key, link.child_column), many=True))
    return found


def _keyed_by_category(child: TableProfile, fk: str) -> bool:
    """Whether every value of one of the child's category columns is held by exactly as many
    rows as there are entities with a row: one row per entity and value."""
    column = child.column(fk)
    entities = column.distinct_count if column is not None else 0
    if entities <= 0:
        return False
    return any(
        c.name != fk
        and len(c.values) >= 2
        and c.distinct_count == len(c.values)
        and all(v.count == entities for v in c.values)
        for c in child.columns
    )


def _words(phrase_words: tuple[str, ...]) -> list[list[str]]:
    """The phrase as parts between connectors, each a list of lower-case words, normalised
    as values are ('Month-to-month' -> month, to, month; '2. Married' -> married)."""
    parts: list[list[str]] = [[]]
    for word in phrase_words:
        if word.lower() in LIST_CONNECTORS:
            parts.append([])
        elif word.lower() in _ARTICLES and not parts[-1]:
            continue  # 'Europe and the Americas': the article is no part of the value
        else:
            parts[-1].extend(norm(re.sub(r"['’]s$", "", word)).split())
    return [part for part in parts if part]


def _names(column: ColumnProfile, place: Scope) -> list[str]:
    """Words that name a column: its own, its comment's, and for a parent its table's."""
    words = name_tokens(column.name)
    if column.comment:
        words += name_tokens(column.comment)
    if place.via is not None:
        words += name_tokens(place.table.name)
    return words


def _names_column(word: str, names: list[str]) -> bool:
    """The word names the column: the same stem or lemma as a word of its name ('shelf' ~
    ShelveLoc), one a prefix of the other when both have five letters or more, or the name
    word is a contraction or a cut-off of it ('international' ~ INTL_PLAN, 'insurance' ~
    health_ins)."""
    return any(
        (strength := word_match(word, name)) == 2
        or (strength == 1 and min(len(word), len(name)) >= 5)
        or lemma(word) == lemma(name)
        or abbreviates(name, word)
        or (len(name) >= 3 and len(word) >= len(name) + 3 and word.startswith(name))
        for name in names
    )


def _values(column: ColumnProfile, place: Scope | None = None) -> list[str | int | float | bool]:
    """The column's values. For a child with several rows per entity, a value held by as
    many rows as there are entities with a row (each purchase lists every brand once) selects
    no one in particular and is left out."""
    listed = column.values or column.top_values
    if place is not None and place.many and place.via is not None:
        fk = place.table.column(place.via[1])
        if fk is not None and fk.distinct_count > 0:
            listed = tuple(v for v in listed if v.count < fk.distinct_count)
    return [v.value for v in listed if v.value is not None]


def _value_words(value: object) -> list[str]:
    return norm(str(value)).split()


def _fit(part: list[str], value: object, short: bool = False) -> int:
    """3: the same words, in any inflected or derived form; 2: each word a stem of a value
    word; 1: a prefix ('fib' ~ 'Fiber'), or, in a column of short forms (``short``), a value
    the word starts with ('Fridays' ~ 'Fri'); 0: no fit."""
    # 'third' ~ '3rd' ~ '3': an ordinal or number word is compared as its number.
    words = [number_form(w) for w in _value_words(value)]
    part = [number_form(w) for w in part]
    if part == words or (words and lemmas(part) == lemmas(words)):
        return 3
    if short and len(words) == 1 and 2 <= len(part) <= 3 and spelled_by_prefixes(words[0], part):
        return 1  # a stored code of the words' starts: 'afam' of 'African American'
    if not words or len(part) > len(words):
        return 0
    if isinstance(value, str) and len(part) == len(words) and _derived(part, value):
        return 3
    best = 2
    for word in part:
        strength = max((_word_fit(word, w, short) for w in words), default=0)
        if strength == 0:
            return 0
        best = min(best, strength)
    return best


def _derived(part: list[str], value: str) -> bool:
    """The words spell the value with its last word as an adjective of it: 'African' of
    'Africa', 'South African' of 'South Africa' (a name as stored, capitalised)."""
    stored = re.split(r"[\s_\-/.,]+", value.strip())
    if len(stored) != len(part) or not derives_from(part[-1], stored[-1]):
        return False
    return all(lemma(w) == lemma(v.lower()) for w, v in zip(part[:-1], stored[:-1], strict=True))


def _word_fit(word: str, value_word: str, short: bool) -> int:
    strength = word_match(word, value_word)
    if strength == 0 and not value_word.isascii():  # 'emergency' ~ 'emergência'
        strength = word_match(word, unaccented(value_word))
    if strength == 0 and lemma(word) == lemma(value_word):
        return 2
    if strength == 0 and len(word) >= 3 and value_word.startswith(word):
        return 1
    if strength == 0 and short and len(value_word) >= 3 and word.startswith(value_word):
        return 1  # a stored short form: 'Fri' of 'Fridays', 'Jan' of 'January'
    if strength == 0 and short_form_of(word, value_word):
        return 1  # 'dept' of 'Department', either way round (a weak fit)
    return strength


def _short_forms(values: Sequence[object]) -> bool:
    """Whether a column stores short forms: every value a word of three to five letters
    ('Mon', 'Tue', ...; 'Jan', 'Feb', ...; 'cauc', 'afam', 'other'), so a longer word, or
    the starts of several, may spell one out."""
    texts = [v for v in values if isinstance(v, str)]
    return len(texts) >= 3 and all(3 <= len(v.strip()) <= 5 and v.strip().isalpha() for v in texts)


def match_phrase(
    phrase_words: tuple[str, ...],
    hint: str | None,
    candidates: list[Scope],
    exclude: tuple[str, str] | None,
    population: frozenset[str],
) -> list[Match]:
    """Every column the phrase's words fit, best first (several equally good: ambiguous)."""
    parts = _words(phrase_words)
    # The population noun is no value ('premium customers'), unless a general word that
    # stands for values ('women clubs').
    parts = [[w for w in part if w not in population or w in LEXICON] or part for part in parts]
    matches: list[Match] = []
    for place in candidates:
        for column in place.table.columns:
            if exclude == (place.table.name, column.name) or column.name in _keys(place):
                continue
            found = _column_match(parts, hint, place, column)
            if found is not None:
                matches.append(found)
    matches.sort(key=lambda m: m.score, reverse=True)
    return matches


def _keys(place: Scope) -> set[str]:
    """The parent's key is how the entity reaches it, never a cohort value."""
    return {place.via[1]} if place.via else set()


def _column_match(
    parts: list[list[str]], hint: str | None, place: Scope, column: ColumnProfile
) -> Match | None:
    names = _names(column, place)
    named = bool(hint and _names_column(hint, names))
    values = _values(column, place)
    codes = comment_codes(column, values)
    categorical = column.kind in {"text", "boolean"} or (
        column.kind == "numeric"
        and 0 < len(values) <= MAX_CLASSES
        and (column.is_binary or bool(codes))
    )
    if not categorical:
        return None
    own = 0 if place.via else 1
    near = int(not place.many)
    if column.is_binary and len(parts) == 1 and not place.many:
        flag = _flag(parts[0], names, column, values)
        if flag is not None:
            score = (int(named), 1, near, 2, 0, len(parts[0]), own, 0)
            return Match(place, column, flag, True, score, "flag")
    whole = [w for part in parts for w in part]
    exact = [
        v
        for v in values
        if isinstance(v, str)
        and lemmas([w for w in norm(v).split() if w not in LIST_CONNECTORS]) == lemmas(whole)
    ]
    if len(exact) == 1 and (len(parts) > 1 or len(whole) > 1):
        # 'Research & Development', 'American league': all the words are one value, the
        # noun naming a column included; the longest such value wins.
        score = (int(named), 1, near, 3, len(whole), int(named), own, -1)
        return Match(place, column, (exact[0],), False, score, "value")
    picked: list[str | int | float | bool] = []
    short = _short_forms(values)
    weakest = 3
    naming = int(named)
    spelled = 0
    for part in parts:
        rest = [w for w in part if not _names_column(w, names)]
        naming += len(part) - len(rest)
        rest = rest or part
        spelled += len(rest)
        fits: list[tuple[int, str | int | float | bool]] = [
            (s, v) for v in values if isinstance(v, str) and (s := _fit(rest, v, short))
        ]
        # 'women', 'weekend': the values a general word stands for, together, before a
        # guess from its initial ('men' is 'male', not whatever 'M' codes).
        general = [] if fits else _general(rest, values, short, codes)
        if general:
            picked.extend(v for _, v in general if v not in picked)
            weakest = min(weakest, general[0][0])
            continue
        fits = fits or [*_initial(rest, values)] or coded_value(rest, codes)
        if not fits:
            return None
        best = max(s for s, _ in fits)
        top = [v for s, v in fits if s == best]
        if len(top) > 1 and best < 3:
            return None  # 'month' fits two values of this column: no reading
        picked.extend(v for v in top if v not in picked)
        weakest = min(weakest, best)
    strong = int(weakest >= 2)
    score = (int(named), strong, near, weakest, spelled, naming, own, -len(picked))
    return Match(place, column, tuple(picked), False, score, "value")


def _general(
    part: list[str],
    values: Sequence[object],
    short: bool,
    codes: dict[str, str | int | float | bool],
) -> list[tuple[int, str | int | float | bool]]:
    """A word of the general English :data:`LEXICON` ('women', 'weekend') read as the
    values it stands for ('Female' or 'F'; 'Sat' and 'Sun'), when every one of them is
    held; only after the word as written found no value."""
    if len(part) != 1 or part[0] not in LEXICON:
        return []
    found: list[tuple[int, str | int | float | bool]] = []
    for word in LEXICON[part[0]]:
        fits: list[tuple[int, str | int | float | bool]] = [
            (s, v) for v in values if isinstance(v, str) and (s := _fit([word], v, short))
        ]
        fits = fits or [*_initial([word], values)] or coded_value([word], codes)
        if not fits:
            return []
        best = max(s for s, _ in fits)
        top = [v for s, v in fits if s == best]
        if len(top) > 1:
            return []
        found.append((best, top[0]))
    # The word means these values as surely as spelling them out: an exact fit, so that
    # the entity's own column ('each boy's band': sex 'M') wins over a parent's same words.
    return [(3, v) for _, v in found]


def _initial(part: list[str], values: Sequence[object]) -> list[tuple[int, str]]:
    """'female' for a column coded 'F'/'M': a word of at least three letters stands for the
    value that is its initial, only when every value of the column is one letter, there are at
    most three of them (F/M, Y/N/U), and exactly one is the word's initial (a weak fit: any
    spelled-out value wins)."""
    letters = [v for v in values if isinstance(v, str)]
    if len(part) != 1 or len(part[0]) < 3 or not letters or len(letters) != len(values):
        return []
    if number_form(part[0]) != part[0]:
        return []  # 'fourth', 'seven': a number or an order, never the initial of a code
    if not all(len(v.strip()) == 1 and v.strip().isalpha() for v in letters):
        return []
    if len(letters) > _MAX_INITIALS:
        return []  # grades A to E: letters of a scale, not the initials of words ('centres')
    same = [v for v in letters if v.strip().lower() == part[0][0]]
    return [(_INITIAL, same[0])] if len(same) == 1 else []


def _flag(
    part: list[str], names: list[str], column: ColumnProfile, values: Sequence[object]
) -> tuple[str | int | float | bool, ...] | None:
    """'trial members' over is_trial: the value that means yes, when the words name the
    column and nothing else; 'men' over ``male`` too, and 'women' over ``male`` the value
    that means no (a word of :data:`LEXICON` for one sex, the column named for the other)."""
    own = name_tokens(column.name)
    part = [PLAIN_WORDS.get(w, w) for w in part]  # 'kids' ~ children
    if len(part) == 1 and len(LEXICON.get(part[0], ())) == 1:
        (meant,) = LEXICON[part[0]]
        other = _OPPOSITE.get(meant)
        if [w for w in own if w != "is"] == [other]:
            no = no_value(column, values)
            return None if no is None else (no,)
        part = [meant]
    spelled = len(own) == 1 and spelled_by_prefixes(own[0], part)  # 'African American' ~ afam
    # 'white' of raca_branca: the column's name in another language names it as well.
    foreign = len(part) == 1 and bool(translates(part[0], column.name))
    if (
        not spelled
        and not foreign
        and (
            not all(_names_column(w, names) for w in part)
            or not any(_names_column(w, own) for w in part)
        )
    ):
        return None
    if column.kind == "boolean":
        return (True,)
    yes = yes_values(values)
    if len(yes) == 1:
        return (yes[0],)  # type: ignore[return-value]
    numeric = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if column.kind == "numeric" and {float(v) for v in numeric} <= {0.0, 1.0}:
        return (1,)
    if column.kind == "numeric" and {float(v) for v in numeric} == {0.0, -1.0}:
        return (-1,)  # the -1/0 booleans of Access and Visual Basic: TRUE is -1
    return None


_OPPOSITE = {"male": "female", "female": "male"}


def ambiguous(phrase_text: str, matches: list[Match]) -> ObjectiveError:
    names = sorted({f"{m.place.table.name}.{m.column.name}" for m in matches})
    return ObjectiveError(
        f"the cohort {quote(phrase_text)} fits several columns equally well: {', '.join(names)}",
        fix="name the column in the objective (e.g. 'on the premium plan'), or set "
        'cohort="<SQL predicate>" in the goal\'s overrides',
    )


def general_values(word: str, column: ColumnProfile) -> tuple[str | int | float | bool, ...]:
    """The values of ``column`` a general word of the :data:`LEXICON` stands for ('weekend'
    -> 'Sat', 'Sun' of a day column; 'women' -> 'F'), or none."""
    values = _values(column)
    found = _general([word.lower()], values, _short_forms(values), comment_codes(column, values))
    return tuple(v for _, v in found)
