"""Small Markdown builders for what the UI shows: escaped text, rounded numbers, tables.

Names and values from the warehouse, the goal or a kernel reach these tables, so every cell is
escaped: a column named ``![x](http://host/p.png)`` stays text and never makes the browser
fetch anything, and a ``|`` never breaks the table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~&])")


class Markup(str):
    """Text this package wrote itself (numbers, its own words): a table cell leaves it as is."""


def md_text(value: Any, *, limit: int = 300) -> str:
    """``value`` as Markdown that renders as exactly its text, on one line."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _SPECIAL.sub(r"\\\1", text)


def number(value: Any, digits: int = 3) -> str:
    """A number for people: ``digits`` decimals (more for small values), ints as they are."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return md_text(value)
    if not math.isfinite(x):
        return "n/a" if math.isnan(x) else ("∞" if x > 0 else "-∞")
    if x != 0 and abs(x) < 10 ** (-digits):
        return f"{x:.{digits}g}"
    return f"{x:,.{digits}f}"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub Markdown table; cells that are neither numbers nor :class:`Markup` are escaped."""
    lines = [
        "| " + " | ".join(md_text(h) for h in headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    for row in rows:
        cells = [_cell(c) for c in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def bullets(items: Iterable[str]) -> str:
    """A Markdown list of already-escaped items."""
    return "\n".join(f"- {item}" for item in items)


def _cell(value: Any) -> str:
    if isinstance(value, Markup):
        return " ".join(value.replace("|", "\\|").split())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number(value)
    return md_text(value)
