"""Interpret a goal's objective text into a structured :class:`Objective`, without an LLM.

The rules are deterministic: the same text, profile and overrides always give the same
objective, and every decision leaves one readable line in ``Objective.rationale``.

The text is read in this order, each step removing the words it explains so that they
cannot be read twice: tasks the kernel does not solve are refused; the metric's words ('R²',
'macro-F1') and a unit ('in minutes') are set aside, so they never qualify a cohort; the
cohort's numeric and time conditions ('older than 60', 'in December', 'more than 13%
alcohol') and its category phrases ('for trial members') are found, then the spans the data
itself recognises (:mod:`dagster_agentic.kernel.policy.claims`: 'leaving out the ones from
Torgersen', 'United Airlines flights'); the metric and threshold are read from what is left;
the nouns that name the population ('members', 'each house') are set aside; the remaining
words name the target; the target column's nature settles the task, its classes or positive
value, and the default metric; then the entity, the cutoff and the cohort clauses are
resolved against the warehouse.

A phrase that only describes the outcome is no cohort: one naming the target column ('for
churned customers'), one whose head is the target and whose other words name nothing in the
warehouse ('caravan purchase propensity'), and a span of the target's own values. Every other
phrase becomes a clause or an error, and so does a phrase that spells one of the target's
values ('minute maid purchases' of a brand target: the class, read as the positive value).
Last, a capitalised word after a cohort word that nothing claimed and no table, column or
value is called ('customers from Narnia') is an error, and so is a number that neither the
metric nor a cohort condition reads ('workers whose year is 2009'): the objective is never
read as a broader question than the one asked.
"""

from __future__ import annotations

import re

from dagster_agentic.errors import GoalError, ObjectiveError
from dagster_agentic.goals.objective import ClassValue, Objective
from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.kernel.policy.asides import (
    aside_spans,
    aside_words,
    class_lists,
    unnamed_classes,
)
from dagster_agentic.kernel.policy.categories import norm
from dagster_agentic.kernel.policy.claims import (
    ValuePhrase,
    unit_spans,
    value_phrases,
)
from dagster_agentic.kernel.policy.cohort import resolve_cohort
from dagster_agentic.kernel.policy.conditions import Condition, find_conditions
from dagster_agentic.kernel.policy.entity import find_cutoff, refuse_finer_entity, resolve_entity
from dagster_agentic.kernel.policy.inputs import input_spans
from dagster_agentic.kernel.policy.language import refuse_foreign
from dagster_agentic.kernel.policy.metric import metric_spans, read_metric, settle_metric
from dagster_agentic.kernel.policy.morphology import kinship
from dagster_agentic.kernel.policy.naming import (
    asked_measures,
    asked_words,
    phrasal_verbs,
)
from dagster_agentic.kernel.policy.nouns import (
    column_modifiers,
    column_parts,
    content_words,
    counted_names,
    noun_forms,
    population_words,
    warehouse_nouns,
    with_table_stems,
)
from dagster_agentic.kernel.policy.outcome_words import (
    UNIT,
    after_number,
    counted,
    name_nouns,
    name_parts,
    plain,
    qualifiers,
    refuse_unread_numbers,
    written_names,
)
from dagster_agentic.kernel.policy.phrases import Phrase, find_phrases
from dagster_agentic.kernel.policy.population_names import names_population
from dagster_agentic.kernel.policy.positive import positive_value
from dagster_agentic.kernel.policy.ranges import numeric_namer
from dagster_agentic.kernel.policy.spelling import correct_spelling
from dagster_agentic.kernel.policy.target import names_column, resolve_target
from dagster_agentic.kernel.policy.task import (
    class_values,
    decide_task,
    refuse_out_of_scope,
    task_hint,
)
from dagster_agentic.kernel.policy.text import (
    STOPWORDS,
    Token,
    inside,
    name_match,
    name_tokens,
    quote,
    tokenize,
    word_set,
)
from dagster_agentic.kernel.policy.unread import refuse_unread
from dagster_agentic.kernel.policy.year_names import names_year
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile, WarehouseProfile

_PREPOSITIONS = word_set(
    """in at from of on with for by to into over under among within without out than who
    whose where that which aged older younger born based located"""
)


def interpret_objective(
    text: str, profile: WarehouseProfile, overrides: GoalOverrides
) -> Objective:
    """Resolve ``text`` against ``profile``; explicit ``overrides`` win over the text.

    Raises :class:`ObjectiveError` when the text cannot be interpreted and :class:`GoalError`
    when an override does not fit the warehouse; each error carries a ``fix``.
    """
    if not text.strip():
        raise ObjectiveError(
            "the objective is empty",
            fix="describe the goal, e.g. 'Optimise the churn model for 95% precision'",
        )
    refuse_foreign(text)
    text, corrections = correct_spelling(text, profile)
    refuse_out_of_scope(text, profile, overrides.target is not None)
    tokens = tokenize(text)
    nouns = with_table_stems(warehouse_nouns(profile), tokens, profile)
    fixed = metric_spans(text) + unit_spans(text)
    # The inputs a user lists ('from its brand, body style and mileage') name no cohort and
    # no outcome: read as such, like the metric's words.
    inputs = input_spans(text, fixed)
    fixed = fixed + inputs
    # Metric and unit words never qualify a cohort: 'employee with an R² of 0.8'.
    masked = [Token("§", "§", t.start, t.end) if inside(t, fixed) else t for t in tokens]
    values: list[ValuePhrase] = []
    if overrides.cohort is not None:
        phrases: list[Phrase] = []
        conditions: list[Condition] = []
    else:
        names_numeric = numeric_namer(profile)
        conditions = [
            c
            for c in find_conditions(text, metric_spans(text), names_numeric)
            if not any(a <= c.core < b for a, b in inputs)
        ]
        phrases = [
            p
            for p in find_phrases(text, masked, nouns)
            if not any(_within(p, c) for c in conditions)
        ]
        # A condition's context words ('out of JFK in December') may be a value of their own.
        taken = [(p.start, p.end) for p in phrases] + [(c.core, c.end) for c in conditions]
        values = value_phrases(text, masked, profile, taken + fixed, nouns.population)
        phrases = sorted([*phrases, *(v.phrase for v in values)], key=lambda p: p.start)
    claimed = [(c.start, c.end) for c in conditions]
    reading = read_metric(text, overrides, claimed)
    spans = [(p.start, p.end) for p in phrases] + claimed + fixed
    hint = task_hint(
        text, reading.metric, overrides.task, [(p.start, p.end) for p in phrases] + claimed
    )
    in_spans = [t for t in tokens if any(a <= t.start < b for a, b in spans)]
    free = [t for t in tokens if t not in in_spans]
    # The unit of a number ('5-year wage', 'within 30 days') is a window, not the outcome.
    free = [t for t in free if not (UNIT.fullmatch(t.lower) and after_number(t, tokens))]
    population = population_words(free, nouns)
    named_parts = column_parts(profile)
    modifying = column_modifiers(free, population, profile, named_parts)  # 'the home side'
    population -= modifying
    quantities = {plain(t) for i, t in enumerate(free) if counted(free, i)}
    words = content_words(
        [t for t in free if plain(t) not in population],
        nouns.population - quantities - modifying,
    )
    words += [w for w in counted_names(quantities, named_parts) if w not in words]
    words = [*written_names(text, spans, profile), *words, *name_parts(free, profile, words)]
    # 'how heavy' asks for a weight, 'turned down' is one verb: both may name the outcome.
    lowered = [plain(t) for t in free if t.is_word]
    words += [w for w in [*asked_measures(lowered), *phrasal_verbs(lowered)] if w not in words]
    notes: list[str] = [
        f"inputs {quote(text[a:b].strip())}: what the model may learn from, no cohort and no "
        "outcome"
        for a, b in inputs
    ]
    weak = name_nouns([t for t in free if plain(t) not in population])
    # Of the cohort phrases' words, a bare modifier of the population noun ('minute maid
    # purchases') may name the outcome's class; a phrase with a preposition ('stores in the
    # South region') names a cohort, so its words are tried last; so does a phrase whose
    # noun names a column ('Test case' of a column ``case``): it reads that column.
    modifiers = [
        (p.start, p.end)
        for p in phrases
        if not _PREPOSITIONS & _lower_words(p.text) and p.hint is None
    ]
    first = content_words([t for t in in_spans if inside(t, modifiers)])
    # A phrase read on an option's row ('when Yoplait is promoted') names no outcome.
    rows = [(p.start, p.end) for p in phrases if p.row is not None]
    # Nor does the noun right before a comparison ('income' of 'with an income above 40k'):
    # it names the column compared; words further back ('honey_kg of keepers older than
    # 40') may still name the outcome.
    compared = [
        (_noun_before(tokens, c.core if c.core >= 0 else c.start), c.end) for c in conditions
    ]
    outcome_spans = [t for t in in_spans if not inside(t, [*rows, *fixed, *compared])]
    extra = [*first, *(w for w in content_words(outcome_spans) if w not in first)]
    # The noun a negation leaves out ('patients outside an HMO die') names rows, never the
    # outcome: 'HMO' of plano_hmo must not outbid 'die'.
    left_out = {p.words[1].lower() for p in phrases if len(p.words) > 1 and _negating(p.words[0])}
    extra = [w for w in extra if w not in left_out]
    backing = [g for g in name_nouns(outcome_spans, anywhere=True) if g not in weak]
    sequence = content_words(free, frozenset())
    target = resolve_target(
        profile,
        words,
        overrides.target,
        notes,
        extra,
        hint,
        weak,
        len(first),
        backing,
        sequence,
        qualifiers=qualifiers(free),
        aside=aside_words(text, aside_spans(text)),
        asked=asked_words(text),
        text=text,
        numbers=[
            m.group(0)
            for m in re.finditer(r"(?<![\d.])\d{2,4}(?![\d.])", text)
            if not any(a <= m.start() < b for a, b in fixed)
        ],
    )
    label = _table(profile, target.table)
    column = label.column(target.column)
    assert column is not None  # the target comes from the profile
    where = f"{label.name}.{column.name}"
    task, task_line = decide_task(column, hint, where)
    notes.insert(0, task_line)
    classes: tuple[ClassValue, ...] = ()
    positive: ClassValue = 1
    if task == "binary_classification":
        # The outcome's words inside a phrase ('patients in the registry die') name it too.
        named = [w for w in extra if w not in words and names_column(w, column)]
        positive, reason = positive_value(column, [*words, *named], text)
        notes.append(f"positive class {positive!r}: {reason}")
    elif task == "multiclass_classification":
        unnamed = unnamed_classes(text, column)
        if unnamed and overrides.target is None:
            shown_values = ", ".join(sorted(str(v) for v in class_values(column, where))[:8])
            raise ObjectiveError(
                f"the objective lists the classes {', '.join(map(quote, unnamed))}, but the"
                f" target read, {where}, holds {shown_values}: none of them",
                fix="name the column whose values are those classes, or set"
                " target='table.column' in the goal's overrides",
            )
        classes = class_values(column, where)
        shown = ", ".join(repr(c) for c in classes[:12]) + (", ..." if len(classes) > 12 else "")
        notes.append(f"classes {shown}: every value of {where}, in ascending order")
    else:
        notes.append(f"regression on {where} ({column.data_type}), read as DOUBLE")
    metric, threshold = settle_metric(reading, task, notes)
    # "for churned customers" describes the label, not a cohort; so does a phrase whose
    # head is the target ('caravan purchase') when its other words match nothing in the data,
    # and a span of the target's own values.
    outcome = {(label.name, target.column)}
    listed = class_lists(text, column)
    notes.extend(f"{quote(text[a:b])} lists the classes of {where}: no cohort" for a, b in listed)
    spans = spans + listed
    phrases = [
        p
        for p in phrases
        if not any(a <= p.start < b for a, b in listed)
        and not _names_column(p, target.column)
        and not _describes_target(p, target.column, profile)
        and not any(v.phrase == p and v.columns <= outcome for v in values)
        and not _spells_value(p, column)
        and not names_population(p, profile, column, notes)
    ]

    conditions = [
        c
        for c in conditions
        if not any(a <= c.core < b for a, b in listed)
        and not _defines_target(text, c, target.column, notes)
        and not names_year(c, text, target.column, profile, notes)
    ]
    entity_words = words + sorted(population)
    entity = resolve_entity(
        profile,
        label,
        target.column,
        entity_words,
        overrides.entity_table,
        notes,
        population=sorted(population),
        written=[plain(t) for t in tokens if t.is_word],
    )
    if overrides.entity_table is None and overrides.target is None:  # else the user decided
        refuse_finer_entity(profile, entity.table, f"{target.table}.{target.column}", text)
    cutoff = find_cutoff(
        label, notes, label_key=entity.label_key, label_is_entity=entity.table == label.name
    )
    entity_table = _table(profile, entity.table)
    exclude = target.column if entity.table == label.name else None
    cohort = resolve_cohort(
        phrases,
        entity_table,
        exclude,
        overrides.cohort,
        notes,
        conditions=conditions,
        profile=profile,
        label=(label.name, target.column),
        population=frozenset(population) | nouns.population,
        text=text,
    )
    if overrides.cohort is None:
        read = [(p.start, p.end) for p in phrases] + spans
        notes.extend(
            refuse_unread_numbers(text, reading.untied, read, entity_table, label, target.column)
        )
        accounted = set(population) | {
            f
            for name in (label.name, entity.table)
            for w in name_tokens(name)
            for f in noun_forms(w)
        }
        refuse_unread(
            text,
            tokens,
            read,
            profile,
            (label.name, target.column),
            accounted,
            cohort.sql,
            entity.table,
            contexts=(
                [(c.start, c.core) for c in conditions if c.kind == "range"],
                [(p.start, p.end) for p in phrases],
                names_numeric,
            ),
            population=frozenset(population) | nouns.population,
        )
    notes.extend(c.note() for c in corrections)
    return Objective(
        task=task,
        entity_table=entity.table,
        entity_key=entity.key,
        label_table=label.name,
        label_key=entity.label_key,
        target_column=target.column,
        positive_value=positive,
        classes=classes,
        cutoff_column=cutoff,
        metric=metric,
        threshold=threshold,
        cohort_sql=cohort.sql,
        cohort_description=cohort.description,
        rationale=tuple(_ordered(notes)),
    )


def _within(phrase: Phrase, condition: Condition) -> bool:
    """Whether a phrase is part of a condition: it overlaps the comparison itself, or its
    words are the condition's ('houses with a lot area between ...'); sharing only the head
    noun ('fiber optic customers older than 65') keeps both."""
    if condition.core < phrase.end and phrase.start < condition.end:
        return True
    overlaps = condition.start < phrase.end and phrase.start < condition.end
    context = {w.lower() for w in condition.context}
    return overlaps and any(w.lower() in context for w in phrase.words)


def _ordered(notes: list[str]) -> list[str]:
    """Rationale lines in field order: task, metric, threshold, target, class, entity, ..."""
    order = ("task ", "metric ", "threshold ", "also mentioned", "target ")
    first = [n for prefix in order for n in notes if n.startswith(prefix)]
    return first + [n for n in notes if n not in first]


def _names_column(phrase: Phrase, column: str) -> bool:
    """A phrase word names the target, whole or as a part of a compound ('low-birth-weight
    cases' of ``low``)."""
    parts = [p for word in phrase.words for p in word.split("-") if "-" in word]
    if any(name_match(word, column) == 2 for word in [*phrase.words, *parts]):
        return True
    # 'well-segmented cells' of ``segmentation``: a part that is a form of a word of the name.
    return any(kinship(part.lower(), t) for part in parts for t in name_tokens(column))


def _describes_target(phrase: Phrase, column: str, profile: WarehouseProfile) -> bool:
    """A phrase whose head names the target ('caravan purchase', 'three cultivars') and
    whose other words name nothing in the warehouse (no table, column or value) describes
    the outcome: a cohort phrase needs a head in the data. A capitalised name among the
    words ('Portugese guests' of ``IsRepeatedGuest``) picks rows instead: left to the cohort,
    which reads it or refuses."""
    heads = [w for w in (phrase.head, phrase.hint) if w]
    if not any(name_match(w, column) == 2 for w in heads):
        return False
    if any(w[:1].isupper() and not w.isupper() for w in phrase.words if w.lower() not in heads):
        return False  # an initialism ('US' of 'salary in US dollars') may be a unit's
    return not any(_in_data(word, profile) for word in phrase.words)


_CLOSES = re.compile(r"(?:[A-Za-z%°$€£/]+\.?\s*){0,2}\)")  # ' kg)', ' mg/dl)', ')'


def _defines_target(text: str, condition: Condition, column: str, notes: list[str]) -> bool:
    """A condition in parentheses right after words naming the target ('a low birth weight
    baby (under 2.5 kg)' of ``low``; 'late deliveries (over 30 minutes)' of ``late``) says
    what the outcome means, not which rows: noted, and no cohort."""
    before = text[: condition.start].rstrip()
    after = text[condition.end :].lstrip()
    if not before.endswith("(") or not _CLOSES.match(after):
        return False
    lead = [t for t in tokenize(before[:-1]) if t.is_word][-5:]
    if not any(name_match(t.lower, column) == 2 or kinship(t.lower, column) for t in lead):
        return False
    notes.append(
        f"{quote(condition.text)} in parentheses defines the outcome {column}, not a cohort"
    )
    return True


def _noun_before(tokens: list[Token], core: int) -> int:
    """Where the word right before a comparison starting at ``core`` starts (``core`` when
    there is none)."""
    before = [t for t in tokens if t.end <= core and t.is_word]
    return before[-1].start if before else core


def _negating(word: str) -> bool:
    """A word that leaves out the noun after it ('outside an HMO'); not 'not', which may
    negate the outcome itself ('not readmitted')."""
    return word.lower() in {"outside", "excluding", "except", "without"}


def _spells_value(phrase: Phrase, column: ColumnProfile) -> bool:
    """A phrase whose words are one of the target's own values ('minute maid purchases' of a
    brand target) names the outcome's class, not a cohort: the positive class is read from
    the same words."""
    written = norm(" ".join(phrase.words))
    return bool(written) and any(
        isinstance(v.value, str) and norm(v.value) == written
        for v in (column.values or column.top_values)
    )


def _in_data(word: str, profile: WarehouseProfile) -> bool:
    lower = word.lower()
    if lower in STOPWORDS or len(lower) < 2:
        return False
    for table in profile.tables:
        if name_match(lower, table.name) == 2:
            return True
        for column in table.columns:
            if name_match(lower, column.name) == 2:
                return True
            for value in column.values or column.top_values:
                if isinstance(value.value, str) and lower in norm(value.value).split():
                    return True
    return False


def _lower_words(text: str) -> set[str]:
    return {t.lower for t in tokenize(text) if t.is_word}


def _table(profile: WarehouseProfile, name: str) -> TableProfile:
    table = profile.table(name)
    if table is None:  # every name comes from the profile itself
        raise GoalError(f"table {name!r} is not in the warehouse profile")
    return table
