"""Ages of people in cohort conditions: the words that name people ('mothers under 25',
'customers over 65': a bare number after them is an age), the columns named as an age in
the languages warehouses are named in, an age named by a person's initial (``mage`` of
mothers), and the columns whose values look like ages where none is named so."""

from __future__ import annotations

import re

from dagster_agentic.kernel.policy.categories import Scope
from dagster_agentic.kernel.policy.condition_base import Condition
from dagster_agentic.kernel.policy.condition_names import name_parts
from dagster_agentic.kernel.policy.text import singular, word_set
from dagster_agentic.warehouse.models import ColumnProfile

__all__ = ["PEOPLE", "age_like", "initialled_ages", "is_age", "people"]

# Column names that say "age", in English and the languages warehouses are often named in
# (Alter, edad, idade, età, âge, leeftijd, ålder, wiek, yaş).
AGE_WORDS = word_set("age aged ages alter edad idade eta età âge leeftijd alder ålder wiek yas yaş")
# Nouns for people: a bare number after them ('mothers under 25', 'customers over 65') is an
# age. Kept broad: who goals are written about, and the words for people by age, sex, family
# or role.
PEOPLE = word_set(
    """
    customers users clients members subscribers people persons individuals patients
    employees staff workers students pupils players athletes passengers travellers travelers
    borrowers applicants candidates residents tenants drivers riders guests visitors buyers
    shoppers donors voters citizens policyholders cardholders homeowners adults
    men women boys girls children kids babies infants toddlers teens teenagers youths
    seniors elderly retirees pensioners mothers fathers parents moms mums dads wives
    husbands spouses couples singles respondents participants subjects volunteers
    professors teachers lecturers faculty doctors physicians nurses owners renters smokers
    nonsmokers drinkers runners golfers gamers viewers readers listeners fans consumers
    owners holders insureds claimants recipients beneficiaries victims survivors
    """
)


def people(words: tuple[str, ...]) -> bool:
    """Whether the words before a bare number name people ('customers over 65', 'Black
    mothers under 25'), in the plural or the singular."""
    return any(w.lower() in PEOPLE or f"{singular(w)}s" in PEOPLE for w in words)


def is_age(column: ColumnProfile) -> bool:
    """A column named as an age (age, age_at_entry, customer_age, Alter) or commented so."""
    return bool(AGE_WORDS & set(name_parts(column)))


def initialled_ages(
    condition: Condition, numeric: list[tuple[Scope, ColumnProfile]]
) -> list[tuple[Scope, ColumnProfile]]:
    """'mothers aged 35 or older' of columns ``mage`` and ``fage``: an age column named by a
    person's initial and 'age' (mage, m_age, ageM) whose initial a people word before the
    number starts with."""
    initials = {w[0].lower() for w in condition.context if people((w,))}
    found = []
    for place, column in numeric:
        lower = column.name.lower()
        named = re.fullmatch(r"([a-z])_?age|age_?([a-z])", lower)
        if named and (named.group(1) or named.group(2)) in initials:
            found.append((place, column))
    return found


def age_like(spanning: list[tuple[Scope, ColumnProfile]]) -> list[tuple[Scope, ColumnProfile]]:
    """For 'older than 40' where no column is named as an age: of the entity's columns whose
    values contain the number, those that look like a person's age (within 0..125, reaching
    past 18)."""
    return [
        (p, c)
        for p, c in spanning
        if isinstance(c.min, int | float)
        and isinstance(c.max, int | float)
        and float(c.min) >= 0
        and 18 <= float(c.max) <= 125
    ]
