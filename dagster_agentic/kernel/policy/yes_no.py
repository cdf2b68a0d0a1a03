"""Which value of a two-valued column means yes and which means no: TRUE/FALSE, 'Y'/'N',
'yes'/'no', 1/0, -1/0 (the booleans of Access and Visual Basic), and the yes of other
languages ('ja', 'oui', 'si', 'sim'; 'S' of S/N, 'J' of J/N, 'O' of O/N)."""

from __future__ import annotations

from collections.abc import Sequence

from dagster_agentic.kernel.policy.text import norm
from dagster_agentic.warehouse.models import ColumnProfile

__all__ = ["no_value", "yes_values"]

_YES = frozenset({"yes", "y", "true", "t", "1", "ja", "oui", "si", "sí", "sim"})


def yes_values(values: Sequence[object]) -> list[object]:
    """The values that mean yes (one, where the column reads as a flag)."""
    stored = {norm(str(v)) for v in values}
    return [v for v in values if norm(str(v)) in _YES or _initial_yes(norm(str(v)), stored)]


def _initial_yes(value: str, stored: set[str]) -> bool:
    """'S' of S/N (sim, si), 'J' of J/N (ja), 'O' of O/N (oui): yes where the other is 'N'."""
    return value in {"s", "j", "o"} and stored == {value, "n"}


_NO = frozenset({"no", "n", "false", "f", "0"})


def no_value(column: ColumnProfile, values: Sequence[object]) -> str | int | float | bool | None:
    """The value of a two-valued column that means no: FALSE, 'N'/'no', or 0 of 0/1 or of
    -1/0."""
    if column.kind == "boolean":
        return False
    no = [v for v in values if norm(str(v)) in _NO]
    if len(no) == 1 and isinstance(no[0], str | int | float | bool):
        return no[0]
    numeric = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if column.kind == "numeric" and (
        {float(v) for v in numeric} <= {0.0, 1.0} or {float(v) for v in numeric} == {0.0, -1.0}
    ):
        return 0
    return None
