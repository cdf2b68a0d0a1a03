"""Tables that hold the outcome of another table's entities, found by structure alone.

A warehouse often keeps what happened to each entity in a table of its own ('decisions' beside
'applicants', 'DeliveryTimes' beside 'Orders'): one row per entity, keyed by the entity's key,
narrower than the entity table. When no word of the objective names a column, such a table's
one column of the kind the task needs is the outcome: this is how a goal written in English
reaches columns named in another language.
"""

from __future__ import annotations

from dagster_agentic.warehouse.models import TableProfile, WarehouseProfile


def outcome_tables(profile: WarehouseProfile) -> list[TableProfile]:
    """Tables that hold outcomes of another table's entities: one row per entity, keyed by the
    entity's key (a unique column related one-to-one or as a child to another table's key),
    and narrower than that table, so they hold few attributes besides the outcome
    ('Entscheidungen' keyed by the applicant beside 'Antragsteller', 'DeliveryTimes' keyed
    by the order beside 'Orders'). Read from the structure alone: names in any language."""
    found: list[TableProfile] = []
    for table in profile.tables:
        if dedicated_entity(profile, table) is not None:
            found.append(table)
    return found


def dedicated_entity(profile: WarehouseProfile, table: TableProfile) -> str | None:
    """The wider table whose entities ``table`` has one row each for, by a unique key."""
    for link in profile.relationships:
        if link.child_table == table.name:
            mine, other_name, theirs = link.child_column, link.parent_table, link.parent_column
        elif link.parent_table == table.name:
            mine, other_name, theirs = link.parent_column, link.child_table, link.child_column
        else:
            continue
        other = profile.table(other_name)
        if other is None or other.name == table.name or mine not in table.candidate_keys:
            continue
        if theirs not in other.candidate_keys or not table.row_count:
            continue
        if len(table.columns) < len(other.columns) and table.row_count <= other.row_count:
            return other.name
    return None
