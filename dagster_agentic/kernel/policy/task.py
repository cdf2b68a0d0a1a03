"""The task: binary, multiclass or regression, from the words and the target column's nature.

The words give a hint (a quantity asked for, a category asked for, a yes/no question, or the
metric named); the target column decides: two values make a binary task whatever the words,
a categorical column with 3 to ``MAX_CLASSES`` values a multiclass one, a numeric column with
many values a regression. Tasks the kernel does not solve (ranking, forecasting a series over
time, clustering, multi-label, survival, anomaly detection without a label) are refused by name
before anything else is read, unless the word is a form of a class column's name ('survival'
of a yes/no ``survived``): then it names that outcome.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from dagster_agentic.errors import GoalError, ObjectiveError
from dagster_agentic.goals.objective import (
    BINARY_METRICS,
    MAX_CLASSES,
    MULTICLASS_METRICS,
    REGRESSION_METRICS,
    ClassValue,
    TaskType,
)
from dagster_agentic.kernel.policy.morphology import kinship
from dagster_agentic.kernel.policy.text import name_match, name_tokens, quote, tokenize, word_set
from dagster_agentic.warehouse.models import ColumnProfile, WarehouseProfile

SUPPORTED_TASKS = "binary classification, multiclass classification and regression"

# Quantities: asking to predict one of these is a regression.
QUANTITY_WORDS = word_set(
    """
    revenue revenues sales amount amounts spend spending price prices cost costs value
    valuation ltv clv arpu income wage wages salary salaries pay earnings demand volume
    volumes quantity quantities number count counts duration durations length time
    days hours minutes seconds weeks months years age weight height size area distance
    temperature fare fares charge charges bill bills consumption usage yield load tip tips
    total totals balance balances profit profits margin margins rent mileage turnover gmv
    basket score rating premium premiums claim claims loss losses throughput latency delay
    """
)
# Categories: asking which of these is a multiclass task.
CATEGORY_WORDS = word_set(
    """
    classify classifies classifying categorise categorize categorised categorized category
    categories class classes type types kind kinds tier tiers level levels grade grades
    group groups bucket buckets band bands genre genres species variety label grading
    """
)
_SCALE_WORDS = word_set("score scores rating ratings")
_YES_NO = word_set("whether which who if will won't would churn churns fraud default")
_MEASURE = {"how much", "how many", "how long", "how big", "how large", "how far", "how old"}

_OUT_OF_SCOPE: tuple[tuple[str, re.Pattern[str], bool], ...] = (
    (
        "ranking / recommendation",
        re.compile(
            r"\b(?:recommend\w*|recommender|learning[\s-]to[\s-]rank|ranking model|rank "
            r"(?:the )?(?:items|products|results|documents|listings|movies|songs)"
            r"|next[\s-]best[\s-](?:offer|action|product)|top[\s-]\d+ (?:items|products)"
            # 'rank' as the verb that opens the goal, and orderings asked for by their ends.
            r"|^\s*(?:please\s+)?(?:re-?)?rank\s+(?:the|our|all|each|every|these|my|your|their"
            r"|\w+s)\b|(?:to|we|then|and)\s+(?:re-?)?rank\s+(?:the|our|all|each|every|these"
            r"|\w+s)\b|from (?:the )?(?:best|highest|most|top|worst|lowest|least) to (?:the )?"
            r"(?:worst|lowest|least|bottom|best|highest|most|top)|in order of|ranked by)\b"
        ),
        False,
    ),
    (
        "time-series forecasting",
        re.compile(
            r"\b(?:time[\s-]?series|forecast\w*\b(?!\s+(?:which|whether|who|if)\b)"
            r"(?=.*\b(?:next|coming|future|upcoming|over time|(?:per|each|every) (?:day|week"
            r"|month|quarter|year)"
            r"|daily|weekly|monthly|quarterly|yearly|annual|horizon|trend)\b))"
        ),
        False,
    ),
    (
        "clustering / segmentation without a label",
        re.compile(
            r"\b(?:cluster\w*|segmentation|unsupervised|segment (?:\w+ ){0,2}into"
            r"|group (?:\w+ ){0,2}into (?:\d+|similar|segments|groups))\b"
        ),
        True,
    ),
    (
        "multi-label classification",
        re.compile(
            r"\b(?:multi[\s-]?label|(?:all|every|each of) (?:the )?(?:tags|labels|categories) "
            r"(?:that )?(?:apply|applies)|several tags|multiple (?:tags|labels))\b"
        ),
        False,
    ),
    (
        "survival / time-to-event",
        re.compile(
            r"\b(?:survival|hazard|time[\s-](?:to|until)[\s-](?:event|churn|failure|default|death"
            r"|sale|conversion|purchase|cancel\w*|renewal|repayment|attrition|lapse|exit)"
            r"|how long (?:until|before|till)|when (?:will|does|do) (?:\w+ ){1,3}"
            r"(?:churn|fail|leave|die|default|cancel|lapse|quit))\b"
        ),
        False,
    ),
    (
        "anomaly detection without a label",
        re.compile(r"\b(?:anomal\w*|outliers?|novelty detection|unusual behaviou?r)\b"),
        True,
    ),
)


@dataclass(frozen=True)
class TaskHint:
    """What the words (and the metric named) suggest, before the target is known."""

    task: TaskType | None
    reason: str
    # The metric fits only classification (accuracy: binary or multiclass), so the target is
    # never a quantity, even when the task between the two is left to the target column.
    classification: bool = False


def refuse_out_of_scope(text: str, profile: WarehouseProfile, has_target: bool) -> None:
    """Raise an :class:`ObjectiveError` naming the task when the text asks for one the kernel
    does not solve. Clustering and anomaly wording pass when a column of the warehouse is
    named by the same word (``is_anomaly``) or a target is given: then they have a label."""
    lower = text.lower()
    for name, pattern, label_saves in _OUT_OF_SCOPE:
        match = pattern.search(lower)
        if match is None:
            continue
        word = text[match.start() : match.end()]
        if label_saves and (has_target or _named_column(profile, word)):
            continue
        if _outcome_column(profile, word):
            continue  # 'survival' of a yes/no `survived` column: an outcome, not the task
        raise ObjectiveError(
            f"the objective asks for {name} ({quote(word)}), which is not supported; "
            f"supported tasks: {SUPPORTED_TASKS}",
            fix="phrase the goal as predicting one column per entity: a yes/no outcome "
            "('predict which customers will churn with 90% precision'), a category ('classify "
            "each order's shipping tier with 80% accuracy') or a quantity ('predict each "
            "house's sale price with an RMSE below 25,000')",
        )


def _outcome_column(profile: WarehouseProfile, word: str) -> bool:
    """Whether a single out-of-scope word ('survival', 'hazard') is a word form of a word of a
    binary or categorical column's name (``survived``, ``hazard_level``): then the warehouse
    holds it as an ordinary outcome to classify, and the goal asks for that. A phrase
    ('time to churn', 'how long until') asks for the task itself whatever the columns."""
    if len(word.split()) != 1 or not word.isalpha():
        return False
    return any(
        kinship(word.lower(), token)
        for table in profile.tables
        for column in table.columns
        if column.kind in {"text", "boolean", "numeric"}
        and 2 <= column.distinct_count <= MAX_CLASSES
        for token in name_tokens(column.name)
        if len(token) >= 4
    )


def _named_column(profile: WarehouseProfile, word: str) -> bool:
    head = word.split()[0]
    return any(
        name_match(head, column.name) for table in profile.tables for column in table.columns
    )


def task_hint(
    text: str,
    metric: str | None,
    override: TaskType | None,
    cohort: Sequence[tuple[int, int]] = (),
) -> TaskHint:
    """The task the words point at, or None when they leave it to the target column.

    Words inside ``cohort`` spans (conditions and cohort phrases: 'with an area above 500')
    say which rows, not what is predicted, so they give no hint."""
    if override is not None:
        return TaskHint(override, "overrides.task")
    if metric in REGRESSION_METRICS:
        return TaskHint("regression", f"the metric {metric}")
    if metric in MULTICLASS_METRICS - BINARY_METRICS:
        return TaskHint("multiclass_classification", f"the metric {metric}")
    if metric in BINARY_METRICS - MULTICLASS_METRICS:
        return TaskHint("binary_classification", f"the metric {metric}")
    classification = metric in BINARY_METRICS | MULTICLASS_METRICS
    words = [
        t.lower.removesuffix("'s").removesuffix("’s")
        for t in tokenize(text)
        if t.is_word and not any(a <= t.start < b for a, b in cohort)
    ]
    pairs = {f"{a} {b}" for a, b in itertools.pairwise(words)}
    measure = sorted(pairs & _MEASURE)
    if measure:
        return TaskHint("regression", f"the words '{measure[0]}'")
    category = next(
        (w for i, w in enumerate(words) if w in CATEGORY_WORDS and not _one_class(words, i)),
        None,
    )
    if category is not None:
        return TaskHint("multiclass_classification", f"the word '{category}'")
    quantity = next((w for w in words if w in QUANTITY_WORDS), None)
    yes_no = next((w for w in words if w in _YES_NO), None)
    # 'score ... accuracy 0.5': a metric of classes makes a score on a scale (1 to 5) its
    # classes; 'revenue ... accuracy' stays a quantity, and the metric an error.
    scale = quantity in _SCALE_WORDS and classification
    if quantity is not None and yes_no is None and not scale:
        return TaskHint("regression", f"the word '{quantity}'")
    if classification:
        return TaskHint(None, f"the metric {metric}", classification=True)
    return TaskHint(None, "the words name no quantity or category")


# 'autism as the positive class', 'F1 for the relapse class', 'recall on the good-health
# class': one class of the outcome is named, which asks for no category.
_CLASS_ROLES = word_set("positive negative minority majority rare event target")
_PER_CLASS = word_set("f1 recall precision sensitivity specificity")


def _one_class(words: list[str], i: int) -> bool:
    if words[i] not in {"class", "classes"}:
        return False
    before = words[max(0, i - 5) : i]
    return bool(before) and (before[-1] in _CLASS_ROLES or bool(set(before) & _PER_CLASS))


def decide_task(column: ColumnProfile, hint: TaskHint, where: str) -> tuple[TaskType, str]:
    """The task the target column allows, with its rationale line.

    Two values: binary. Text or boolean with 3..MAX_CLASSES values: multiclass. Numeric:
    regression with more than MAX_CLASSES values; with fewer, the words decide, and without
    a hint a column of at most 10 whole numbers is read as classes (a 1-5 rating), any other
    as a quantity.
    """
    if hint.task == "binary_classification" and not column.is_binary:
        raise GoalError(
            f"the target {where} is not binary: it has {column.distinct_count} distinct values, "
            "a binary classification target needs 2",
            fix="choose a column with two distinct values, or set task= to "
            "multiclass_classification or regression in the goal's overrides",
        )
    if column.is_binary:
        return "binary_classification", _line("binary_classification", column, where, hint)
    if column.kind == "numeric":
        if column.distinct_count > MAX_CLASSES or hint.task == "regression":
            return "regression", _line("regression", column, where, hint)
        whole = [v.value for v in column.values if isinstance(v.value, int | float)]
        small = bool(whole) and len(whole) <= 10 and all(float(v).is_integer() for v in whole)
        if hint.task == "multiclass_classification" or (hint.task is None and small):
            return "multiclass_classification", _line(
                "multiclass_classification", column, where, hint
            )
        return "regression", _line("regression", column, where, hint)
    if column.kind in {"text", "boolean"} and 3 <= column.distinct_count <= MAX_CLASSES:
        if hint.task == "regression":
            raise GoalError(
                f"the target {where} is categorical ({column.distinct_count} values), but the "
                f"objective asks for a quantity ({hint.reason})",
                fix="name a numeric target, or set task='multiclass_classification' in the "
                "goal's overrides",
            )
        return "multiclass_classification", _line("multiclass_classification", column, where, hint)
    raise GoalError(
        f"the target {where} ({column.data_type}, {column.distinct_count} distinct values) is "
        f"neither binary, nor categorical with at most {MAX_CLASSES} values, nor numeric",
        fix="choose a binary, categorical or numeric column as the target (overrides.target)",
    )


def _line(task: TaskType, column: ColumnProfile, where: str, hint: TaskHint) -> str:
    nature = (
        "two values"
        if task == "binary_classification"
        else f"{column.distinct_count} {'numeric ' if column.kind == 'numeric' else ''}values"
    )
    return f"task {task}: the target {where} has {nature}; {hint.reason}"


def class_values(column: ColumnProfile, where: str) -> tuple[ClassValue, ...]:
    """A multiclass target's values, in model class order: ascending by value (numbers by
    size, text case-insensitively), so that the order survives drifting counts."""
    listed = column.values or column.top_values
    values = [v.value for v in listed if v.value is not None]
    if len(values) < min(column.distinct_count, MAX_CLASSES) or len(values) < 3:
        raise GoalError(
            f"cannot list the classes of {where}: its profile lists {len(values)} of its "
            f"{column.distinct_count} values",
            fix="profile the warehouse again",
        )
    classes: list[ClassValue] = []
    for value in values:
        if isinstance(value, float):
            classes.append(int(value) if value.is_integer() else str(value))
        else:
            classes.append(value)
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in classes):
        return tuple(sorted(classes, key=float))
    return tuple(sorted(classes, key=lambda v: (str(v).lower(), str(v))))
