"""What a column's name says about the key it refers to, for warehouses of any naming.

Naming is one of the two kinds of evidence for a foreign key (values are the other, see
:mod:`~dagster_agentic.warehouse.relationships`): ``customer_id`` names ``customers``,
``carrier`` names ``carriers``, ``tbl_role`` is ``role``. Plural table names are singularised
and common table prefixes stripped.
"""

from __future__ import annotations

GENERIC_KEY_NAMES = frozenset({"id", "key", "pk", "uuid", "code", "name", "value"})
KEY_SUFFIXES = ("_id", "_key", "_code", "_ref", "_fk", "_uuid", "id")
TABLE_PREFIXES = ("dim_", "fact_", "fct_", "stg_", "raw_", "tbl_", "src_")
STRONG_NAME, SAME_NAME = 2, 1


def singular(word: str) -> str:
    """English singular of a table name: companies -> company, addresses -> address."""
    w = word.lower()
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("sses", "xes", "ches", "shes", "zes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def table_stems(table: str) -> frozenset[str]:
    """Names a column may use to refer to ``table``: the name, its singular, unprefixed forms."""
    names = {table.lower()}
    names |= {
        name[len(prefix) :]
        for name in names
        for prefix in TABLE_PREFIXES
        if name.startswith(prefix)
    }
    return frozenset(names | {singular(name) for name in names})


def strip_key_suffix(column: str) -> str:
    """``customer_id`` -> ``customer``; names without a key suffix are returned unchanged."""
    c = column.lower()
    for suffix in KEY_SUFFIXES:
        if c.endswith(suffix) and len(c) > len(suffix):
            return c[: -len(suffix)].rstrip("_")
    return c


def has_key_name(column: str) -> bool:
    """``*_id``, ``*_key``, ``customerId``...; a bare ``id`` suffix is not enough (``paid``)."""
    c = column.lower()
    camel_id = column.endswith(("Id", "ID")) and len(column) > 2 and column[-3].isalpha()
    return c in GENERIC_KEY_NAMES or c.endswith(KEY_SUFFIXES[:-1]) or camel_id


def name_match(column: str, parent_table: str, parent_key: str) -> int:
    """Strength of the naming evidence that ``column`` refers to ``parent_table.parent_key``.

    2: the column names the parent table (``customer_id`` -> customers.id / .customer_id,
    ``carrier`` -> carriers.code, also role-playing ``billing_customer_id``); 1: same
    non-generic column name (``sku`` -> ``sku``); 0: no naming evidence.
    """
    col, key = column.lower(), parent_key.lower()
    stems = table_stems(parent_table)
    if col in stems:  # ``carrier`` -> carriers.code: the column is named after the table
        return STRONG_NAME
    for stem in stems:
        if col in (f"{stem}_{key}", f"{stem}{key}") or col.endswith(f"_{stem}_{key}"):
            return STRONG_NAME
    if key in GENERIC_KEY_NAMES or not (col == key or col.endswith(f"_{key}")):
        return 0
    return STRONG_NAME if strip_key_suffix(key) in stems else SAME_NAME
