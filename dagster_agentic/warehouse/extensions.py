"""Tables one-to-one with an entity, found from the profile's keys whatever they are named.

A table holds at most one row per entity when it is tied to one of the entity's unique columns
by a unique column of its own:

* its unique column's values are all found in the entity's key (``Finances.client_id`` ->
  ``Clients.id``, ``member_ref`` -> ``AccountID``): it extends the entity;
* the entity's key is found in its key (``Employees.EmployeeNumber`` ->
  ``Compensation.EmployeeNumber``): the entity extends it;
* either of these through another table already tied (``credit_reports.applicant_code`` ->
  ``applicants.applicant_code`` <- ``loans.applicant_code``, a unique column of the entity).

Such a table describes the entity as its own columns do, so its columns are the entity's
attributes; a table with many rows per key of a tied table is one of the entity's children.
Only links whose values are (nearly) all found count: a name match that finds some values is
not evidence of one row per entity; nor are integers found in a numbered sequence by values
alone, as any would be (``relationships.proven_one_to_one``).
"""

from __future__ import annotations

from dataclasses import dataclass

from dagster_agentic.goals.objective import Objective
from dagster_agentic.warehouse.models import Relationship, WarehouseProfile
from dagster_agentic.warehouse.relationships import proven_one_to_one


@dataclass(frozen=True)
class Tie:
    """``table.column`` holds the values of the entity's unique ``entity_column``."""

    table: str
    column: str
    entity_column: str
    evidence: str


def ties(
    profile: WarehouseProfile, entity: str, key: str, skip: frozenset[str] = frozenset()
) -> tuple[Tie, ...]:
    """Every (table, unique column) tied one-to-one to a unique column of ``entity``, at most
    one per table (the tie on ``key`` when there is a choice). Tables in ``skip`` (the label
    table) are neither returned nor passed through: what extends the label is recorded with it.
    """
    table = profile.table(entity)
    if table is None:
        return ()
    tied: dict[tuple[str, str], Tie] = {
        (table.name, unique): Tie(table.name, unique, unique, "the entity's own key")
        for unique in table.candidate_keys
    }
    links = [
        r
        for r in profile.relationships
        if _one_to_one(profile, r) and not {r.child_table, r.parent_table} & skip
    ]
    changed = True
    while changed:
        changed = False
        for r in links:
            child, parent = (r.child_table, r.child_column), (r.parent_table, r.parent_column)
            known, new = (parent, child) if parent in tied else (child, parent)
            if known not in tied or new in tied:
                continue
            tied[new] = Tie(
                new[0],
                new[1],
                tied[known].entity_column,
                f"{r.child_table}.{r.child_column} is unique and {r.inclusion:.0%} of its values"
                f" are found in {r.parent_table}.{r.parent_column}",
            )
            changed = True
    best: dict[str, Tie] = {}
    for tie in tied.values():
        if tie.table not in best or (
            tie.entity_column == key and best[tie.table].entity_column != key
        ):
            best[tie.table] = tie
    return tuple(best.values())


def one_to_one_tables(
    profile: WarehouseProfile, entity: str, key: str, skip: frozenset[str] = frozenset()
) -> tuple[Tie, ...]:
    """The tables other than ``entity`` (and ``skip``) with at most one row per entity.

    A tie on ``key`` itself comes first: its rows join the entity's id directly; a tie on
    another unique column of the entity is joined through the entity's row.
    """
    found = [t for t in ties(profile, entity, key, skip) if t.table != entity]
    return tuple(sorted(found, key=lambda t: (t.entity_column != key, t.table)))


def key_holders(
    profile: WarehouseProfile, entity: str, key: str, skip: frozenset[str] = frozenset()
) -> frozenset[tuple[str, str]]:
    """(table, column) pairs holding the values of ``entity.key`` one-to-one (the entity's
    own included): a table that references one of them references the entity's id."""
    return frozenset(
        (t.table, t.column) for t in ties(profile, entity, key, skip) if t.entity_column == key
    ) | {(entity, key)}


def row_tables(profile: WarehouseProfile, objective: Objective) -> dict[str, str]:
    """``{table: column holding the entity's id}`` for the entity and every table with at
    most one row per entity keyed by the entity's id (``extensions.one_to_one_tables``; the
    label table aside: it holds the target)."""
    skip = frozenset({objective.label_table}) - {objective.entity_table}
    found = {objective.entity_table: objective.entity_key}
    for tie in one_to_one_tables(profile, objective.entity_table, objective.entity_key, skip):
        if tie.entity_column == objective.entity_key:
            found.setdefault(tie.table, tie.column)
    return found


def entity_joins(profile: WarehouseProfile, objective: Objective) -> dict[str, str]:
    """``{table: column holding the entity's id}`` for the entity's children and its
    one-to-one tables: how a table's rows are matched to the labelled entities."""
    joins = {
        r.child_table: r.child_column
        for r in profile.children_of(objective.entity_table)
        if r.child_table != objective.entity_table
    }
    for table, column in row_tables(profile, objective).items():
        joins.setdefault(table, column)
    return joins


def _one_to_one(profile: WarehouseProfile, r: Relationship) -> bool:
    child = profile.table(r.child_table)
    return (
        child is not None
        and r.child_table != r.parent_table
        and r.child_column in child.candidate_keys
        and r.evidence != "name"
        and proven_one_to_one(r, profile.tables)
    )
