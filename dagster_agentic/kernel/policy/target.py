"""The target: the binary column the objective's words point at, and its positive value."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from dagster_agentic.errors import GoalError, ObjectiveError
from dagster_agentic.kernel.policy.text import name_match, name_tokens, quote
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile, WarehouseProfile

_LABEL_TABLE = re.compile(r"(^|_)(labels?|targets?|outcomes?|ground_truth)(_|$)")
_GENERIC_LABEL = frozenset({"label", "target", "outcome", "y", "is_positive", "flag", "class"})
_NEGATION = frozenset({"not", "no", "non", "never", "un"})
_YES = frozenset({"yes", "y", "true", "t", "1", "positive", "pos"})
_FIX = "set target='table.column' in the goal's overrides"


@dataclass(frozen=True)
class Target:
    table: str
    column: str
    positive_value: str | int | bool


def is_label_table(name: str) -> bool:
    return bool(_LABEL_TABLE.search(name.lower()))


def resolve_target(
    profile: WarehouseProfile,
    words: list[str],
    override: str | None,
    notes: list[str],
    extra_words: Sequence[str] = (),
) -> Target:
    """The label column: the override when given, else the binary column the words name.

    ``extra_words`` (the words of cohort phrases) are tried only when ``words`` name nothing.
    """
    if override is not None:
        table, column = _override_column(profile, override)
        notes.append(f"target {table.name}.{column.name} from overrides.target")
    else:
        found = _match_column(profile, words, notes)
        if found is None and extra_words:
            found = _match_column(profile, list(extra_words), notes)
        table, column = found or _fallback(profile, [*words, *extra_words], notes)
    value, reason = positive_value(column, words)
    notes.append(f"positive class {value!r}: {reason}")
    return Target(table.name, column.name, value)


def _match_column(
    profile: WarehouseProfile, words: list[str], notes: list[str]
) -> tuple[TableProfile, ColumnProfile] | None:
    scored: list[tuple[tuple[int, int, int], str, TableProfile, ColumnProfile]] = []
    for table in profile.tables:
        table_hit = max((name_match(w, table.name) for w in words), default=0)
        for column in table.columns:
            if not column.is_binary or column.name in table.candidate_keys:
                continue
            hits = [(name_match(w, column.name), w) for w in words]
            strength, word = max(hits, default=(0, ""))
            if strength == 0 and table_hit and column.name.lower() in _GENERIC_LABEL:
                strength, word = table_hit, next(w for w in words if name_match(w, table.name))
            if strength:
                score = (strength, int(is_label_table(table.name)), int(table_hit > 0))
                scored.append((score, word, table, column))
    if not scored:
        return None
    best = max(score for score, *_ in scored)
    top = [(word, t, c) for score, word, t, c in scored if score == best]
    if len(top) > 1:
        names = sorted(f"{t.name}.{c.name}" for _, t, c in top)
        raise ObjectiveError(
            f"several binary columns match the objective's word {quote(top[0][0])} equally well: "
            f"{', '.join(names)}",
            fix=f"{_FIX}, e.g. target='{names[0]}'",
        )
    word, table, column = top[0]
    where = " in a label table" if is_label_table(table.name) else ""
    notes.append(
        f"target {table.name}.{column.name}: binary column{where} whose name matches '{word}'"
    )
    return table, column


def _fallback(
    profile: WarehouseProfile, words: list[str], notes: list[str]
) -> tuple[TableProfile, ColumnProfile]:
    """No word names a column: use the one binary column of a label table, if there is one."""
    binary = [(t, c) for t in profile.tables for c in t.columns if c.is_binary]
    in_labels = [(t, c) for t, c in binary if is_label_table(t.name)]
    if len(in_labels) == 1:
        table, column = in_labels[0]
        notes.append(
            f"target {table.name}.{column.name}: no word of the objective names a column; it is "
            "the only binary column of a label table"
        )
        return in_labels[0]
    looked = ", ".join(f"'{w}'" for w in sorted(set(words))) or "(none)"
    names = sorted(f"{t.name}.{c.name}" for t, c in binary)
    listing = ", ".join(names) if names else "none: no column has exactly two distinct values"
    raise ObjectiveError(
        f"no binary column matches the objective's words {looked}; binary columns: {listing}",
        fix=f"name the outcome in the objective (e.g. 'predict churn') or {_FIX}",
    )


def _override_column(
    profile: WarehouseProfile, override: str
) -> tuple[TableProfile, ColumnProfile]:
    table_name, _, column_name = override.strip().rpartition(".")
    pairs = [
        (t, c)
        for t in profile.tables
        if not table_name or t.name.lower() == table_name.lower()
        for c in t.columns
        if c.name.lower() == column_name.lower()
    ]
    if not pairs:
        raise GoalError(
            f"overrides.target {quote(override)} is not a column of the warehouse"
            f"{_similar(profile, override)}",
            fix="set target to an existing column as 'column' or 'table.column'",
        )
    if len(pairs) > 1:
        names = sorted(f"{t.name}.{c.name}" for t, c in pairs)
        raise GoalError(
            f"overrides.target {quote(override)} names a column of several tables: "
            f"{', '.join(names)}",
            fix=f"{_FIX}, e.g. target='{names[0]}'",
        )
    table, column = pairs[0]
    if not column.is_binary:
        binary = sorted(
            f"{t.name}.{c.name}" for t in profile.tables for c in t.columns if c.is_binary
        )
        raise GoalError(
            f"overrides.target {table.name}.{column.name} is not binary: it has "
            f"{column.distinct_count} distinct values, a classification target needs 2",
            fix="choose a column with two distinct values"
            + (f" ({', '.join(binary)})" if binary else "")
            + " or derive one in the warehouse",
        )
    return table, column


def _similar(profile: WarehouseProfile, wanted: str) -> str:
    names = sorted({f"{t.name}.{c.name}" for t in profile.tables for c in t.columns})
    names += sorted({c.name for t in profile.tables for c in t.columns})
    close = difflib.get_close_matches(wanted.lower(), names, n=5, cutoff=0.5)
    return f"; similar columns: {', '.join(close)}" if close else ""


def positive_value(column: ColumnProfile, words: list[str]) -> tuple[str | int | bool, str]:
    """The value that counts as the positive class, with the reason."""
    if column.kind == "boolean":
        return True, "boolean column"
    values = [tv for tv in column.top_values if tv.value is not None]
    if column.kind == "numeric":
        return _numeric_positive(column, [tv.value for tv in values])
    if not values:
        raise GoalError(
            f"cannot tell the positive class of {column.name}: its profile lists no values",
            fix="profile the warehouse again, or recode the target as 0/1",
        )
    yes = [tv for tv in values if str(tv.value).strip().lower() in _YES]
    if len(yes) == 1:
        return str(yes[0].value), f"the value {yes[0].value!r} reads as yes"
    keywords = [*words, *name_tokens(column.name)]
    named = [tv for tv in values if any(name_match(w, str(tv.value)) for w in keywords)]
    if len(named) > 1:  # 'churned' and 'not_churned' both match 'churn': drop the negation
        named = [tv for tv in named if not _NEGATION & set(name_tokens(str(tv.value)))]
    if len(named) == 1:
        return str(named[0].value), f"the value {named[0].value!r} matches the objective's words"
    minority = min(values, key=lambda tv: (tv.count, str(tv.value)))
    total = sum(tv.count for tv in values)
    return (
        str(minority.value),
        f"the minority value ({minority.count} of {total} rows)",
    )


def _numeric_positive(column: ColumnProfile, values: list[object]) -> tuple[int, str]:
    observed = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if not observed:
        observed = [v for v in (column.min, column.max) if isinstance(v, int | float)]
    if observed and {float(v) for v in observed} <= {0.0, 1.0}:
        return 1, "integer 0/1 column"
    if len(observed) >= 2 and all(float(v).is_integer() for v in observed):
        low, high = int(min(observed)), int(max(observed))
        return high, f"the larger of the two values {low} and {high}"
    raise GoalError(
        f"cannot tell the positive class of {column.name}: its values are not 0/1",
        fix="recode the target as 0/1 or boolean in the warehouse",
    )
