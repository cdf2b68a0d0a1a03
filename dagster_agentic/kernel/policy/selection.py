"""The policy kernel's feature selection: which screened candidates enter the training set.

In order, a candidate is dropped when it is:

1. **too good to be true**: it alone explains most of the label (a near-copy, i.e. leakage);
2. **remembered as valueless**: an earlier plan version trained with it and SHAP found no value;
3. **without signal**: not significant on all rows nor on the goal's cohort once the number of
   candidates is accounted for (Benjamini-Hochberg q-value at a false discovery rate that
   scales with rows and candidates, see ``features.screening.false_discovery_rate``);
4. **redundant**: rank-correlated with a stronger candidate that is kept;
5. **over the cap**: beyond ``MAX_FEATURES``, taken strongest first in turns between source
   tables (the training matrix is what leaves the warehouse, so fewer columns is less egress).
"""

from __future__ import annotations

from collections import Counter

from dagster_agentic.features.screening import FeatureScore, Relevance, ScreeningReport
from dagster_agentic.goals.objective import TaskType
from dagster_agentic.kernel.protocol import FeatureDecision, FeatureSelection

LEAKAGE_UNCERTAINTY = 0.8
LEAKAGE_AUC = 0.995
LEAKAGE_RANK_SHARE = 0.9
REDUNDANT_RHO = 0.95
MAX_FEATURES = 40
MIN_FEATURES = 5


def select_features(report: ScreeningReport, valueless: dict[str, int]) -> FeatureSelection:
    decisions: dict[str, FeatureDecision] = {}

    def drop(score: FeatureScore, reason: str, rule: str) -> None:
        decisions[score.column] = FeatureDecision(
            column=score.column, keep=False, rule=rule, reason=reason
        )

    ranked = sorted(report.scores, key=_strength, reverse=True)
    survivors: list[FeatureScore] = []
    for score in ranked:
        best = score.best
        if leaks(best, report.task):
            drop(
                score,
                f"explains {best.uncertainty:.0%} of the label alone ({_effect(best)}): a"
                " near-copy of the label, recorded after the prediction time",
                "leakage",
            )
        elif score.column in valueless:
            drop(
                score,
                f"no SHAP value when trained in plan version {valueless[score.column]}",
                "memory",
            )
        elif not score.significant:
            drop(
                score,
                f"no signal after correcting for {len(report.scores)} candidates"
                f" (p={score.p_value:.3g}, q={score.q_value:.3g} >= {score.level:g})",
                "no_signal",
            )
        else:
            survivors.append(score)

    partners: dict[str, list[tuple[str, float]]] = {}
    for pair in report.correlations:
        partners.setdefault(pair.a, []).append((pair.b, pair.rho))
        partners.setdefault(pair.b, []).append((pair.a, pair.rho))
    kept: list[FeatureScore] = []
    for score in _round_robin(survivors):
        twin = next(
            (
                (other, rho)
                for other, rho in partners.get(score.column, [])
                if abs(rho) >= REDUNDANT_RHO and other in {k.column for k in kept}
            ),
            None,
        )
        if twin is not None:
            drop(score, f"redundant with {twin[0]} (rank correlation {twin[1]:+.3f})", "redundant")
        elif len(kept) >= MAX_FEATURES:
            drop(score, f"beyond the {MAX_FEATURES} features kept", "cap")
        else:
            kept.append(score)

    selected = {s.column for s in kept}
    if len(kept) < MIN_FEATURES:
        # Never plan an empty model: keep the strongest non-leaks, but say they carry no proven
        # signal (rule ``fallback_no_signal``), so nobody reads them as discoveries.
        fallback = [
            s
            for s in ranked
            if s not in kept and decisions[s.column].rule not in ("leakage", "memory")
        ]
        kept += fallback[: MIN_FEATURES - len(kept)]
    for score in kept:
        best = score.best
        proven = score.column in selected
        decisions[score.column] = FeatureDecision(
            column=score.column,
            keep=True,
            rule="selected" if proven else "fallback_no_signal",
            reason=f"MI {best.mutual_information:.4f} bits, {_effect(best)}, p={score.p_value:.2g},"
            f" q={score.q_value:.2g}"
            + ("" if proven else ": no candidate is significant, kept so a model can be trained"),
        )
    ordered = tuple(decisions[s.column] for s in report.scores)
    counts = Counter(d.rule for d in ordered if not d.keep)
    dropped = ", ".join(f"{n} {rule.replace('_', ' ')}" for rule, n in sorted(counts.items()))
    return FeatureSelection(
        decisions=ordered,
        rationale=(
            f"screened {len(ordered)} candidate features in the warehouse on {report.rows:,}"
            f" training rows at a false discovery rate of {report.false_discovery_rate:.0%}:"
            f" kept {len(kept)}"
            + (
                f" ({len(kept) - len(selected)} without proven signal)"
                if len(kept) > len(selected)
                else ""
            )
            + (f"; dropped {dropped}" if dropped else "")
            + (
                f"; {report.unlabelled_rows:,} label rows whose target is not"
                + (" one of the classes" if report.task != "regression" else " a finite number")
                + " are left out"
                if report.unlabelled_rows
                else ""
            ),
        ),
    )


def leaks(best: Relevance, task: TaskType) -> bool:
    """Whether one feature alone explains so much of the label that it must be a copy of it.

    Classification: ``LEAKAGE_UNCERTAINTY`` of the label's entropy, or (binary) a binned AUC of
    ``LEAKAGE_AUC``. Regression: ``LEAKAGE_RANK_SHARE`` of the share of the target's rank
    variance that a perfect copy cut into as many buckets could explain (``1 - 1/k**2`` for
    k equal buckets), so a copy is caught however few buckets small data allows.
    """
    if task == "regression":
        ceiling = 1.0 - 1.0 / max(2, best.buckets) ** 2
        return best.uncertainty >= LEAKAGE_RANK_SHARE * ceiling
    return best.uncertainty >= LEAKAGE_UNCERTAINTY or (best.auc or 0) >= LEAKAGE_AUC


def _effect(best: Relevance) -> str:
    """The feature's effect size, in the terms its task has."""
    if best.rank_correlation is not None:
        return f"Spearman rho {best.rank_correlation:+.3f}, {best.uncertainty:.1%} of rank variance"
    if best.auc is not None:
        return f"AUC {best.auc}"
    if best.cramers_v is not None:
        return f"Cramér's V {best.cramers_v:.3f}"
    return f"{best.uncertainty:.1%} of the label explained"


def _round_robin(scores: list[FeatureScore]) -> list[FeatureScore]:
    """Strongest first, taking turns between groups: each source table is represented before
    any one of them fills the cap (features of one table tend to say the same thing)."""
    queues: dict[str, list[FeatureScore]] = {}
    for score in scores:  # already strongest first
        queues.setdefault(score.group, []).append(score)
    ordered: list[FeatureScore] = []
    while any(queues.values()):
        heads = [queue.pop(0) for queue in queues.values() if queue]
        ordered += sorted(heads, key=_strength, reverse=True)
    return ordered


def _strength(score: FeatureScore) -> tuple[float, float, str]:
    best = score.best
    return (best.mutual_information, best.auc or 0.5, score.column)
