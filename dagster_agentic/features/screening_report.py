"""The screening report: what the warehouse says about each candidate feature, and the false
discovery rate its q-values are compared with (see :mod:`dagster_agentic.features.screening`)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict

from dagster_agentic.goals.objective import TaskType

BUCKETS = 20
FALSE_DISCOVERY_RATE = 0.05
"""Benjamini-Hochberg level where rows are many (or candidates crowd them)."""
SMALL_DATA_FALSE_DISCOVERY_RATE = 0.2
"""The level where rows are few: at most one kept feature in five expected to be noise."""
SMALL_ROWS, LARGE_ROWS = 2_000, 20_000
"""Train rows at or below which the small-data level holds, and from which the strict one;
the level moves between them linearly in log rows."""
ROWS_PER_CANDIDATE = 20
"""Fewer train rows per candidate than this keep the strict level whatever the rows: noise
columns then outnumber what a learner can regularise away."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Relevance(_Frozen):
    rows: int
    positives: int
    """Rows of the positive class (binary); 0 for the other tasks (see ``class_counts``)."""
    null_fraction: float
    buckets: int
    auc: float | None
    """Binned ROC AUC, oriented to be >= 0.5 (binary only); None for a single value."""
    mutual_information: float
    """In bits, less the binning bias (Miller-Madow), so features and populations compare;
    for regression, the information of a Gaussian copula explaining ``uncertainty``."""
    uncertainty: float
    """The share of the label the feature explains: mutual information over the label's
    entropy (classification) or epsilon squared of the target's ranks (regression)."""
    p_value: float
    cramers_v: float | None = None
    """Effect size of the bucket x class table (classification)."""
    rank_correlation: float | None = None
    """Spearman's rho with the target (numeric features of a regression)."""
    class_counts: tuple[int, ...] = ()
    """Rows of each class, in label order (multiclass)."""


class FeatureScore(_Frozen):
    column: str
    group: str
    feature: str
    kind: Literal["numeric", "categorical"]
    all: Relevance
    cohort: Relevance | None = None
    q_value: float = 1.0
    """The p-value adjusted for every candidate screened with it (Benjamini-Hochberg)."""
    level: float = FALSE_DISCOVERY_RATE
    """The false discovery rate the q-value is compared with (:func:`false_discovery_rate`)."""

    @property
    def significant(self) -> bool:
        """Signal that survives the correction for the number of candidates."""
        return self.q_value < self.level

    @property
    def combined_p_value(self) -> float:
        """The smaller p-value of the two populations, Bonferroni-corrected for the two looks."""
        return min(1.0, self.p_value * (2 if self.cohort is not None else 1))

    @property
    def best(self) -> Relevance:
        """The population where the feature is most informative (the goal is on the cohort)."""
        if self.cohort is None or self.all.uncertainty >= self.cohort.uncertainty:
            return self.all
        return self.cohort

    @property
    def p_value(self) -> float:
        return min(self.all.p_value, self.cohort.p_value if self.cohort else 1.0)


class Correlation(_Frozen):
    a: str
    b: str
    rho: float


class ScreeningReport(_Frozen):
    """What the warehouse says about each candidate feature, on the train split."""

    rows: int
    positives: int
    cohort_rows: int
    buckets: int = BUCKETS
    """The most buckets a numeric feature was cut into, for the rows there were."""
    false_discovery_rate: float = FALSE_DISCOVERY_RATE
    task: TaskType = "binary_classification"
    class_counts: tuple[int, ...] = ()
    """Train rows of each class, in label order (classification)."""
    target_distinct: int | None = None
    """Distinct target values among train rows (regression): 1 is a constant target."""
    unlabelled_rows: int = 0
    """Label rows with a target the task cannot read (a value that is not one of the classes,
    a non-finite number), left out of the training set."""
    scores: tuple[FeatureScore, ...]
    correlations: tuple[Correlation, ...]
    seconds: float
    egress_bytes: int
    queries: int = 0
    """Queries the scoring ran (bounded by candidates / ``COLUMNS_PER_QUERY``, plus a few)."""

    def score(self, column: str) -> FeatureScore | None:
        return next((s for s in self.scores if s.column == column), None)


def false_discovery_rate(rows: int, candidates: int) -> float:
    """The Benjamini-Hochberg level for ``candidates`` screened on ``rows`` train rows.

    Benjamini-Hochberg already scales the p-value a feature needs with the number of
    candidates; the level itself trades noise kept against signal lost. With many rows a real
    signal worth a model has a tiny p-value, so the strict level (5%) loses nothing. With few
    rows (the small-data level, 20%, at ``SMALL_ROWS`` and below) the same signal reaches p of
    about 0.01, a strict level drops it, and the model loses it for good, whereas a noise
    column among a handful costs a regularised learner little. When candidates crowd the rows
    (fewer than ``ROWS_PER_CANDIDATE`` rows each) the noise columns would outnumber what the
    learner can shrug off: the strict level holds.
    """
    if rows <= 0 or candidates * ROWS_PER_CANDIDATE > rows or rows >= LARGE_ROWS:
        return FALSE_DISCOVERY_RATE
    if rows <= SMALL_ROWS:
        return SMALL_DATA_FALSE_DISCOVERY_RATE
    weight = math.log(rows / SMALL_ROWS) / math.log(LARGE_ROWS / SMALL_ROWS)
    rate = SMALL_DATA_FALSE_DISCOVERY_RATE + weight * (
        FALSE_DISCOVERY_RATE - SMALL_DATA_FALSE_DISCOVERY_RATE
    )
    return round(rate, 4)
