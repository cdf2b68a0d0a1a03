"""The objective's words that say what the outcome is, beyond its plain content words.

A column name written as stored ('hf_score', 'SalePrice'); a two-letter part of a compound
name ('ef' of ef_score); generic nouns that are often a part of a name ('score', 'rate',
'level') with the word they qualify; a population noun counted ('the number of
applications', 'visits per patient' are the quantity); the unit of an outcome's window
('5-year', 'within 30 days'), which names no column; the prepositional phrases that qualify
the outcome's noun ('at Pier North'). And the numbers: one that neither the metric nor a
cohort condition reads is an error, never dropped.
"""

from __future__ import annotations

import re

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.kernel.policy.numbers import Number, find_numbers
from dagster_agentic.kernel.policy.target import GenericNoun, Qualifier
from dagster_agentic.kernel.policy.text import (
    METRIC_WORDS,
    STOPWORDS,
    Token,
    name_match,
    name_tokens,
    quote,
)
from dagster_agentic.kernel.policy.year_names import table_year
from dagster_agentic.warehouse.models import TableProfile, WarehouseProfile


def plain(token: Token) -> str:
    """A token as a word: lower case, without a possessive 's."""
    return token.lower.removesuffix("'s").removesuffix("’s")


_COUNTED = frozenset({"number of", "count of", "how many", "numbers of", "amount of"})


# Generic nouns that are function words of a sentence ('rate the leads', 'at least', 'a
# total of') but often a part of a column's name (hf_score, grad_rate, job_level, total_due).
_NAME_NOUNS = frozenset({"score", "scores", "rate", "rates", "level", "levels", "total", "points"})


def name_nouns(tokens: list[Token], anywhere: bool = False) -> list[GenericNoun]:
    """Generic nouns of ``_NAME_NOUNS`` used as nouns (not the verb that opens the sentence,
    'Score each lead ...', nor after 'to'), each with the word it qualifies or is qualified
    by ('freedom' of 'human freedom score', 'charges' of 'total charges'): they may back a
    column that word names too. ``anywhere``: every one, for a cohort span's tokens."""
    found: list[GenericNoun] = []
    for i, token in enumerate(tokens):
        word = plain(token)
        if word not in _NAME_NOUNS or any(g.word == word for g in found):
            continue
        before = tokens[i - 1].lower if i > 0 else ""
        verb = i == 0 or before in {"to", "and", "please", ".", "?", "!", ";", ":"}
        if verb and not anywhere:
            continue
        found.append(GenericNoun(word, _beside(tokens, i)))
    return found


def _beside(tokens: list[Token], i: int) -> str:
    """The content word right before token ``i``, else right after it, else ''."""
    for j in (i - 1, i + 1):
        if 0 <= j < len(tokens) and tokens[j].is_word:
            word = plain(tokens[j])
            if word not in STOPWORDS and word not in METRIC_WORDS and len(word) >= 2:
                return word
    return ""


# Prepositions whose phrase after a noun says where, when or for whom ('ridership at Clark
# Street', 'sales in Ohio'); 'of' and 'per' say what is measured or by whom, so they are not.
_QUALIFYING = frozenset({"at", "in", "on", "for", "from", "near", "across", "around", "within"})
_DETERMINERS = frozenset({"the", "a", "an", "our", "its", "their", "this", "that"})
_JOINING = frozenset({"/", "-", "&"})


def qualifiers(tokens: list[Token]) -> list[Qualifier]:
    """The prepositional phrases right after a content word ('at Clark/Lake' of 'ridership
    at Clark/Lake'): the words of each, and whether all of them are capitalised (a name)."""
    found: list[Qualifier] = []
    for i, token in enumerate(tokens[:-1]):
        if token.lower not in _QUALIFYING or i == 0:
            continue
        before = tokens[i - 1]
        if not before.is_word or plain(before) in STOPWORDS or token.start - before.end > 1:
            continue
        j = i + 1
        while j < len(tokens) and tokens[j].lower in _DETERMINERS:
            j += 1
        words: list[Token] = []
        while j < len(tokens):
            current = tokens[j]
            if current.is_word and plain(current) not in STOPWORDS:
                words.append(current)
            elif current.text not in _JOINING or not words:
                break
            j += 1
        if words:
            proper = all(w.text[0].isupper() for w in words)
            found.append(Qualifier(tuple(plain(w) for w in words), proper))
    return found


def counted(tokens: list[Token], i: int) -> bool:
    """Whether token ``i`` is a quantity, not who it is of: counted ('the number of
    applications'), or a rate's numerator ('visits per patient', 'orders per store'), where
    the noun after 'per' is the population."""
    if " ".join(t.lower for t in tokens[max(0, i - 2) : i]) in _COUNTED:
        return True
    after = tokens[i + 1 : i + 3]
    return (
        tokens[i].is_word
        and len(after) == 2
        and after[0].lower == "per"
        and after[1].is_word
        and after[0].start - tokens[i].end <= 1
    )


# An identifier as stored: with an underscore ('hf_score') or a capital inside ('SalePrice').
_IDENTIFIER = re.compile(
    r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+|[A-Za-z][a-z0-9]*[A-Z][A-Za-z0-9]*"
)


def written_names(text: str, spans: list[tuple[int, int]], profile: WarehouseProfile) -> list[str]:
    """Column names written as stored outside the cohort's spans ('Predict hf_score'), in the
    profile's spelling: the tokenizer splits 'hf_score' into 'hf' and 'score', two words too
    short or too generic to name the column on their own."""
    columns = {c.name.lower(): c.name for t in profile.tables for c in t.columns}
    found: list[str] = []
    for match in _IDENTIFIER.finditer(text):
        name = columns.get(match.group(0).lower())
        inside = any(a <= match.start() < b for a, b in spans)
        if name is not None and not inside and name not in found:
            found.append(name)
    return found


def name_parts(tokens: list[Token], profile: WarehouseProfile, words: list[str]) -> list[str]:
    """Two-letter words that are a part of a compound column name ('ef' of ef_score): too
    short for a content word, but written the way the warehouse abbreviates."""
    parts = {
        part
        for table in profile.tables
        for column in table.columns
        if len(tokens_of := name_tokens(column.name)) > 1
        for part in tokens_of
        if len(part) == 2 and part.isalpha()
    }
    found: list[str] = []
    for token in tokens:
        word = token.lower
        if len(word) == 2 and word in parts and word not in STOPWORDS and word not in words:
            found.append(word)
    return found


UNIT = re.compile(r"[\s-]*(?:day|week|month|year|hour|minute|quarter)s?\b")


def after_number(token: Token, tokens: list[Token]) -> bool:
    i = tokens.index(token)
    before = [t for t in tokens[:i] if t.text != "-"]
    return bool(before) and before[-1].text[0].isdigit() and token.start - before[-1].end <= 2


_WINDOW_BEFORE = re.compile(r"\b(?:within|next|after|in|over)\s+(?:the\s+)?(?:next\s+)?$")
# 'for 14-day deals', 'customers on 12-month contracts': a hyphenated period after these
# qualifies the rows, never the outcome's window.
_ROWS_BEFORE = re.compile(
    r"\b(?:for|among|amongst|on|with|without|having|only|across|from)\s+(?:an?\s+|the\s+)?$",
    re.IGNORECASE,
)


def _names_kind(text: str, number: Number, target: str) -> bool:
    """A bare number right after the word that names the target ('type 2' of a ``type``
    target, 'stage 3' of ``stage``) says which kind of outcome is meant, not which rows."""
    before = re.search(r"([A-Za-z]+)\s+$", text[: number.start])
    if number.kind != "bare" or before is None:
        return False
    return name_match(before.group(1).lower(), target) == 2


_PER = re.compile(r"\bper\s+$", re.IGNORECASE)
_NOUN_AFTER = re.compile(r"\s+(?:[a-z][a-z\-]*\s+){0,2}?([a-z][a-z\-]*)", re.IGNORECASE)


def _rate_base(text: str, number: Number) -> bool:
    """A number after 'per' with a noun after it ('deaths per 10,000 residents', 'per 100
    km', 'per 1k users') is the base of a rate, a part of the outcome's unit: no condition."""
    if not _PER.search(text[: number.start]) or number.kind == "percent":
        return False
    after = _NOUN_AFTER.match(text, number.end)
    return after is not None and after.group(1).lower() not in STOPWORDS


_DETERMINED = re.compile(r"\b(?:the|a|an|this|that|its|their|our)\s+$", re.IGNORECASE)


def _named_year(text: str, number: Number, entity: TableProfile, label: TableProfile) -> bool:
    """A year inside a noun phrase ('in the 1988 plebiscite', 'the 2020 election') names an
    event, not rows, when no column of the entity or the label could read it: no date or
    time column, and no numeric column whose values span the year. Where one could, the
    number stays an unread condition (an error), since it may select rows."""
    if number.kind != "bare" or not float(number.value).is_integer():
        return False
    if not 1800 <= number.value <= 2100 or not _DETERMINED.search(text[: number.start]):
        return False
    after = re.match(r"\s+([A-Za-z][A-Za-z\-]*)", text[number.end :])
    if after is None or after.group(1).lower() in STOPWORDS | METRIC_WORDS:
        return False
    for table in dict.fromkeys([entity, label]):
        for column in table.columns:
            if column.kind in {"temporal", "other"}:
                return False
            low, high = column.min, column.max
            if column.kind != "numeric" or column.name in table.candidate_keys:
                continue
            bounded = isinstance(low, int | float) and isinstance(high, int | float)
            if bounded and low <= number.value <= high:  # type: ignore[operator]
                return False
    return True


def _counts_rows(text: str, number: Number, entity: TableProfile, label: TableProfile) -> bool:
    """Whether ``number`` says how many rows there are: 'a trial on 72 slaughter pigs' where
    pigs holds 72 rows. The number must be the table's exact row count and a word within the
    next three must name the table."""
    if number.kind != "bare" or not float(number.value).is_integer():
        return False
    following = re.findall(r"[A-Za-z][\w\-]*", text[number.end : number.end + 60])[:3]
    return any(
        table.row_count == int(number.value)
        and any(name_match(word, table.name) == 2 for word in following)
        for table in dict.fromkeys([entity, label])
    )


_SCALE_AFTER = re.compile(r"\s*-?\s*points?\s+(?:[a-z\-]+\s+){0,2}scale\b", re.IGNORECASE)


def _scale_size(text: str, number: Number, label: TableProfile, target: str) -> bool:
    """Whether ``number`` is the number of points of the target's own scale: 'on the 11
    point europe scale' of answers from 1 to 11 (or 0 to 10), '7-point scale' of 1 to 7."""
    if not _SCALE_AFTER.match(text[number.end :]):
        return False
    column = next((c for c in label.columns if c.name == target), None)
    if column is None or column.kind != "numeric":
        return False
    low, high = column.min, column.max
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        return False
    return number.value in {float(high), float(high) - float(low) + 1}


def _target_range(text: str, number: Number, label: TableProfile, target: str) -> bool:
    """Whether ``number`` and another one close by are the target's lowest and highest
    values: 'on the 1-5 scale' of ratings from 1 to 5, '(0 for a U up to 10 for an A)' of
    points from 0 to 10."""
    column = next((c for c in label.columns if c.name == target), None)
    if column is None or not isinstance(column.min, int | float):
        return False
    if not isinstance(column.max, int | float):
        return False
    ends = {float(column.min), float(column.max)}
    if number.value not in ends or len(ends) < 2:
        return False
    return any(
        other.value in ends - {number.value} and abs(other.start - number.start) <= 40
        for other in find_numbers(text)
    )


def refuse_unread_numbers(
    text: str,
    numbers: tuple[Number, ...],
    read: list[tuple[int, int]],
    entity: TableProfile,
    label: TableProfile,
    target: str,
) -> list[str]:
    """A number that is neither the metric's threshold nor part of a cohort condition or
    value ('workers whose year is 2009 with an MAE under 25') is a condition nobody read:
    an error naming the columns whose range holds it, never a number silently dropped.

    The outcome's own window is no condition: a number of the target's name ('1' of
    late_1d), an adjective ('90-day churn', not 'for 14-day deals') or a horizon ('churn
    within 30 days'); nor is the kind of outcome named ('type 2' of a ``type`` target); nor
    a rate's base ('per 10,000 residents') or a year inside a name that no column reads
    ('the 1988 plebiscite'), or one the entity's or the label's table names ('every model
    in the 2021 guide' of FE Guide 2021): those come back as rationale lines."""
    aside: list[str] = []
    for number in numbers:
        if any(a <= number.start < b for a, b in read):
            continue
        after = text[number.end :]
        unit = UNIT.match(after)
        before = text[: number.start]
        adjective = after.startswith("-") and not _ROWS_BEFORE.search(before)
        if unit and (adjective or _WINDOW_BEFORE.search(before)):
            continue
        digits = number.raw.strip("$€£¥").replace(",", "")
        if any(digits in part for part in name_tokens(target) if any(ch.isdigit() for ch in part)):
            continue
        if _names_kind(text, number, target):
            continue
        named = table_year(digits, list(dict.fromkeys([entity, label])))
        if named is not None:
            aside.append(
                f"{quote(number.raw)} is the year in the name of the table {named}, no condition"
            )
            continue
        if _counts_rows(text, number, entity, label):
            aside.append(
                f"{quote(number.raw)} counts the rows the goal is about (the table holds that"
                " many), no condition"
            )
            continue
        if _scale_size(text, number, label, target):
            aside.append(
                f"{quote(number.raw)} is the number of points of the target's own scale, no"
                " condition"
            )
            continue
        if _target_range(text, number, label, target):
            aside.append(
                f"{quote(number.raw)} is an end of the target's own range (its values run "
                "from the one number to the other), no condition"
            )
            continue
        if _rate_base(text, number):
            aside.append(f"{quote(number.raw)} is the base of a rate (after 'per'), no condition")
            continue
        if _named_year(text, number, entity, label):
            aside.append(
                f"{quote(number.raw)} is a year inside a name (no date or year column of "
                f"{entity.name} reads it), no condition"
            )
            continue
        holders = []
        for table in dict.fromkeys([entity, label]):
            for column in table.columns:
                low, high = column.min, column.max
                if column.kind != "numeric" or column.name in table.candidate_keys:
                    continue
                numeric = isinstance(low, int | float) and isinstance(high, int | float)
                if numeric and low <= number.value <= high:  # type: ignore[operator]
                    holders.append(f"{table.name}.{column.name} ({low:g} to {high:g})")
        shown = ", ".join(holders[:8]) + (", ..." if len(holders) > 8 else "")
        where = f"; columns whose values span it: {shown}" if holders else ""
        raise ObjectiveError(
            f"the number {quote(number.raw)} belongs to no metric and no cohort condition "
            f"reads it{where}",
            fix="put the number next to its metric ('MAE under 25'), or write the condition "
            "with its column ('year = 2009', 'age above 30'), or set cohort=\"<SQL "
            "predicate>\" in the goal's overrides",
        )
    return aside
