"""When a column's new type still holds every value of its old one: a widening, not a fault.

A warehouse's owners widen columns as data grows (INTEGER to BIGINT, FLOAT to DOUBLE, a
DECIMAL with more digits, a longer VARCHAR). Every value the plan was built on keeps its
meaning and every feature expression still applies, so a widening must not fail the
``column_type`` expectation; a narrowing or a change of kind (a number arriving as text, a
timestamp as a number) still does.
"""

from __future__ import annotations

import re

_SIGNED = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")
_UNSIGNED = ("UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT")
_BITS = {name: 8 << i for i, name in enumerate(_SIGNED)} | {
    name: 8 << i for i, name in enumerate(_UNSIGNED)
}
_ALIASES = {
    "INT": "INTEGER",
    "INT4": "INTEGER",
    "INT8": "BIGINT",
    "LONG": "BIGINT",
    "INT2": "SMALLINT",
    "SHORT": "SMALLINT",
    "INT1": "TINYINT",
    "REAL": "FLOAT",
    "FLOAT4": "FLOAT",
    "FLOAT8": "DOUBLE",
    "STRING": "VARCHAR",
    "TEXT": "VARCHAR",
    "BPCHAR": "VARCHAR",
    "CHAR": "VARCHAR",
    "TIMESTAMP WITHOUT TIME ZONE": "TIMESTAMP",
    "DATETIME": "TIMESTAMP",
    "TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE",
}
_FLOAT_MANTISSA = {"FLOAT": 24, "DOUBLE": 53}
_TIMESTAMPS = ("TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP", "TIMESTAMP_NS")
_DECIMAL = re.compile(r"^(?:DECIMAL|NUMERIC)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$")
_SIZED_TEXT = re.compile(r"^VARCHAR\s*\(\s*(\d+)\s*\)$")


def normalise(data_type: str) -> str:
    """A type name in one spelling: upper case, aliases resolved, single spaces."""
    text = " ".join(data_type.upper().split())
    return _ALIASES.get(text, text)


def holds(old: str, new: str) -> bool:
    """Whether every value of type ``old`` is exactly representable in type ``new``."""
    a, b = normalise(old), normalise(new)
    if a == b:
        return True
    if a in _BITS and b in _BITS:
        if (a in _SIGNED) == (b in _SIGNED):
            return _BITS[b] >= _BITS[a]
        return a in _UNSIGNED and _BITS[b] > _BITS[a]  # UINTEGER fits BIGINT, not INTEGER
    if a in _BITS and b in _FLOAT_MANTISSA:
        return _BITS[a] - (a in _SIGNED) <= _FLOAT_MANTISSA[b]
    if a in _FLOAT_MANTISSA and b in _FLOAT_MANTISSA:
        return _FLOAT_MANTISSA[b] >= _FLOAT_MANTISSA[a]
    if a in _TIMESTAMPS and b in _TIMESTAMPS:
        return _TIMESTAMPS.index(b) >= _TIMESTAMPS.index(a)
    old_decimal, new_decimal = _decimal(a), _decimal(b)
    if new_decimal is not None:
        if old_decimal is None and a in _BITS:
            old_decimal = (len(str(2 ** _BITS[a])), 0)
        if old_decimal is not None:
            (p, s), (q, t) = old_decimal, new_decimal
            return t >= s and q - t >= p - s
        return False
    if old_decimal is not None and b in _FLOAT_MANTISSA:
        return old_decimal[0] <= (7 if b == "FLOAT" else 15)
    old_text, new_text = _SIZED_TEXT.match(a), _SIZED_TEXT.match(b)
    if old_text is None:
        return False
    return b == "VARCHAR" or (new_text is not None and int(new_text[1]) >= int(old_text[1]))


def _decimal(data_type: str) -> tuple[int, int] | None:
    if data_type in ("DECIMAL", "NUMERIC"):
        return 18, 3  # DuckDB's default precision and scale
    match = _DECIMAL.match(data_type)
    if match is None:
        return None
    return int(match[1]), int(match[2] or 0)
