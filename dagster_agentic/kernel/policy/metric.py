"""What success is: the task, the metric and its threshold, read from an objective's words."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar, get_args

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.goals.objective import Metric
from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.kernel.policy.text import quote

T = TypeVar("T")
SUPPORTED = ", ".join(get_args(Metric))
_EXAMPLE = "'Optimise the churn model for 95% precision'"

_METRIC_PATTERNS: tuple[tuple[Metric, re.Pattern[str]], ...] = (
    (
        "roc_auc",
        re.compile(
            r"\b(?:roc[\s_-]?auc|au[\s_-]?roc|area under (?:the )?(?:roc )?curve"
            r"|auc(?:[\s_-]roc)?|roc)\b"
        ),
    ),
    ("f1", re.compile(r"\bf(?:[\s_-]?1(?:[\s_-]?score)?|[\s_-]?(?:score|measure))\b")),
    (
        "precision",
        re.compile(
            r"\b(?:precision|ppv|positive predictive value|false[\s-]positives?"
            r"|false[\s-]alarms?)\b"
        ),
    ),
    (
        "recall",
        re.compile(
            r"\b(?:recall|sensitivity|true[\s-]positive[\s-]rate|tpr|false[\s-]negatives?)\b"
        ),
    ),
    ("accuracy", re.compile(r"\baccuracy\b")),
)
# Metrics people ask for that the kernel does not optimise: named so the error can say so.
_UNSUPPORTED = re.compile(
    r"\b(?:pr[\s_-]?auc|auprc|average precision|precision[\s-]recall (?:auc|curve)|log[\s-]?loss"
    r"|brier|mcc|matthews|specificity|rmse|mse|mae|mape|r2|r[\s-]squared)\b"
)
_NUMBER = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?|\.\d+)(?:\s*(%|(?:percent|per\s?cent|pct)\b)|(?![\w.]))"
)
_MAX_GAP = 30  # characters between a number and the metric words it belongs to


@dataclass(frozen=True)
class _Span:
    start: int
    end: int


@dataclass(frozen=True)
class _Mention(_Span):
    metric: Metric


@dataclass(frozen=True)
class _Number(_Span):
    raw: str
    value: float
    kind: str  # "percent" | "fraction" | "bare"


@dataclass(frozen=True)
class _Reading:
    """Metric mentions and numbers of an objective, each number tied to a mention or not."""

    mentions: tuple[_Mention, ...]
    tied: tuple[tuple[_Number, _Mention], ...]
    untied: tuple[_Number, ...]
    bare: tuple[tuple[_Number, _Mention], ...]  # numbers like "95" next to a metric, no unit


def read_metric(text: str, overrides: GoalOverrides) -> tuple[Metric, float, list[str]]:
    """The metric and threshold, with one rationale line for each."""
    if overrides.metric is not None and overrides.threshold is not None:
        return (
            overrides.metric,
            overrides.threshold,
            [
                f"metric '{overrides.metric}' from overrides.metric",
                f"threshold {overrides.threshold:g} from overrides.threshold",
            ],
        )
    reading = _read(text)
    notes: list[str] = []
    metric = _choose_metric(text, reading, overrides, notes)
    threshold = _choose_threshold(text, reading, metric, overrides, notes)
    return metric, threshold, notes


def _read(text: str) -> _Reading:
    lower = text.lower()
    unsupported = _UNSUPPORTED.search(lower)
    if unsupported:
        raise ObjectiveError(
            f"the metric {quote(text[unsupported.start() : unsupported.end()])} is not "
            f"supported; supported metrics: {SUPPORTED}",
            fix=f"name one of {SUPPORTED} with a threshold, e.g. {_EXAMPLE}",
        )
    mentions = _mentions(lower)
    numbers = _numbers(text)
    tied, untied, bare = [], [], []
    for number in numbers:
        mention = _nearest(lower, number, mentions)
        if number.kind == "bare":
            if mention is not None:
                bare.append((number, mention))
        elif mention is None:
            untied.append(number)
        else:
            tied.append((number, mention))
    return _Reading(tuple(mentions), tuple(tied), tuple(untied), tuple(bare))


def _mentions(lower: str) -> list[_Mention]:
    found: list[_Mention] = []
    for metric, pattern in _METRIC_PATTERNS:
        for match in pattern.finditer(lower):
            span = _Mention(match.start(), match.end(), metric)
            # Patterns are ordered longest-first, so an overlap is a shorter reading of words
            # already claimed (the 'auc' of 'roc auc').
            if not any(span.start < m.end and m.start < span.end for m in found):
                found.append(span)
    return sorted(found, key=lambda m: m.start)


def _numbers(text: str) -> list[_Number]:
    numbers = []
    for match in _NUMBER.finditer(text):
        raw, unit = match.group(1), match.group(2)
        value = float(raw)
        if unit:
            if value > 100:
                raise ObjectiveError(
                    f"{quote(match.group(0))} is not a valid threshold: a percentage is at most "
                    "100",
                    fix="give the threshold as a percentage up to 100 or a fraction up to 1, "
                    "e.g. '95% precision' or 'precision of at least 0.95'",
                )
            number = _Number(
                match.start(), match.end(), match.group(0), round(value / 100, 10), "percent"
            )
        elif "." in raw and value <= 1:
            number = _Number(match.start(), match.end(), raw, value, "fraction")
        else:
            number = _Number(match.start(), match.end(), raw, value, "bare")
        numbers.append(number)
    return numbers


def _nearest(lower: str, number: _Number, mentions: list[_Mention]) -> _Mention | None:
    """The metric mention a number belongs to: the closest one within a short clause."""
    best: tuple[int, int, _Mention] | None = None
    for mention in mentions:
        before = mention.end <= number.start
        gap = lower[mention.end : number.start] if before else lower[number.end : mention.start]
        if len(gap.strip()) > _MAX_GAP or re.search(r"[;!?]|\.\s|\d", gap):
            continue
        # On equal distance the metric before the number wins: "precision 0.9, recall 0.8".
        rank = (len(gap.strip()), 0 if before else 1, mention)
        if best is None or rank[:2] < best[:2]:
            best = rank
    return best[2] if best else None


def _choose_metric(
    text: str, reading: _Reading, overrides: GoalOverrides, notes: list[str]
) -> Metric:
    if overrides.metric is not None:
        notes.append(f"metric '{overrides.metric}' from overrides.metric")
        return overrides.metric
    with_threshold = _unique(mention.metric for _, mention in reading.tied)
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
        number, mention = next((n, m) for n, m in reading.tied if m.metric == metric)
        notes.append(f"metric '{metric}' from the words {_words(text, number, mention)}")
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
        numbers = ", ".join(quote(n.raw) for n in reading.untied)
        given = f" (it gives {numbers} but not what it measures)" if numbers else ""
        raise ObjectiveError(
            f"the objective does not say which metric defines success{given}; supported "
            f"metrics: {SUPPORTED}",
            fix=f"name a metric and a threshold, e.g. {_EXAMPLE}, or set metric= and "
            "threshold= in the goal's overrides",
        )
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
    own = [n for n, m in reading.tied if m.metric == metric]
    foreign = [(n, m) for n, m in reading.tied if m.metric != metric]
    untied = list(reading.untied)
    if not own and overrides.metric is not None and len(untied) == 1 and not foreign:
        # The metric comes from the overrides; the one number in the text is its threshold.
        own, untied = untied, []
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
        bare = [n for n, m in reading.bare if m.metric == metric]
        if bare:
            hint = f"; {quote(bare[0].raw)} has no unit: write {bare[0].raw}% or a fraction"
        raise ObjectiveError(
            f"the objective names the metric {metric} but no threshold for it{hint}",
            fix=f"say e.g. 'for 95% {metric}' or '{metric} of at least 0.9', or set threshold= "
            "in the goal's overrides",
        )
    number = own[0]
    kind = "a percentage" if number.kind == "percent" else "a fraction"
    notes.append(f"threshold {values[0]:g} from {quote(number.raw)} ({kind})")
    return values[0]


def _words(text: str, number: _Number, mention: _Mention) -> str:
    return quote(text[min(number.start, mention.start) : max(number.end, mention.end)])


def _unique(items: Iterable[T]) -> list[T]:
    seen: list[T] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen
