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
phrase becomes a clause or an error. Last, a capitalised word after a cohort word that nothing
claimed and no table, column or value is called ('customers from Narnia') is an error: the
objective is never read as a broader question than the one asked.
"""

from __future__ import annotations

from collections.abc import Callable

from dagster_agentic.errors import GoalError, ObjectiveError
from dagster_agentic.goals.objective import MAX_CLASSES, ClassValue, Objective
from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.kernel.policy.categories import norm
from dagster_agentic.kernel.policy.claims import (
    ValuePhrase,
    unit_spans,
    unread_names,
    value_phrases,
)
from dagster_agentic.kernel.policy.cohort import resolve_cohort
from dagster_agentic.kernel.policy.conditions import Condition, find_conditions
from dagster_agentic.kernel.policy.entity import find_cutoff, resolve_entity
from dagster_agentic.kernel.policy.metric import metric_spans, read_metric, settle_metric
from dagster_agentic.kernel.policy.phrases import Nouns, Phrase, find_phrases
from dagster_agentic.kernel.policy.target import positive_value, resolve_target
from dagster_agentic.kernel.policy.task import (
    class_values,
    decide_task,
    refuse_out_of_scope,
    task_hint,
)
from dagster_agentic.kernel.policy.text import (
    METRIC_WORDS,
    PLAN_NOUNS,
    POPULATION_NOUNS,
    STOPWORDS,
    Token,
    name_match,
    name_tokens,
    quote,
    tokenize,
)
from dagster_agentic.warehouse.models import TableProfile, WarehouseProfile

_TABLE_PREFIXES = ("dim_", "tbl_", "fact_", "fct_", "stg_", "raw_", "src_", "t_")
# A noun right after one of these names the population: "which shipments", "each house".
_POPULATION_LEADS = frozenset({"which", "each", "every", "per", "whose", "all"})
# ... and after 'which' only when a verb follows: 'which shipments will', not 'which contract'.
_VERBS_AFTER = frozenset(
    {
        "will",
        "would",
        "are",
        "is",
        "were",
        "was",
        "can",
        "could",
        "might",
        "may",
        "should",
        "do",
        "does",
        "did",
        "have",
        "has",
        "to",
        "that",
        "who",
    }
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
    refuse_out_of_scope(text, profile, overrides.target is not None)
    tokens = tokenize(text)
    nouns = warehouse_nouns(profile)
    fixed = metric_spans(text) + unit_spans(text)
    # Metric and unit words never qualify a cohort: 'employee with an R² of 0.8'.
    masked = [Token("§", "§", t.start, t.end) if _inside(t, fixed) else t for t in tokens]
    values: list[ValuePhrase] = []
    if overrides.cohort is not None:
        phrases: list[Phrase] = []
        conditions: list[Condition] = []
    else:
        conditions = find_conditions(text, metric_spans(text), _numeric_namer(profile))
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
    hint = task_hint(text, reading.metric, overrides.task)

    spans = [(p.start, p.end) for p in phrases] + claimed + fixed
    in_spans = [t for t in tokens if any(a <= t.start < b for a, b in spans)]
    free = [t for t in tokens if t not in in_spans]
    population = population_words(free, nouns)
    words = content_words([t for t in free if _plain(t) not in population], nouns.population)
    notes: list[str] = []
    target = resolve_target(profile, words, overrides.target, notes, content_words(in_spans), hint)
    label = _table(profile, target.table)
    column = label.column(target.column)
    assert column is not None  # the target comes from the profile
    where = f"{label.name}.{column.name}"
    task, task_line = decide_task(column, hint, where)
    notes.insert(0, task_line)
    classes: tuple[ClassValue, ...] = ()
    positive: ClassValue = 1
    if task == "binary_classification":
        positive, reason = positive_value(column, words)
        notes.append(f"positive class {positive!r}: {reason}")
    elif task == "multiclass_classification":
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
    phrases = [
        p
        for p in phrases
        if not _names_column(p, target.column)
        and not _describes_target(p, target.column, profile)
        and not any(v.phrase == p and v.columns <= outcome for v in values)
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
    )
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
    )
    if overrides.cohort is None:
        read = [(p.start, p.end) for p in phrases] + spans
        unread = unread_names(text, tokens, read, profile)
        if unread:
            shown = ", ".join(quote(t.text) for t in unread)
            raise ObjectiveError(
                f"the objective names {shown} where a cohort is written, but no value, "
                f"column or table of the warehouse is called that, so the cohort cannot be "
                "read",
                fix=f'write the value as {entity.table} holds it, or set cohort="<SQL '
                "predicate>\" in the goal's overrides",
            )
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


def warehouse_nouns(profile: WarehouseProfile) -> Nouns:
    """Population nouns (the list plus each table's name, singular and plural) and the nouns
    that name a column (the words of category column names: 'contract', 'department')."""
    population = set(POPULATION_NOUNS)
    columns = set(PLAN_NOUNS)
    for table in profile.tables:
        name = table.name.lower()
        for prefix in _TABLE_PREFIXES:
            name = name.removeprefix(prefix)
        parts = name_tokens(name)
        if len(parts) == 1:
            forms = _forms(parts[0])
            if table.row_count and any(r.child_table == table.name for r in profile.relationships):
                columns |= forms  # a parent table ('departments') names what it describes
            population |= forms
        for column in table.columns:
            if column.kind not in {"text", "boolean"} or column.name in table.candidate_keys:
                continue
            if column.distinct_count > MAX_CLASSES:
                continue
            words = [w for w in name_tokens(column.name) if len(w) >= 3 and w not in STOPWORDS]
            if len(words) == 1:
                columns |= _forms(words[0])
                population -= _forms(words[0])
            else:
                columns |= {w for w in words if w not in POPULATION_NOUNS}
    for table in profile.tables:
        for link in profile.parents_of(table.name):
            parent = profile.table(link.parent_table)
            if parent is not None:
                parts = name_tokens(parent.name)
                if parts:
                    columns |= _forms(parts[-1])
    population -= columns - POPULATION_NOUNS
    return Nouns(frozenset(population), frozenset(columns))


def _forms(word: str) -> set[str]:
    """A noun's singular and plural: 'house' <-> 'houses', 'category' <-> 'categories'."""
    forms = {word}
    if word.endswith("ies"):
        forms.add(word[:-3] + "y")
    elif word.endswith(("ses", "xes", "ches", "shes")):
        forms.add(word[:-2])
    elif word.endswith("s") and not word.endswith("ss"):
        forms.add(word[:-1])
    elif word.endswith("y"):
        forms.add(word[:-1] + "ies")
    else:
        forms.add(word + "s")
    return forms


def _plain(token: Token) -> str:
    return token.lower.removesuffix("'s").removesuffix("’s")


def population_words(tokens: list[Token], nouns: Nouns) -> set[str]:
    """The words that name the population, not the outcome: known population nouns, and the
    noun after 'which'/'each'/... ('which shipments', "each order's")."""
    found: set[str] = set()
    for i, token in enumerate(tokens):
        word = _plain(token)
        if not token.is_word:
            continue
        after_lead = i > 0 and tokens[i - 1].lower in _POPULATION_LEADS
        if tokens[i - 1].lower == "which" if i > 0 else False:
            after_lead = i + 1 < len(tokens) and tokens[i + 1].lower in _VERBS_AFTER
        if word in nouns.population or (after_lead and word not in STOPWORDS | METRIC_WORDS):
            found.add(word)
    return found


def content_words(tokens: list[Token], population: frozenset[str] = POPULATION_NOUNS) -> list[str]:
    """Words that may name the outcome: no function words, metric words or population nouns."""
    words: list[str] = []
    for token in tokens:
        word = _plain(token)
        if (
            token.is_word
            and len(word) >= 3
            and word not in STOPWORDS
            and word not in METRIC_WORDS
            and word not in population
            and word not in words
        ):
            words.append(word)
    return words


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
    return any(name_match(word, column) == 2 for word in phrase.words)


def _describes_target(phrase: Phrase, column: str, profile: WarehouseProfile) -> bool:
    """A phrase whose head names the target ('caravan purchase', 'three cultivars') and
    whose other words name nothing in the warehouse (no table, column or value) describes
    the outcome: a cohort phrase needs a head in the data."""
    heads = [w for w in (phrase.head, phrase.hint) if w]
    if not any(name_match(w, column) == 2 for w in heads):
        return False
    return not any(_in_data(word, profile) for word in phrase.words)


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


def _inside(token: Token, spans: list[tuple[int, int]]) -> bool:
    return any(a <= token.start < b for a, b in spans)


def _numeric_namer(profile: WarehouseProfile) -> Callable[[str], bool]:
    """Whether a word names a numeric column (stem of a name part): 'alcohol' ~ alcohol."""
    names = [c.name for t in profile.tables for c in t.columns if c.kind == "numeric"]

    def names_numeric(word: str) -> bool:
        lower = word.lower()
        if lower in STOPWORDS or lower in METRIC_WORDS:
            return False
        return any(name_match(lower, name) == 2 for name in names)

    return names_numeric


def _table(profile: WarehouseProfile, name: str) -> TableProfile:
    table = profile.table(name)
    if table is None:  # every name comes from the profile itself
        raise GoalError(f"table {name!r} is not in the warehouse profile")
    return table
