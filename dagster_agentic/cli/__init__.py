"""``dagster-agentic``: thin commands over the library (``main`` is the console script)."""

from __future__ import annotations

from dagster_agentic.cli.main import main

__all__ = ["main"]
