"""What success is: the metric and its threshold, read from an objective's words.

Scores (precision, R², accuracy, ...) take a percentage or a fraction; errors (RMSE, MAE) take
a number in the target's own unit, written any way people write amounts ('25,000', '$25k',
'3 days'). The metric is read before the target, so it may name no metric yet: the task decides
the default then (:func:`settle_metric`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar, get_args

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.goals.objective import TASK_METRICS, UNBOUNDED_METRICS, Metric
from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.kernel.policy.metric_names import (
    METRIC_PATTERNS,
    SAID_METRICS,
    UNSUPPORTED_METRICS,
)
from dagster_agentic.kernel.policy.numbers import Number, find_numbers
from dagster_agentic.kernel.policy.text import quote
from dagster_agentic.kernel.policy.threshold_words import frame_spans

T = TypeVar("T")
SUPPORTED = ", ".join(get_args(Metric))
_EXAMPLE = "'Optimise the churn model for 95% precision'"

# A parenthesised list of values ('(bottom 25%, mid 50% or top 25%)') names classes: its
# numbers are parts of the values, not thresholds.
_VALUE_LIST = re.compile(r"\(([^()]*?(?:,|\bor\b|\band\b|/)[^()]*?)\)")
# '(0.5 or more)', '(80% or better)': a bound in brackets, a threshold rather than a list.
_BRACKETED_BOUND = re.compile(
    r"\(\s*\d+(?:\.\d+)?\s*%?\s+or\s+(?:more|better|higher|above|greater|less|lower|below|"
    r"fewer|under)\s*\)"
)
_MAX_GAP = 30  # characters between a number and the metric words it belongs to
_BEFORE_METRIC = re.compile(
    r"^[\s\-]*(?:or\s+(?:higher|better|more|above|greater|lower|less|below)\s+)?"
    r"(?:(?:of|in|on)\s+(?:the\s+)?)?$"
)


DEFAULT_METRICS: dict[str, tuple[Metric, float]] = {
    "regression": ("r2", 0.5),
    "multiclass_classification": ("macro_f1", 0.5),
}
"""The goal when the text names no metric: a regression must explain at least half the
target's variance, a multiclass model must reach a macro-F1 of 0.5 (every class counts the
same). A binary goal has no default: which errors matter (false alarms or misses) is the
user's to say, so it is asked for."""


@dataclass(frozen=True)
class _Span:
    start: int
    end: int


@dataclass(frozen=True)
class _Mention(_Span):
    metric: Metric


@dataclass(frozen=True)
class _Reading:
    """Metric mentions and numbers of an objective, each number tied to a mention or not."""

    mentions: tuple[_Mention, ...]
    tied: tuple[tuple[Number, _Mention], ...]
    untied: tuple[Number, ...]
    apart: bool = False  # the threshold was said apart from its metric (:func:`_said_apart`)


@dataclass(frozen=True)
class MetricReading:
    """What the text says about success; ``metric`` is None when it names no metric.

    ``untied`` are the numbers no metric claims and no cohort condition read: the reader
    must account for each (a value of a cohort phrase) or refuse the objective."""

    metric: Metric | None
    threshold: float | None
    notes: tuple[str, ...]
    untied: tuple[Number, ...] = ()


def metric_spans(text: str) -> list[tuple[int, int]]:
    """Where the text names a metric (so a comparison right after it is the threshold), and
    the words that frame a number as a threshold or ask how good a model must be ('with 0.7
    as the bar', 'a recall of 0.75 would be good', 'how well'; :func:`frame_spans`): they
    say how good is good enough, never the outcome or a cohort."""
    lower = text.lower()
    spans = [(m.start, m.end) for m in _mentions(lower)]
    return sorted([*spans, *frame_spans(text)])


def read_metric(
    text: str, overrides: GoalOverrides, claimed: Sequence[tuple[int, int]] = ()
) -> MetricReading:
    """The metric and threshold the text (or the overrides) name, with one line for each.

    ``claimed`` spans belong to cohort conditions ('older than 60'): their numbers are no
    threshold.
    """
    if overrides.metric is not None and overrides.threshold is not None:
        return MetricReading(
            overrides.metric,
            overrides.threshold,
            (
                f"metric '{overrides.metric}' from overrides.metric",
                f"threshold {overrides.threshold:g} from overrides.threshold",
            ),
        )
    reading = _read(text, claimed)
    notes: list[str] = []
    metric = _choose_metric(text, reading, overrides, notes)
    if metric is None:
        return MetricReading(None, overrides.threshold, tuple(notes), reading.untied)
    threshold = _choose_threshold(text, reading, metric, overrides, notes)
    # With the metric from the overrides, the one loose number is its threshold.
    loose = [n for n in reading.untied if _fits(n, metric)] if overrides.metric else []
    used = loose if len(loose) == 1 and loose[0].value == threshold else []
    untied = tuple(n for n in reading.untied if n not in used)
    return MetricReading(metric, threshold, tuple(notes), untied)


def settle_metric(reading: MetricReading, task: str, notes: list[str]) -> tuple[Metric, float]:
    """The metric and threshold for ``task``: the text's when it fits, else the default."""
    if reading.metric is not None:
        allowed = TASK_METRICS[task]
        if reading.metric not in allowed:
            fits = ", ".join(sorted(allowed))
            raise ObjectiveError(
                f"the metric {reading.metric} does not fit a {task.replace('_', ' ')} goal; "
                f"metrics that fit: {fits}",
                fix=f"name one of {fits} with a threshold, or set task= (or target=) in the "
                "goal's overrides if the task was misread",
            )
        assert reading.threshold is not None
        notes.extend(reading.notes)
        return reading.metric, reading.threshold
    numbers = [n for n in reading.untied if n.kind in {"percent", "fraction"}]
    if task in DEFAULT_METRICS and not numbers:
        metric, threshold = DEFAULT_METRICS[task]
        if reading.threshold is not None:
            threshold = reading.threshold
            notes.append(f"threshold {threshold:g} from overrides.threshold")
        notes.append(
            f"metric '{metric}' by default for a {task.replace('_', ' ')} goal that names no "
            f"metric, threshold {threshold:g}"
        )
        return metric, threshold
    given = ", ".join(quote(n.raw) for n in numbers)
    given = f" (it gives {given} but not what it measures)" if given else ""
    fits = ", ".join(sorted(TASK_METRICS[task]))
    raise ObjectiveError(
        f"the objective does not say which metric defines success{given}; metrics for a "
        f"{task.replace('_', ' ')} goal: {fits} (supported metrics: {SUPPORTED})",
        fix=f"name a metric and a threshold, e.g. {_EXAMPLE}, or set metric= and "
        "threshold= in the goal's overrides",
    )


def _read(text: str, claimed: Sequence[tuple[int, int]]) -> _Reading:
    lower = text.lower()
    unsupported = UNSUPPORTED_METRICS.search(lower)
    if unsupported:
        raise ObjectiveError(
            f"the metric {quote(text[unsupported.start() : unsupported.end()])} is not "
            f"supported; supported metrics: {SUPPORTED}",
            fix=f"name one of {SUPPORTED} with a threshold, e.g. {_EXAMPLE}",
        )
    mentions = _mentions(lower)
    lists = [
        (m.start(), m.end())
        for m in _VALUE_LIST.finditer(lower)
        if not _BRACKETED_BOUND.fullmatch(m.group(0))
    ]
    skip = [*claimed, *lists]
    numbers = [n for n in find_numbers(text) if not any(a <= n.start < b for a, b in skip)]
    for number in numbers:
        if number.kind == "percent" and number.value > 1:
            raise ObjectiveError(
                f"{quote(number.raw)} is not a valid threshold: a percentage is at most 100",
                fix="give the threshold as a percentage up to 100 or a fraction up to 1, "
                "e.g. '95% precision' or 'precision of at least 0.95'",
            )
    tied, untied = [], []
    for number in numbers:
        mention = _nearest(lower, number, mentions)
        if mention is None:
            untied.append(number)
        else:
            tied.append((number, mention))
    apart = _said_apart(lower, mentions, tied, untied)
    if apart is not None:
        untied = [n for n in untied if n is not apart[0]]
        tied.append(apart)
    return _Reading(tuple(mentions), tuple(tied), tuple(untied), apart is not None)


def loose_threshold(text: str, claimed: Sequence[tuple[int, int]]) -> Number | None:
    """The number that is the one named metric's threshold though said apart from it ('Use
    ROC AUC; we need at least 0.75'), with the ``claimed`` spans left out; None when there is
    no such number or more than one. The condition reader asks, so that a comparison naming
    no column ('we need at least 0.75') is left to the metric."""
    try:
        reading = _read(text, claimed)
    except ObjectiveError:
        return None
    fitting = [n for n, m in reading.tied if _fits(n, m.metric)]
    if reading.apart:
        return fitting[0]
    # Tied to the one metric across a comma ('Use ROC AUC, at least 0.7'): the comparison
    # the condition reader found is this threshold.
    metrics = {m.metric for m in reading.mentions}
    return fitting[0] if len(fitting) == 1 and len(metrics) == 1 else None


def _said_apart(
    lower: str,
    mentions: list[_Mention],
    tied: list[tuple[Number, _Mention]],
    untied: list[Number],
) -> tuple[Number, _Mention] | None:
    """A threshold said apart from its metric: a clause or a verb between them ('Evaluate
    with ROC AUC; we need at least 0.75', '0.7 is the bar for AUC'). Only when the text names
    exactly one metric, no number is tied to it, and exactly one number that fits it lies in
    the metric's own sentence or the next; two such numbers are an error listing both."""
    metrics = _unique(m.metric for m in mentions)
    if len(metrics) != 1 or any(_fits(n, m.metric) for n, m in tied):
        return None
    metric = metrics[0]
    clauses = [m.end() for m in _CLAUSE_END.finditer(lower)]
    spoken = {_clause(clauses, m.start) for m in mentions}
    near = [
        n
        for n in untied
        if _fits(n, metric) and {_clause(clauses, n.start), _clause(clauses, n.start) - 1} & spoken
    ]
    if len(near) > 1:
        raise ObjectiveError(
            f"the objective names the metric {metric} and several numbers that may be its "
            f"threshold ({', '.join(quote(n.raw) for n in near)})",
            fix=f"put the threshold next to its metric, e.g. '{metric} of at least 0.8', or set "
            "threshold= in the goal's overrides",
        )
    if not near:
        return None
    mention = min(mentions, key=lambda m: abs(m.start - near[0].start))
    return near[0], mention


# Where a clause ends: a sentence's end, a semicolon, a terse goal's '|'.
_CLAUSE_END = re.compile(r"[.;!?](?=\s|$)|\|")


def _clause(ends: list[int], at: int) -> int:
    return sum(1 for end in ends if end <= at)


def _mentions(lower: str) -> list[_Mention]:
    found: list[_Mention] = []
    for metric, pattern in METRIC_PATTERNS:
        for match in pattern.finditer(lower):
            span = _Mention(match.start(), match.end(), metric)
            # Patterns are ordered longest-first, so an overlap is a shorter reading of words
            # already claimed (the 'auc' of 'roc auc', the 'f1' of 'macro-f1').
            if not any(span.start < m.end and m.start < span.end for m in found):
                found.append(span)
    for metric, pattern in SAID_METRICS:
        for match in pattern.finditer(lower):
            span = _Mention(match.start(), match.end(), metric)
            if not any(span.start < m.end and m.start < span.end for m in found):
                found.append(span)
    return sorted(found, key=lambda m: m.start)


def _nearest(lower: str, number: Number, mentions: list[_Mention]) -> _Mention | None:
    """The metric mention a number belongs to: the closest one within a short clause."""
    best: tuple[int, int, _Mention] | None = None
    for mention in mentions:
        before = mention.end <= number.start
        gap = lower[mention.end : number.start] if before else lower[number.end : mention.start]
        if len(gap.strip()) > _MAX_GAP or re.search(r"[;!?]|\.\s|\d", gap):
            continue
        # A number before the metric is its threshold only when written against it ('95%
        # precision', '0.9 ROC AUC', '80% of accuracy'): in 'workers in 2009, MAE under 25' or
        # 'for 2016 with an RMSE under 0.3' the year belongs to the cohort, not the metric.
        if not before and not _BEFORE_METRIC.match(gap):
            continue
        # On equal distance the metric before the number wins: "precision 0.9, recall 0.8".
        rank = (len(gap.strip()), 0 if before else 1, mention)
        if best is None or rank[:2] < best[:2]:
            best = rank
    return best[2] if best else None


def _fits(number: Number, metric: Metric) -> bool:
    """Whether a number can be ``metric``'s threshold as written."""
    if metric in UNBOUNDED_METRICS:
        return number.kind != "percent"
    return number.kind in {"percent", "fraction"}


def _choose_metric(
    text: str, reading: _Reading, overrides: GoalOverrides, notes: list[str]
) -> Metric | None:
    if overrides.metric is not None:
        notes.append(f"metric '{overrides.metric}' from overrides.metric")
        return overrides.metric
    with_threshold = _unique(m.metric for n, m in reading.tied if _fits(n, m.metric))
    if len(with_threshold) > 1:
        raise ObjectiveError(
            f"the objective sets thresholds for several metrics ({', '.join(with_threshold)}); "
            "a goal optimises one metric",
            fix="keep one metric and its threshold in the text, or set metric= and threshold= "
            "in the goal's overrides",
        )
    mentioned = _unique(mention.metric for mention in reading.mentions)
    if with_threshold:
        metric = with_threshold[0]
        number, mention = next(
            (n, m) for n, m in reading.tied if m.metric == metric and _fits(n, metric)
        )
        said = quote(text[mention.start : mention.end]) if reading.apart else None
        notes.append(
            f"metric '{metric}' from the word {said}"
            if said
            else f"metric '{metric}' from the words {_words(text, number, mention)}"
        )
    elif len(mentioned) == 1:
        metric = mentioned[0]
        mention = reading.mentions[0]
        notes.append(f"metric '{metric}' from the word {quote(text[mention.start : mention.end])}")
    elif mentioned:
        raise ObjectiveError(
            f"the objective names several metrics ({', '.join(mentioned)}) and no threshold "
            "that says which one is the goal",
            fix=f"give one metric a threshold, e.g. {_EXAMPLE}, or set metric= and threshold= "
            "in the goal's overrides",
        )
    else:
        return None
    others = [m for m in mentioned if m != metric]
    if others:
        notes.append(
            f"also mentioned {', '.join(others)} without a threshold; the goal is {metric}"
        )
    return metric


def _choose_threshold(
    text: str, reading: _Reading, metric: Metric, overrides: GoalOverrides, notes: list[str]
) -> float:
    if overrides.threshold is not None:
        notes.append(f"threshold {overrides.threshold:g} from overrides.threshold")
        return overrides.threshold
    own = [n for n, m in reading.tied if m.metric == metric and _fits(n, metric)]
    unfit = [n for n, m in reading.tied if m.metric == metric and not _fits(n, metric)]
    foreign = [(n, m) for n, m in reading.tied if m.metric != metric and _fits(n, m.metric)]
    untied = [n for n in reading.untied if n.kind in {"percent", "fraction"}]
    if not own and overrides.metric is not None and not foreign:
        # The metric comes from the overrides; the one number in the text is its threshold.
        loose = [n for n in reading.untied if _fits(n, metric)]
        if len(loose) == 1:
            own, untied = loose, [n for n in untied if n is not loose[0]]
    if untied:
        raise ObjectiveError(
            f"the number {quote(untied[0].raw)} in the objective is tied to no metric",
            fix=f"put the number next to its metric, e.g. {_EXAMPLE}, or remove it",
        )
    if foreign:
        number, mention = foreign[0]
        raise ObjectiveError(
            f"the threshold {quote(number.raw)} belongs to {mention.metric}, but the metric is "
            f"{metric} (from overrides.metric)",
            fix=f"set threshold= in the goal's overrides, or say the threshold for {metric}",
        )
    values = _unique(number.value for number in own)
    if len(values) > 1:
        raise ObjectiveError(
            f"the objective gives {metric} several thresholds "
            f"({', '.join(quote(n.raw) for n in own)})",
            fix=f"keep one threshold for {metric}, or set threshold= in the goal's overrides",
        )
    if not values:
        hint = ""
        if unfit and metric in UNBOUNDED_METRICS:
            hint = f"; {quote(unfit[0].raw)} is a percentage, but {metric} is in the target's unit"
        elif unfit:
            hint = f"; {quote(unfit[0].raw)} has no unit: write {unfit[0].raw}% or a fraction"
        example = (
            f"'{metric} below 25,000'"
            if metric in UNBOUNDED_METRICS
            else f"'for 95% {metric}' or '{metric} of at least 0.9'"
        )
        raise ObjectiveError(
            f"the objective names the metric {metric} but no threshold for it{hint}",
            fix=f"say e.g. {example}, or set threshold= in the goal's overrides",
        )
    number = own[0]
    kind = {
        "percent": "a percentage",
        "fraction": "a fraction",
        "amount": "an amount in the target's unit",
        "bare": "a number in the target's unit",
    }[number.kind]
    apart = " said apart from the metric, the one number left that fits it" if reading.apart else ""
    notes.append(f"threshold {values[0]:g} from {quote(number.raw)} ({kind}{apart})")
    return values[0]


def _words(text: str, number: Number, mention: _Mention) -> str:
    return quote(text[min(number.start, mention.start) : max(number.end, mention.end)])


def _unique(items: Iterable[T]) -> list[T]:
    seen: list[T] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen
