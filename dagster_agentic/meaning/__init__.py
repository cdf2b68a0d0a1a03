"""Reading by meaning: which of a few candidate texts a phrase means, with a margin.

The goal reader's rules match words by their spelling and a small lexicon. Where they find
no column, or several, this package compares the objective's words with a description of
each candidate ('outcome: dead, alive', 'protein g') by the cosine similarity of their
sentence embeddings (:mod:`dagster_agentic.meaning.encoder`), and names one only when it is
clearly ahead: at least :data:`FLOOR` similar, and :data:`MARGIN` ahead of the runner-up.
Otherwise there is no choice, and the reader's error stands. Every choice carries its
evidence, both scores and the runner-up, for the rationale.

Without the encoder's package (or with altered files) nothing is chosen by meaning; the
reading is then what the rules alone give, and :func:`available` says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from dagster_agentic.meaning.encoder import EncoderUnavailable, encoder

__all__ = ["FLOOR", "MARGIN", "Choice", "available", "choose", "similarities"]

FLOOR = 0.40
"""The least cosine similarity at which a candidate may be chosen by meaning."""
MARGIN = 0.10
"""How far ahead of the runner-up the chosen candidate must be."""


@dataclass(frozen=True)
class Choice:
    index: int  # of the candidate chosen
    score: float
    runner_up: float  # the next candidate's score (0 when there is one candidate)
    runner_index: int | None  # the next candidate (None when there is one candidate)
    query: str


def available() -> str | None:
    """None when the encoder loads; else why reading by meaning is off."""
    try:
        encoder()
    except EncoderUnavailable as exc:
        return str(exc)
    return None


@lru_cache(maxsize=4096)
def _vector(text: str) -> tuple[float, ...]:
    return tuple(encoder().encode([text])[0].tolist())


def similarities(query: str, candidates: Sequence[str]) -> list[float]:
    """The cosine similarity of ``query`` to each candidate, in order."""
    q = _vector(query)
    return [sum(a * b for a, b in zip(q, _vector(c), strict=True)) for c in candidates]


def choose(
    query: str,
    candidates: Sequence[str],
    floor: float = FLOOR,
    margin: float = MARGIN,
) -> Choice | None:
    """The candidate ``query`` clearly means, or None (also when the encoder is missing)."""
    if not query.strip() or not candidates:
        return None
    try:
        scores = similarities(query, candidates)
    except EncoderUnavailable:
        return None
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    best = order[0]
    runner = order[1] if len(order) > 1 else None
    runner_up = scores[runner] if runner is not None else 0.0
    if scores[best] < floor or scores[best] - runner_up < margin:
        return None
    return Choice(best, round(scores[best], 3), round(runner_up, 3), runner, query)
