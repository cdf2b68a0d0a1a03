"""Capitalised names a cohort word introduces that nothing read: refused, never dropped.

After the reading, a capitalised word after a placing cohort word ('in', 'from', 'among',
'excluding', ...) or after a participle and its preposition ('sent by', 'made in') that no
phrase, condition, metric, column, table or value claimed names rows the goal means; the
objective is refused rather than answered for every row.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.kernel.policy.claims import CLAUSE_END, PLACING
from dagster_agentic.kernel.policy.fields import unread_in_fields
from dagster_agentic.kernel.policy.flag_words import two_quantities
from dagster_agentic.kernel.policy.phrases import ARTEFACTS, known_words
from dagster_agentic.kernel.policy.row_phrases import (
    AFTER_PARTICIPLE,
    participle,
    participle_words,
)
from dagster_agentic.kernel.policy.sex_words import refuse_unread_sex
from dagster_agentic.kernel.policy.sql import literal
from dagster_agentic.kernel.policy.text import (
    LEXICON,
    METRIC_WORDS,
    STOPWORDS,
    Token,
    inside,
    name_match,
    name_tokens,
    quote,
    singular,
    stem,
    word_match,
)
from dagster_agentic.kernel.policy.translations import translates
from dagster_agentic.kernel.policy.unread_clauses import (
    unread_clauses,
    unread_participles,
    unread_restrictions,
    unread_times,
)
from dagster_agentic.kernel.policy.unread_ordinals import unread_ordinals
from dagster_agentic.kernel.policy.value_forms import (
    Column,
    category_forms,
    glued,
    unclaimed_values,
    value_at,
)
from dagster_agentic.warehouse.connection import quote_ident
from dagster_agentic.warehouse.models import WarehouseProfile


def unread_names(
    text: str,
    tokens: list[Token],
    claimed: Iterable[tuple[int, int]],
    profile: WarehouseProfile,
) -> list[Token]:
    """Capitalised words after a cohort word that nothing claimed and the warehouse does not
    name (no table, column or value): a cohort that would otherwise be dropped unread."""
    spans = list(claimed)
    names = [t.name for t in profile.tables] + [c.name for t in profile.tables for c in t.columns]
    unread: list[Token] = []
    for i, token in enumerate(tokens):
        if not token.is_word or not token.text[0].isupper() or i == 0:
            continue
        if inside(token, spans):
            continue
        before = text[: token.start].rstrip()
        if not before or before[-1] in ".!?:;(\"'":
            continue  # a sentence's first word
        lower = token.lower
        if lower in STOPWORDS or lower in METRIC_WORDS:
            continue
        if any(name_match(lower, name) == 2 for name in names):
            continue
        window: list[str] = []
        for prior in reversed(tokens[:i]):
            if CLAUSE_END.fullmatch(prior.text) or len(window) >= 4:
                break
            window.append(prior.lower)
        placed = any(w in PLACING for w in window[:3])
        # 'emails sent by our Sales team', 'cars made in Narnia': a participle and its
        # preposition place rows like 'from' does.
        pairs = zip(window[1:], window[:-1], strict=False)
        if (
            placed
            or any(participle(a) and b in AFTER_PARTICIPLE for a, b in pairs)
            or _names_placed_rows(tokens, i)
        ):
            unread.append(token)
    lowered = participle_words(tokens, spans, known_words(profile))
    return unread + [t for t in lowered if t not in unread]


def _names_placed_rows(tokens: list[Token], i: int) -> bool:
    """Whether the name at ``i`` opens a noun phrase a participle places ('Merriam's kangaroo
    rats caught on the control plots'): the name says which of those rows, as 'from' would."""
    ahead = [t.lower for t in tokens[i + 1 : i + 6]]
    for k in range(1, min(4, len(ahead) - 1)):
        if not all(tokens[i + 1 + j].is_word for j in range(k + 1)):
            return False
        if participle(ahead[k]) and ahead[k + 1] in AFTER_PARTICIPLE | {"on"}:
            return True
    return False


# Words too general to name a row filter on their own, even where a column is called so.
_GENERAL = frozenset(
    {"data", "value", "values", "type", "kind", "level", "number", "count", "flag", "code"}
)


def unread_flags(
    tokens: list[Token],
    claimed: Iterable[tuple[int, int]],
    profile: WarehouseProfile,
    outcome: tuple[str, str],
    accounted: set[str],
    cohort_sql: str | None,
) -> list[tuple[Token, list[str]]]:
    """Words that name a yes/no column of the warehouse (two values: 'union' of
    ``UNION_FL`` Y/N, 'drive-thru' of ``ordered_through_drive_thru_flag`` 0/1, 'Bulls' of
    ``Bulls_Home``) that neither the cohort, the target nor the population read.

    A yes/no column is the shape of a row filter ('union members', 'drive-thru tests'); a
    goal that names one and reads every row has most likely dropped its cohort, so the
    caller refuses and lists the columns. Columns the cohort's SQL reads, the outcome, keys
    and words that name the outcome or the population (``accounted``) are left alone."""
    spans = list(claimed)
    outcome_words = set(name_tokens(outcome[1])) | set(name_tokens(outcome[0]))
    flags: list[tuple[str, str]] = []
    joined = {(r.child_table, r.child_column) for r in profile.relationships} | {
        (r.parent_table, r.parent_column) for r in profile.relationships
    }
    for table in profile.tables:
        for column in table.columns:
            where = (table.name, column.name)
            if (
                column.distinct_count != 2
                or two_quantities(column)
                or where == outcome
                or where in joined
                or column.name in table.candidate_keys
                or (cohort_sql is not None and column.name in cohort_sql)
            ):
                continue
            flags.append(where)
    found: list[tuple[Token, list[str]]] = []
    for k, token in enumerate(tokens):
        lower = token.lower
        following = tokens[k + 1].lower if k + 1 < len(tokens) else ""
        if (
            not _loose(token, spans, accounted)
            # 'tests ordered by the Emergency Department': the verb that introduces a cohort
            or (participle(lower) and following in AFTER_PARTICIPLE)
            or _names_model(tokens, k)
            # 'the beetles attack in 2021' of Beetle Attack 2021: a word of the outcome's
            # name, in the plural too, never names another flag's rows.
            or _names_outcome(lower, outcome_words)
            or _in_compound(tokens, k, outcome_words)
            or _after_outcome(tokens, k, outcome_words)
        ):
            continue
        pieces = [p for p in lower.split("-") if p]
        named = [
            f"{t}.{c}"
            for t, c in flags
            if all(any(_names_part(p, part) for part in _parts(c)) for p in pieces)
            or translates(lower, c)  # 'foreign' of straniera: the name in another language
        ]
        if named:
            found.append((token, named))
    return found


def _after_outcome(tokens: list[Token], k: int, names: set[str]) -> bool:
    """Whether the word at ``k`` comes right after a word of the outcome's name, in one noun
    phrase ('spend' of 'medical spend', the outcome medical_usd): it says what the outcome
    measures, never which rows."""
    if k == 0 or not tokens[k - 1].is_word or tokens[k].start - tokens[k - 1].end > 1:
        return False
    return _names_outcome(tokens[k - 1].lower, names)


def _names_outcome(word: str, names: set[str]) -> bool:
    """Whether ``word`` is a word of the outcome's name, in the plural too."""
    return any(word_match(f, w) == 2 for f in {word, singular(word)} for w in names)


def _in_compound(tokens: list[Token], k: int, names: set[str]) -> bool:
    """Whether the word at ``k`` is one of a run of two to four words that a name writes in
    one piece ('late' of 'late payment', the outcome latepayment)."""
    for size in (2, 3, 4):
        for first in range(max(0, k - size + 1), k + 1):
            run = [t.lower for t in tokens[first : first + size]]
            whole = len(run) == size and all(w.isalpha() for w in run)
            if whole and {"".join(run), "".join([*run[:-1], singular(run[-1])])} & names:
                return True
    return False


def _loose(token: Token, spans: list[tuple[int, int]], accounted: set[str]) -> bool:
    """A word of three letters or more that no span read and that is no function, metric,
    general or accounted word: one that may name rows the reading left out."""
    lower = token.lower
    return (
        token.is_word
        and len(lower) >= 3
        and not inside(token, spans)
        and lower not in STOPWORDS
        and lower not in METRIC_WORDS
        and lower not in _GENERAL
        and lower not in accounted
    )


def _parts(name: str) -> list[str]:
    """An identifier's words without the markers that only say 'this is a flag'."""
    return [p for p in name_tokens(name) if p not in {"fl", "flag", "ind", "is", "has", "yn"}]


def flag_example(profile: WarehouseProfile, where: str) -> str:
    """A predicate on the yes/no column ``where`` ('table.column') for a message: the column
    compared with the larger of its two values (1 of 0/1, 'Y' of N/Y, 'Yes' of No/Yes), or -1
    of -1/0."""
    table_name, column_name = where.split(".", 1)
    table = profile.table(table_name)
    column = table.column(column_name) if table is not None else None
    listed = [v.value for v in (column.values or column.top_values)] if column else []
    try:
        value = max(v for v in listed if v is not None)
    except (TypeError, ValueError):
        value = 1
    if {v for v in listed if v is not None} == {0, -1}:
        value = -1  # Access's -1/0 booleans: TRUE is -1
    bare = column_name.isidentifier() and column_name.isascii()
    return f"{column_name if bare else quote_ident(column_name)} = {literal(value)}"


def unread_values(
    tokens: list[Token],
    claimed: Iterable[tuple[int, int]],
    profile: WarehouseProfile,
    outcome: tuple[str, str],
    accounted: set[str],
    cohort_sql: str | None,
) -> list[tuple[str, list[str]]]:
    """Words in lower case that spell a category value of the warehouse ('black' of
    ``ETHN_CD`` 'BLACK') or a day word of the lexicon ('weekdays'), that nothing claimed.

    :func:`~dagster_agentic.kernel.policy.value_forms.unclaimed_values` refuses capitalised
    names; a value written in lower case names rows just as well ('black or hispanic |
    12+ yrs of school'). Values of the outcome, of columns the cohort reads and words of
    the population are left alone."""
    spans = list(claimed)
    forms = category_forms(profile)
    words = glued(tokens)
    # A dimension the outcome's codes point to names the classes ('beach, pier or charter
    # boat' of mode_name, for a mode_code outcome): its values describe the outcome.
    described = {
        r.parent_table for r in profile.relationships if (r.child_table, r.child_column) == outcome
    }
    found: list[tuple[str, list[str]]] = []
    for k, token in enumerate(words):
        lower = token.lower
        if (
            not _loose(token, spans, accounted)
            or token.text[0].isupper()
            or (k and words[k - 1].text[:1].isdigit())  # a unit: 'more than 30 days'
        ):
            continue
        if lower in _DAY_WORDS:
            dated = [
                f"{t.name}.{c.name}"
                for t in profile.tables
                for c in t.columns
                if c.kind == "temporal"
            ]
            if dated:
                found.append((token.text, dated))
            continue
        # A value of several words ('college degree' of 'College degree (16+ years)') as
        # well as one.
        run = list(itertools.takewhile(lambda t: not inside(t, spans), words[k : k + 6]))
        hit = value_at(run, forms) or value_at([token], forms) or _piece_value(token, forms)
        if hit is None:
            continue
        columns = sorted(
            f"{t}.{c}"
            for t, c in hit[1]
            if (t, c) != outcome and t not in described and not (cohort_sql and c in cohort_sql)
        )
        if len(columns) == len(hit[1]) and columns:
            found.append((" ".join(t.text for t in run[: hit[0]]), columns))
    return found


def _piece_value(token: Token, forms: dict[str, set[Column]]) -> tuple[int, set[Column]] | None:
    """A value that one piece of a hyphenated word spells ('suspicious' of
    'suspicious-person', the Problem 'Suspicious'): the word's length (1) and the columns."""
    for piece in token.lower.split("-") if "-" in token.lower else ():
        if len(piece) >= 4 and piece.isalpha():
            hit = value_at([Token(piece, piece, token.start, token.end)], forms)
            if hit is not None:
                return 1, hit[1]
    return None


_DAY_WORDS = frozenset(
    word for word, means in LEXICON.items() if "saturday" in means or "monday" in means
)


def refuse_unread(
    text: str,
    tokens: list[Token],
    read: list[tuple[int, int]],
    profile: WarehouseProfile,
    outcome: tuple[str, str],
    accounted: set[str],
    cohort_sql: str | None,
    entity: str,
    contexts: tuple[list[tuple[int, int]], list[tuple[int, int]], Callable[[str], bool]]
    | None = None,
    population: frozenset[str] = frozenset(),
) -> None:
    """Raise when the objective names rows no cohort reads: a capitalised value or name, a
    yes/no column, a value in lower case or a day word that nothing claimed (``read`` are the
    spans the reading used; ``accounted`` the words of the population, entity and outcome).
    Every word that names something in the warehouse is either read or refused, never
    dropped. ``contexts`` are the spans of the words before each comparison, the phrases'
    spans, and whether a word names a numeric column: a capitalised word there that names
    no column ('Hispanic respondents older than 40') would be dropped with the comparison
    read alone. A relative clause on a ``population`` noun that nothing read ('people who had
    a job in their first week out') is refused too."""
    if contexts is not None:
        spans, phrases, names_numeric = contexts
        forms = category_forms(profile)
        dropped = [
            t
            for t in unread_context(text, tokens, spans, phrases, accounted, names_numeric)
            if value_at([t], forms) is None  # a value: read on an option's row, or refused
        ]
        if dropped:
            shown = ", ".join(quote(t.text) for t in dropped)
            raise ObjectiveError(
                f"the objective names {shown} with a cohort condition, but no value, column or"
                " table of the warehouse is called that, so the condition would be read"
                " without it",
                fix=f'write the value as {entity} holds it, or set cohort="<SQL predicate>"'
                " in the goal's overrides",
            )
    named = unclaimed_values(text, tokens, read, profile, outcome, cohort_sql=cohort_sql)
    if named:
        shown = ", ".join(
            f"{quote(words)} ({', '.join(sorted(f'{t}.{c}' for t, c in columns))})"
            for words, columns in named
        )
        raise ObjectiveError(
            f"the objective names {shown}, values the warehouse holds, but no cohort"
            " reads them: the goal would be answered for every row",
            fix="say which rows they select (e.g. 'for <population> in <value>'), or set"
            ' cohort="<SQL predicate>" in the goal\'s overrides',
        )
    refuse_unread_sex(tokens, read, profile, entity, outcome, cohort_sql)
    unread = unread_names(text, tokens, read, profile)
    if unread:
        shown = ", ".join(quote(t.text) for t in unread)
        raise ObjectiveError(
            f"the objective names {shown} where a cohort is written, but no value, "
            f"column or table of the warehouse is called that, so the cohort cannot be "
            "read",
            fix=f'write the value as {entity} holds it, or set cohort="<SQL '
            "predicate>\" in the goal's overrides",
        )
    flags = unread_flags(tokens, read, profile, outcome, accounted, cohort_sql)
    if flags:
        shown = "; ".join(f"{quote(t.text)} ({', '.join(c)})" for t, c in flags)
        raise ObjectiveError(
            f"the objective names {shown}: yes/no columns of the warehouse, but no cohort"
            " reads them, so the goal would be answered for every row",
            fix="say which rows they select (e.g. 'for <population> with <flag>'), or set"
            ' cohort="<SQL predicate>" in the goal\'s overrides, e.g. cohort="'
            f'{flag_example(profile, flags[0][1][0])}"',
        )
    loose = unread_values(tokens, read, profile, outcome, accounted, cohort_sql)
    if loose:
        shown = "; ".join(f"{quote(w)} ({', '.join(c)})" for w, c in loose)
        it, they = ("it", "it") if len(loose) == 1 else ("them", "they")
        raise ObjectiveError(
            f"the objective names {shown}, but no cohort reads {it}, so the goal would be"
            " answered for every row",
            fix=f"say which rows {they} select{'s' if they == 'it' else ''} (e.g. 'for"
            " <population> whose <column> is"
            " <value>'), or set cohort=\"<SQL predicate>\" in the goal's overrides",
        )
    fields = unread_in_fields(tokens, read, accounted | set(population))
    if fields:
        shown = "; ".join(f"{quote(w)} in {quote(f)}" for f, words in fields for w in words)
        raise ObjectiveError(
            f"the objective's fields select rows with {shown}, but no column, value or table"
            " of the warehouse was read from them, so the goal would be answered"
            " without them",
            fix="write each value as the warehouse holds it (e.g. '| <value> or <value> |'),"
            ' or set cohort="<SQL predicate>" in the goal\'s overrides',
        )
    others = frozenset(
        form
        for table in profile.tables
        for column in table.columns
        if (table.name, column.name) != outcome and column.name not in table.candidate_keys
        for part in name_tokens(column.name)
        if len(part) >= 4 and part.isalpha()
        for form in (part, stem(part))
    )
    clauses = unread_clauses(text, tokens, read, population, outcome, accounted, others)
    clauses += unread_restrictions(text, tokens, read, population, outcome, accounted)
    clauses += unread_times(text, tokens, read, population, outcome, accounted)
    clauses += unread_participles(text, tokens, read, population, outcome, accounted)
    clauses += unread_ordinals(text, tokens, read, outcome)
    if clauses:
        shown = "; ".join(quote(c) for c in clauses)
        raise ObjectiveError(
            f"the objective restricts the rows with {shown}, but no column, value or table"
            " of the warehouse was read from it, so the goal would be answered without it",
            fix="name the column and the value the rows must have (e.g. 'for <population>"
            " whose <column> is <value>'), or set cohort=\"<SQL predicate>\" in the goal's"
            " overrides",
        )


def _names_model(tokens: list[Token], k: int) -> bool:
    """Whether the word at ``k`` starts a compound naming the model ('the churn model', 'a
    churn prediction model'): what the model is about, not which rows."""
    for token in tokens[k + 1 : k + 4]:
        if token.lower in ARTEFACTS:
            return True
        if not token.is_word or token.lower in _FUNCTION:
            return False
    return False


_FUNCTION = frozenset({"the", "a", "an", "of", "for", "in", "on", "at", "by", "to", "from", "with"})


def _names_part(word: str, part: str) -> bool:
    """A word names a part of a column's name: the same stem, a silent final 'e' aside
    ('featured' ~ ``onFeature``, 'priced' ~ ``price_flag``)."""
    if word_match(word, part) == 2:
        return True
    a, b = stem(word), stem(part)
    return len(a) >= 4 and a.removesuffix("e") == b.removesuffix("e")


def unread_context(
    text: str,
    tokens: list[Token],
    contexts: list[tuple[int, int]],
    phrases: list[tuple[int, int]],
    accounted: set[str],
    names_numeric: Callable[[str], bool],
) -> list[Token]:
    """Capitalised words among the words before a comparison (``contexts``) that no phrase
    read, that name no numeric column and are not the population: 'Hispanic' of 'Hispanic
    respondents older than 40' over a warehouse without such a value."""
    found: list[Token] = []
    for token in tokens:
        if not token.is_word or not token.text[0].isupper():
            continue
        if not inside(token, contexts):
            continue
        if inside(token, phrases):
            continue
        before = text[: token.start].rstrip()
        if not before or before[-1] in ".!?:;(\"'|":
            continue  # a sentence's (or a segment's) first word
        lower = token.lower
        if lower in STOPWORDS or lower in METRIC_WORDS or lower in accounted:
            continue
        if names_numeric(lower) or lower.rstrip("s") in accounted:
            continue
        found.append(token)
    return found
