"""Per-phase progress on stderr: styled with rich on a terminal, plain lines otherwise."""

from __future__ import annotations

import time
from typing import Any, TextIO


class Progress:
    """Called with each phase as it starts (``planning``, ``dbt build``, ``training`` ...);
    the phase before it is then done, and its time is shown."""

    def __init__(self, stream: TextIO, goal: str) -> None:
        self.stream = stream
        self.goal = goal
        self._phase: str | None = None
        self._started = time.perf_counter()
        self._console: Any = None
        if stream.isatty():
            from rich.console import Console  # only a terminal pays for rich's import

            self._console = Console(file=stream, highlight=False)

    def __call__(self, phase: str) -> None:
        self._finish()
        self._phase, self._started = phase, time.perf_counter()
        if self._console is not None:
            self._console.print(f"[bold cyan]>[/] {self.goal}: {phase} ...")
        else:
            self.stream.write(f"{self.goal}: {phase} ...\n")
            self.stream.flush()

    def close(self) -> None:
        self._finish()
        self._phase = None

    def _finish(self) -> None:
        if self._phase is None:
            return
        seconds = time.perf_counter() - self._started
        if self._console is not None:
            self._console.print(f"[green]done[/] {self.goal}: {self._phase} ({seconds:.1f} s)")
        else:
            self.stream.write(f"{self.goal}: {self._phase} done ({seconds:.1f} s)\n")
            self.stream.flush()
