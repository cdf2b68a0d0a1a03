"""A two-hidden-layer MLP in torch, early-stopped when validation loss stagnates.

Training stops with :class:`TrainingDivergedError` when it diverges, which is when

* any loss (a training batch's or the validation loss) is NaN or infinite, or
* any loss exceeds ``EXPLOSION_CEILING`` (1e6), or
* an epoch's mean training loss exceeds ``EXPLOSION_FACTOR`` (100) times the validation loss
  of the untrained network.

The untrained network predicts logits near 0, so its loss is about ln 2 = 0.69 times the
average class weight for a binary task, ln k for k classes (softmax and cross-entropy, with
the same class weights), and about 1 for regression, which is trained by mean squared error
on the target standardised with the training rows' mean and deviation (predictions are
mapped back to the target's unit); healthy training only lowers the training loss; a learning rate
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
    class_indices,
    class_weights,
    fit_report_scores,
    no_probabilities,
    saved_task,
    task_validation,
    thread_count,
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


def _network(n_inputs: int, hidden: int, dropout: float, outputs: int = 1) -> torch.nn.Sequential:
    from torch import nn

    return nn.Sequential(
        nn.Linear(n_inputs, hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, max(hidden // 2, 1)),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(max(hidden // 2, 1), outputs),
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
        self,
        params: Mapping[str, Any] | None = None,
        *,
        max_seconds: float = 120.0,
        task: str = "binary_classification",
        n_classes: int = 2,
    ) -> None:
        self.params: dict[str, Any] = {**TORCH_MLP_DEFAULTS, **(params or {})}
        self.max_seconds = max_seconds
        self.task = task
        self.n_classes = n_classes
        self.feature_columns: list[str] = []
        self.encoder: TabularEncoder | None = None
        self._net: torch.nn.Sequential | None = None
        # Regression: the network predicts (y - target_mean) / target_std.
        self.target_mean = 0.0
        self.target_std = 1.0

    @property
    def n_outputs(self) -> int:
        return self.n_classes if self.task == "multiclass_classification" else 1

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
        self._net = _network(
            x_tr.shape[1],
            int(self.params["hidden_units"]),
            float(self.params["dropout"]),
            self.n_outputs,
        )
        y_tr, y_va, loss_fn, weight = self._targets(y_train, y_valid)
        curves = self._train(
            x_tr, y_tr, x_va, y_va, seed=seed, loss_fn=loss_fn, weight=weight, deadline=deadline
        )
        # Scored on the matrix encoded above: encoding it again would add to the time budget.
        scores = task_validation(self.task, np.asarray(y_valid), self._outputs(x_va))
        return FitReport(
            family=self.family,
            params={**self.params, "pos_weight_value": weight},
            best_iteration=curves.best_epoch,
            epochs=len(curves.valid),
            train_curve=curves.train,
            valid_curve=curves.valid,
            fit_seconds=time.monotonic() - started,
            stop_reason=curves.stop_reason,
            stopped_by_budget=curves.stopped_by_budget,
            **fit_report_scores(self.task, scores),
        )

    def _targets(
        self, y_train: np.ndarray, y_valid: np.ndarray
    ) -> tuple[torch.Tensor, torch.Tensor, Any, float | list[float]]:
        """Label tensors, the loss and the class weighting for the task.

        Binary: BCE with ``pos_weight``. Multiclass: cross-entropy over class indices, with
        ``pos_weight`` ``balanced`` weighing each class by n / (k * count). Regression: MSE on
        the target standardised with the training rows (kept for predictions).
        """
        import torch

        if self.task == "multiclass_classification":
            labels = np.asarray(y_train).astype(np.int64)
            weights = class_weights(self.params["pos_weight"], labels, self.n_classes)
            loss_fn = torch.nn.CrossEntropyLoss(
                weight=None if weights is None else torch.from_numpy(weights.astype(np.float32))
            )
            valid = torch.from_numpy(np.asarray(y_valid).astype(np.int64))
            used = [1.0] * self.n_classes if weights is None else [float(w) for w in weights]
            return torch.from_numpy(labels), valid, loss_fn, used
        if self.task == "regression":
            values = np.asarray(y_train, dtype="float64")
            self.target_mean = float(values.mean())
            std = float(values.std())
            self.target_std = std if std > 1e-12 else 1.0
            train = (values - self.target_mean) / self.target_std
            valid_values = np.asarray(y_valid, dtype="float64") - self.target_mean
            return (
                torch.from_numpy(train.astype(np.float32)),
                torch.from_numpy((valid_values / self.target_std).astype(np.float32)),
                torch.nn.MSELoss(),
                1.0,
            )
        y_np = np.asarray(y_train).astype(np.float32)
        weight = _pos_weight(self.params["pos_weight"], y_np)
        return (
            torch.from_numpy(y_np),
            torch.from_numpy(np.asarray(y_valid).astype(np.float32)),
            torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(weight)),
            weight,
        )

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        """The network's output: (n,) for one output, (n, k) logits for k classes."""
        assert self._net is not None
        out = self._net(x)
        return out.squeeze(1) if self.n_outputs == 1 else out

    def _train(
        self,
        x_tr: torch.Tensor,
        y_tr: torch.Tensor,
        x_va: torch.Tensor,
        y_va: torch.Tensor,
        *,
        seed: int,
        loss_fn: Any,
        weight: float | list[float],
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
        net, p, forward = self._net, self.params, self._forward
        optimiser = torch.optim.AdamW(
            net.parameters(), lr=float(p["lr"]), weight_decay=float(p["weight_decay"])
        )
        generator = torch.Generator().manual_seed(seed)
        batch, patience = int(p["batch_size"]), int(p["patience"])
        max_epochs, min_delta = int(p["max_epochs"]), float(p["min_delta"])
        clip = float(p["clip_grad_norm"])
        curves, best_loss, best_state = _Curves(), math.inf, None
        guard = _Guard(curves, {**p, "pos_weight_value": weight})
        net.eval()
        with torch.no_grad():
            guard.start(float(loss_fn(forward(x_va), y_va)))
        stale = 0
        for epoch in range(1, max_epochs + 1):
            net.train()
            order = torch.randperm(len(x_tr), generator=generator)
            batches = range(0, len(order), batch)
            cut_short = ""  # set when the deadline ends this epoch before its last batch
            for done, start in enumerate(batches, start=1):
                rows = order[start : start + batch]
                loss = loss_fn(forward(x_tr[rows]), y_tr[rows])
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
                valid_loss = float(loss_fn(forward(x_va), y_va))
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
        if self.task == "regression":
            raise no_probabilities(self.family)
        return self._outputs(self._encoded(X))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Class indices (classification) or values in the target's unit (regression)."""
        output = self._outputs(self._encoded(X))
        return output if self.task == "regression" else class_indices(self.task, output)

    def _encoded(self, X: pd.DataFrame) -> torch.Tensor:
        import torch

        if self._net is None or self.encoder is None:
            raise RuntimeError("TorchMLPLearner used before fit or load")
        return torch.from_numpy(self.encoder.transform(X))

    def _outputs(self, x: torch.Tensor) -> np.ndarray:
        """Probabilities (binary (n,), multiclass (n, k)) or regression values."""
        import torch

        assert self._net is not None
        self._net.eval()
        with torch.no_grad():
            out = self._forward(x)
            if self.task == "multiclass_classification":
                return torch.softmax(out, dim=1).double().numpy()
            if self.task == "regression":
                return out.double().numpy() * self.target_std + self.target_mean
            return torch.sigmoid(out).double().numpy()

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
            "task": self.task,
            "n_classes": self.n_classes,
            "target_mean": self.target_mean,
            "target_std": self.target_std,
        }
        (dir / META_FILE).write_text(json.dumps(meta, indent=1))

    @classmethod
    def load(cls, dir: Path) -> TorchMLPLearner:
        import torch

        dir = Path(dir)
        meta = json.loads((dir / META_FILE).read_text())
        task, n_classes = saved_task(meta)
        learner = cls(
            meta["params"], max_seconds=float(meta["max_seconds"]), task=task, n_classes=n_classes
        )
        learner.feature_columns = list(meta["feature_columns"])
        learner.encoder = TabularEncoder.from_dict(meta["encoder"])
        learner.target_mean = float(meta.get("target_mean", 0.0))
        learner.target_std = float(meta.get("target_std", 1.0))
        p = learner.params
        net = _network(
            learner.encoder.n_outputs,
            int(p["hidden_units"]),
            float(p["dropout"]),
            learner.n_outputs,
        )
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
