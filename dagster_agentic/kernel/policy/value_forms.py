"""The category values of a warehouse as the words of an objective spell them, and the
values an objective names that no cohort reads.

Each value of a category column (a text column of at most ``MAX_CLASSES`` values, or every
value of a dimension's column) is indexed under the forms people write it in: as stored, in
any case and with any separators, squashed together, by its words' lemmas ('condos' ~
'Condo'), its leading words run together ('United Airlines'), and, for a name, the
adjectives derived from it ('African' ~ 'Africa'); the general words of
:data:`~dagster_agentic.kernel.policy.text.LEXICON` ('women', 'weekend') index the columns
holding the values they stand for. A frequent value of a column of many values counts only
as written, case included ('ATL' of ``dest``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

from dagster_agentic.goals.objective import MAX_CLASSES
from dagster_agentic.kernel.policy.categories import general_values, lemmas, norm
from dagster_agentic.kernel.policy.sql import literal
from dagster_agentic.kernel.policy.surface import cut_forms
from dagster_agentic.kernel.policy.text import (
    LEXICON,
    METRIC_WORDS,
    STOPWORDS,
    Token,
    demonym_bases,
    inside,
    proper_keys,
)
from dagster_agentic.warehouse.models import ColumnProfile, WarehouseProfile

Column = tuple[str, str]  # (table, column)
MAX_SPAN = 6


# The forms of the profile read last: one reading looks them up from several places, and
# a profile is immutable, so the same object always has the same forms.
_LAST: list[tuple[WarehouseProfile, dict[str, set[Column]]]] = []


def category_forms(profile: WarehouseProfile) -> dict[str, set[Column]]:
    """Normalised value forms -> the columns that hold them: the value itself, and its
    leading runs of two or more words squashed together ('unitedairlines'). Read-only for
    callers: the dict is shared by every lookup on the same profile object."""
    last = _LAST[0] if _LAST else None
    if last is not None and last[0] is profile:
        return last[1]
    forms = _category_forms(profile)
    _LAST[:] = [(profile, forms)]
    return forms


def _category_forms(profile: WarehouseProfile) -> dict[str, set[Column]]:
    forms: dict[str, set[Column]] = {}
    # A referenced key is reached through the foreign key that holds the same codes; a
    # small dimension's unique name ('United Air Lines Inc.') is a value like any other.
    joins = {(r.parent_table, r.parent_column) for r in profile.relationships}
    dimensions = {r.parent_table for r in profile.relationships}
    for table in profile.tables:
        for column in table.columns:
            if column.kind != "text" or (table.name, column.name) in joins:
                continue
            # Every value of a dimension's column ('Texas' of 51 state names) is a name.
            listed_all = table.name in dimensions and bool(column.values)
            many = not (_is_category(column) or listed_all)
            for listed in column.values or column.top_values:
                if not isinstance(listed.value, str) or len(listed.value.strip()) < 2:
                    continue
                words = norm(listed.value).split()
                if not words:
                    continue
                where = (table.name, column.name)
                if many:
                    # A column of many values ('ATL' of 101 airports): only its frequent
                    # values, and only as written (case and all), are read from the text.
                    forms.setdefault("=" + listed.value.strip(), set()).add(where)
                    continue
                forms.setdefault(" ".join(words), set()).add(where)
                forms.setdefault("".join(words), set()).add(where)
                if len(words) > 1 and words[0].isdigit():
                    # '1_indomethacin', '2. Married': the value without its list number.
                    forms.setdefault(" ".join(words[1:]), set()).add(where)
                    forms.setdefault("~" + " ".join(lemmas(words[1:])), set()).add(where)
                forms.setdefault("~" + " ".join(lemmas(words)), set()).add(where)
                for k in range(2, len(words)):
                    forms.setdefault("".join(words[:k]), set()).add(where)
                # 'Emergency Dept' written for 'emergency department': a word cut short.
                for k, word in enumerate(words if len(words) >= 2 else ()):
                    for cut in cut_forms(word):
                        forms.setdefault(
                            "^" + " ".join([*words[:k], cut, *words[k + 1 :]]), set()
                        ).add(where)
                # 'African' of 'Africa', 'South African' of 'South Africa': a name's adjective.
                stored = re.split(r"[\s_\-/.,]+", listed.value.strip())
                for key in proper_keys(stored[-1]) if len(stored) == len(words) else ():
                    forms.setdefault("@" + " ".join([*words[:-1], key]), set()).add(where)
            if not many and _codes_only(column):
                # 'Hispanic' ~ 'HISP', 'African American' ~ 'afam': a column of short codes.
                for listed in column.values:
                    code = str(listed.value).strip().lower()
                    if len(code) >= MIN_CODE and code.isalpha():
                        forms.setdefault("#" + code, set()).add((table.name, column.name))
            if not many:
                # 'women' of sex = 'F', 'weekend' of a day column: see text.LEXICON.
                for word in LEXICON:
                    if general_values(word, column):
                        forms.setdefault("~" + lemmas([word])[0], set()).add(
                            (table.name, column.name)
                        )
    return forms


def _is_category(column: ColumnProfile) -> bool:
    return column.kind == "text" and 2 <= column.distinct_count <= MAX_CLASSES


def value_at(words: list[Token], forms: dict[str, set[Column]]) -> tuple[int, set[Column]] | None:
    """The longest run of ``words`` (from the first) that is one value: its length, columns.

    A run is words, optionally after a list number as values are stored with ('2. Married');
    it is looked up as written, normalised, squashed together, and by its words' lemmas."""
    for n in range(min(MAX_SPAN + 2, len(words)), 0, -1):
        run = words[:n]
        if not is_run(run) or all(t.lower in STOPWORDS for t in run if t.is_word):
            continue
        if any(t.lower in METRIC_WORDS for t in run):
            continue
        if n < len(words) and words[n].lower == "than":
            continue  # 'lower than', 'older than': a comparison, not the value 'Low', 'Old'
        text = " ".join(t.text for t in run)
        spaced = norm(re.sub(r"['’]s$", "", text))  # "each boy's": the word, not its 's
        written = "=" + text
        found = (
            forms.get(spaced)
            or forms.get(spaced.replace(" ", ""))
            or forms.get(written)
            or forms.get("~" + " ".join(lemmas(spaced.split())))
            or _derived(spaced.split(), run[-1].text, forms)
            or _shortened(spaced.split(), forms)
            or _abbreviated(spaced.split(), forms)
        )
        if found:
            return n, found
    return None


def _shortened(words: list[str], forms: dict[str, set[Column]]) -> set[Column] | None:
    """The columns holding a value of two or more words that the run spells with one word
    cut short, or spelled out where the value cuts it ('Emergency Department' ~ 'emergency
    dept', 'emergency dept' ~ 'Emergency Department'); the other words as stored."""
    if len(words) < 2:
        return None
    found = forms.get("^" + " ".join(words))
    if found:
        return found
    for k, word in enumerate(words):
        for cut in sorted(cut_forms(word)):
            found = forms.get(" ".join([*words[:k], cut, *words[k + 1 :]]))
            if found:
                return found
    return None


MIN_CODE = 4  # letters of a code read as the start of a word ('hisp' of 'Hispanic')
MAX_CODE = 5


def _codes_only(column: ColumnProfile) -> bool:
    """A column whose every value is one short word ('cauc', 'afam', 'other'; 'HISP')."""
    listed = [v.value for v in column.values]
    return (
        bool(listed)
        and len(listed) == column.distinct_count
        and all(
            isinstance(v, str) and v.strip().isalpha() and len(v.strip()) <= MAX_CODE
            for v in listed
        )
    )


def _abbreviated(words: list[str], forms: dict[str, set[Column]]) -> set[Column] | None:
    """The columns of short codes holding the run's abbreviation: the start of one word
    ('hisp' of 'Hispanic', four letters at least and the word two longer), or the starts of
    two or three words run together, each giving one to four letters ('afam' of 'African
    American')."""
    if not all(w.isalpha() for w in words) or not 1 <= len(words) <= 3:
        return None
    if len(words) == 1:
        word = words[0]
        for k in range(len(word) - 2, MIN_CODE - 1, -1):
            found = forms.get("#" + word[:k])
            if found:
                return found
        return None
    for cuts in itertools.product(*(range(1, min(len(w), 4) + 1) for w in words)):
        code = "".join(w[:k] for w, k in zip(words, cuts, strict=True))
        found = forms.get("#" + code) if len(code) >= MIN_CODE else None
        if found:
            return found
    return None


def _derived(words: list[str], last: str, forms: dict[str, set[Column]]) -> set[Column] | None:
    """The columns holding a name whose adjective ends the run ('African' -> 'Africa')."""
    for base in sorted(demonym_bases(last)):
        found = forms.get("@" + " ".join([*words[:-1], base]))
        if found:
            return found
    return None


def is_run(run: list[Token]) -> bool:
    """Words only, or a list number and its '.'/')' before words ('2. Married')."""
    if len(run) >= 3 and run[0].text.isdigit() and run[1].text in {".", ")"}:
        run = run[2:]
    return bool(run) and all(t.is_word for t in run) and len(run) <= MAX_SPAN


def glued(tokens: list[Token]) -> list[Token]:
    """Tokens with each identifier-like word written with underscores whole again:
    'ELK_GROVE' and 'INTL_PLAN' are one word each, not 'ELK', '_', 'GROVE'."""
    merged: list[Token] = []
    for token in tokens:
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.end == token.start
            and (token.text == "_" or last.text.endswith("_"))
            and (last.is_word or last.text == "_")
        ):
            text = last.text + token.text
            merged[-1] = Token(text, text.lower(), last.start, token.end)
        else:
            merged.append(token)
    return [t for t in merged if t.text != "_"]


def unclaimed_values(
    text: str,
    tokens: list[Token],
    claimed: Iterable[tuple[int, int]],
    profile: WarehouseProfile,
    outcome: Column,
    cohort_sql: str | None = None,
) -> list[tuple[str, frozenset[Column]]]:
    """Names written with a capital (not a sentence's first word) that are category values
    of the warehouse, yet that nothing claimed: '... covers Texas and California. Flag the
    accounts there ...'. The text names rows the reading would otherwise not restrict to, so
    the caller refuses rather than answer for every row. The outcome's own values
    ('buys Minute Maid') describe the outcome, not a cohort, and are left alone; so is a
    value the cohort already reads in another form (``cohort_sql`` holds it as a literal:
    'Sun' of 'weekend orders ... Sun', read as ``Weekday IN ('Sat', 'Sun')``)."""
    spans = list(claimed)
    forms = category_forms(profile)
    words = glued(tokens)
    found: list[tuple[str, frozenset[Column]]] = []
    i = 0
    while i < len(words):
        token = words[i]
        before = text[: token.start].rstrip()
        if (
            not token.is_word
            or not token.text[0].isupper()
            or not before
            or before[-1] in ".!?:;(\"'"
            or inside(token, spans)
        ):
            i += 1
            continue
        free = list(itertools.takewhile(lambda t: not inside(t, spans), words[i:]))
        hit = value_at(free, forms)
        if hit is None or outcome in hit[1]:
            i += 1 if hit is None else hit[0]
            continue
        n, columns = hit
        written = text[token.start : words[i + n - 1].end]
        if not (cohort_sql and _read_already(written, columns, profile, cohort_sql)):
            found.append((written, frozenset(columns)))
        i += n
    return found


def _read_already(written: str, columns: set[Column], profile: WarehouseProfile, sql: str) -> bool:
    """Whether the cohort's SQL compares one of the columns with the value ``written``
    spells (as stored, or a short form it starts with)."""
    spelled = norm(written)
    for table_name, column_name in columns:
        table = profile.table(table_name)
        column = table.column(column_name) if table is not None else None
        if column is None or column_name not in sql:
            continue
        for listed in column.values or column.top_values:
            value = listed.value
            if not isinstance(value, str) or not norm(value):
                continue
            if (norm(value) == spelled or spelled.startswith(norm(value))) and (
                literal(value) in sql
            ):
                return True
    return False
