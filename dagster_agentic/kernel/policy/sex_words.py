"""A word for one sex that no cohort reads, where the warehouse records sex: refused.

'for women who lost their jobs in 1986 or later' over a table with ``sex_cd`` coded 1 and
2: which code is female is written nowhere, so the reader cannot select the women, and
answering for everyone would drop the restriction without a word. The word is refused,
naming the column and the values it holds, unless the cohort reads that column, or the
objective names both sexes ('men and women'), or the column is the outcome ('is the capture
female?').

A column records sex when a part of its name says so, in English or the languages
warehouses are often named in (sex, gender, geslacht, Geschlecht, sexo, sesso, genre, kön,
płeć).
"""

from __future__ import annotations

from collections.abc import Sequence

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.kernel.policy.sql import cohort_columns, ident, literal
from dagster_agentic.kernel.policy.text import LEXICON, Token, name_tokens, quote, word_set
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile, WarehouseProfile

__all__ = ["refuse_unread_sex"]

_SEX_NAMES = word_set("sex gender geslacht geschlecht sexo sesso genre kon kön plec płeć")
_SHOWN = 6


def _sex_columns(table: TableProfile) -> list[ColumnProfile]:
    return [
        c
        for c in table.columns
        if set(name_tokens(c.name)) & _SEX_NAMES and 2 <= c.distinct_count <= 3
    ]


def refuse_unread_sex(
    tokens: Sequence[Token],
    read: Sequence[tuple[int, int]],
    profile: WarehouseProfile,
    entity: str,
    outcome: tuple[str, str],
    cohort_sql: str | None,
) -> None:
    """Raise when a word for one sex lies outside every read span while the entity table
    records sex in a column the cohort does not read."""
    words = [t for t in tokens if LEXICON.get(t.lower) in {("male",), ("female",)}]
    sexes = {LEXICON[t.lower] for t in words}
    if len(sexes) != 1:
        return  # none, or both: no restriction by sex
    unread = [t for t in words if not any(a <= t.start < b for a, b in read)]
    table = profile.table(entity)
    if not unread or table is None:
        return
    used = {c.column for c in cohort_columns(cohort_sql)}
    columns = [
        c for c in _sex_columns(table) if c.name not in used and (table.name, c.name) != outcome
    ]
    if not columns:
        return
    listed = "; ".join(
        f"{table.name}.{c.name} holds "
        + ", ".join(repr(v.value) for v in (c.values or c.top_values)[:_SHOWN])
        for c in columns
    )
    coded = not any(_spelled(v.value) for c in columns for v in (c.values or c.top_values))
    why = " (codes that do not say which sex each is)" if coded else ""
    raise ObjectiveError(
        f"the objective names {', '.join(quote(t.text) for t in unread)}, a sex, but no cohort "
        f"reads it: {listed}{why}, so the goal would be answered for everyone",
        fix=_fix(columns[0], sexes.pop()[0], coded),
    )


def _fix(column: ColumnProfile, sex: str, coded: bool) -> str:
    if coded:
        return (
            f'set cohort="{_escaped(ident(column.name))} = <the code for {sex}>" in the goal\'s'
            " overrides, or add a comment to the column that says what each code means"
            " ('1 = male, 2 = female')"
        )
    values = [v.value for v in (column.values or column.top_values) if _spelled(v.value)]
    meant = [v for v in values if str(v).lower().startswith(sex[0])] or values
    return (
        f"say which rows it selects (e.g. 'for {sex} <population>'), or set cohort="
        f'"{_escaped(ident(column.name))} = {literal(meant[0])}" in the goal\'s overrides'
    )


def _spelled(value: object) -> bool:
    """A stored value that says a sex in words or letters ('Male', 'F', 'woman')."""
    return isinstance(value, str) and value.strip().lower() in _SPELLED


_SPELLED = word_set("m f male female man woman men women boy girl masculino femenino")


def _escaped(sql: str) -> str:
    return sql.replace('"', '\\"')
