"""The target: the column the objective's outcome words point at.

A column is scored by meaning, not by one spelling: the words of its name ('isChurned',
'late_1d', 'DEFAULT_FLAG'), an abbreviation of a word of the objective ('arr' of arr_delay
for 'arrival'), a small lexicon of outcome synonyms (``OUTCOME_SYNONYMS``: 'leave' ->
Attrition, 'buy' -> Purchase), its catalog comment, and for a category its values (a column
whose values are 'late' and 'on time' is named by 'late'). The column's own name outranks
a synonym, a comment or a value; among names, more matching words win, then the column whose
name the words cover ('grade' names all of grade but half of sub_grade).

Only the words that name the outcome take part: the words of cohort phrases and the nouns
that name the population ('members' in 'predict which members will lapse') are removed
before (see
:mod:`dagster_agentic.kernel.policy.objective`). The column's nature must fit the task the
words suggest (:mod:`dagster_agentic.kernel.policy.task`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from dagster_agentic.errors import GoalError, ObjectiveError
from dagster_agentic.goals.objective import MAX_CLASSES, TaskType
from dagster_agentic.kernel.policy.task import TaskHint
from dagster_agentic.kernel.policy.text import name_match, name_tokens, quote, word_match, word_set
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile, WarehouseProfile

_LABEL_TABLE = re.compile(r"(^|_)(labels?|targets?|outcomes?|ground_truth)(_|$)")
_GENERIC_LABEL = frozenset({"label", "target", "outcome", "y", "is_positive", "flag", "class"})
_NEGATION = frozenset({"not", "no", "non", "never", "un"})
_YES = frozenset({"yes", "y", "true", "t", "1", "positive", "pos"})
_KEY_SUFFIX = re.compile(r"(?i:(^|_)(id|key|ref|uuid|guid|pk|fk)$)|[a-z](Id|ID|Key|Ref)$")
_FIX = "set target='table.column' in the goal's overrides"
# Words that ask for an amount of money without naming the column: 'how much will each
# employee earn' -> salary. They name any column whose name has a money word.
MONEY_VERBS = word_set(
    """
    earn earns earning earnings paid pay pays cost costs spend spends spent worth charge
    charged income compensation sell sells sold fetch fetches
    """
)
MONEY_NAMES = word_set(
    """
    amount price cost income salary wage pay payment balance value revenue spend charge
    charges fee total earnings compensation fare rent
    """
)
OUTCOME_SYNONYMS: tuple[frozenset[str], ...] = (
    word_set(
        "leave leaving left quit quits resign resigns resignation depart departs exit"
        " attrition churn lapse cancel cancellation terminate termination turnover"
    ),
    word_set("buy buys bought purchase purchases convert conversion subscribe subscription"),
    word_set("default defaults delinquent delinquency delinq"),
    word_set("late lateness delay delayed tardy overdue"),
)
"""Outcome words that names seldom spell the way a user does: a word of a group names a
column whose name has another word of the same group ('leave' -> Attrition, 'buy' ->
Purchase, 'late' -> arr_delay). Weaker than the column's own name, so a column named by the
word itself always wins."""
_KIND_WORD = {
    "binary_classification": "binary",
    "multiclass_classification": "categorical",
    "regression": "numeric",
}


@dataclass(frozen=True)
class Target:
    table: str
    column: str


def is_label_table(name: str) -> bool:
    return bool(_LABEL_TABLE.search(name.lower()))


def resolve_target(
    profile: WarehouseProfile,
    words: list[str],
    override: str | None,
    notes: list[str],
    extra_words: Sequence[str] = (),
    hint: TaskHint | None = None,
) -> Target:
    """The label column: the override when given, else the column the words name best.

    ``extra_words`` (the words of cohort phrases) are tried only when ``words`` name nothing.
    """
    hint = hint or TaskHint(None, "")
    if override is not None:
        table, column = _override_column(profile, override)
        notes.append(f"target {table.name}.{column.name} from overrides.target")
        return Target(table.name, column.name)
    found = _match_column(profile, words, hint.task, notes)
    if found is None and extra_words:
        found = _match_column(profile, list(extra_words), hint.task, notes)
    if found is None and hint.task is not None:
        _other_kind(profile, words, hint)
    table, column = found or _fallback(profile, words or list(extra_words), hint.task, notes)
    return Target(table.name, column.name)


def fits(column: ColumnProfile, task: TaskType | None, table: TableProfile) -> bool:
    """Whether ``column`` can be the target of ``task`` (any task when None)."""
    if (
        column.name in table.candidate_keys
        and not column.is_binary
        and is_identifier(column, table)
    ):
        return False
    if column.kind == "temporal" or column.distinct_count < 2 or _KEY_SUFFIX.search(column.name):
        return False
    binary = column.is_binary
    categorical = column.kind in {"text", "boolean", "numeric"} and (
        3 <= column.distinct_count <= MAX_CLASSES
    )
    numeric = column.kind == "numeric" and column.distinct_count > 2
    if task == "binary_classification":
        return binary
    if task == "multiclass_classification":
        return categorical and not binary
    if task == "regression":
        return numeric
    return binary or categorical or numeric


def is_identifier(column: ColumnProfile, table: TableProfile) -> bool:
    """A unique column that identifies rows rather than measures them: text, or a run of
    whole numbers (1..n). A unique price or area is a quantity, a fine regression target."""
    if column.kind != "numeric":
        return True
    low, high = column.min, column.max
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        return True
    whole = float(low).is_integer() and float(high).is_integer()
    return whole and float(high) - float(low) + 1 <= 1.01 * max(table.row_count, 1)


def _columns(
    profile: WarehouseProfile, task: TaskType | None
) -> list[tuple[TableProfile, ColumnProfile]]:
    foreign = {(r.child_table, r.child_column) for r in profile.relationships}
    return [
        (t, c)
        for t in profile.tables
        for c in t.columns
        if (t.name, c.name) not in foreign and fits(c, task, t)
    ]


def _evidence(word: str, column: ColumnProfile) -> tuple[int, str]:
    """How strongly one word names a column: by its name (4 for the same stem, 2 for a
    prefix or an abbreviation: 'arr' of arr_delay for 'arrival'), a synonym of a word of its
    name (3: 'leave' for Attrition, see ``OUTCOME_SYNONYMS``), its comment (3, 1) or one of
    its values (3 for a category of few values)."""
    strength = {2: 4, 1: 2}.get(name_match(word, column.name), 0)
    if not strength and _abbreviates(word, column.name):
        strength = 2
    if strength:
        return strength, "name"
    if column.comment:
        best = max((word_match(word, t) for t in name_tokens(column.comment)), default=0)
        if best == 2:
            return 3, "comment"
    if any(name_match(s, column.name) == 2 for s in synonyms(word)):
        return 3, "synonym"
    if column.comment:
        best = max((word_match(word, t) for t in name_tokens(column.comment)), default=0)
        if best:
            return 1, "comment"
    if (
        word in MONEY_VERBS
        and column.kind == "numeric"
        and set(name_tokens(column.name)) & (MONEY_NAMES)
    ):
        return 2, "name"
    if column.kind == "text" and column.distinct_count <= 10:
        for value in column.values or column.top_values:
            if isinstance(value.value, str) and name_match(word, value.value) == 2:
                return 3, "values"
    return 0, ""


def _abbreviates(word: str, name: str) -> bool:
    """A name part of at least three letters that begins a longer word of the objective:
    'arr' of arr_delay abbreviates 'arrival', 'dep' 'departure', 'qty' does not 'quality'."""
    word = word.lower()
    return any(
        len(token) >= 3 and len(word) >= len(token) + 2 and word.startswith(token)
        for token in name_tokens(name)
        if token.isalpha()
    )


def synonyms(word: str) -> frozenset[str]:
    """The outcome words ``word`` may stand for (itself excluded), by ``OUTCOME_SYNONYMS``."""
    found: set[str] = set()
    for group in OUTCOME_SYNONYMS:
        if any(word_match(word, member) == 2 for member in group):
            found |= group
    return frozenset(found - {word})


def _coverage(words: list[str], column: ColumnProfile) -> int:
    """How many of the column's name parts the words name, less the parts they leave out:
    'grade' names all of grade (1) but half of sub_grade (0), so the exact name wins."""
    tokens = [t for t in name_tokens(column.name) if t.isalpha()]
    named = sum(1 for t in tokens if any(word_match(w, t) == 2 for w in words))
    return named - (len(tokens) - named)


_KIND_ORDER = {"binary_classification": 0, "multiclass_classification": 1, "regression": 2}


def _nature(column: ColumnProfile, table: TableProfile) -> int:
    for task, rank in _KIND_ORDER.items():
        if fits(column, task, table):  # type: ignore[arg-type]
            return rank
    return 3


def _match_column(
    profile: WarehouseProfile, words: list[str], task: TaskType | None, notes: list[str]
) -> tuple[TableProfile, ColumnProfile] | None:
    Score = tuple[int, int, int, int, int, int]
    scored: list[tuple[Score, str, str, TableProfile, ColumnProfile]] = []
    for table, column in _columns(profile, task):
        table_hit = max((name_match(w, table.name) for w in words), default=0)
        hits = [(*_evidence(w, column), w) for w in words]
        matched = [(s, how, w) for s, how, w in hits if s]
        strength = max((s for s, _, _ in matched), default=0)
        word, how = next(((w, h) for s, h, w in matched if s == strength), ("", ""))
        if how == "name":  # every word of a compound name: 'sale', 'price' of SalePrice
            word = "', '".join(w for s, h, w in matched if h == "name")
        if strength == 0 and table_hit and column.name.lower() in _GENERIC_LABEL:
            strength, how = table_hit, "table"
            word = next(w for w in words if name_match(w, table.name))
        if strength:
            score = (
                strength,
                len(matched),
                _coverage([w for _, _, w in matched], column),
                int(is_label_table(table.name)),
                int(table_hit > 0),
                -_nature(column, table),
            )
            scored.append((score, word, how, table, column))
    if not scored:
        return None
    best = max(item[0] for item in scored)
    top = [item for item in scored if item[0] == best]
    if len(top) > 1:
        names = sorted(f"{t.name}.{c.name}" for *_, t, c in top)
        words_of = sorted({w for _, w, *_ in top})
        said = " and ".join(quote(w) for w in words_of)
        by = (
            ""
            if len(words_of) == 1
            else " ("
            + "; ".join(sorted(f"{t.name}.{c.name} by {quote(w)}" for _, w, _, t, c in top))
            + ")"
        )
        raise ObjectiveError(
            f"several columns match the objective's word{'s' if len(words_of) > 1 else ''} "
            f"{said} equally well: {', '.join(names)}{by}",
            fix=f"{_FIX}, e.g. target='{names[0]}'",
        )
    _, word, how, table, column = top[0]
    where = " in a label table" if is_label_table(table.name) else ""
    reason = {
        "name": "whose name matches",
        "comment": "whose comment matches",
        "values": "whose values match",
        "synonym": "whose name means",
        "table": "of the table named by",
    }[how]
    kind = _KIND_WORD[task] if task else "candidate"
    notes.append(f"target {table.name}.{column.name}: {kind} column{where} {reason} '{word}'")
    return table, column


def _other_kind(profile: WarehouseProfile, words: list[str], hint: TaskHint) -> None:
    """Raise when the words name a column of another nature than the task asks for."""
    found = _match_column(profile, words, None, [])
    if found is None:
        return
    table, column = found
    assert hint.task is not None
    raise GoalError(
        f"the objective's words name {table.name}.{column.name} ({column.distinct_count} "
        f"distinct {column.kind} values), but {hint.reason} asks for a "
        f"{_KIND_WORD[hint.task]} target ({hint.task.replace('_', ' ')})",
        fix="name a metric that fits the column (accuracy or macro-F1 for a category; RMSE, "
        f"MAE or R² for a quantity), or {_FIX}",
    )


def _fallback(
    profile: WarehouseProfile, words: list[str], task: TaskType | None, notes: list[str]
) -> tuple[TableProfile, ColumnProfile]:
    """No word names a column: the one binary column of a label table, else of the
    warehouse, when the goal is a yes/no one."""
    binary = _columns(profile, "binary_classification")
    if task in {None, "binary_classification"}:
        in_labels = [(t, c) for t, c in binary if is_label_table(t.name)]
        for pool, where in ((in_labels, "a label table"), (binary, "the warehouse")):
            if len(pool) == 1:
                table, column = pool[0]
                notes.append(
                    f"target {table.name}.{column.name}: no word of the objective names a "
                    f"column; it is the only binary column of {where}"
                )
                return pool[0]
    looked = ", ".join(f"'{w}'" for w in sorted(set(words))) or "(none)"
    kind = _KIND_WORD[task or "binary_classification"]
    pool = binary if task is None else _columns(profile, task)
    names = sorted(f"{t.name}.{c.name}" for t, c in pool)
    if len(names) > 12:
        names = [*names[:12], f"... ({len(names) - 12} more)"]
    none = (
        "none: no column has exactly two distinct values"
        if kind == "binary"
        else f"none: no column is {kind}"
    )
    listing = ", ".join(names) if names else none
    raise ObjectiveError(
        f"no {kind} column matches the objective's words {looked}; {kind} columns: {listing}",
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
    return pairs[0]


def _similar(profile: WarehouseProfile, wanted: str) -> str:
    names = sorted({f"{t.name}.{c.name}" for t in profile.tables for c in t.columns})
    names += sorted({c.name for t in profile.tables for c in t.columns})
    close = difflib.get_close_matches(wanted.lower(), names, n=5, cutoff=0.5)
    return f"; similar columns: {', '.join(close)}" if close else ""


def positive_value(column: ColumnProfile, words: list[str]) -> tuple[str | int | bool, str]:
    """The value that counts as the positive class, with the reason."""
    if column.kind == "boolean":
        return True, "boolean column"
    values = [tv for tv in (column.values or column.top_values) if tv.value is not None]
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
