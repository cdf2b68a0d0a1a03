"""The statistics of feature screening, from the per-bucket aggregates the warehouse returns.

A feature is cut into buckets (equal-frequency for numbers, one per category, NULL its own);
the warehouse returns, per bucket, its row count and additive statistics of the label:

* **classification** (binary and multiclass): rows of each class, ``(c_0, ..., c_{k-1})``;
* **regression**: the sum and the sum of squares of the label's rank (midranks over all train
  rows, scaled into (0, 1)), so every test is robust to outliers and monotone transforms of
  the target (sale prices are skewed; a log of them should screen the same).

Two tests per feature, each fitted to the task, and the smaller p-value doubled (Bonferroni):

* an **omnibus** test of any dependence on the bucket: the G-test of the bucket x class table
  (classification) or the rank one-way ANOVA F-test (regression, Conover & Iman's rank
  transform); these also catch a non-monotone effect and a telling NULL;
* for numbers, a **trend** test with one degree of freedom, far more powerful on the monotone
  effects most real features have when rows are few (the omnibus test spreads the same
  evidence over up to 19 degrees of freedom): Kruskal-Wallis of the feature's ranks across
  classes (for two classes, the Mann-Whitney test behind the ROC AUC) or the Spearman rank
  correlation with the target.

Effect sizes compare features and populations: mutual information (bits, less the binning bias)
and the share of the label it explains (the uncertainty coefficient; for regression epsilon
squared, the bias-corrected share of the target's rank variance the buckets explain).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Cell = tuple[str, int, tuple[float, ...]]
"""(bucket, rows, additive label statistics): class counts, or (sum r, sum r^2) of ranks."""
NULL_BUCKET = "~null"

MIN_BUCKET_ROWS = 30
"""Fewest rows a bucket holds for the omnibus test (buckets are pooled below this)."""


@dataclass(frozen=True)
class Evidence:
    """What one population's buckets say about the label."""

    rows: int
    nulls: int
    buckets: int
    """Buckets after pooling, the omnibus test's groups."""
    mutual_information: float
    share: float
    """Share of the label explained: uncertainty coefficient, or rank epsilon squared."""
    p_value: float
    auc: float | None = None
    cramers_v: float | None = None
    rank_correlation: float | None = None
    class_counts: tuple[int, ...] = ()


def merge(cells: Iterable[Cell]) -> list[Cell]:
    """Cells of the same bucket added up, in bucket order."""
    merged: dict[str, tuple[int, list[float]]] = {}
    for bucket, n, stats in cells:
        if bucket not in merged:
            merged[bucket] = (0, [0.0] * len(stats))
        total, sums = merged[bucket]
        merged[bucket] = (total + n, [a + b for a, b in zip(sums, stats, strict=True)])
    return [(b, n, tuple(s)) for b, (n, s) in sorted(merged.items())]


def _add(a: Cell, b: Cell) -> Cell:
    return (a[0], a[1] + b[1], tuple(x + y for x, y in zip(a[2], b[2], strict=True)))


def value_order(cells: Iterable[Cell]) -> list[Cell]:
    """Numeric buckets in value order, NULL first (bucket names are zero-padded indices)."""
    return sorted(cells, key=lambda c: (c[0] != NULL_BUCKET, c[0]))


def pooled(cells: list[Cell], *, ordered: bool) -> list[Cell]:
    """Buckets pooled until each holds ``MIN_BUCKET_ROWS`` rows (half the rows, in a
    population of fewer than twice that, so it is cut in two at most): the omnibus tests'
    approximations need filled cells, and a cohort of a few hundred rows cut twenty ways has
    none.

    Numeric buckets merge with their neighbour in value order (NULL sits before the lowest);
    categories below the minimum pool into one bucket of rare values, and a pool still too
    small joins the smallest category.
    """
    usable = [c for c in cells if c[1]]
    minimum = min(MIN_BUCKET_ROWS, max(1, sum(c[1] for c in usable) // 2))
    if ordered:
        merged: list[Cell] = []
        for bucket in value_order(usable):
            if merged and merged[-1][1] < minimum:
                bucket = _add(merged.pop(), bucket)
            merged.append(bucket)
        if len(merged) > 1 and merged[-1][1] < minimum:
            last = merged.pop()
            merged[-1] = _add(merged[-1], last)
        return merged
    big = [c for c in usable if c[1] >= minimum]
    rare = [c for c in usable if c[1] < minimum]
    if not rare:
        return big
    pool: Cell = ("~rare", 0, tuple(0.0 for _ in rare[0][2]))
    for cell in rare:
        pool = _add(pool, cell)
    if pool[1] < minimum and big:
        smallest = min(big, key=lambda c: c[1])
        big.remove(smallest)
        pool = _add(pool, smallest)
    return [*big, ("~rare", pool[1], pool[2])]


def entropy(counts: Sequence[float]) -> float:
    total = sum(counts)
    return -sum(c / total * math.log2(c / total) for c in counts if c > 0) if total else 0.0


def classification_evidence(cells: list[Cell], classes: int, *, ordered: bool) -> Evidence:
    """G-test of the bucket x class table, Kruskal-Wallis of the feature's order across classes
    (numeric features), mutual information and Cramér's V; the binned ROC AUC for two classes."""
    from scipy.stats import chi2

    cells = [(b, n, _padded(s, classes)) for b, n, s in cells if n]
    n = sum(c[1] for c in cells)
    totals = [sum(c[2][k] for c in cells) for k in range(classes)]
    nulls = sum(c[1] for c in cells if c[0] == NULL_BUCKET)
    present = sum(1 for t in totals if t > 0)
    groups = pooled(cells, ordered=ordered)
    h = entropy(totals)
    conditional = sum(g[1] / n * entropy(g[2]) for g in groups) if n else 0.0
    raw_mi = max(0.0, h - conditional)
    df = (len(groups) - 1) * (present - 1)
    g_stat = 2 * n * raw_mi * math.log(2)
    # Miller-Madow: a binned estimate is biased up by about df / (2 n ln 2) bits, which would
    # favour many-valued features and small populations (the cohort).
    mi = max(0.0, raw_mi - df / (2 * n * math.log(2))) if n else 0.0
    p_omnibus = float(chi2.sf(g_stat, df)) if df > 0 else 1.0
    p_value = p_omnibus
    if ordered:
        p_trend = kruskal_wallis([c for c in value_order(cells) if c[0] != NULL_BUCKET])
        p_value = min(1.0, 2 * min(p_omnibus, p_trend))
    smaller = min(len(groups) - 1, present - 1)
    return Evidence(
        rows=n,
        nulls=nulls,
        buckets=len(groups),
        mutual_information=mi,
        share=mi / h if h else 0.0,
        p_value=p_value,
        auc=binned_auc([(b, c, s[1]) for b, c, s in cells], ordered=ordered)
        if classes == 2
        else None,
        cramers_v=math.sqrt(min(1.0, g_stat / (n * smaller))) if smaller > 0 and n else None,
        class_counts=tuple(int(t) for t in totals),
    )


def regression_evidence(cells: list[Cell], *, ordered: bool) -> Evidence:
    """Rank one-way ANOVA across buckets (F-test, epsilon squared) and, for numeric features,
    the Spearman correlation of the bucket order with the target's rank (t-test)."""
    from scipy.stats import f as f_dist
    from scipy.stats import t as t_dist

    cells = [c for c in cells if c[1]]
    n = sum(c[1] for c in cells)
    nulls = sum(c[1] for c in cells if c[0] == NULL_BUCKET)
    groups = pooled(cells, ordered=ordered)
    total = sum(c[2][0] for c in cells)
    squares = sum(c[2][1] for c in cells)
    sst = squares - total * total / n if n else 0.0
    ssb = sum(g[2][0] ** 2 / g[1] for g in groups) - total * total / n if n else 0.0
    ssb = min(max(ssb, 0.0), max(sst, 0.0))
    df1, df2 = len(groups) - 1, n - len(groups)
    p_omnibus, share = 1.0, 0.0
    if df1 > 0 and df2 > 0 and sst > 1e-12:
        msw = (sst - ssb) / df2
        share = max(0.0, (ssb - df1 * msw) / sst)
        p_omnibus = 0.0 if msw <= 0 else float(f_dist.sf((ssb / df1) / msw, df1, df2))
    p_value, rho = p_omnibus, None
    if ordered:
        rho = spearman([c for c in value_order(cells) if c[0] != NULL_BUCKET])
        if rho is not None:
            present = n - nulls
            if abs(rho) >= 1.0:
                p_trend = 0.0
            elif present > 2:
                t = rho * math.sqrt((present - 2) / (1 - rho * rho))
                p_trend = float(2 * t_dist.sf(abs(t), present - 2))
            else:
                p_trend = 1.0
            p_value = min(1.0, 2 * min(p_omnibus, p_trend))
    share = min(share, 1.0)
    return Evidence(
        rows=n,
        nulls=nulls,
        buckets=len(groups),
        # The information a Gaussian copula with this share of explained variance carries.
        mutual_information=-0.5 * math.log2(max(1e-12, 1.0 - share)),
        share=share,
        p_value=p_value,
        rank_correlation=None if rho is None else round(rho, 6),
    )


def _padded(stats: tuple[float, ...], classes: int) -> tuple[float, ...]:
    return tuple(stats) + (0.0,) * (classes - len(stats))


def _midranks(sizes: Sequence[int]) -> list[float]:
    """The midrank of each bucket of ``sizes`` rows, buckets in order (ranks from 1)."""
    out, below = [], 0
    for size in sizes:
        out.append(below + (size + 1) / 2)
        below += size
    return out


def kruskal_wallis(cells: list[Cell]) -> float:
    """p-value of Kruskal-Wallis H for "the feature's order differs between classes", from
    class counts per ordered bucket (rows in one bucket are ties). For two classes it is the
    two-sided Mann-Whitney test, i.e. the test of ROC AUC = 0.5."""
    from scipy.stats import chi2

    cells = [c for c in cells if c[1]]
    n = sum(c[1] for c in cells)
    if len(cells) < 2 or n < 3:
        return 1.0
    ranks = _midranks([c[1] for c in cells])
    classes = len(cells[0][2])
    sizes = [sum(c[2][k] for c in cells) for k in range(classes)]
    sums = [sum(c[2][k] * r for c, r in zip(cells, ranks, strict=True)) for k in range(classes)]
    present = [(s, m) for s, m in zip(sums, sizes, strict=True) if m > 0]
    if len(present) < 2:
        return 1.0
    h = 12 / (n * (n + 1)) * sum(s * s / m for s, m in present) - 3 * (n + 1)
    ties = 1 - sum(c[1] ** 3 - c[1] for c in cells) / (n**3 - n)
    if ties <= 0:
        return 1.0
    return float(chi2.sf(max(0.0, h / ties), len(present) - 1))


def spearman(cells: list[Cell]) -> float | None:
    """Spearman's rho between the bucket order (ties within a bucket) and the target's rank,
    from per-bucket (rows, (sum r, sum r^2)); None when either side is constant."""
    cells = [c for c in cells if c[1]]
    n = sum(c[1] for c in cells)
    if len(cells) < 2 or n < 3:
        return None
    ranks = _midranks([c[1] for c in cells])
    mean_x = (n + 1) / 2
    mean_y = sum(c[2][0] for c in cells) / n
    cov = sum(r * c[2][0] for c, r in zip(cells, ranks, strict=True)) - n * mean_x * mean_y
    var_x = sum(c[1] * (r - mean_x) ** 2 for c, r in zip(cells, ranks, strict=True))
    var_y = sum(c[2][1] for c in cells) - n * mean_y * mean_y
    if var_x <= 0 or var_y <= 1e-12:
        return None
    return max(-1.0, min(1.0, cov / math.sqrt(var_x * var_y)))


def binned_auc(cells: list[tuple[str, int, float]], *, ordered: bool) -> float | None:
    """ROC AUC of the bucket order (ties within a bucket count half), oriented to >= 0.5, from
    (bucket, rows, positives). Numeric buckets are ordered by value (NULL first); categories
    by their positive rate."""
    usable = [(b, n, p) for b, n, p in cells if n]
    if len(usable) < 2:
        return None
    if ordered:
        usable.sort(key=lambda c: (c[0] != NULL_BUCKET, c[0]))
    else:
        usable.sort(key=lambda c: c[2] / c[1])
    total_pos = sum(p for _, _, p in usable)
    total_neg = sum(n - p for _, n, p in usable)
    if not total_pos or not total_neg:
        return None
    below_neg, area = 0.0, 0.0
    for _, n, p in usable:
        neg = n - p
        area += p * (below_neg + 0.5 * neg)
        below_neg += neg
    auc = area / (total_pos * total_neg)
    return round(max(auc, 1 - auc), 6)


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


def explained_share(cells: list[Cell], *, regression: bool) -> float:
    """The share of the label the buckets explain as they are (no pooling): the uncertainty
    coefficient of class counts, or epsilon squared of rank sums (regression). What a
    near-copy of the label is recognised by."""
    cells = [c for c in cells if c[1]]
    n = sum(c[1] for c in cells)
    if not n:
        return 0.0
    if not regression:
        classes = max(len(c[2]) for c in cells)
        totals = [sum(_padded(c[2], classes)[k] for c in cells) for k in range(classes)]
        h = entropy(totals)
        conditional = sum(c[1] / n * entropy(c[2]) for c in cells)
        return max(0.0, h - conditional) / h if h else 0.0
    total = sum(c[2][0] for c in cells)
    sst = sum(c[2][1] for c in cells) - total * total / n
    ssb = sum(c[2][0] ** 2 / c[1] for c in cells) - total * total / n
    df1, df2 = len(cells) - 1, n - len(cells)
    if sst <= 1e-12 or df1 <= 0 or df2 <= 0:
        return 1.0 if sst > 1e-12 and df2 <= 0 < df1 else 0.0
    msw = max(0.0, sst - ssb) / df2
    return min(1.0, max(0.0, (ssb - df1 * msw) / sst))
