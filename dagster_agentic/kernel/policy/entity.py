"""The entity whose rows are predicted, how labels join to it, and the label's cutoff time.

A table with no key but one unique, never-null DATE/TIMESTAMP column (a table of days) is its
own entity, keyed by that column. Of tables that are one-to-one on the entity's key (a link
either way between unique columns with as many values), the entity is the one the population
nouns name ('employees' -> Employees, not Compensation), failing that the widest: the profile
the others extend. A label table is never preferred that way.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from dagster_agentic.errors import GoalError, ObjectiveError
from dagster_agentic.kernel.policy.prediction_time import find_cutoff, is_temporal
from dagster_agentic.kernel.policy.target import is_label_table
from dagster_agentic.kernel.policy.target_columns import is_identifier
from dagster_agentic.kernel.policy.text import name_match, name_tokens, word_match
from dagster_agentic.kernel.policy.translations import translates
from dagster_agentic.warehouse.models import (
    Relationship,
    TableProfile,
    WarehouseProfile,
)


@dataclass(frozen=True)
class Entity:
    table: str
    key: str
    label_key: str


def resolve_entity(
    profile: WarehouseProfile,
    label: TableProfile,
    target_column: str,
    words: list[str],
    override: str | None,
    notes: list[str],
    population: Sequence[str] = (),
    written: Sequence[str] = (),
) -> Entity:
    """The entity table and the join from the label table to it; ``population`` (the nouns
    that name the population, 'employees') chooses between one-to-one tables; ``written``
    are all the objective's words, of which one naming the label table keeps it the entity
    ('loans above $10,000' of a loans table)."""
    if override is not None:
        return _override_entity(profile, label, override, notes)
    entity = _resolve(profile, label, target_column, words, notes, written)
    return _prefer_twin(profile, entity, label.name, list(population), notes)


def _resolve(
    profile: WarehouseProfile,
    label: TableProfile,
    target_column: str,
    words: list[str],
    notes: list[str],
    written: Sequence[str] = (),
) -> Entity:
    extension = _extended_table(profile, label)
    descriptive = _descriptive_columns(profile, label, target_column)
    # Unless the objective names the label table ('loans' of a loans table): then its rows.
    named = any(name_match(w, label.name) == 2 for w in [*words, *written])
    leaf = extension is not None and not named and _leaf_extension(profile, label, extension)
    if extension is not None and (_strict_subset(profile, extension) or not descriptive or leaf):
        # One row for some (or every) entity of another table: a one-to-one extension, not an
        # entity of its own. A table with the very same keys and descriptive columns of its
        # own may be the entity itself (the rule below decides).
        notes.append(_link_note(extension))
        return Entity(extension.parent_table, extension.parent_column, extension.child_column)
    if label.candidate_keys and descriptive and not is_label_table(label.name):
        key = _choose_key(label)
        shown = ", ".join(descriptive[:3]) + (", ..." if len(descriptive) > 3 else "")
        notes.append(
            f"entity {label.name}.{key}: the label table is itself the entity "
            f"(key {key}, descriptive columns {shown})"
        )
        return Entity(label.name, key, key)
    link = _best_link(profile, label, words)
    if link is not None:
        notes.append(_link_note(link))
        return Entity(link.parent_table, link.parent_column, link.child_column)
    if label.candidate_keys:
        key = _choose_key(label)
        notes.append(f"entity {label.name}.{key}: the label table has a key and links nowhere")
        return Entity(label.name, key, key)
    dated = _date_key(label)
    if dated is not None:
        notes.append(
            f"entity {label.name}.{dated}: the label table has no other key, and its {dated} "
            "is unique and never null: one row per day (or time), each its own entity"
        )
        return Entity(label.name, dated, dated)
    raise GoalError(
        f"cannot find the entity of the label table {label.name}: it has no key column and no "
        "relationship to another table",
        fix="set entity_table='<table>' in the goal's overrides, or add a key column that "
        "references the entity table",
    )


def _date_key(table: TableProfile) -> str | None:
    """The one DATE/TIMESTAMP column that is unique and never null (the profiler leaves times
    out of candidate keys): a table of days keyed by its date is an entity of its own."""
    unique = [
        c.name
        for c in table.columns
        if is_temporal(c)
        and table.row_count > 0
        and c.distinct_count == table.row_count
        and not c.null_fraction
    ]
    return unique[0] if len(unique) == 1 else None


def _twins(profile: WarehouseProfile, table: str, key: str) -> list[tuple[str, str]]:
    """Tables one-to-one with ``table`` on ``key``: a link either way between two unique
    columns holding the same number of values (Employees and their Compensation)."""
    this = profile.table(table)
    column = this.column(key) if this else None
    if column is None:
        return []
    found: list[tuple[str, str]] = []
    for r in profile.relationships:
        if (r.child_table, r.child_column) == (table, key):
            other, other_key = r.parent_table, r.parent_column
        elif (r.parent_table, r.parent_column) == (table, key):
            other, other_key = r.child_table, r.child_column
        else:
            continue
        twin = profile.table(other)
        twin_column = twin.column(other_key) if twin else None
        if (
            twin is None
            or twin_column is None
            or other == table
            or other_key not in twin.candidate_keys
            or twin_column.distinct_count != column.distinct_count
            or r.inclusion < 0.99
            or (other, other_key) in found
        ):
            continue
        found.append((other, other_key))
    return found


def _prefer_twin(
    profile: WarehouseProfile, entity: Entity, label: str, words: list[str], notes: list[str]
) -> Entity:
    """Of tables that are one-to-one, the entity is the one the population noun names
    ('employees'), failing that the widest: the profile the others extend, not an extension
    (Compensation) of it. The label key joins a twin as it joins the entity: same values."""
    twins = [
        t
        for t in _twins(profile, entity.table, entity.key)
        if t[0] != label and not is_label_table(t[0])
    ]
    if not twins:
        return entity

    def rank(item: tuple[str, str]) -> tuple[float, int]:
        # The share of the table's name the population nouns spell: 'athletes' names all of
        # Athletes but half of AthleteFitness.
        table = profile.table(item[0])
        tokens = name_tokens(item[0])
        named = sum(1 for t in tokens if any(word_match(w, t) for w in words))
        return named / max(len(tokens), 1), len(table.columns) if table else 0

    options = [(entity.table, entity.key), *twins]
    best = max(options, key=rank)
    if best == options[0] or rank(best) == rank(options[0]):
        return entity
    why = "the objective's words name it" if rank(best)[0] else "it is the widest of them"
    notes[:] = [n for n in notes if not n.startswith("entity ")]
    notes.append(
        f"entity {best[0]}.{best[1]}: one-to-one with {entity.table}.{entity.key}, and {why}"
    )
    return Entity(best[0], best[1], entity.label_key)


def _override_entity(
    profile: WarehouseProfile, label: TableProfile, override: str, notes: list[str]
) -> Entity:
    entity = profile.table(override.strip())
    if entity is None:
        close = difflib.get_close_matches(override.lower(), sorted(profile.table_names), n=3)
        similar = f"; similar tables: {', '.join(close)}" if close else ""
        raise GoalError(
            f"overrides.entity_table {override!r} is not a table of the warehouse{similar}",
            fix=f"set entity_table to one of: {', '.join(sorted(profile.table_names))}",
        )
    if entity.name == label.name:
        if not label.candidate_keys:
            raise GoalError(
                f"overrides.entity_table {entity.name} holds the target but has no key column",
                fix="choose the table the label table references, or add a unique id column",
            )
        key = _choose_key(label)
        notes.append(f"entity {entity.name}.{key} from overrides.entity_table (the label table)")
        return Entity(entity.name, key, key)
    links = [link for link in _links(profile, label) if link.parent_table == entity.name]
    links = links or _through_extension(profile, label, entity)
    if not links:
        reachable = sorted({link.parent_table for link in _links(profile, label)})
        raise GoalError(
            f"overrides.entity_table {entity.name} is not reachable from the label table "
            f"{label.name}: no column of {label.name} references {entity.name}",
            fix="set entity_table to the label table"
            + (f" or one it references ({', '.join(reachable)})" if reachable else ""),
        )
    link = min(links, key=lambda r: (-r.inclusion, r.child_column))
    notes.append(f"entity {entity.name}.{link.parent_column} from overrides.entity_table")
    return Entity(entity.name, link.parent_column, link.child_column)


def _extended_table(profile: WarehouseProfile, label: TableProfile) -> Relationship | None:
    """The table the label table extends one-to-one: a unique label column found in its key.

    The widest such table wins (the one the label describes, not another extension of it).
    """
    extensions = [
        r
        for r in profile.parents_of(label.name)
        if r.child_column in label.candidate_keys and r.inclusion > 0
    ]
    if not extensions:
        return None

    def width(r: Relationship) -> tuple[int, int, float, str]:
        parent = profile.table(r.parent_table)
        hub = len(profile.children_of(r.parent_table))
        return (-hub, -(len(parent.columns) if parent else 0), -r.inclusion, r.parent_table)

    return min(extensions, key=width)


def _leaf_extension(profile: WarehouseProfile, label: TableProfile, link: Relationship) -> bool:
    """Whether the label table hangs off the table it extends and nothing else, while that
    table links on (claims_annual keyed by member_years' key, member_years referencing
    members and plans): the label holds the outcomes of the other table's rows, which is
    the entity, however many measures the label table has."""
    own = [r for r in profile.relationships if label.name in {r.child_table, r.parent_table}]
    if any(r != link for r in own):
        return False
    return any(
        link.parent_table in {r.child_table, r.parent_table} and r != link
        for r in profile.relationships
    )


def _strict_subset(profile: WarehouseProfile, link: Relationship) -> bool:
    """The child's key holds fewer values than the parent's: it cannot be the larger table."""
    child, parent = profile.table(link.child_table), profile.table(link.parent_table)
    if child is None or parent is None:
        return False
    a, b = child.column(link.child_column), parent.column(link.parent_column)
    return a is not None and b is not None and a.distinct_count < b.distinct_count


def _through_extension(
    profile: WarehouseProfile, label: TableProfile, entity: TableProfile
) -> list[Relationship]:
    """Label key -> a one-to-one table's key -> ``entity``'s key: the same values, so the
    label key joins the entity's key directly (a label table keyed like a profile table)."""
    found = []
    for first in _links(profile, label):
        middle = profile.table(first.parent_table)
        if middle is None or first.parent_column not in middle.candidate_keys:
            continue
        for second in _links(profile, middle):
            if second.parent_table == entity.name and second.child_column == first.parent_column:
                found.append(
                    first.model_copy(
                        update={
                            "parent_table": entity.name,
                            "parent_column": second.parent_column,
                            "inclusion": min(first.inclusion, second.inclusion),
                        }
                    )
                )
    return found


def _how(link: Relationship) -> str:
    if link.evidence == "values":
        return f"{link.inclusion:.0%} of its values, whatever the names"
    if link.inclusion:
        return f"inclusion {link.inclusion:.0%}"
    return "by the shared column name"


def _links(profile: WarehouseProfile, label: TableProfile) -> list[Relationship]:
    """Relationships from the label table, one-to-one extensions of it read the other way (its
    key is found in theirs), plus same-named key columns the profiler missed."""
    links = list(profile.parents_of(label.name))
    for r in profile.children_of(label.name):
        child = profile.table(r.child_table)
        if child is not None and r.child_column in child.candidate_keys and r.inclusion > 0:
            links.append(
                Relationship(
                    child_table=label.name,
                    child_column=r.parent_column,
                    parent_table=r.child_table,
                    parent_column=r.child_column,
                    inclusion=r.inclusion,
                    evidence=r.evidence,
                )
            )
    linked = {(r.child_column.lower(), r.parent_table) for r in links}
    for table in profile.tables:
        if table.name == label.name:
            continue
        for key in table.candidate_keys:
            column = label.column(key)
            if (
                column is not None
                and _key_like(column.name)
                and (key.lower(), table.name) not in linked
            ):
                links.append(
                    Relationship(
                        child_table=label.name,
                        child_column=column.name,
                        parent_table=table.name,
                        parent_column=key,
                        inclusion=0.0,
                        evidence="name",
                    )
                )
    return links


def _best_link(
    profile: WarehouseProfile, label: TableProfile, words: list[str]
) -> Relationship | None:
    links = _links(profile, label)
    if not links:
        return None

    def rank(link: Relationship) -> tuple[int, float, int, str, str]:
        named = max((name_match(w, link.parent_table) for w in words), default=0)
        # A hub (many tables reference it) is the likelier entity than a lookup table.
        hub = len(profile.children_of(link.parent_table))
        return -named, -link.inclusion, -hub, link.parent_table, link.child_column

    return min(links, key=rank)


def _link_note(link: Relationship) -> str:
    how = _how(link)
    return (
        f"entity {link.parent_table}.{link.parent_column}: {link.child_table}.{link.child_column} "
        f"references it ({how})"
    )


def _descriptive_columns(
    profile: WarehouseProfile, table: TableProfile, target_column: str
) -> list[str]:
    """Columns that describe the row rather than key it, time it or label it."""
    linked = {r.child_column for r in profile.parents_of(table.name)}
    return [
        c.name
        for c in table.columns
        if c.name != target_column
        and not is_temporal(c)
        # A unique price or area is a measurement, not a key (a unique run of ids is a key).
        and not (c.name in table.candidate_keys and is_identifier(c, table))
        and c.name not in linked
        and not _key_like(c.name)
    ]


def _key_like(name: str) -> bool:
    lower = name.lower()
    return (
        lower == "id"
        or lower.endswith(("_id", "_key", "_uuid"))
        or bool(re.search(r"[a-z]Id$", name))
    )


def _choose_key(table: TableProfile) -> str:
    singular = table.name.lower().removesuffix("s")
    preferred = {"id", f"{singular}_id", f"{table.name.lower()}_id"}
    keys = list(table.candidate_keys)
    return min(keys, key=lambda k: (k.lower() not in preferred, not _key_like(k), keys.index(k)))


__all__ = ["Entity", "find_cutoff", "resolve_entity"]


# 'each student's score', 'every household': the rows the objective gives one answer for.
_EACH = re.compile(
    r"\b(?:each|every|per)\s+([A-Za-z][\w\-]*?)(?:['’]s)?\b(?=(?:\s+([A-Za-z]+))?)",
    re.IGNORECASE,
)
# 'per plan year', 'each store month': the noun before a period names a period of it, not
# its rows.
_PERIODS = frozenset({"year", "years", "month", "months", "week", "weeks", "day", "days"})


def refuse_finer_entity(profile: WarehouseProfile, entity: str, target: str, text: str) -> None:
    """Refuse a reading whose rows are finer than the population the objective gives one
    answer for (the nouns after 'each' or 'every'): 'each student's math score at their
    last sitting' read on a table of sittings, several rows per student. The goal asks one
    answer per student; a table of one row per student (a label table, or the student's
    own) must hold the outcome, or the goal must say it is about sittings."""
    for match in _EACH.finditer(text):
        word = match.group(1)
        if (match.group(2) or "").lower() in _PERIODS:
            continue
        for rel in profile.relationships:
            if rel.child_table != entity:
                continue
            if name_match(word, rel.parent_table) != 2 and not translates(word, rel.parent_table):
                continue
            if name_match(word, entity) == 2:
                continue
            child = next(t for t in profile.tables if t.name == entity)
            if rel.child_column in child.candidate_keys:
                continue  # one row per parent: the same population
            raise ObjectiveError(
                f"the objective asks about each {word} ({rel.parent_table}), but the outcome"
                f" read, {target}, is a column of {entity}, which holds several rows per"
                f" {word} (by {rel.child_column}), so the goal would answer per {entity} row",
                fix=f"set target= to a column with one row per {word}, or say the goal is"
                f" about {entity} rows; or set entity_table='{entity}' in the goal's overrides",
            )
