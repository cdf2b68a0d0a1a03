"""The SQL policy corpus (``tests/fixtures/sql_policy``): a loader shared by tests and benchmarks.

Each ``*.sql`` file holds statements separated by a line that is exactly ``-- ---``; a statement
may start with ``-- expect: <rule>`` (the rule that must refuse it) and ``-- allowed: a, b``
(the tables it is checked against; unsafe statements use ``UNSAFE_ALLOWED``). A block of
comments only (a file's header) is no statement. See the folder's README.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

CORPUS = Path(__file__).parent / "fixtures" / "sql_policy"
SEPARATOR = "-- ---"
UNSAFE_ALLOWED: tuple[str, ...] = ("main.customers", "main.events", "main.subscriptions")
"""The tables every unsafe statement is checked against (three of the example warehouse)."""

Kind = Literal["safe", "unsafe"]
_META = re.compile(r"^-- (expect|allowed|label): (.*)$")


@dataclass(frozen=True)
class CorpusStatement:
    family: str
    """The file's name without ``.sql``: ``ddl_dml``, ``jinja`` ... or the safe warehouse."""
    kind: Kind
    sql: str
    allowed: tuple[str, ...]
    expect: str | None
    """The rule that must refuse an unsafe statement, when the corpus names one."""
    source: str
    """``<kind>/<family>.sql:<line>``, where the statement starts."""

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.family}:{self.source.rsplit(':', 1)[1]}"


def load_corpus(root: Path = CORPUS) -> list[CorpusStatement]:
    """Every statement of ``root/safe/*.sql`` and ``root/unsafe/*.sql``, in file order."""
    kinds: tuple[Kind, ...] = ("safe", "unsafe")
    return [
        statement
        for kind in kinds
        for path in sorted((root / kind).glob("*.sql"))
        for statement in load_file(path, kind)
    ]


def load_file(path: Path, kind: Kind) -> list[CorpusStatement]:
    """The statements of one corpus file."""
    statements = []
    block: list[str] = []
    start = 1
    lines = path.read_text(encoding="utf-8").split("\n")
    for number, line in enumerate([*lines, SEPARATOR], start=1):
        if line.rstrip("\r") != SEPARATOR:
            block.append(line)
            continue
        statement = _statement(block, path, kind, start)
        if statement is not None:
            statements.append(statement)
        block, start = [], number + 1
    return statements


def _statement(block: list[str], path: Path, kind: Kind, start: int) -> CorpusStatement | None:
    meta: dict[str, str] = {}
    while block and (match := _META.match(block[0])):
        meta[match.group(1)] = match.group(2).strip()
        block = block[1:]
        start += 1
    sql = "\n".join(block).rstrip("\n")
    if all(not line.strip() or line.lstrip().startswith("--") for line in block):
        return None
    allowed = tuple(t.strip() for t in meta.get("allowed", "").split(",") if t.strip())
    return CorpusStatement(
        family=path.stem,
        kind=kind,
        sql=sql,
        allowed=allowed or (UNSAFE_ALLOWED if kind == "unsafe" else ()),
        expect=meta.get("expect"),
        source=f"{kind}/{path.name}:{start}",
    )
