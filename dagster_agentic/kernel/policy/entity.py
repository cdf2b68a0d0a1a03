"""The entity whose rows are predicted, how labels join to it, and the label's cutoff time."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from dagster_agentic.errors import GoalError
from dagster_agentic.kernel.policy.target import is_label_table
from dagster_agentic.kernel.policy.text import name_match
from dagster_agentic.warehouse.models import (
    ColumnProfile,
    Relationship,
    TableProfile,
    WarehouseProfile,
)

# Names of a label's prediction time, most specific first.
_CUTOFF_NAMES = (
    r"cut_?off",
    r"as_?of",
    r"snapshot",
    r"label_?(date|time|ts|at)",
    r"predict(ion|ed)?_?(date|time|ts|at)",
    r"ref(erence)?_?(date|time)",
    r"observ(ation|ed)_?(date|time|at)",
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
) -> Entity:
    """The entity table and the join from the label table to it."""
    if override is not None:
        return _override_entity(profile, label, override, notes)
    descriptive = _descriptive_columns(profile, label, target_column)
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
    raise GoalError(
        f"cannot find the entity of the label table {label.name}: it has no key column and no "
        "relationship to another table",
        fix="set entity_table='<table>' in the goal's overrides, or add a key column that "
        "references the entity table",
    )


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


def _links(profile: WarehouseProfile, label: TableProfile) -> list[Relationship]:
    """Relationships from the label table, plus same-named key columns the profiler missed."""
    links = list(profile.parents_of(label.name))
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
    how = (
        f"inclusion {link.inclusion:.0%}"
        if link.evidence != "name" or link.inclusion
        else "by the shared column name"
    )
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
        and not _is_temporal(c)
        and c.name not in table.candidate_keys
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


def _is_temporal(column: ColumnProfile) -> bool:
    return column.kind == "temporal" or column.data_type.upper().startswith(("DATE", "TIMESTAMP"))


def find_cutoff(label: TableProfile, notes: list[str]) -> str | None:
    """A DATE/TIMESTAMP column of the label table named like the prediction time."""
    found: list[tuple[int, int, ColumnProfile]] = []
    for index, column in enumerate(label.columns):
        if not _is_temporal(column):
            continue
        for rank, pattern in enumerate(_CUTOFF_NAMES):
            if re.search(rf"(^|_){pattern}(_|$)", column.name.lower()):
                found.append((rank, index, column))
                break
    if not found:
        notes.append(
            f"no cutoff column: no DATE/TIMESTAMP column of {label.name} is named like cutoff, "
            "as_of, snapshot, label_date, prediction_time or reference_date"
        )
        return None
    column = min(found, key=lambda item: item[:2])[2]
    notes.append(
        f"cutoff {label.name}.{column.name}: {column.data_type} column named for the prediction "
        "time"
    )
    return column.name
