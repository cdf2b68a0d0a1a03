"""Screen candidate features where they live: relevance and redundancy computed by SQL.

The candidate training set (every proposed feature, the label, the split and the cohort flag)
is built as a TEMP table inside DuckDB, on a read-only connection, for the **train** split
only, so validation and test rows never influence which features are kept. Then:

* **Relevance**: each feature is cut into up to 20 equal-frequency buckets (``cume_dist``, so
  tied values share a bucket; NULL is a bucket of its own; categories are their own buckets)
  and positives are counted per bucket, for all rows and for the goal's cohort. From those
  counts come binned mutual information, the uncertainty coefficient (MI over the label's
  entropy), a G-test p-value and a binned ROC AUC (oriented, so 0.5 is no signal).
* **Small data**: fewer buckets when rows are few (at least ``MIN_BUCKET_ROWS`` rows and
  ``MIN_BUCKET_MINORITY`` rows of the rarer class expected per bucket), and within each
  population adjacent buckets (rare categories) are pooled until each holds
  ``MIN_BUCKET_ROWS`` rows: the G-test's chi-squared approximation needs filled cells, and a
  cohort of a few hundred rows cut twenty ways has none.
* **Multiple testing**: hundreds of candidates tested at a fixed p-value keep some noise by
  chance alone. Each feature's p-value (the smaller of all rows and the cohort, doubled for
  the two looks) is adjusted by Benjamini-Hochberg across every candidate: ``q_value``. A
  feature is significant when ``q_value < FALSE_DISCOVERY_RATE``, so that among the features
  called significant the expected share of noise is at most that rate (and, when every
  candidate is noise, the chance of keeping any is at most that rate).
* **Redundancy**: rank correlations (Pearson on 20-quantile bucket indices, a close cousin of
  Spearman's rho), computed in DuckDB for the relevant features of each group and across the
  strongest features of all groups.

Only those counts and correlations leave the warehouse, never a row.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import duckdb
from pydantic import BaseModel, ConfigDict

from dagster_agentic.features.sql import TableRef, feature_group_sql, model_name, training_set_sql
from dagster_agentic.guardrails.cost import check_cost
from dagster_agentic.guardrails.sql_policy import check_select
from dagster_agentic.plan.models import Plan
from dagster_agentic.warehouse.connection import EgressLedger, Warehouse, quote_ident
from dagster_agentic.warehouse.information import mutual_information

SCREENING_FILE = "screening.json"
"""Where a plan version keeps its screening report (candidates, scores, selection)."""
BUCKETS = 20
MIN_BUCKET_ROWS = 30
"""Fewest rows a bucket holds for the G-test (buckets are pooled below this)."""
MIN_BUCKET_MINORITY = 5
"""Fewest rows of the rarer class expected per bucket, which caps the number of buckets."""
FALSE_DISCOVERY_RATE = 0.05
"""Benjamini-Hochberg level: a feature is significant when its ``q_value`` is below it."""
RELEVANT_P_VALUE = 0.01
"""Features at least this significant (on all rows or the cohort) are checked for redundancy."""
REDUNDANCY_REPORTED = 0.9
"""Pairs with |Spearman rho| at or above this are reported."""
CROSS_GROUP_TOP = 40
"""The strongest features of all groups are also compared across groups."""

_TABLE, _RANKS = "__agentic_screen", "__agentic_screen_ranks"
Population = Literal["all", "cohort"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Relevance(_Frozen):
    rows: int
    positives: int
    null_fraction: float
    buckets: int
    auc: float | None
    """Binned ROC AUC, oriented to be >= 0.5; None when the feature has a single value."""
    mutual_information: float
    """In bits, less the binning bias (Miller-Madow), so features and populations compare."""
    uncertainty: float
    """Mutual information over the label's entropy: the share of it the feature explains."""
    p_value: float


class FeatureScore(_Frozen):
    column: str
    group: str
    feature: str
    kind: Literal["numeric", "categorical"]
    all: Relevance
    cohort: Relevance | None = None
    q_value: float = 1.0
    """The p-value adjusted for every candidate screened with it (Benjamini-Hochberg)."""

    @property
    def significant(self) -> bool:
        """Signal that survives the correction for the number of candidates."""
        return self.q_value < FALSE_DISCOVERY_RATE

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
    scores: tuple[FeatureScore, ...]
    correlations: tuple[Correlation, ...]
    seconds: float
    egress_bytes: int

    def score(self, column: str) -> FeatureScore | None:
        return next((s for s in self.scores if s.column == column), None)


def inline_ref(plan: Plan, source_ref: TableRef) -> TableRef:
    """References that inline each feature group's SELECT where the training set joins it."""
    bodies = {
        model_name(plan.goal, group.name): feature_group_sql(plan.objective, group, source_ref)
        for group in plan.feature_groups
    }

    def ref(kind: Literal["source", "model"], name: str) -> str:
        if kind == "source":
            return source_ref(kind, name)
        return f"(\n{bodies[name]})"

    return ref


def screen_features(
    plan: Plan, warehouse: Warehouse, source_ref: TableRef, ledger: EgressLedger | None = None
) -> ScreeningReport:
    """Score every feature of ``plan`` (the candidates) in the warehouse, read-only."""
    started = time.perf_counter()
    columns = [
        (group.name, feature.name, group.column_name(feature), feature.kind)
        for group in plan.feature_groups
        for feature in group.features
    ]
    sql = training_set_sql(plan, inline_ref(plan, source_ref))
    raw = {f"{plan.warehouse_schema}.{t.name}".lower() for t in plan.raw_tables}
    check_select(sql, allowed_tables=raw, label="feature screening")
    egress = 0
    with warehouse.connect(read_only=True) as conn:
        check_cost(conn, sql, warehouse.limits, label="feature screening")
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE {_TABLE} AS "
            f"SELECT * EXCLUDE (split) FROM ({sql}) WHERE split = 'train'"
        )
        screened = score_columns(conn, _TABLE, columns)
        egress += screened.egress
        rows, positives, cohort_rows = screened.rows, screened.positives, screened.cohort_rows
        scores = screened.scores
        correlations = _redundancy(conn, scores)
        conn.execute(f"DROP TABLE IF EXISTS {_TABLE}")
        conn.execute(f"DROP TABLE IF EXISTS {_RANKS}")
    egress += 64 * len(correlations)
    if ledger is not None:
        ledger.record("screening", egress, 0)
    return ScreeningReport(
        rows=rows,
        positives=positives,
        cohort_rows=cohort_rows,
        buckets=screened.buckets,
        scores=tuple(scores),
        correlations=tuple(correlations),
        seconds=round(time.perf_counter() - started, 3),
        egress_bytes=egress,
    )


@dataclass(frozen=True)
class ScoredColumns:
    rows: int
    positives: int
    cohort_rows: int
    buckets: int
    scores: list[FeatureScore]
    egress: int


def score_columns(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[tuple[str, str, str, Literal["numeric", "categorical"]]],
) -> ScoredColumns:
    """Score ``columns`` (group, feature, column, kind) of ``table``, a relation on ``conn``
    with a 0/1 ``label`` and a boolean ``in_cohort`` column, and adjust for their number.

    ``table`` is a trusted relation name (the screening's TEMP table); column names are quoted.
    """
    totals = conn.execute(
        f"SELECT count(*), coalesce(sum(label), 0), coalesce(sum(in_cohort::INT), 0),"
        f" coalesce(sum(label) FILTER (WHERE in_cohort), 0) FROM {table}"
    ).fetchone()
    assert totals is not None
    rows, positives, cohort_rows, cohort_positives = (int(v) for v in totals)
    buckets = bucket_count(rows, positives)
    cells = _bucket_counts(conn, table, [(c, k) for _, _, c, k in columns], buckets)
    egress = sum(len(str(cell)) for cell in cells)
    scores = []
    for group, feature, column, kind in columns:
        populations: tuple[Population, ...] = ("all", "cohort")
        by_population = {
            population: _relevance(
                cells.get((column, population), []),
                rows if population == "all" else cohort_rows,
                positives if population == "all" else cohort_positives,
                ordered=kind == "numeric",
            )
            for population in populations
        }
        scores.append(
            FeatureScore(
                column=column,
                group=group,
                feature=feature,
                kind=kind,
                all=by_population["all"],
                cohort=by_population["cohort"] if cohort_rows else None,
            )
        )
    return ScoredColumns(rows, positives, cohort_rows, buckets, _adjusted(scores), egress)


def bucket_count(rows: int, positives: int) -> int:
    """Buckets for a numeric feature: up to ``BUCKETS``, fewer when rows (or the rarer class)
    are too few to fill them."""
    minority = min(positives, rows - positives)
    return max(2, min(BUCKETS, rows // MIN_BUCKET_ROWS, minority // MIN_BUCKET_MINORITY))


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the order given."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):  # from the largest p-value down: q is a running minimum
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        adjusted[i] = min(1.0, running)
    return adjusted


def _adjusted(scores: list[FeatureScore]) -> list[FeatureScore]:
    q_values = benjamini_hochberg([s.combined_p_value for s in scores])
    return [s.model_copy(update={"q_value": q}) for s, q in zip(scores, q_values, strict=True)]


def _bucket_counts(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[tuple[str, str]],
    buckets: int,
) -> dict[tuple[str, Population], list[tuple[str, int, int]]]:
    """(column, population) -> [(bucket, rows, positives)], from one UNION ALL query per 50."""
    out: dict[tuple[str, Population], list[tuple[str, int, int]]] = defaultdict(list)
    for start in range(0, len(columns), 50):
        branches = []
        for i, (column, kind) in enumerate(columns[start : start + 50], start=start):
            col = quote_ident(column)
            if kind == "categorical":
                bucket = f"CAST({col} AS VARCHAR)"
            else:
                rank = f"cume_dist() OVER (PARTITION BY {col} IS NULL ORDER BY {col})"
                bucket = (
                    f"lpad(CAST(least(floor({rank} * {buckets}), {buckets - 1}) AS INTEGER)"
                    "::VARCHAR, 2, '0')"
                )
            branches.append(
                f"SELECT {i} AS c, b, in_cohort, count(*) AS n, sum(label) AS pos FROM ("
                f"SELECT label, in_cohort, CASE WHEN {col} IS NULL THEN '~null' ELSE {bucket} END"
                f" AS b FROM {table}) GROUP BY b, in_cohort"
            )
        for c, b, in_cohort, n, pos in conn.execute(" UNION ALL ".join(branches)).fetchall():
            column = columns[int(c)][0]
            cell = (str(b), int(n), int(pos))
            out[(column, "all")].append(cell)
            if in_cohort:
                out[(column, "cohort")].append(cell)
    return {key: _merge(cells) for key, cells in out.items()}


def _merge(cells: Iterable[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    merged: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for bucket, n, pos in cells:
        merged[bucket][0] += n
        merged[bucket][1] += pos
    return [(bucket, n, pos) for bucket, (n, pos) in sorted(merged.items())]


def _relevance(
    cells: list[tuple[str, int, int]], rows: int, positives: int, *, ordered: bool
) -> Relevance:
    from scipy.stats import chi2

    n = sum(c[1] for c in cells)
    pos = sum(c[2] for c in cells)
    nulls = sum(c[1] for c in cells if c[0] == "~null")
    auc = _binned_auc(cells, ordered=ordered)
    cells = _pooled(cells, ordered=ordered)
    raw_mi, h = mutual_information(cells)
    buckets = len([c for c in cells if c[1]])
    g = 2 * n * raw_mi * math.log(2)
    # Miller-Madow: a binned estimate is biased up by about (buckets - 1) / (2 n ln 2) bits,
    # which would favour many-valued features and small populations (the cohort).
    mi = max(0.0, raw_mi - (buckets - 1) / (2 * n * math.log(2))) if n else 0.0
    p_value = float(chi2.sf(g, buckets - 1)) if buckets > 1 else 1.0
    return Relevance(
        rows=n or rows,
        positives=pos or positives,
        null_fraction=round(nulls / n, 6) if n else 1.0,
        buckets=buckets,
        auc=auc,
        mutual_information=round(mi, 8),
        uncertainty=round(mi / h, 8) if h else 0.0,
        p_value=p_value,
    )


def _pooled(cells: list[tuple[str, int, int]], *, ordered: bool) -> list[tuple[str, int, int]]:
    """Buckets pooled until each holds ``MIN_BUCKET_ROWS`` rows (half the rows, in a
    population of fewer than twice that, so it is cut in two at most).

    Numeric buckets merge with their neighbour in value order (NULL sits before the lowest);
    categories below the minimum pool into one bucket of rare values, and a pool still too
    small joins the smallest category.
    """
    usable = [c for c in cells if c[1]]
    minimum = min(MIN_BUCKET_ROWS, max(1, sum(c[1] for c in usable) // 2))
    if ordered:
        usable.sort(key=lambda c: (c[0] != "~null", c[0]))
        merged: list[tuple[str, int, int]] = []
        for bucket in usable:
            if merged and merged[-1][1] < minimum:
                name, n, pos = merged.pop()
                bucket = (name, n + bucket[1], pos + bucket[2])
            merged.append(bucket)
        if len(merged) > 1 and merged[-1][1] < minimum:
            (name, n, pos), last = merged[-2], merged.pop()
            merged[-1] = (name, n + last[1], pos + last[2])
        return merged
    big = [c for c in usable if c[1] >= minimum]
    rare = [c for c in usable if c[1] < minimum]
    if not rare:
        return big
    pool = ("~rare", sum(c[1] for c in rare), sum(c[2] for c in rare))
    if pool[1] < minimum and big:
        smallest = min(big, key=lambda c: c[1])
        big.remove(smallest)
        pool = ("~rare", pool[1] + smallest[1], pool[2] + smallest[2])
    return [*big, pool]


def _binned_auc(cells: list[tuple[str, int, int]], *, ordered: bool) -> float | None:
    """ROC AUC of the bucket order (ties within a bucket count half), oriented to >= 0.5.

    Numeric buckets are ordered by value (NULL first); categories by their positive rate.
    """
    usable = [(b, n, p) for b, n, p in cells if n]
    if len(usable) < 2:
        return None
    if ordered:
        usable.sort(key=lambda c: (c[0] != "~null", c[0]))
    else:
        usable.sort(key=lambda c: c[2] / c[1])
    total_pos = sum(p for _, _, p in usable)
    total_neg = sum(n - p for _, n, p in usable)
    if not total_pos or not total_neg:
        return None
    below_neg, area = 0, 0.0
    for _, n, p in usable:
        neg = n - p
        area += p * (below_neg + 0.5 * neg)
        below_neg += neg
    auc = area / (total_pos * total_neg)
    return round(max(auc, 1 - auc), 6)


def _redundancy(conn: duckdb.DuckDBPyConnection, scores: list[FeatureScore]) -> list[Correlation]:
    """Spearman correlations among the relevant numeric features, within and across groups."""
    relevant = [
        s for s in scores if s.kind == "numeric" and s.p_value < RELEVANT_P_VALUE and s.all.auc
    ]
    if len(relevant) < 2:
        return []
    # Ranks as quantile-bucket indices: one aggregate pass for the cut points and one
    # projection for the buckets (DuckDB runs a hundred distinct rank windows far slower).
    quantiles = [round(i / BUCKETS, 4) for i in range(1, BUCKETS)]
    cuts = conn.execute(
        "SELECT "
        + ", ".join(f"quantile_cont({quote_ident(s.column)}, {quantiles})" for s in relevant)
        + f" FROM {_TABLE}"
    ).fetchone()
    assert cuts is not None
    ranks = []
    for score, points in zip(relevant, cuts, strict=True):
        finite = sorted({float(v) for v in points or [] if v is not None and math.isfinite(v)})
        col = quote_ident(score.column)
        terms = " + ".join(f"({col} > {v!r})::INTEGER" for v in finite) or "0"
        ranks.append(f"({terms}) AS {col}")
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE {_RANKS} AS SELECT {', '.join(ranks)} FROM {_TABLE}"
    )
    by_group: dict[str, list[str]] = defaultdict(list)
    for s in relevant:
        by_group[s.group].append(s.column)
    strongest = sorted(relevant, key=lambda s: -s.best.mutual_information)[:CROSS_GROUP_TOP]
    pair_sets = [*by_group.values(), [s.column for s in strongest]]
    pairs = sorted(
        {tuple(sorted((a, b))) for cols in pair_sets for a in cols for b in cols if a < b}
    )
    found: list[Correlation] = []
    for start in range(0, len(pairs), 500):
        chunk = pairs[start : start + 500]
        exprs = ", ".join(f"corr({quote_ident(a)}, {quote_ident(b)})" for a, b in chunk)
        row = conn.execute(f"SELECT {exprs} FROM {_RANKS}").fetchone() or ()
        for (a, b), rho in zip(chunk, row, strict=True):
            if rho is not None and math.isfinite(rho) and abs(rho) >= REDUNDANCY_REPORTED:
                found.append(Correlation(a=a, b=b, rho=round(float(rho), 4)))
    return found
