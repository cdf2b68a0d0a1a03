"""Screen candidate features where they live: relevance and redundancy computed by SQL.

The candidate training set (every proposed feature, the label, the split and the cohort flag)
is built as a TEMP table inside DuckDB, on a read-only connection, for the **train** split
only, so validation and test rows never influence which features are kept. Then:

* **Relevance**: each feature is cut into equal-frequency buckets (``cume_dist``, so tied
  values share a bucket; NULL is a bucket of its own; categories are their own buckets) and
  the label is summarised per bucket, for all rows and for the goal's cohort: rows per class
  for classification, sums of the label's rank for regression. The statistics fitted to each
  task (G-test and Kruskal-Wallis / Mann-Whitney for classes, rank ANOVA and Spearman for
  numbers) are in :mod:`dagster_agentic.features.screening_stats`.
* **Small data**: fewer buckets when rows are few (at least ``MIN_BUCKET_ROWS`` rows and
  ``MIN_BUCKET_MINORITY`` rows of the rarest class expected per bucket), adjacent buckets
  pooled until each is filled, and a one-degree-of-freedom trend test beside the omnibus one,
  so a modest monotone signal on a thousand rows is not lost in nineteen degrees of freedom.
* **Multiple testing**: hundreds of candidates tested at a fixed p-value keep some noise by
  chance alone. Each feature's p-value (the smaller of all rows and the cohort, doubled for
  the two looks) is adjusted by Benjamini-Hochberg across every candidate: ``q_value``. A
  feature is significant when ``q_value`` is below the false discovery rate, so that among
  the features called significant the expected share of noise is at most that rate. The rate
  scales with the evidence (:func:`false_discovery_rate`): strict when rows are many (a real
  signal then has a tiny p-value, so strictness costs nothing) or candidates crowd the rows,
  looser when rows are few and candidates a handful, where a regularised learner pays little
  for a noise column but loses a dropped real one for good.
* **Wide data**: every query scores up to ``COLUMNS_PER_QUERY`` columns (one ``UNION ALL``),
  and the bucket count shrinks when candidates x buckets x classes would return more than
  ``MAX_CELLS`` aggregates: time and egress grow with the columns, never per column query.
* **Redundancy**: rank correlations (Pearson on 20-quantile bucket indices, a close cousin of
  Spearman's rho), computed in DuckDB for the relevant features of each group and across the
  strongest features of all groups.

Only those aggregates and correlations leave the warehouse, never a row.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import duckdb

from dagster_agentic.errors import DataError
from dagster_agentic.features.label import class_count, labelled_sql
from dagster_agentic.features.screening_report import (
    BUCKETS,
    FALSE_DISCOVERY_RATE,
    Correlation,
    FeatureScore,
    Relevance,
    ScreeningReport,
    false_discovery_rate,
)
from dagster_agentic.features.screening_stats import (
    MIN_BUCKET_ROWS,
    NULL_BUCKET,
    Cell,
    Evidence,
    benjamini_hochberg,
    classification_evidence,
    merge,
    regression_evidence,
)
from dagster_agentic.features.sql import TableRef, feature_group_sql, model_name, training_set_sql
from dagster_agentic.goals.objective import Objective, TaskType
from dagster_agentic.guardrails.cost import check_cost
from dagster_agentic.guardrails.sql_policy import check_select
from dagster_agentic.plan.models import Plan
from dagster_agentic.warehouse.connection import EgressLedger, Warehouse, quote_ident

__all__ = [
    "BUCKETS",
    "FALSE_DISCOVERY_RATE",
    "MIN_BUCKET_ROWS",
    "Correlation",
    "FeatureScore",
    "Relevance",
    "ScreeningReport",
    "benjamini_hochberg",
    "false_discovery_rate",
]

SCREENING_FILE = "screening.json"
"""Where a plan version keeps its screening report (candidates, scores, selection)."""
MIN_BUCKET_MINORITY = 5
"""Fewest rows of the rarest class expected per bucket, which caps the number of buckets."""
COLUMNS_PER_QUERY = 50
"""Candidates scored by one bucket query (a UNION ALL of one branch each)."""
MAX_CELLS = 250_000
"""Most (bucket, population, class) aggregates one screening returns: wide tables get fewer
buckets instead of more egress."""
RELEVANT_P_VALUE = 0.01
"""Features at least this significant (on all rows or the cohort) are checked for redundancy."""
REDUNDANCY_REPORTED = 0.9
"""Pairs with |Spearman rho| at or above this are reported."""
CROSS_GROUP_TOP = 40
"""The strongest features of all groups are also compared across groups."""

_TABLE, _RANKS = "__agentic_screen", "__agentic_screen_ranks"
_RANKED = "__agentic_screen_ranked"
_TARGET_RANK = "__agentic_target_rank"
Population = Literal["all", "cohort"]
_POPULATIONS: tuple[Population, ...] = ("all", "cohort")


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
    objective = plan.objective
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
        unlabelled = _unlabelled_rows(conn, plan, source_ref, raw)
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE {_TABLE} AS "
            f"SELECT * EXCLUDE (split) FROM ({sql}) WHERE split = 'train'"
        )
        screened = score_columns(
            conn, _TABLE, columns, task=objective.task, classes=class_count(objective)
        )
        egress += screened.egress
        scores = screened.scores
        correlations = _redundancy(conn, scores)
        conn.execute(f"DROP TABLE IF EXISTS {_TABLE}")
        conn.execute(f"DROP TABLE IF EXISTS {_RANKS}")
    egress += 64 * len(correlations)
    if ledger is not None:
        ledger.record("screening", egress, 0)
    return ScreeningReport(
        rows=screened.rows,
        positives=screened.positives,
        cohort_rows=screened.cohort_rows,
        buckets=screened.buckets,
        false_discovery_rate=screened.level,
        task=objective.task,
        class_counts=screened.class_counts,
        target_distinct=screened.target_distinct,
        unlabelled_rows=unlabelled,
        scores=tuple(scores),
        correlations=tuple(correlations),
        seconds=round(time.perf_counter() - started, 3),
        egress_bytes=egress,
        queries=screened.queries,
    )


def _unlabelled_rows(
    conn: duckdb.DuckDBPyConnection, plan: Plan, source_ref: TableRef, raw: set[str]
) -> int:
    """Label rows whose target is set but not readable by the task (0 for binary)."""
    objective = plan.objective
    if objective.task == "binary_classification":
        return 0
    target = f"l.{quote_ident(objective.target_column)}"
    sql = (
        f"SELECT count(*) FROM {source_ref('source', objective.label_table)} AS l"
        f" WHERE {target} IS NOT NULL AND NOT ({labelled_sql(objective, target)})"
    )
    check_select(sql, allowed_tables=raw, label="feature screening")
    row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0


def refuse_unlearnable_target(report: ScreeningReport, objective: Objective, goal: str) -> None:
    """Refuse, before anything is built, a target the train rows cannot teach: a constant
    regression target, or classes of a multiclass goal that no train row holds."""
    if report.task == "regression" and (report.target_distinct or 0) < 2:
        held = "no value" if not report.target_distinct else "a single value"
        raise DataError(
            f"the target {objective.target_column!r} of goal {goal!r} takes {held} on the"
            f" {report.rows:,} training rows: a constant target leaves nothing to predict",
            fix="check that the target column is filled, or point the goal at another column",
        )
    if report.task == "multiclass_classification" and report.class_counts:
        missing = [
            str(value)
            for value, count in zip(objective.classes, report.class_counts, strict=False)
            if count == 0
        ]
        if missing:
            raise DataError(
                f"the training rows of goal {goal!r} hold no row of class(es)"
                f" {', '.join(repr(m) for m in missing)} of {objective.target_column!r}: a model"
                " cannot learn a class it never sees",
                fix="label rows of those classes, or leave them out of the goal's classes"
                " (overrides)",
            )


@dataclass(frozen=True)
class ScoredColumns:
    rows: int
    positives: int
    cohort_rows: int
    buckets: int
    scores: list[FeatureScore]
    egress: int
    level: float = FALSE_DISCOVERY_RATE
    class_counts: tuple[int, ...] = ()
    target_distinct: int | None = None
    queries: int = 0


def score_columns(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[tuple[str, str, str, Literal["numeric", "categorical"]]],
    *,
    task: TaskType = "binary_classification",
    classes: int = 2,
) -> ScoredColumns:
    """Score ``columns`` (group, feature, column, kind) of ``table``, a relation on ``conn``
    with a ``label`` column (0/1, a class index below ``classes``, or a number for
    regression) and a boolean ``in_cohort`` column, and adjust for their number.

    ``table`` is a trusted relation name (the screening's TEMP table); column names are quoted.
    """
    regression = task == "regression"
    if regression:
        totals = conn.execute(
            f"SELECT count(*), coalesce(sum(in_cohort::INT), 0), count(DISTINCT label) FROM {table}"
        ).fetchone()
        assert totals is not None
        rows, cohort_rows, distinct = (int(v) for v in totals)
        counts: tuple[int, ...] = ()
        positives, cohort_positives = 0, 0
        # Midranks of the target over all train rows, scaled into (0, 1): computed once, so
        # every bucket query sums them instead of ranking the target again.
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE {_RANKED} AS SELECT *, (rank() OVER (ORDER BY label)"
            f" + (count(*) OVER (PARTITION BY label) - 1) / 2.0 - 0.5) / count(*) OVER ()"
            f" AS {_TARGET_RANK} FROM {table}"
        )
        source, smallest = _RANKED, None
    else:
        per_class = conn.execute(
            f"SELECT label, count(*), coalesce(sum(in_cohort::INT), 0) FROM {table} GROUP BY label"
        ).fetchall()
        by_class = {int(k): (int(n), int(c)) for k, n, c in per_class if k is not None}
        counts = tuple(by_class.get(k, (0, 0))[0] for k in range(classes))
        rows = sum(n for n, _ in by_class.values())
        cohort_rows = sum(c for _, c in by_class.values())
        positives = counts[1] if classes == 2 else 0
        cohort_positives = by_class.get(1, (0, 0))[1] if classes == 2 else 0
        distinct = None
        # Cochran's rule for the G-test: at most a fifth of the expected counts below five, so
        # the class at the 20th percentile of sizes (the rarest of two or three) sets the cap.
        ranked = sorted(counts)
        source, smallest = table, ranked[int(0.2 * len(ranked))] if ranked else 0
    buckets = bucket_count(
        rows, smallest, candidates=len(columns), classes=max(1, classes), regression=regression
    )
    cells, queries, egress = _bucket_cells(
        conn, source, [(c, k) for _, _, c, k in columns], buckets, task=task, classes=classes
    )
    if regression:
        conn.execute(f"DROP TABLE IF EXISTS {_RANKED}")
    scores = []
    for group, feature, column, kind in columns:
        by_population = {
            population: _relevance(
                cells.get((column, population), []),
                rows if population == "all" else cohort_rows,
                positives if population == "all" else cohort_positives,
                ordered=kind == "numeric",
                task=task,
                classes=classes,
            )
            for population in _POPULATIONS
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
    level = false_discovery_rate(rows, len(columns))
    return ScoredColumns(
        rows=rows,
        positives=positives,
        cohort_rows=cohort_rows,
        buckets=buckets,
        scores=_adjusted(scores, level),
        egress=egress,
        level=level,
        class_counts=counts,
        target_distinct=distinct,
        queries=queries + (3 if regression else 1),
    )


def bucket_count(
    rows: int,
    positives: int | None,
    *,
    candidates: int = 0,
    classes: int = 2,
    regression: bool = False,
) -> int:
    """Buckets for a numeric feature: up to ``BUCKETS``, fewer when rows or a rare class are
    too few to fill them (``positives``: the rarer class's rows for binary, the class at the
    20th percentile of sizes for multiclass), or when ``candidates`` would return more than
    ``MAX_CELLS`` aggregates (two populations, one per class)."""
    limit = min(BUCKETS, rows // MIN_BUCKET_ROWS)
    if not regression and positives is not None:
        minority = min(positives, rows - positives)
        limit = min(limit, minority // MIN_BUCKET_MINORITY)
    if candidates:
        limit = min(limit, MAX_CELLS // (candidates * 2 * max(1, classes)))
    return max(2, limit)


def _adjusted(scores: list[FeatureScore], level: float) -> list[FeatureScore]:
    q_values = benjamini_hochberg([s.combined_p_value for s in scores])
    return [
        s.model_copy(update={"q_value": q, "level": level})
        for s, q in zip(scores, q_values, strict=True)
    ]


def _bucket_cells(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[tuple[str, str]],
    buckets: int,
    *,
    task: TaskType,
    classes: int,
) -> tuple[dict[tuple[str, Population], list[Cell]], int, int]:
    """(column, population) -> cells, from one UNION ALL query per ``COLUMNS_PER_QUERY``
    columns; the number of queries run and the bytes (as text) of what they returned."""
    regression = task == "regression"
    raw: dict[tuple[str, Population], list[Cell]] = defaultdict(list)
    queries, egress = 0, 0
    for start in range(0, len(columns), COLUMNS_PER_QUERY):
        branches = []
        for i, (column, kind) in enumerate(columns[start : start + COLUMNS_PER_QUERY], start):
            col = quote_ident(column)
            if kind == "categorical":
                bucket = f"CAST({col} AS VARCHAR)"
            else:
                rank = f"cume_dist() OVER (PARTITION BY {col} IS NULL ORDER BY {col})"
                bucket = (
                    f"lpad(CAST(least(floor({rank} * {buckets}), {buckets - 1}) AS INTEGER)"
                    "::VARCHAR, 2, '0')"
                )
            inner = (
                f"SELECT label, in_cohort, {_TARGET_RANK if regression else 'NULL'} AS r,"
                f" CASE WHEN {col} IS NULL THEN '{NULL_BUCKET}' ELSE {bucket} END AS b"
                f" FROM {table}"
            )
            if regression:
                branches.append(
                    f"SELECT {i} AS c, b, in_cohort, 0 AS k, count(*) AS n, sum(r) AS s1,"
                    f" sum(r * r) AS s2 FROM ({inner}) GROUP BY b, in_cohort"
                )
            else:
                branches.append(
                    f"SELECT {i} AS c, b, in_cohort, label AS k, count(*) AS n, 0.0 AS s1,"
                    f" 0.0 AS s2 FROM ({inner}) GROUP BY b, in_cohort, label"
                )
        result = conn.execute(" UNION ALL ".join(branches)).fetchall()
        queries += 1
        egress += sum(len(str(row)) for row in result)
        for c, b, in_cohort, k, n, s1, s2 in result:
            if regression:
                stats: tuple[float, ...] = (float(s1), float(s2))
            else:
                stats = tuple(float(n) if j == int(k) else 0.0 for j in range(classes))
            cell: Cell = (str(b), int(n), stats)
            column = columns[int(c)][0]
            raw[(column, "all")].append(cell)
            if in_cohort:
                raw[(column, "cohort")].append(cell)
    return {key: merge(cells) for key, cells in raw.items()}, queries, egress


def _relevance(
    cells: list[Cell],
    rows: int,
    positives: int,
    *,
    ordered: bool,
    task: TaskType,
    classes: int,
) -> Relevance:
    evidence: Evidence = (
        regression_evidence(cells, ordered=ordered)
        if task == "regression"
        else classification_evidence(cells, max(2, classes), ordered=ordered)
    )
    n = evidence.rows
    binary = task == "binary_classification"
    return Relevance(
        rows=n or rows,
        positives=(evidence.class_counts[1] if n else positives) if binary else 0,
        null_fraction=round(evidence.nulls / n, 6) if n else 1.0,
        buckets=evidence.buckets,
        auc=evidence.auc,
        mutual_information=round(evidence.mutual_information, 8),
        uncertainty=round(evidence.share, 8),
        p_value=evidence.p_value,
        cramers_v=None if evidence.cramers_v is None else round(evidence.cramers_v, 6),
        rank_correlation=evidence.rank_correlation,
        class_counts=evidence.class_counts if task == "multiclass_classification" else (),
    )


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
