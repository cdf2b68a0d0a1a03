"""Cohort faults: the column the goal's cohort is defined on changes its values.

The goal is judged on European customers (``customers.country`` in the European ISO codes).
If the codes are re-spelt, the cohort predicate silently matches nothing; a correct agent
notices the cohort column changed, maps relabelled values back (a repair), and refuses with
the cause when the cohort's values are simply gone, instead of failing late in evaluation.
"""

from __future__ import annotations

from ._faults_core import (
    Connection,
    Fault,
    FaultSpec,
    Outcome,
    already_applied,
    changed,
    require_column,
    scalar,
)
from ._population import EUROPE

EUROPEAN_CODES = tuple(code for code, _, _ in EUROPE)
COUNTRY_NAMES = {
    "DE": "Germany", "GB": "United Kingdom", "FR": "France", "NL": "Netherlands",
    "ES": "Spain", "IT": "Italy", "SE": "Sweden", "PL": "Poland", "IE": "Ireland",
    "BE": "Belgium", "AT": "Austria", "CH": "Switzerland", "DK": "Denmark", "PT": "Portugal",
    "FI": "Finland", "NO": "Norway", "CZ": "Czechia", "US": "United States", "CA": "Canada",
    "IN": "India", "BR": "Brazil", "AU": "Australia", "JP": "Japan", "MX": "Mexico",
    "KR": "South Korea", "SG": "Singapore", "ZA": "South Africa", "NZ": "New Zealand",
}  # fmt: skip


def _require_codes(con: Connection) -> int:
    """Rows whose country is an upper-case two-letter code; ValueError when there are none."""
    require_column(con, "customers", "country")
    coded = int(scalar(con, "SELECT count(*) FROM customers WHERE country ~ '^[A-Z]{2}$'"))
    if not coded:
        raise already_applied("customers.country holds no upper-case two-letter codes")
    return coded


def cohort_lowercase(con: Connection, seed: int) -> Outcome:
    _require_codes(con)
    rows = changed(con, "UPDATE customers SET country = lower(country)")
    return rows, {"mapping": "upper-case ISO codes -> lower-case ('DE' -> 'de')"}


def cohort_names(con: Connection, seed: int) -> Outcome:
    _require_codes(con)
    cases = " ".join(f"WHEN '{code}' THEN '{name}'" for code, name in COUNTRY_NAMES.items())
    rows = changed(con, f"UPDATE customers SET country = CASE country {cases} ELSE country END")
    return rows, {"mapping": "ISO codes -> English names ('DE' -> 'Germany')"}


def cohort_dropped(con: Connection, seed: int) -> Outcome:
    _require_codes(con)
    codes = ", ".join(f"'{code}'" for code in EUROPEAN_CODES)
    if not scalar(con, f"SELECT count(*) FROM customers WHERE country IN ({codes})"):
        raise already_applied("customers has no European country codes")
    con.execute("ALTER TABLE customers ALTER COLUMN country DROP NOT NULL")
    rows = changed(con, f"UPDATE customers SET country = NULL WHERE country IN ({codes})")
    return rows, {"nulled": "every European country code", "cohort_rows_left": 0}


FAULTS = [
    Fault(
        FaultSpec(
            "cohort_lowercase", "customers", "country",
            "The CRM re-export writes country codes in lower case ('de', 'fr'): the goal's"
            " European cohort predicate matches nobody.",
            "detect the cohort column's change and map the relabelled values back to the"
            " codes the cohort names, then recheck",
        ),
        cohort_lowercase,
    ),
    Fault(
        FaultSpec(
            "cohort_names", "customers", "country",
            "The CRM switches country from ISO codes to English names ('Germany', 'France').",
            "detect the cohort column's change and map names to codes (a mapping repair)",
        ),
        cohort_names,
    ),
    Fault(
        FaultSpec(
            "cohort_dropped", "customers", "country",
            "A GDPR scrub blanks the country of every European customer: the cohort the goal"
            " is judged on has no rows left.",
            "refuse with the cause (the cohort is empty); keep the last good version live",
        ),
        cohort_dropped,
    ),
]  # fmt: skip
