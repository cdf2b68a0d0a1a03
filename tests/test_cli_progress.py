"""Progress lines: styled by rich on a terminal, plain otherwise, each phase timed when done."""

from __future__ import annotations

import io
import re

import pytest

from dagster_agentic.cli.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    progress = Progress(stream, "churn")
    progress("planning")
    progress("dbt build")
    progress.close()
    progress.close()  # a second close adds nothing
    lines = stream.getvalue().splitlines()
    assert lines[0] == "churn: planning ..." and lines[2] == "churn: dbt build ..."
    assert re.fullmatch(r"churn: planning done \(\d+\.\d s\)", lines[1])
    assert re.fullmatch(r"churn: dbt build done \(\d+\.\d s\)", lines[3]) and len(lines) == 4


def test_rich_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    stream = Terminal()
    progress = Progress(stream, "churn")
    progress("training")
    progress.close()
    text = stream.getvalue()
    assert "\x1b[" in text  # styled
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines()
    assert plain[0] == "> churn: training ..."
    assert re.fullmatch(r"done churn: training \(\d+\.\d s\)", plain[1])
