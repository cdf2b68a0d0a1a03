"""Several faults in one release: two sources break at once, in one transaction.

Real upstream releases rarely break one thing. A correct agent diagnoses every cause (not just
the first it finds) and one repaired version fixes them all, or the release is refused.
"""

from __future__ import annotations

from collections.abc import Callable

from . import _faults_keys, _faults_schema, _faults_time, _faults_values
from ._faults_core import Connection, Fault, FaultSpec, Outcome

Apply = Callable[[Connection, int], Outcome]


def compose(*parts: tuple[str, Apply]) -> Apply:
    """One fault applying each part in turn; its details are each part's, prefixed by name."""

    def apply(con: Connection, seed: int) -> Outcome:
        total, details = 0, {}
        for name, part in parts:
            rows, found = part(con, seed)
            total += rows
            details.update({f"{name}.{key}": value for key, value in found.items()})
        return total, details

    return apply


FAULTS = [
    Fault(
        FaultSpec(
            "release_rename_retype", "payments", "amount",
            "One billing and helpdesk release: payments.amount is renamed amount_eur and"
            " support_tickets.satisfaction_score arrives as text.",
            "diagnose both causes and repair both in one version (rename and cast)",
            also=("support_tickets",),
        ),
        compose(
            ("rename_column", _faults_schema.rename_column),
            ("change_type", _faults_schema.change_type),
        ),
    ),
    Fault(
        FaultSpec(
            "release_time_units", "support_tickets", "created_at",
            "One release: support_tickets.created_at arrives as epoch seconds and the tracking"
            " SDK reports events.duration_seconds in milliseconds.",
            "diagnose both causes: parse the epoch times and rescale the durations",
            also=("events",),
        ),
        compose(
            ("epoch_time", _faults_time.epoch_time),
            ("unit_change", _faults_values.unit_change),
        ),
    ),
    Fault(
        FaultSpec(
            "release_key_category", "support_tickets", "customer_id",
            "One release: ticket customer ids become prefixed text ('C-000100001') and half"
            " of the customers get an acquisition channel never seen before.",
            "normalise the key and treat the unseen channel explicitly, in one version",
            also=("customers",),
        ),
        compose(
            ("key_format", _faults_keys.key_format),
            ("new_category", _faults_values.new_category),
        ),
    ),
]  # fmt: skip
