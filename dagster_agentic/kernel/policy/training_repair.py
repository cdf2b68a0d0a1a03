"""Training divergence: diagnose it from a failed fit's evidence and stabilise the spec.

A diverged fit raises :class:`~dagster_agentic.training.learners.TrainingDivergedError`,
whose :meth:`~dagster_agentic.training.learners.TrainingDivergedError.to_evidence` is the
input of :func:`diagnose_divergence`. The remedy, applied by :func:`stabilise`, is one step:

* the learning rate is divided by ``LR_FACTOR`` (10): with AdamW the size of every step is
  set by the learning rate, whatever the gradients, so this is the main lever;
* gradient clipping is switched on at ``DEFAULT_CLIP_GRAD_NORM`` (1.0), or halved when it was
  already on: clipping keeps a gradient spike from swamping the optimiser's moment estimates.

A learning rate that would drop below ``MIN_LR`` (1e-6) has no further remedy: the loss does
not diverge because of the step size any more, and the caller refuses (the features are the
next suspect). Only ``torch_mlp`` candidates can be stabilised; the other families have no
learning rate to lower (logistic) or never diverge this way (LightGBM).

Everything here is pure: it reads dicts and specs and imports no training library.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from dagster_agentic.healing.diagnosis import Diagnosis
from dagster_agentic.training.spec import ModelSpec, TrainingSpec

LR_FACTOR = 10.0
MIN_LR = 1e-6
DEFAULT_CLIP_GRAD_NORM = 1.0
CONFIDENCE_NON_FINITE = 0.95
"""A NaN or infinite loss is unambiguous."""
CONFIDENCE_EXPLODED = 0.85
"""An exploded loss is a threshold call, though one far from healthy training."""
STABILISABLE_FAMILIES: tuple[str, ...] = ("torch_mlp",)


@dataclass(frozen=True)
class _Step:
    """One stabilising step: the learning rate and clipping before and after."""

    lr: float
    clip: float
    new_lr: float
    new_clip: float

    @property
    def possible(self) -> bool:
        return self.new_lr >= MIN_LR


def _step(params: dict[str, Any]) -> _Step:
    lr = float(params.get("lr", 0.0))
    clip = float(params.get("clip_grad_norm", 0.0) or 0.0)
    new_clip = clip / 2 if clip > 0 else DEFAULT_CLIP_GRAD_NORM
    return _Step(lr=lr, clip=clip, new_lr=lr / LR_FACTOR, new_clip=new_clip)


def stabilise(spec: TrainingSpec, family: str) -> TrainingSpec:
    """A copy of ``spec`` whose ``family`` candidates take one stabilising step.

    Every candidate of ``family`` gets its learning rate divided by ``LR_FACTOR`` and gradient
    clipping at ``DEFAULT_CLIP_GRAD_NORM`` (halved if it was on); the other candidates are
    unchanged. Raises ``ValueError`` when ``family`` has no candidate in ``spec``, cannot be
    stabilised, or its learning rate would fall below ``MIN_LR``.
    """
    present = [c.family for c in spec.candidates]
    if family not in present:
        raise ValueError(
            f"the training spec has no {family} candidate to stabilise; it has "
            f"{', '.join(dict.fromkeys(present))}"
        )
    if family not in STABILISABLE_FAMILIES:
        raise ValueError(
            f"{family} has no learning rate or gradient clipping to lower; only "
            f"{', '.join(STABILISABLE_FAMILIES)} can be stabilised"
        )
    candidates: list[ModelSpec] = []
    for candidate in spec.candidates:
        if candidate.family != family:
            candidates.append(candidate)
            continue
        step = _step(candidate.resolved_params())
        if not step.possible:
            raise ValueError(
                f"{family} lr {step.lr:g} cannot be lowered further: {step.new_lr:g} is below "
                f"the floor {MIN_LR:g}"
            )
        params = {**candidate.params, "lr": step.new_lr, "clip_grad_norm": step.new_clip}
        candidates.append(
            ModelSpec(family=candidate.family, params=params, max_seconds=candidate.max_seconds)
        )
    return spec.model_copy(update={"candidates": tuple(candidates)})


def diagnose_divergence(evidence: dict[str, Any]) -> Diagnosis:
    """A ``training_divergence`` diagnosis of a diverged fit's evidence, with its remedy."""
    kind = evidence.get("kind", "diverged")
    if kind != "diverged":
        raise ValueError(f"evidence of kind {kind!r} is not a training divergence")
    family = str(evidence.get("family", "unknown"))
    epoch = evidence.get("epoch")
    stage = str(evidence.get("stage", "training"))
    params: dict[str, Any] = dict(evidence.get("params") or {})
    loss = _number(evidence.get("loss"))
    non_finite = evidence.get("reason") == "non_finite" or loss is None or not math.isfinite(loss)
    step = _step(params)
    train_curve = [_number(x) for x in evidence.get("train_curve") or []]
    start = _number(evidence.get("initial_loss"))
    if start is None and train_curve:
        start = train_curve[0]
    began = f"{start:.3g}" if start is not None else "?"
    if non_finite:
        last = _number(evidence.get("last_finite_loss"))
        shown = str(evidence.get("loss", "nan"))
        tail = f" (last finite {last:.3g})" if last is not None else ""
        trajectory = f"loss {began} -> {shown} at epoch {epoch}{tail}"
        what = "became NaN or infinite"
    else:
        trajectory = f"loss {began} -> {loss:.3g} by epoch {epoch}"
        what = "exploded"
    clip_text = f"{step.clip:g}" if step.clip > 0 else "off"
    explanation = (
        f"{family} training diverged at epoch {epoch}: the {stage} loss {what}, {trajectory}, "
        f"with lr={step.lr:g} and gradient clipping {clip_text}"
    )
    stabilisable = family in STABILISABLE_FAMILIES and step.possible
    if stabilisable:
        clipping = (
            f"tighten gradient clipping {step.clip:g} -> {step.new_clip:g}"
            if step.clip > 0
            else f"clip gradients at {step.new_clip:g}"
        )
        remedy = f"lower lr {step.lr:g} -> {step.new_lr:g} and {clipping}, retry"
    elif family in STABILISABLE_FAMILIES:
        remedy = (
            f"no further remedy: lr {step.lr:g} cannot go below {MIN_LR:g}; refuse and check "
            "the features for extreme values"
        )
    else:
        remedy = f"no automatic remedy for {family}; refuse and check the features"
    return Diagnosis(
        cause="training_divergence",
        table=str(evidence.get("table", "training_set")),
        column=None,
        confidence=CONFIDENCE_NON_FINITE if non_finite else CONFIDENCE_EXPLODED,
        explanation=explanation,
        remedy=remedy,
        details={
            "family": family,
            "epoch": epoch,
            "stage": stage,
            "reason": "non_finite" if non_finite else "exploded",
            "loss": evidence.get("loss"),
            "lr": step.lr,
            "new_lr": step.new_lr if stabilisable else None,
            "clip_grad_norm": step.clip,
            "new_clip_grad_norm": step.new_clip if stabilisable else None,
        },
    )


def _number(value: Any) -> float | None:
    """``value`` as a float, or None when it is missing or not a number."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
