"""Plots as Markdown images the Dagster UI shows inline.

The UI renders metadata Markdown with react-markdown (no raw HTML) and rehype-sanitize, whose
schema Dagster extends to allow ``data:`` image sources: ``![alt](data:image/png;base64,...)``
shows the image, an ``<img>`` tag does not. Images are scaled down until the entry stays under
:data:`MAX_IMAGE_BYTES`, so the event log stays light.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

MAX_IMAGE_BYTES = 150_000
"""Largest PNG embedded in one metadata entry (its base64 text is a third longer)."""


def shrink_png(data: bytes, *, max_bytes: int = MAX_IMAGE_BYTES) -> bytes:
    """``data`` (a PNG) scaled down, as few times as needed, to at most ``max_bytes``."""
    from PIL import Image

    if len(data) <= max_bytes:
        return data
    image: Image.Image = Image.open(io.BytesIO(data))
    image.load()
    for _ in range(8):
        width, height = image.size
        image = image.resize((max(1, int(width * 0.75)), max(1, int(height * 0.75))))
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
        if out.tell() <= max_bytes:
            return out.getvalue()
    raise ValueError(f"a PNG of {len(data):,} bytes does not shrink under {max_bytes:,} bytes")


def png_markdown(data: bytes, alt: str, *, max_bytes: int = MAX_IMAGE_BYTES) -> str:
    """A Markdown image of the PNG ``data``, inline as a data URI."""
    encoded = base64.b64encode(shrink_png(data, max_bytes=max_bytes)).decode("ascii")
    safe_alt = "".join(c for c in alt if c.isalnum() or c in " -,")
    return f"![{safe_alt}](data:image/png;base64,{encoded})"


def learning_curve_png(reports: Sequence[dict[str, Any]], *, dpi: int = 80) -> bytes | None:
    """Each candidate's loss per boosting round or epoch, train dashed and validation solid;
    None when no candidate recorded a curve (logistic regression does not)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    curves = [r for r in reports if r.get("valid_curve") or r.get("train_curve")]
    if not curves:
        return None
    figure = Figure(figsize=(6.0, 3.2))
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    for number, report in enumerate(curves):
        color = f"C{number % 10}"
        family = str(report.get("family", "model"))
        if report.get("train_curve"):
            axes.plot(report["train_curve"], color=color, linestyle="--", label=f"{family} train")
        if report.get("valid_curve"):
            axes.plot(report["valid_curve"], color=color, label=f"{family} validation")
        best = report.get("best_iteration")
        if isinstance(best, int) and 0 < best <= len(report.get("valid_curve") or []):
            axes.axvline(best - 1, color=color, linewidth=0.8, alpha=0.5)
    axes.set_xlabel("boosting round / epoch")
    axes.set_ylabel("loss")
    axes.legend(fontsize=7)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=dpi)
    return out.getvalue()
