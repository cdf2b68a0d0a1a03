"""The task: binary classification, and a clear refusal of numeric forecasts."""

from __future__ import annotations

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.kernel.policy.text import quote, tokenize, word_set

_VERBS = word_set(
    """
    predict predicts predicting forecast forecasts forecasting forecasted estimate
    estimates estimating project projecting
    """
)
# Quantities: asking to predict one of these is a regression.
_AMOUNTS = word_set(
    """
    revenue revenues sales amount amounts spend spending price prices value values ltv
    clv arpu income demand volume volumes quantity quantities number count counts
    duration cost costs profit profits margin margins balance balances salary salaries
    lifetime turnover gmv basket
    """
)
# Words between the verb and its object that do not change what is predicted.
_FILLER = word_set(
    """
    the a an next future total monthly weekly daily annual yearly quarterly expected
    each per customer customers user users our their its month's week's year's quarter's
    day's
    """
)
# Words that make a forecast a yes/no question ("forecast which customers will churn").
_YES_NO = frozenset({"whether", "which", "who", "if"})
_SIGNALS = (
    "churn",
    "fraud",
    "default",
    "classify",
    "classification",
    "classifier",
    "detect",
    "detection",
    "predict",
    "prediction",
    "predictions",
    "propensity",
    "likelihood",
    "probability",
    "risk",
    "model",
)
_FIX = (
    "phrase the goal as a yes/no outcome with a classification metric, e.g. 'predict which "
    "customers will churn with 90% precision'"
)


def check_task(text: str) -> str:
    """Return the rationale line for the task; raise when the text asks for a regression."""
    words = [token.lower for token in tokenize(text) if token.is_word]
    regression = _regression_words(words)
    if regression:
        raise ObjectiveError(
            f"the objective asks for a numeric prediction ({quote(regression)}), but only "
            "binary classification goals are supported",
            fix=_FIX,
        )
    for word in words:
        for signal in _SIGNALS:
            if word.startswith(signal):
                return f"task binary_classification from the word '{word}'"
    return "task binary_classification: the only task the kernel supports"


def _regression_words(words: list[str]) -> str | None:
    """The words that ask for a quantity, or None."""
    if any(word.startswith("regress") for word in words):
        return next(word for word in words if word.startswith("regress"))
    for i, word in enumerate(words[:-1]):
        if word == "how" and words[i + 1] in {"much", "many"}:
            return f"how {words[i + 1]}"
        if word in _AMOUNTS and words[i + 1].startswith(("forecast", "prediction", "estimate")):
            return f"{word} {words[i + 1]}"
    for i, word in enumerate(words):
        if word not in _VERBS:
            continue
        obj = _object_of(words, i + 1)
        if obj in _AMOUNTS:
            return " ".join(words[i : words.index(obj, i) + 1])
        is_forecast = word.startswith("forecast")
        if is_forecast and obj not in _YES_NO and not _has_yes_no_words(words):
            return word
    return None


def _object_of(words: list[str], start: int) -> str | None:
    for word in words[start : start + 5]:
        if word not in _FILLER:
            return word
    return None


def _has_yes_no_words(words: list[str]) -> bool:
    return any(word in _YES_NO or word.startswith(_SIGNALS[:6]) for word in words)
