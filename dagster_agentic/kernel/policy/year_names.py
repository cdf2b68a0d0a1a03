"""Years the warehouse writes in its names: 'mortality through 1992' of ``died_by_1992``,
'entries in 1997' of ``CHEM_ENTRIES_1997``, 'the 2021 guide' of the table ``FE Guide 2021``.

Such a year says which outcome, which measurement or which table, not which rows: where no
column of the warehouse could read a time (no date, no calendar-year column), a time
condition whose years a name holds is that name's, and the reading says so. Where a column
could read it, the year stays a condition (it may well select rows).
"""

from __future__ import annotations

import re

from dagster_agentic.kernel.policy.conditions import Condition
from dagster_agentic.kernel.policy.text import STOPWORDS, name_tokens, quote, word_match
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile, WarehouseProfile

__all__ = ["name_holding_year", "names_year", "table_year"]

_YEAR_WORDS = frozenset({"year", "yr", "years", "season", "seasons"})


def _reads_time(column: ColumnProfile) -> bool:
    """A column a time could be compared with: a date or time, or whole calendar years."""
    if column.kind == "temporal":
        return True
    if column.kind != "numeric" or not _YEAR_WORDS & set(name_tokens(column.name)):
        return False
    low, high = column.min, column.max
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        return False
    return 1800 <= float(low) <= float(high) <= 2100


def _named_before(parts: list[str], words: list[str]) -> bool:
    """Whether one of ``words`` names one of the name's ``parts`` other than its years."""
    parts = [p for p in parts if p.isalpha()]
    return any(word_match(w, p) for w in words for p in parts)


def name_holding_year(year: str, profile: WarehouseProfile, words: list[str]) -> str | None:
    """The first table or column whose name holds ``year`` as one of its parts and whose
    other parts one of ``words`` names ('thorny cover' of Thorny Cover 1995), or None."""
    for table in profile.tables:
        parts = name_tokens(table.name)
        if year in parts and _named_before(parts, words):
            return f"the table {table.name}"
        for column in table.columns:
            parts = name_tokens(column.name)
            if year in parts and _named_before(parts, words):
                return f"{table.name}.{column.name}"
    return None


def names_year(
    condition: Condition, text: str, target: str, profile: WarehouseProfile, notes: list[str]
) -> bool:
    """Whether a time condition's years are a name's, not rows (noted when they are).

    'log wage in 1982' of ``LogWage1982``: a year the target's own name holds says which
    outcome (a wide table holds one such column per year), whatever else the warehouse holds.
    Any other bound ('mortality through 1992' of died_by_1992) and any other name counts only
    where no column of the warehouse could read a time at all, and a name other than the
    target's only where the words right before the time name it too ('chemistry entries in
    1997' of CHEM_ENTRIES_1997; not 'surveyed in 1995' of Thorny Cover 1995)."""
    if condition.kind not in {"time", "month"}:
        return False
    years = re.findall(r"\b\d{4}\b", condition.text)
    if not years:
        return False
    own = name_tokens(target)
    if condition.op == "in" and len(years) == 1 and years[0] in own:
        notes.append(
            f"{quote(condition.text)} is the year in the target's name {target}, not a cohort"
        )
        return True
    if any(_reads_time(c) for table in profile.tables for c in table.columns):
        return False
    if all(y in own for y in years):
        holder: str | None = f"the target {target}"
    else:
        before = re.findall(r"[A-Za-z]{3,}", text[max(0, condition.core - 40) : condition.core])
        words = [w.lower() for w in before[-3:] if w.lower() not in STOPWORDS]
        holders = [name_holding_year(y, profile, words) for y in years]
        holder = holders[0] if all(holders) else None
    if holder is None:
        return False
    notes.append(
        f"{quote(condition.text)} is the year in the name of {holder} (no column of the "
        "warehouse holds dates or years to select rows by), not a cohort"
    )
    return True


def table_year(digits: str, tables: list[TableProfile]) -> str | None:
    """The table among ``tables`` whose name holds ``digits`` as one of its parts, or None:
    'every model in the 2021 guide' of ``FE Guide 2021``."""
    for table in tables:
        if digits in name_tokens(table.name):
            return table.name
    return None
