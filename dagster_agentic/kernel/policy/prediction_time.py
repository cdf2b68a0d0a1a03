"""When each label is predicted: the time every feature must be computed as of.

The prediction time is chosen in this order, and the rationale says which rule decided:

1. **A cutoff column of the label table**, by name (``cutoff``, ``as_of``, ``snapshot``,
   ``label_date``, ``prediction_time``, ``reference_date``, ``observation_date``...).
2. **The time part of the label table's composite key**: a label table with one row per entity
   and time (keyed by ``(member, month)``) labels each entity at each of those times, whatever
   the time column is called.
3. **The entity's own event time**, when the label sits in the entity's own row and the entity
   is an event (an order, a flight, a loan application): the outcome is predicted when the
   event happens, so child rows recorded later (reviews, repayments) must not describe it.
   The event time is the entity's earliest time column that is not an end or update time
   (:func:`entity_event_time`: a flight departs before it arrives). A time that only says
   when a long-lived subject began (``signup_date``, ``registered_at``, ``date_of_birth``)
   is not a prediction time: a customer's churn is predicted long after signing up, and
   cutting its history off at signup would leave nothing to learn from. Such a time still
   gives the entity's age (see ``time_features.py``).

Otherwise there is no prediction time: features read every row, and the rationale says so.
"""

from __future__ import annotations

import re

from dagster_agentic.warehouse.models import ColumnProfile, TableProfile
from dagster_agentic.warehouse.semantics import event_time_column, is_end_time_name

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
_ORIGIN = re.compile(
    r"(sign(ed)?_?(up|on)|regist|join|enrol|onboard|birth|born|dob|since|hire|found|"
    r"open|activat|first_?seen|member_?since|incorporat|establish)",
    re.IGNORECASE,
)
"""Times that say when a long-lived subject began (broad on purpose: any of these words)."""


def is_temporal(column: ColumnProfile) -> bool:
    return column.kind == "temporal" or column.data_type.upper().startswith(("DATE", "TIMESTAMP"))


def is_origin_time(name: str) -> bool:
    """``signup_date``, ``registered_at``, ``member_since``: when a subject began, not an event."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)  # SignedUp -> Signed_Up
    return bool(_ORIGIN.search(words))


def find_cutoff(
    label: TableProfile,
    notes: list[str],
    *,
    label_key: str | None = None,
    label_is_entity: bool = False,
) -> str | None:
    """The column of ``label`` that holds each label's prediction time (see the module doc).

    ``label_key`` (the label table's column that references the entity) lets the composite
    key rule check the key pairs it with the time; ``label_is_entity`` enables rule 3.
    """
    named = _named_cutoff(label)
    if named is not None:
        notes.append(
            f"cutoff {label.name}.{named.name}: {named.data_type} column named for the "
            "prediction time"
        )
        return named.name
    keyed = _keyed_time(label, label_key)
    if keyed is not None:
        notes.append(
            f"cutoff {label.name}.{keyed}: the label table has one row per entity and {keyed} "
            "(its key is the pair), so each label is predicted as of its own time"
        )
        return keyed
    if label_is_entity:
        event = entity_event_time(label)
        if event is not None and not is_origin_time(event):
            notes.append(
                f"cutoff {label.name}.{event}: no cutoff column, and the label is in the entity's "
                f"own row, an event recorded at {event}; the outcome is predicted when the event "
                f"happens, so only rows recorded before {event} describe it"
            )
            return event
        if event is not None:
            notes.append(
                f"no cutoff column: {label.name}.{event} says when the entity began, not when it "
                "is predicted; features read every row, and the entity's age is measured to "
                "the latest time in the data"
            )
            return None
    notes.append(
        f"no cutoff column: no DATE/TIMESTAMP column of {label.name} is named like cutoff, "
        "as_of, snapshot, label_date, prediction_time or reference_date, or keys its rows "
        "with the entity; features read every row"
    )
    return None


def entity_event_time(entity: TableProfile) -> str | None:
    """When an entity row happened: its earliest time column that is no end or update time.

    A row's other times follow from it (a flight departs, then arrives; an order is placed,
    then shipped), so the earliest one, by the profile's minimum, is the event; a time that
    says when a subject began (``signup_date``) is returned as it is, for the caller to judge.
    """
    times = [c for c in entity.columns if is_temporal(c) and not is_end_time_name(c.name) and c.min]
    events = [c for c in times if not is_origin_time(c.name)]
    if not events:
        return event_time_column(entity)
    return min(events, key=lambda c: (str(c.min), c.null_fraction, c.name)).name


def _named_cutoff(label: TableProfile) -> ColumnProfile | None:
    found: list[tuple[int, int, ColumnProfile]] = []
    for index, column in enumerate(label.columns):
        if not is_temporal(column):
            continue
        for rank, pattern in enumerate(_CUTOFF_NAMES):
            if re.search(rf"(^|_){pattern}(_|$)", column.name.lower()):
                found.append((rank, index, column))
                break
    return min(found, key=lambda item: item[:2])[2] if found else None


def _keyed_time(label: TableProfile, label_key: str | None) -> str | None:
    """The time column of a composite key that pairs it with the entity's key column."""
    for key in label.composite_keys:
        if len(key) != 2 or (label_key is not None and label_key not in key):
            continue
        times = [name for name in key if (c := label.column(name)) is not None and is_temporal(c)]
        if len(times) == 1:
            return times[0]
    return None
