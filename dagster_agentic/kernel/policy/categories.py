"""Read a cohort phrase's words as values of a column: 'monthly-contract customers' ->
Contract = 'Month-to-month', 'in the Support department' -> a department named 'Support',
'trial members' -> plan = 'Trial' or the flag is_trial.

The columns searched are the entity table's, those of each table one foreign key away (the
entity's parent, e.g. departments for employees) and those of each one-to-one child (one row
per entity that references it, e.g. a customer's contract). A word of the phrase either names a
column (its name, its comment, its table's name) or is a value: the same words in any case
and with any separators ('month to month' = 'Month-to-month'), or each word a stem or prefix
of a word of the value ('monthly' ~ 'Month-to-month', 'fiber' ~ 'Fiber optic'). An exact value wins
over a partial one, and a column named by the phrase over one that only holds the value;
two columns the phrase fits equally well are an error that lists both. A column coded with
single letters ('F'/'M') is matched by a word's initial ('female' -> 'F'), weakly, only when
every value is one letter and exactly one is that initial. A column of codes documented in
its comment ('1 = male, 2 = female') is matched by the labels the comment gives.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.goals.objective import MAX_CLASSES
from dagster_agentic.kernel.policy.text import name_tokens, quote, word_match
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile, WarehouseProfile

_CONNECTORS = frozenset({"and", "or", "&", ",", "nor"})
_YES = frozenset({"yes", "y", "true", "t", "1"})


@dataclass(frozen=True)
class Scope:
    """Where a column lives: the entity table itself, or a parent one hop away."""

    table: TableProfile
    via: tuple[str, str] | None = None  # (entity FK column, parent key column)


@dataclass(frozen=True)
class Match:
    """A column and the values the phrase selects in it (or a flag column, values empty)."""

    place: Scope
    column: ColumnProfile
    values: tuple[str | int | float | bool, ...]
    flag: bool
    score: tuple[int, int, int, int]
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


def norm(value: str) -> str:
    """Lower case with every run of separators one space: 'Month-to-month' -> 'month to month'."""
    return " ".join(re.split(r"[\s_\-/.,]+", value.strip().lower())).strip()


def _words(phrase_words: tuple[str, ...]) -> list[list[str]]:
    """The phrase as parts between connectors, each a list of lower-case words."""
    parts: list[list[str]] = [[]]
    for word in phrase_words:
        if word.lower() in _CONNECTORS:
            parts.append([])
        else:
            parts[-1].extend(t for t in re.split(r"[\-_/]+", word.lower()) if t)
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
    return any(word_match(word, name) == 2 for name in names)


def _values(column: ColumnProfile) -> list[str | int | float | bool]:
    listed = column.values or column.top_values
    return [v.value for v in listed if v.value is not None]


def _value_words(value: object) -> list[str]:
    return norm(str(value)).split()


def _fit(part: list[str], value: object) -> int:
    """3: the same words; 2: each word a stem of a value word; 1: a prefix; 0: no fit."""
    words = _value_words(value)
    if part == words:
        return 3
    if not words or len(part) > len(words):
        return 0
    best = 2
    for word in part:
        strength = max((word_match(word, w) for w in words), default=0)
        if strength == 0 and len(word) >= 3 and any(w.startswith(word) for w in words):
            strength = 1
        if strength == 0:
            return 0
        best = min(best, strength)
    return best


def match_phrase(
    phrase_words: tuple[str, ...],
    hint: str | None,
    candidates: list[Scope],
    exclude: tuple[str, str] | None,
    population: frozenset[str],
) -> list[Match]:
    """Every column the phrase's words fit, best first (several equally good: ambiguous)."""
    parts = _words(phrase_words)
    parts = [[w for w in part if w not in population] or part for part in parts]
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
    values = _values(column)
    codes = _comment_codes(column, values)
    categorical = column.kind in {"text", "boolean"} or (
        column.kind == "numeric"
        and 0 < len(values) <= MAX_CLASSES
        and (column.is_binary or bool(codes))
    )
    if not categorical:
        return None
    own = 0 if place.via else 1
    if column.is_binary and len(parts) == 1:
        flag = _flag(parts[0], names, column, values)
        if flag is not None:
            return Match(place, column, flag, True, (2, 1, own, 0), "flag")
    whole = [w for part in parts for w in part]
    exact = [
        v
        for v in values
        if isinstance(v, str) and [w for w in norm(v).split() if w not in _CONNECTORS] == whole
    ]
    if len(parts) > 1 and len(exact) == 1:  # 'Research & Development' is one value
        return Match(place, column, (exact[0],), False, (3, int(named), own, -1), "value")
    picked: list[str | int | float | bool] = []
    weakest = 3
    naming = int(named)
    for part in parts:
        rest = [w for w in part if not _names_column(w, names)]
        naming += len(part) - len(rest)
        rest = rest or part
        fits: list[tuple[int, str | int | float | bool]] = [
            (s, v) for v in values if isinstance(v, str) and (s := _fit(rest, v))
        ]
        fits = fits or [*_initial(rest, values)] or _coded(rest, codes)
        if not fits:
            return None
        best = max(s for s, _ in fits)
        top = [v for s, v in fits if s == best]
        if len(top) > 1 and best < 3:
            return None  # 'month' fits two values of this column: no reading
        picked.extend(v for v in top if v not in picked)
        weakest = min(weakest, best)
    return Match(place, column, tuple(picked), False, (weakest, naming, own, -len(picked)), "value")


_CODE = re.compile(r"(?<![\w])([A-Za-z0-9]{1,3})\s*(?:=|:)\s*([A-Za-z][A-Za-z ]*?)\s*(?=[,;.)/]|$)")


def _comment_codes(
    column: ColumnProfile, values: Sequence[object]
) -> dict[str, str | int | float | bool]:
    """A coded column's documented labels, from its comment ('1 = male, 2 = female'): each
    label's words -> the value it stands for, kept only when the code is a value held."""
    if not column.comment:
        return {}
    held = {str(v).removesuffix(".0"): v for v in values}
    found: dict[str, str | int | float | bool] = {}
    for code, label in _CODE.findall(column.comment):
        if code in held:
            found[norm(label)] = held[code]  # type: ignore[assignment]
    return found


def _coded(
    part: list[str], codes: dict[str, str | int | float | bool]
) -> list[tuple[int, str | int | float | bool]]:
    """'female patients' over sex coded 1/2 with the comment '1 = male, 2 = female'."""
    hits = [
        value
        for label, value in codes.items()
        if len(part) == len(label.split())
        and all(word_match(w, t) == 2 for w, t in zip(part, label.split(), strict=True))
    ]
    return [(2, hits[0])] if len(hits) == 1 else []


def _initial(part: list[str], values: Sequence[object]) -> list[tuple[int, str]]:
    """'female' for a column coded 'F'/'M': a word of at least three letters stands for the
    value that is its initial, only when every value of the column is one letter and exactly
    one of them is the word's initial (a weak fit: any spelled-out value wins)."""
    letters = [v for v in values if isinstance(v, str)]
    if len(part) != 1 or len(part[0]) < 3 or not letters or len(letters) != len(values):
        return []
    if not all(len(v.strip()) == 1 and v.strip().isalpha() for v in letters):
        return []
    same = [v for v in letters if v.strip().lower() == part[0][0]]
    return [(1, same[0])] if len(same) == 1 else []


def _flag(
    part: list[str], names: list[str], column: ColumnProfile, values: Sequence[object]
) -> tuple[str | int | float | bool, ...] | None:
    """'trial members' over is_trial: the value that means yes, when the words name the
    column and nothing else."""
    if not all(_names_column(w, names) for w in part) or not any(
        word_match(w, n) == 2 for w in part for n in name_tokens(column.name)
    ):
        return None
    if column.kind == "boolean":
        return (True,)
    yes = [v for v in values if str(v).strip().lower() in _YES]
    if len(yes) == 1:
        return (yes[0],)  # type: ignore[return-value]
    numeric = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if column.kind == "numeric" and {float(v) for v in numeric} <= {0.0, 1.0}:
        return (1,)
    return None


def ambiguous(phrase_text: str, matches: list[Match]) -> ObjectiveError:
    names = sorted({f"{m.place.table.name}.{m.column.name}" for m in matches})
    return ObjectiveError(
        f"the cohort {quote(phrase_text)} fits several columns equally well: {', '.join(names)}",
        fix="name the column in the objective (e.g. 'on the premium plan'), or set "
        'cohort="<SQL predicate>" in the goal\'s overrides',
    )
