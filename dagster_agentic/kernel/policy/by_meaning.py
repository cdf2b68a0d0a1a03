"""Columns chosen by meaning where the words name none by spelling.

'Predict who dies' names no column by its letters, but means OCCUPANTS.OUTCOME (values DEAD,
ALIVE); 'items with more than 30 g of protein' means protein_g among nine columns whose values
span 30. Each candidate column is described in words (its name split into words, its
comment, and a category's values: 'outcome: dead, alive') and compared with the objective's
words by :func:`dagster_agentic.meaning.choose`: a column is taken only when it is clearly
the nearest (a floor and a margin over the runner-up), and the rationale says so with both
scores. Anything less leaves the reader's error in place.

Descriptions are built from the warehouse's names and values, and the objective's words are
only compared with them: neither ever becomes code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dagster_agentic import meaning
from dagster_agentic.goals.objective import TaskType
from dagster_agentic.kernel.policy.categories import Scope
from dagster_agentic.kernel.policy.target_columns import candidate_columns, is_key
from dagster_agentic.kernel.policy.text import name_match, name_tokens
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile, WarehouseProfile

__all__ = ["Meant", "column_meant", "condition_column_meant", "describe", "target_meant"]

_VALUES_SHOWN = 10


@dataclass(frozen=True)
class Meant:
    index: int  # into the candidates given
    note: str  # the evidence, for the rationale


def describe(column: ColumnProfile) -> str:
    """The column in words: 'outcome: dead, alive', 'age days', 'living area'."""
    words = " ".join(name_tokens(column.name)) or column.name
    if column.comment:
        words = f"{words} ({column.comment.strip()[:120]})"
    listed = [v.value for v in (column.values or column.top_values)]
    texts = [str(v).replace("_", " ") for v in listed if isinstance(v, str)]
    if column.kind in {"text", "boolean"} and texts and len(texts) <= _VALUES_SHOWN:
        words = f"{words}: {', '.join(t.lower() for t in texts)}"
    return words


def column_meant(
    query: str,
    candidates: Sequence[tuple[TableProfile, ColumnProfile]],
    what: str,
) -> Meant | None:
    """The candidate ``query`` clearly means, with a note naming ``what`` was decided."""
    if len(candidates) < 1:
        return None
    texts = [describe(c) for _, c in candidates]
    choice = meaning.choose(query, texts)
    if choice is None:
        return None
    runner = choice.runner_index
    table, column = candidates[choice.index]
    nxt = (
        f", next {candidates[runner][0].name}.{candidates[runner][1].name} {choice.runner_up:.2f}"
        if runner is not None
        else ""
    )
    note = (
        f"{what} {table.name}.{column.name} by meaning: {query!r} is nearest to "
        f"{texts[choice.index]!r} (similarity {choice.score:.2f}{nxt}; taken at "
        f"{meaning.FLOOR:.2f} or more and {meaning.MARGIN:.2f} ahead)"
    )
    return Meant(choice.index, note)


def target_meant(
    profile: WarehouseProfile, words: Sequence[str], task: TaskType | None, notes: list[str]
) -> tuple[TableProfile, ColumnProfile] | None:
    """The column the outcome words clearly mean when none is named by its spelling ('who
    was killed' ~ outcome with values dead and alive). Of the columns that fit the task (a
    yes/no or a category when the words say neither), less keys."""
    if not words:
        return None
    if task is None:
        pool = candidate_columns(profile, "binary_classification")
        pool += [
            p for p in candidate_columns(profile, "multiclass_classification") if p not in pool
        ]
    else:
        pool = candidate_columns(profile, task)
    pool = [(t, c) for t, c in pool if not is_key(profile, t, c)]
    meant = column_meant(" ".join(words), pool, "target")
    if meant is None:
        return None
    chosen = pool[meant.index]
    if not _spelled_near(words, chosen[1]) and any(
        _spelled_near(words, c) for t, c in pool if (t, c) != chosen
    ):
        # 'premature' of columns lowbirthweight and premie: meaning points one way, the
        # spelling the other; neither is clear enough to decide alone.
        return None
    notes.append(meant.note)
    return chosen


def _spelled_near(words: Sequence[str], column: ColumnProfile) -> bool:
    """Whether a word begins as a part of the column's name does, in four letters or more
    ('premature' ~ premie)."""
    heads = {w.lower()[:4] for w in words if len(w) >= 4}
    return any(len(t) >= 4 and t[:4] in heads for t in name_tokens(column.name))


def condition_column_meant(
    clause: str, candidates: Sequence[tuple[Scope, ColumnProfile]], people: frozenset[str]
) -> tuple[Scope, ColumnProfile, str] | None:
    """The candidate a cohort condition's clause clearly means ('dishes with more than 30 g
    of protein' ~ protein_g of the columns spanning 30), when the words name none or several
    by their spelling. The words for the rows themselves ('dishes', ``people``) are left out:
    they say whose value, not which, and pull towards whatever their own meaning is near."""
    if len(candidates) < 2:
        return None
    tables = {p.table.name for p, _ in candidates}
    kept = []
    for word in clause.split():
        bare = word.lower().strip(",.;:?!")
        if bare not in people and not any(name_match(bare, t) == 2 for t in tables):
            kept.append(word)
    meant = column_meant(" ".join(kept), [(p.table, c) for p, c in candidates], "column")
    if meant is None:
        return None
    place, column = candidates[meant.index]
    return place, column, meant.note.removeprefix(f"column {place.table.name}.{column.name} ")
