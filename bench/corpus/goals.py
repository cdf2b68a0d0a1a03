"""The corpus's goals (goals.yaml) as typed records, and their check against the warehouses.

``check_goal`` is what makes goals.yaml trustworthy: every expected table and column exists in
the loaded warehouse, the positive value and the classes are values the target holds, and the
cohort's predicate selects exactly the number of entity rows the file says. refusals.yaml holds
the objectives the product should refuse, with the words a helpful refusal names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

GOALS_FILE = Path(__file__).resolve().parent / "goals.yaml"
REFUSALS_FILE = Path(__file__).resolve().parent / "refusals.yaml"
ORIGINS = (
    "development",
    "held-out-1",
    "held-out-2",
    "held-out-3",
    "held-out-4",
    "held-out-5",
    "held-out-6",
    "held-out-7",
    "held-out-8",
    "held-out-9",
)
"""Who wrote a goal and when it was first measured: ``development`` goals were written and
measured while the product's reading rules were being developed; the held-out ones by people who
had not seen those rules, first measured before any change was made against them (then they are
development data too; bench/corpus/README.md)."""
TASKS = ("binary_classification", "multiclass_classification", "regression")
METRICS = {
    "binary_classification": {"precision", "recall", "f1", "roc_auc", "accuracy"},
    "multiclass_classification": {"accuracy", "macro_f1"},
    "regression": {"rmse", "mae", "r2"},
}


@dataclass(frozen=True)
class Cohort:
    where: str
    rows: int
    means: str


@dataclass(frozen=True)
class Expected:
    task: str
    target_table: str
    target_column: str
    entity: str
    key: str
    metric: str
    threshold: float
    positive: str | None = None
    classes: tuple[str, ...] = ()
    cohort: Cohort | None = None

    @property
    def target(self) -> str:
        return f"{self.target_table}.{self.target_column}"


@dataclass(frozen=True)
class CorpusGoal:
    id: str
    set_key: str
    style: str
    objective: str
    expect: Expected
    peer_exclude: tuple[str, ...] = ()
    origin: str = "development"


def _expected(raw: dict[str, Any], where: str) -> Expected:
    task = raw["task"]
    if task not in TASKS:
        raise ValueError(f"{where}: task {task!r} is not one of {TASKS}")
    if raw["metric"] not in METRICS[task]:
        raise ValueError(f"{where}: metric {raw['metric']!r} does not fit {task}")
    table, _, column = str(raw["target"]).partition(".")
    if not column:
        raise ValueError(f"{where}: target must be table.column, got {raw['target']!r}")
    if (task == "binary_classification") != ("positive" in raw):
        raise ValueError(f"{where}: a positive value is given for binary targets only")
    if (task == "multiclass_classification") != bool(raw.get("classes")):
        raise ValueError(f"{where}: classes are listed for multiclass targets only")
    cohort = raw.get("cohort")
    return Expected(
        task=task,
        target_table=table,
        target_column=column,
        entity=raw["entity"],
        key=raw["key"],
        metric=raw["metric"],
        threshold=float(raw["threshold"]),
        positive=None if raw.get("positive") is None else str(raw["positive"]),
        classes=tuple(str(c) for c in raw.get("classes") or ()),
        cohort=None
        if cohort is None
        else Cohort(where=str(cohort["where"]), rows=int(cohort["rows"]), means=cohort["means"]),
    )


def load_goals(path: Path = GOALS_FILE, sets: set[str] | None = None) -> list[CorpusGoal]:
    """Every goal of goals.yaml (or of ``sets`` only), in file order; ids are unique."""
    document = yaml.safe_load(path.read_text())
    goals: list[CorpusGoal] = []
    for set_key, entry in document["sets"].items():
        if sets is not None and set_key not in sets:
            continue
        for raw in entry["goals"]:
            where = f"{path.name}: {set_key}/{raw.get('id')}"
            origin = str(raw.get("origin", "development"))
            if origin not in ORIGINS:
                raise ValueError(f"{where}: origin {origin!r} is not one of {ORIGINS}")
            goals.append(
                CorpusGoal(
                    id=raw["id"],
                    set_key=set_key,
                    style=raw["style"],
                    objective=" ".join(str(raw["objective"]).split()),
                    expect=_expected(raw["expect"], where),
                    peer_exclude=tuple(raw.get("peer_exclude") or ()),
                    origin=origin,
                )
            )
    ids = [g.id for g in goals]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ValueError(f"{path.name}: duplicated goal ids {duplicated}")
    return goals


@dataclass(frozen=True)
class CorpusRefusal:
    """An objective the product should refuse, and what a helpful refusal says: the message
    names at least one word of every group of ``mention``; ``candidates`` are the values or
    columns a helpful message would also list (reported, not required)."""

    id: str
    set_key: str
    objective: str
    why: str
    mention: tuple[tuple[str, ...], ...]
    candidates: tuple[str, ...] = ()
    origin: str = "development"

    def missing(self, message: str) -> list[tuple[str, ...]]:
        """The groups of ``mention`` of which the message names no word (case-insensitive)."""
        lowered = message.lower()
        return [g for g in self.mention if not any(w.lower() in lowered for w in g)]


def load_refusals(path: Path = REFUSALS_FILE, sets: set[str] | None = None) -> list[CorpusRefusal]:
    """Every refusal of refusals.yaml (or of ``sets`` only), in file order; ids are unique."""
    refusals: list[CorpusRefusal] = []
    for raw in yaml.safe_load(path.read_text())["refusals"]:
        if sets is not None and raw["set"] not in sets:
            continue
        where = f"{path.name}: {raw.get('id')}"
        origin = str(raw.get("origin", "development"))
        if origin not in ORIGINS:
            raise ValueError(f"{where}: origin {origin!r} is not one of {ORIGINS}")
        mention = tuple(tuple(str(w) for w in group) for group in raw["mention"])
        if not mention or not all(mention):
            raise ValueError(f"{where}: mention needs one or more non-empty groups of words")
        refusals.append(
            CorpusRefusal(
                id=raw["id"],
                set_key=raw["set"],
                objective=" ".join(str(raw["objective"]).split()),
                why=raw["why"],
                mention=mention,
                candidates=tuple(str(c) for c in raw.get("candidates") or ()),
                origin=origin,
            )
        )
    ids = [r.id for r in refusals]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ValueError(f"{path.name}: duplicated refusal ids {duplicated}")
    return refusals


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(conn: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
    ).fetchall()
    return {r[0] for r in rows}


def check_goal(goal: CorpusGoal, conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Problems of one goal against its loaded warehouse: empty when it is well-formed."""
    e = goal.expect
    problems: list[str] = []
    for table, column in ((e.target_table, e.target_column), (e.entity, e.key)):
        if column not in _columns(conn, table):
            problems.append(f"{goal.id}: {table}.{column} does not exist")
    if problems:
        return problems
    values = {
        str(v[0])
        for v in conn.execute(
            f"SELECT DISTINCT {_q(e.target_column)} FROM {_q(e.target_table)}"
            f" WHERE {_q(e.target_column)} IS NOT NULL LIMIT 100"
        ).fetchall()
    }
    if e.positive is not None and e.positive not in values:
        problems.append(f"{goal.id}: positive {e.positive!r} not among {sorted(values)}")
    if e.classes and set(e.classes) != values:
        problems.append(f"{goal.id}: classes {sorted(e.classes)} != values {sorted(values)}")
    unique = conn.execute(
        f"SELECT count(*) = count(DISTINCT {_q(e.key)}) FROM {_q(e.entity)}"
    ).fetchone()
    if not unique or not unique[0]:
        problems.append(f"{goal.id}: {e.entity}.{e.key} is not unique")
    for column in goal.peer_exclude:
        tables = [
            t[0]
            for t in conn.execute(
                "SELECT table_name FROM information_schema.columns WHERE column_name = ?",
                [column],
            ).fetchall()
        ]
        if not tables:
            problems.append(f"{goal.id}: peer_exclude column {column} does not exist")
    if e.cohort is not None:
        count = cohort_rows(conn, e.entity, e.cohort.where)
        if count != e.cohort.rows:
            problems.append(
                f"{goal.id}: cohort selects {count} rows, goals.yaml says {e.cohort.rows}"
            )
    return problems


def cohort_rows(conn: duckdb.DuckDBPyConnection, entity: str, where: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM {_q(entity)} WHERE ({where})").fetchone()
    return int(row[0]) if row else 0
