"""A two-hidden-layer MLP in torch, early-stopped when validation loss stagnates.

Training stops with :class:`TrainingDivergedError` when it diverges, which is when

* any loss (a training batch's or the validation loss) is NaN or infinite, or
* any loss exceeds ``EXPLOSION_CEILING`` (1e6), or
* an epoch's mean training loss exceeds ``EXPLOSION_FACTOR`` (100) times the validation loss
  of the untrained network.

The untrained network predicts logits near 0, so its loss is about ln 2 = 0.69 times the
average class weight, and healthy training only lowers the training loss; a learning rate
that is too high sends it to the thousands within an epoch. The factor rule looks at the
training loss averaged over an epoch, never at a single batch (one badly predicted row in a
tiny last batch cannot trip it) nor at the validation loss, which rises when the network
over-fits without anything having diverged.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

import numpy as np
import pandas as pd

from dagster_agentic.training.deadline import Deadline
from dagster_agentic.training.learners import (
    FitReport,
    TrainingDivergedError,
    thread_count,
    validation_scores,
)
from dagster_agentic.training.preprocess import TabularEncoder
from dagster_agentic.training.spec import TORCH_MLP_DEFAULTS

if TYPE_CHECKING:
    import torch

EXPLOSION_FACTOR = 100.0
"""An epoch's mean training loss above this multiple of the untrained loss is divergence."""
EXPLOSION_CEILING = 1e6
"""Any loss above this is divergence, whatever the untrained network's loss was."""

WEIGHTS_FILE = "torch_mlp.pt"
META_FILE = "torch_mlp_meta.json"


@dataclass
class _Curves:
    train: list[float] = field(default_factory=list)
    valid: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stop_reason: str = ""
    stopped_by_budget: bool = False


def _network(n_inputs: int, hidden: int, dropout: float) -> torch.nn.Sequential:
    from torch import nn

    return nn.Sequential(
        nn.Linear(n_inputs, hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, max(hidden // 2, 1)),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(max(hidden // 2, 1), 1),
    )


def _pos_weight(setting: Any, y: np.ndarray) -> float:
    """``balanced`` weighs positives by the negative/positive ratio; a number is used as is."""
    if isinstance(setting, str):
        if setting == "balanced":
            positives = max(int(y.sum()), 1)
            return float(max(len(y) - positives, 1) / positives)
        if setting == "none":
            return 1.0
        raise ValueError(f"pos_weight must be a number, 'balanced' or 'none', not {setting!r}")
    return float(setting)


class TorchMLPLearner:
    """MLP over standardised numerics, missing indicators and one-hot top categories."""

    family: ClassVar[str] = "torch_mlp"

    def __init__(
        self, params: Mapping[str, Any] | None = None, *, max_seconds: float = 120.0
    ) -> None:
        self.params: dict[str, Any] = {**TORCH_MLP_DEFAULTS, **(params or {})}
        self.max_seconds = max_seconds
        self.feature_columns: list[str] = []
        self.encoder: TabularEncoder | None = None
        self._net: torch.nn.Sequential | None = None

    def fit(
        self,
        X_train: pd.DataFrame,
        y_train: np.ndarray,
        X_valid: pd.DataFrame,
        y_valid: np.ndarray,
        *,
        seed: int,
        deadline: Deadline | None = None,
    ) -> FitReport:
        import torch

        started = time.monotonic()
        # From the start, so the encoding counts too.
        deadline = (deadline or Deadline.never()).within(self.max_seconds)
        torch.manual_seed(seed)
        threads = torch.get_num_threads()
        torch.set_num_threads(thread_count(len(X_train), int(self.params["num_threads"])))
        try:
            return self._fit(
                X_train, y_train, X_valid, y_valid, seed=seed, started=started, deadline=deadline
            )
        finally:
            torch.set_num_threads(threads)

    def _fit(
        self,
        X_train: pd.DataFrame,
        y_train: np.ndarray,
        X_valid: pd.DataFrame,
        y_valid: np.ndarray,
        *,
        seed: int,
        started: float,
        deadline: Deadline,
    ) -> FitReport:
        import torch

        self.feature_columns = [str(c) for c in X_train.columns]
        self.encoder = TabularEncoder.fit(
            X_train, top_categories=int(self.params["top_categories"])
        )
        x_tr = torch.from_numpy(self.encoder.transform(X_train))
        x_va = torch.from_numpy(self.encoder.transform(X_valid))
        y_np = np.asarray(y_train).astype(np.float32)
        y_tr = torch.from_numpy(y_np)
        y_va = torch.from_numpy(np.asarray(y_valid).astype(np.float32))
        self._net = _network(
            x_tr.shape[1], int(self.params["hidden_units"]), float(self.params["dropout"])
        )
        weight = _pos_weight(self.params["pos_weight"], y_np)
        curves = self._train(
            x_tr, y_tr, x_va, y_va, seed=seed, pos_weight=weight, deadline=deadline
        )
        # Scored on the matrix encoded above: encoding it again would add to the time budget.
        ap, auc = validation_scores(np.asarray(y_valid), self._scores(x_va))
        return FitReport(
            family=self.family,
            params={**self.params, "pos_weight_value": weight},
            best_iteration=curves.best_epoch,
            epochs=len(curves.valid),
            train_curve=curves.train,
            valid_curve=curves.valid,
            valid_average_precision=ap,
            valid_roc_auc=auc,
            fit_seconds=time.monotonic() - started,
            stop_reason=curves.stop_reason,
            stopped_by_budget=curves.stopped_by_budget,
        )

    def _train(
        self,
        x_tr: torch.Tensor,
        y_tr: torch.Tensor,
        x_va: torch.Tensor,
        y_va: torch.Tensor,
        *,
        seed: int,
        pos_weight: float,
        deadline: Deadline,
    ) -> _Curves:
        """Mini-batch AdamW; keeps the weights of the epoch with the lowest validation loss.

        Gradients are clipped to ``clip_grad_norm`` (L2 norm over all parameters) when it is
        positive; :class:`_Guard` raises :class:`TrainingDivergedError` on divergence. The
        deadline is checked after every batch: an epoch it cuts short is validated and kept
        like a whole one, so there is always a model after at least one batch.
        """
        import torch

        assert self._net is not None
        net, p = self._net, self.params
        loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight))
        optimiser = torch.optim.AdamW(
            net.parameters(), lr=float(p["lr"]), weight_decay=float(p["weight_decay"])
        )
        generator = torch.Generator().manual_seed(seed)
        batch, patience = int(p["batch_size"]), int(p["patience"])
        max_epochs, min_delta = int(p["max_epochs"]), float(p["min_delta"])
        clip = float(p["clip_grad_norm"])
        curves, best_loss, best_state = _Curves(), math.inf, None
        guard = _Guard(curves, {**p, "pos_weight_value": pos_weight})
        net.eval()
        with torch.no_grad():
            guard.start(float(loss_fn(net(x_va).squeeze(1), y_va)))
        stale = 0
        for epoch in range(1, max_epochs + 1):
            net.train()
            order = torch.randperm(len(x_tr), generator=generator)
            batches = range(0, len(order), batch)
            cut_short = ""  # set when the deadline ends this epoch before its last batch
            for done, start in enumerate(batches, start=1):
                rows = order[start : start + batch]
                loss = loss_fn(net(x_tr[rows]).squeeze(1), y_tr[rows])
                guard.batch(float(loss.detach()), len(rows), epoch)
                optimiser.zero_grad()
                loss.backward()
                if clip > 0:
                    torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
                optimiser.step()
                if done < len(batches) and deadline.expired():
                    cut_short = f" (in epoch {epoch}, after {done} of {len(batches)} batches)"
                    break
            net.eval()
            with torch.no_grad():
                valid_loss = float(loss_fn(net(x_va).squeeze(1), y_va))
            guard.epoch_end(valid_loss, epoch)
            if valid_loss < best_loss - min_delta:
                best_loss, stale, curves.best_epoch = valid_loss, 0, epoch
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                stale += 1
            if stale >= patience and not cut_short:
                curves.stop_reason = f"validation loss stagnant for {patience} epochs"
                break
            if cut_short or deadline.expired():
                curves.stop_reason = f"time budget of {deadline.seconds:.3g}s{cut_short}"
                curves.stopped_by_budget = True
                break
        else:
            curves.stop_reason = f"max_epochs={max_epochs} reached"
        if best_state is not None:
            net.load_state_dict(best_state)
        net.eval()
        return curves

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        import torch

        if self._net is None or self.encoder is None:
            raise RuntimeError("TorchMLPLearner.predict_proba called before fit or load")
        return self._scores(torch.from_numpy(self.encoder.transform(X)))

    def _scores(self, x: torch.Tensor) -> np.ndarray:
        import torch

        assert self._net is not None
        self._net.eval()
        with torch.no_grad():
            return torch.sigmoid(self._net(x).squeeze(1)).double().numpy()

    def save(self, dir: Path) -> None:
        import torch

        if self._net is None or self.encoder is None:
            raise RuntimeError("TorchMLPLearner.save called before fit")
        dir = Path(dir)
        dir.mkdir(parents=True, exist_ok=True)
        torch.save(self._net.state_dict(), dir / WEIGHTS_FILE)
        meta = {
            "params": self.params,
            "max_seconds": self.max_seconds,
            "feature_columns": self.feature_columns,
            "encoder": self.encoder.to_dict(),
        }
        (dir / META_FILE).write_text(json.dumps(meta, indent=1))

    @classmethod
    def load(cls, dir: Path) -> TorchMLPLearner:
        import torch

        dir = Path(dir)
        meta = json.loads((dir / META_FILE).read_text())
        learner = cls(meta["params"], max_seconds=float(meta["max_seconds"]))
        learner.feature_columns = list(meta["feature_columns"])
        learner.encoder = TabularEncoder.from_dict(meta["encoder"])
        p = learner.params
        net = _network(learner.encoder.n_outputs, int(p["hidden_units"]), float(p["dropout"]))
        net.load_state_dict(torch.load(dir / WEIGHTS_FILE, weights_only=True))
        net.eval()
        learner._net = net
        return learner


class _Guard:
    """Watches every loss of a training run and raises with the evidence when it diverges.

    Completed epochs go to ``curves``; the evidence's training curve ends with the mean of
    the failing epoch's batch losses seen so far.
    """

    def __init__(self, curves: _Curves, params: dict[str, Any]) -> None:
        self.curves = curves
        self.params = params
        self.initial_loss: float | None = None
        self.last_finite: float | None = None
        self.epoch_total = 0.0
        self.epoch_rows = 0

    def start(self, initial_loss: float) -> None:
        """Record the untrained network's validation loss, the reference for explosions."""
        self._check(initial_loss, 0, "validation", epoch_mean=False)
        self.initial_loss = initial_loss

    def batch(self, loss: float, rows: int, epoch: int) -> None:
        self._check(loss, epoch, "training", epoch_mean=False)
        self.epoch_total += loss * rows
        self.epoch_rows += rows

    def epoch_end(self, valid_loss: float, epoch: int) -> None:
        train_loss = self.epoch_total / max(self.epoch_rows, 1)
        self._check(train_loss, epoch, "training", epoch_mean=True)
        self._check(valid_loss, epoch, "validation", epoch_mean=False)
        self.curves.train.append(train_loss)
        self.curves.valid.append(valid_loss)
        self.epoch_total, self.epoch_rows = 0.0, 0

    def limit(self) -> float:
        """The highest acceptable mean training loss of an epoch."""
        if self.initial_loss is None or self.initial_loss <= 0:
            return EXPLOSION_CEILING
        return min(EXPLOSION_FACTOR * self.initial_loss, EXPLOSION_CEILING)

    def _check(self, loss: float, epoch: int, stage: str, *, epoch_mean: bool) -> None:
        if not math.isfinite(loss):
            last = f"{self.last_finite:.4g}" if self.last_finite is not None else "none"
            self._raise(
                f"torch_mlp training diverged at epoch {epoch}: the {stage} loss became {loss} "
                f"(last finite loss {last})",
                loss,
                epoch,
                stage,
                "non_finite",
            )
        limit = self.limit() if epoch_mean else EXPLOSION_CEILING
        if loss > limit:
            if limit < EXPLOSION_CEILING:
                why = f"{EXPLOSION_FACTOR:g}x the untrained network's loss {self.initial_loss:.3g}"
            else:
                why = "the ceiling for any loss"
            what = "mean training loss" if epoch_mean else f"{stage} loss"
            self._raise(
                f"torch_mlp training diverged at epoch {epoch}: the {what} exploded to "
                f"{loss:.3g}, above {limit:.3g} ({why})",
                loss,
                epoch,
                stage,
                "exploded",
            )
        self.last_finite = loss

    def _raise(self, message: str, loss: float, epoch: int, stage: str, reason: str) -> NoReturn:
        train = list(self.curves.train)
        if self.epoch_rows:
            train.append(self.epoch_total / self.epoch_rows)
        clip = float(self.params["clip_grad_norm"])
        clipping = (
            f"tighten gradient clipping (clip_grad_norm={clip:g})"
            if clip > 0
            else "clip gradients (clip_grad_norm=1.0)"
        )
        fix = (
            f"lower the learning rate (lr={self.params['lr']}) and {clipping}, "
            "or check the features for infinite or extreme values"
        )
        raise TrainingDivergedError(
            message,
            family="torch_mlp",
            epoch=epoch,
            last_finite_loss=self.last_finite,
            fix=fix,
            stage=stage,
            reason=reason,
            loss=loss,
            initial_loss=self.initial_loss,
            train_curve=train,
            valid_curve=list(self.curves.valid),
            params=dict(self.params),
        )
