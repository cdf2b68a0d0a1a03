"""One wall-clock deadline for the model step, shared by every candidate and every learner.

The model step makes one :class:`Deadline` from ``budget.max_train_seconds`` before it checks
the data; each candidate gets a share of what remains (:meth:`Deadline.share`), capped by its
own ``max_seconds`` (:meth:`Deadline.within`), and each learner checks it between boosting
rounds, batches or solver chunks::

    deadline = Deadline.after(plan.budget.max_train_seconds)
    learner.fit(X_train, y_train, X_valid, y_valid, seed=0, deadline=deadline.share(3))
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Deadline:
    """A point on the monotonic clock after which training must stop."""

    at: float
    """``time.monotonic()`` value at which the time is up."""
    seconds: float
    """The budget this deadline was made from, for messages."""

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """The deadline ``seconds`` from now."""
        return cls(at=time.monotonic() + seconds, seconds=seconds)

    @classmethod
    def never(cls) -> Deadline:
        """A deadline that never passes."""
        return cls(at=math.inf, seconds=math.inf)

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(self.at - time.monotonic(), 0.0)

    def expired(self) -> bool:
        return time.monotonic() >= self.at

    def within(self, seconds: float) -> Deadline:
        """This deadline or the one ``seconds`` from now, whichever comes first."""
        now = time.monotonic()
        return Deadline(at=now + seconds, seconds=seconds) if now + seconds < self.at else self

    def share(self, parts: int) -> Deadline:
        """An equal share of what remains, for the first of ``parts`` consumers in turn.

        Time one consumer leaves unused goes to those after it, since each later share is
        taken of what then remains.
        """
        remaining = self.at - time.monotonic()
        return self.within(max(remaining, 0.0) / max(parts, 1)) if parts > 1 else self
