"""The target: the column the objective's outcome words point at.

A column is scored by meaning, not by one spelling: the words of its name ('isChurned',
'late_1d', 'DEFAULT_FLAG'), an abbreviation of a word of the objective ('arr' of arr_delay
for 'arrival'), a small lexicon of outcome synonyms (``naming.OUTCOME_SYNONYMS``: 'leave' ->
Attrition, 'buy' -> Purchase), its name in another language (``translations``: 'died' ->
overleden, 'days' -> dias_internacao), its catalog comment, and for a category its values (a column
whose values are 'late' and 'on time' is named by 'late'). A word matches in the plural
('wages' -> wage, 'salaries' -> salary), a run of words by its initials ('human freedom' ->
the hf of hf_score), and a name written as stored ('hf_score') outranks everything. Generic
nouns such as 'score' or 'rate' back a column another word names and name one alone only
when nothing else does (several ``*_score`` columns are then an ambiguity). The column's own
name outranks a synonym, a comment or a value; among names, more matching words win, then
the column whose name the words cover ('grade' names all of grade but half of sub_grade).
Two columns that tie are an error listing both, never a silent choice.

A column that takes every one of its values once within each value of a key (a price list
with one row per purchase and brand) is part of its table's grain, not an outcome, and is
no candidate (:func:`enumerated_by`).

Only the words that name the outcome take part: the words of cohort phrases and the nouns
that name the population ('members' in 'predict which members will lapse') are removed
before (see
:mod:`dagster_agentic.kernel.policy.objective`). The column's nature must fit the task the
words suggest (:mod:`dagster_agentic.kernel.policy.task`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dagster_agentic.errors import GoalError, ObjectiveError
from dagster_agentic.goals.objective import TaskType
from dagster_agentic.kernel.policy.by_meaning import target_meant
from dagster_agentic.kernel.policy.coded_poles import pole_code
from dagster_agentic.kernel.policy.morphology import kinship
from dagster_agentic.kernel.policy.naming import (
    abbreviates,
    compound,
    contracts,
    forms,
    initialism,
    names_value,
    synonyms,
)
from dagster_agentic.kernel.policy.outcome_tables import dedicated_entity, outcome_tables
from dagster_agentic.kernel.policy.target_columns import (
    CLASSES,
    candidate_columns,
    fits,
    is_key,
    numbered_column,
)
from dagster_agentic.kernel.policy.target_override import override_column
from dagster_agentic.kernel.policy.target_ties import TieContext, as_tied, break_ties
from dagster_agentic.kernel.policy.task import TaskHint
from dagster_agentic.kernel.policy.text import name_match, name_tokens, quote, word_match, word_set
from dagster_agentic.kernel.policy.translations import translates
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile, WarehouseProfile

_LABEL_TABLE = re.compile(r"(^|_)(labels?|targets?|outcomes?|ground_truth)(_|$)")
_GENERIC_LABEL = frozenset({"label", "target", "outcome", "y", "is_positive", "flag", "class"})
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
_KIND_WORD = {
    "binary_classification": "binary",
    "multiclass_classification": "categorical",
    "regression": "numeric",
    "classification": "binary or categorical",
}
# Binary or multiclass, left to the column: what a metric of both (accuracy) asks for.


@dataclass(frozen=True)
class GenericNoun:
    """A generic noun of the objective ('score', 'rate') and the content word beside it
    ('freedom' of 'human freedom score'; '' when none)."""

    word: str
    beside: str = ""


@dataclass(frozen=True)
class Qualifier:
    """The words of a prepositional phrase right after a content word ('at Clark Street' of
    'ridership at Clark Street', 'in Ohio' of 'sales in Ohio'): they qualify that word, and
    ``proper`` says they are all capitalised, a name (a place, a brand) rather than a noun."""

    words: tuple[str, ...]
    proper: bool


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
    weak_words: Sequence[GenericNoun] = (),
    modifiers: int = 0,
    backing: Sequence[GenericNoun] = (),
    sequence: Sequence[str] = (),
    qualifiers: Sequence[Qualifier] = (),
    numbers: Sequence[str] = (),
    aside: frozenset[str] = frozenset(),
    asked: frozenset[str] = frozenset(),
    text: str = "",
) -> Target:
    """The label column: the override when given, else the column the words name best.

    ``weak_words`` are generic nouns that are often part of a column's name ('score' of
    hf_score, 'rate' of grad_rate): they back a column another word names, and name one
    alone only when no other word names any column (then several ``*_score`` columns are an
    ambiguity, not a silent choice). ``extra_words`` (the words of cohort phrases) are tried
    only when neither names a column: their first ``modifiers`` words (bare modifiers of the
    population noun, 'minute maid purchases') alone first, then all of them. ``backing`` are
    generic nouns inside cohort spans ('scores of countries in 2015'): they only back.
    ``sequence`` is every content word outside the cohort in order, population nouns
    included: initials may run over one ('birth weight' spells bwt where 'births' is the
    table), as long as the run holds one of ``words``. ``qualifiers`` are the prepositional
    phrases of the objective: a column named only by a phrase's words, where the words before
    it name another column ('ridership at Clark Street' with columns ridership and
    Clark_Street), is an ambiguity, unless the phrase is a name (capitalised): then it
    qualifies the outcome the head noun names (:func:`_qualified`). ``numbers`` are the
    whole numbers the objective writes outside its metric: one that only one of several
    equally named columns holds in its name picks it ('1997 height' of Height 1997).
    ``aside`` are the words written only in brackets: of columns named equally well, those
    named by words outside the brackets win (:mod:`~dagster_agentic.kernel.policy.asides`).
    ``asked`` are the words right after the ask ('predict the number of visible skips'): of
    columns named equally well, the one they name wins (:func:`naming.asked_words`). ``text``
    is the objective, where a tie-breaker reads how near a number is written to the words
    (:mod:`~dagster_agentic.kernel.policy.target_ties`).
    """
    hint = hint or TaskHint(None, "")
    if override is not None:
        table, column = override_column(profile, override)
        notes.append(f"target {table.name}.{column.name} from overrides.target")
        return Target(table.name, column.name)
    weak = [g for g in weak_words if g.word not in words]
    # A metric that fits only classification (accuracy) rules out a quantity as the target:
    # 'how well can we predict death ... accuracy' is never a regression on a numeric column.
    task: TaskType | None = hint.task
    if task is None and hint.classification:
        task = CLASSES
    found = _match_column(
        profile, words, task, notes, [*weak, *backing], sequence, numbers, aside, asked, text
    )
    if found is not None and qualifiers:
        found = _qualified(profile, words, task, notes, found, qualifiers)
    if found is None and weak:
        found = _match_column(profile, [g.word for g in weak], task, notes)
    if found is None and modifiers:
        found = _match_column(profile, list(extra_words[:modifiers]), task, notes)
    if found is None and extra_words:
        found = _match_column(profile, list(extra_words), task, notes)
    if found is None and task is not None:
        found = numbered_column(profile, task, numbers, notes)
    if found is None and hint.task is not None:
        _other_kind(profile, words, hint)
    looked = [*words, *(g.word for g in weak)] or list(extra_words)
    table, column = found or _fallback(profile, looked, hint.task, notes)
    return Target(table.name, column.name)


def names_column(word: str, column: ColumnProfile) -> bool:
    """Whether ``word`` names ``column`` at all (see :func:`_evidence`)."""
    return _evidence(word, column)[0] > 0


def _evidence(word: str, column: ColumnProfile) -> tuple[int, str]:
    """How strongly one word names a column: by its name (4 for the same stem, 2 for a
    prefix or an abbreviation: 'arr' of arr_delay for 'arrival'), a synonym of a word of its
    name (3: 'leave' for Attrition, see ``OUTCOME_SYNONYMS``), its comment (3, 1) or one of
    its values (3 for a category of few values)."""
    if word == column.name and not (word.isalpha() and word.islower()):
        return 5, "name"  # the exact name, written as stored: 'hf_score', 'SalePrice'

    strength = max({2: 4, 1: 2}.get(name_match(form, column.name), 0) for form in forms(word))
    if strength < 4:  # 'denied' ~ deny (4), 'approval' ~ approved (3): any English word form
        kin = max((kinship(word, t) for t in name_tokens(column.name)), default=0)
        strength = max(strength, {2: 4, 1: 3}.get(kin, 0))
    if not strength and (abbreviates(word, column.name) or _hyphen_part(word, column.name)):
        strength = 2
    if not strength and contracts(word, column.name):
        strength = 3  # 'mpg' of Miles_per_Gallon: the initials of the whole name
    if strength:
        return strength, "name"
    if column.comment:
        best = max((word_match(word, t) for t in name_tokens(column.comment)), default=0)
        if best == 2:
            return 3, "comment"
    if any(name_match(s, column.name) == 2 for s in synonyms(word)):
        return 3, "synonym"
    if translates(word, column.name):
        return 3, "translation"  # 'died' of overleden: the name in another language
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
        values = column.values or column.top_values
        for value in values:
            if isinstance(value.value, str) and names_value(word, value.value):
                return 3, "values"
        if pole_code(word, [v.value for v in values if v.value is not None]):
            return 3, "values"  # 'die' of a status coded A/D (alive, dead)
    return 0, ""


def _hyphen_part(word: str, name: str) -> bool:
    """A part of a hyphenated word names a part of the name ('well-segmented' ~
    segmentation): weaker than the whole word, which may mean something else."""
    parts = [p for p in word.split("-") if len(p) >= 3] if "-" in word else []
    return any(name_match(p, name) == 2 or kinship(p, t) for p in parts for t in name_tokens(name))


def _coverage(words: list[str], column: ColumnProfile) -> int:
    """How many of the column's name parts the words name, less the parts they leave out:
    'grade' names all of grade (1) but half of sub_grade (0), so the exact name wins."""
    tokens = [t for t in name_tokens(column.name) if t.isalpha()]
    named = sum(
        1
        for t in tokens
        if any(word_match(f, t) == 2 or f == t or kinship(f, t) for w in words for f in forms(w))
    )
    return named - (len(tokens) - named)


_KIND_ORDER = {"binary_classification": 0, "multiclass_classification": 1, "regression": 2}


def _nature(column: ColumnProfile, table: TableProfile) -> int:
    for task, rank in _KIND_ORDER.items():
        if fits(column, task, table):  # type: ignore[arg-type]
            return rank
    return 3


def _match_column(
    profile: WarehouseProfile,
    words: list[str],
    task: TaskType | None,
    notes: list[str],
    weak: Sequence[GenericNoun] = (),
    sequence: Sequence[str] = (),
    numbers: Sequence[str] = (),
    aside: frozenset[str] = frozenset(),
    asked: frozenset[str] = frozenset(),
    text: str = "",
) -> tuple[TableProfile, ColumnProfile] | None:
    Score = tuple[int, int, int, int, int, int]
    scored: list[tuple[Score, str, str, TableProfile, ColumnProfile]] = []
    outcomes = {t.name for t in outcome_tables(profile)}
    for table, column in candidate_columns(profile, task):
        table_hit = max((name_match(w, table.name) for w in words), default=0)
        hits = [(*_evidence(w, column), w) for w in words]
        matched = [(s, how, w) for s, how, w in hits if s]
        initials, run = initialism(words, column)
        if not run and sequence:
            initials, run = initialism(list(sequence), column)
            if not set(run) & set(words):
                initials, run = "", ()
        if run:  # 'human freedom' spells the hf of hf_score: weaker than a name, as a value
            matched = [(s, h, w) for s, h, w in matched if w not in run]
            matched.append((3, "name", " ".join(run)))
        joined, written = compound(sequence or words, column)
        if written and set(written) & set(words):
            # 'low birth weight' is lowbirthweight written in words: the name itself, whole.
            matched = [(s, h, w) for s, h, w in matched if w not in written]
            matched.append((4, "name", " ".join(written)))
            initials = initials or joined
        strength = max((s for s, _, _ in matched), default=0)
        covered = {p for _, _, w in matched for p in w.split()}
        if strength:
            # A generic noun ('score') backs a column that names the outcome word beside it
            # too: in 'job satisfaction level', 'level' must not pick JobLevel over JobRole.
            matched += [
                (1, "name", g.word)
                for g in weak
                if (g.beside in covered or g.beside not in words)
                and any(name_match(f, column.name) == 2 for f in forms(g.word))
            ]
        word, how = next(((w, h) for s, h, w in matched if s == strength), ("", ""))
        if how == "name":  # every word of a compound name: 'sale', 'price' of SalePrice
            word = "', '".join(w for s, h, w in matched if h == "name")
        if strength == 0 and table_hit and column.name.lower() in _GENERIC_LABEL:
            strength, how = table_hit, "table"
            word = next(w for w in words if name_match(w, table.name))
        if strength:
            # Only the words that name the column cover its name: a value word ('minute' of
            # 'Minute Maid') says nothing about how much of Brand or BrandChosen it spells.
            naming = [p for _, h, w in matched if h == "name" for p in w.split()]
            naming += [initials] if initials else []
            score = (
                strength,
                len(matched),
                _coverage(naming, column),
                int(is_label_table(table.name) or table.name in outcomes),
                int(table_hit > 0),
                -_nature(column, table),
            )
            scored.append((score, word, how, table, column))
    if not scored:
        return None
    best = max(item[0] for item in scored)
    context = TieContext(text, numbers, aside, asked)
    top = break_ties(as_tied([i for i in scored if i[0] == best]), context, _evidence, notes)
    if len(top) > 1:
        names = sorted(t.name for t in top)
        words_of = sorted({t.words for t in top})
        said = " and ".join(quote(w) for w in words_of)
        by = (
            ""
            if len(words_of) == 1
            else " (" + "; ".join(sorted(f"{t.name} by {quote(t.words)}" for t in top)) + ")"
        )
        raise ObjectiveError(
            f"several columns match the objective's word{'s' if len(words_of) > 1 else ''} "
            f"{said} equally well: {', '.join(names)}{by}",
            fix=f"{_FIX}, e.g. target='{names[0]}'",
        )
    word, how, table, column = top[0].words, top[0].how, top[0].table, top[0].column
    where = " in a label table" if is_label_table(table.name) else ""
    reason = {
        "name": "whose name matches",
        "comment": "whose comment matches",
        "values": "whose values match",
        "synonym": "whose name means",
        "translation": "whose name, in another language, says",
        "table": "of the table named by",
    }[how]
    kind = _KIND_WORD[task] if task else "candidate"
    notes.append(f"target {table.name}.{column.name}: {kind} column{where} {reason} '{word}'")
    return table, column


def _qualified(
    profile: WarehouseProfile,
    words: list[str],
    task: TaskType | None,
    notes: list[str],
    found: tuple[TableProfile, ColumnProfile],
    qualifiers: Sequence[Qualifier],
) -> tuple[TableProfile, ColumnProfile]:
    """The target when the column found is named only by the words of prepositional phrases.

    'daily ridership at Clark Street' where ridership and Clark_Street are both columns: the
    phrase qualifies the head noun, so with a name ('Clark Street', 'Ohio') the column the
    head names is the outcome, and the other one is noted; with ordinary nouns ('visits to
    the emergency room' with visits and emergency) either reading is plausible, an error
    listing both. A column the head names as well ('sales in Ohio' of ohio_sales) accounts
    for every word and stays."""
    table, column = found
    inside = {w for q in qualifiers for w in q.words}
    naming = [w for w in words if _evidence(w, column)[0]]
    if not naming or any(w not in inside for w in naming):
        return found
    head_words = [w for w in words if w not in inside]
    head_notes: list[str] = []
    try:
        head = _match_column(profile, head_words, task, head_notes) if head_words else None
    except ObjectiveError:
        head = None  # the head words alone are ambiguous: keep the reading of every word
    if head is None or (head[1].name == column.name and head[0].name == table.name):
        return found
    phrases = [q for q in qualifiers if set(q.words) & set(naming)]
    said = ", ".join(quote(" ".join(q.words)) for q in phrases)
    other = f"{head[0].name}.{head[1].name}"
    mine = f"{table.name}.{column.name}"
    if phrases and all(q.proper for q in phrases):
        notes.pop()  # the note of the reading replaced
        notes.extend(head_notes)
        notes.append(
            f"target {other}: {said} after its name qualifies it (a name); {said} also "
            f"names {mine}, not taken as the outcome"
        )
        return head
    raise ObjectiveError(
        f"several columns match the objective's words: {mine} by {said} and {other} by the "
        "words it qualifies",
        fix=f"{_FIX}, e.g. target='{other}'",
    )


def _other_kind(profile: WarehouseProfile, words: list[str], hint: TaskHint) -> None:
    """Raise when the words name a column of another nature than the task asks for."""
    found = _match_column(profile, words, None, [])
    if found is None:
        return
    table, column = found
    if all(_evidence(w, column)[1] in {"values", ""} for w in words):
        return  # a value word ('Latin America' of region) names a cohort, not the outcome
    if is_key(profile, table, column):
        return  # 'participant' of fk_participant names the entity, never an outcome
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
    """No word names a column: the one binary column of a label table; else the one column
    of the kind the task needs in a dedicated outcome table (:func:`outcome_tables`); else
    the one binary column of the warehouse, when the goal is a yes/no one."""
    binary = candidate_columns(profile, "binary_classification")
    kind = _KIND_WORD[task or "binary_classification"]
    pool = binary if task is None else candidate_columns(profile, task)
    dedicated = outcome_tables(profile)
    by_table = {t.name: [(tt, c) for tt, c in pool if tt.name == t.name] for t in dedicated}
    single = [cols[0] for cols in by_table.values() if len(cols) == 1]
    in_labels = [(t, c) for t, c in binary if is_label_table(t.name)]
    steps: list[tuple[list[tuple[TableProfile, ColumnProfile]], str]] = []
    if task in {None, "binary_classification"}:
        steps.append((in_labels, "only binary column of a label table"))
    steps.append((single, f"only {kind} column of a dedicated outcome table"))
    if task in {None, "binary_classification"}:
        steps.append((binary, "only binary column of the warehouse"))
    for found, why in steps:
        if len(found) == 1:
            table, column = found[0]
            where = ""
            if found is single:
                entity = dedicated_entity(profile, table)
                where = f" ({table.name} has one row per {entity} and no other {kind} column)"
            notes.append(
                f"target {table.name}.{column.name}: no word of the objective names a column; "
                f"it is the {why}{where}"
            )
            return found[0]
    meant = target_meant(profile, words, task, notes)
    if meant is not None:
        return meant
    looked = ", ".join(f"'{w}'" for w in sorted(set(words))) or "(none)"
    structural = [(t, c) for cols in by_table.values() for t, c in cols]
    names = [f"{t.name}.{c.name}" for t, c in structural]
    names += sorted(f"{t.name}.{c.name}" for t, c in pool if (t, c) not in structural)
    if len(names) > 12:
        names = [*names[:12], f"... ({len(names) - 12} more)"]
    none = (
        "none: no column has exactly two distinct values"
        if kind == "binary"
        else f"none: no column is {kind}"
    )
    listing = ", ".join(names) if names else none
    if structural:
        tables = ", ".join(sorted({t.name for t, _ in structural}))
        listing += f" (first those of the outcome table{'s' if ',' in tables else ''} {tables})"
    raise ObjectiveError(
        f"no {kind} column matches the objective's words {looked}; {kind} columns: {listing}",
        fix=f"name the outcome in the objective (e.g. 'predict churn') or {_FIX}",
    )
