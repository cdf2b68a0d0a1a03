"""The warehouses ``make bench-healing`` runs its faults on, and what each fault should cause.

* ``example``: the example churn warehouse with its own fault suite (``example_churn.faults``).
* ``shop``: members, visits, purchases through visits, an item dimension keyed by text, with
  activity after the prediction time (``tests/shop_warehouse.py``).
* ``telco``: prepaid subscribers, top-ups, usage sessions with a text-keyed handset dimension,
  country names for the cohort (``bench/telco_warehouse.py``).

The two others get the generic faults (``bench.generic_faults``), whose targets are found by
the warehouse's structure and the goal's resolved objective.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import generic_faults
from bench.telco_warehouse import OBJECTIVE as TELCO_OBJECTIVE
from bench.telco_warehouse import build_telco_warehouse

EXAMPLE_OBJECTIVE = "Optimise the churn prediction model for 95% precision on European cohorts"
WAREHOUSE_SEED = 7


@dataclass(frozen=True)
class Expectation:
    """What a correct agent does about one fault."""

    first: str | None
    """The cause named first (the only one, unless one release broke several sources)."""
    causes: frozenset[str]
    """Every cause a correct diagnosis names."""
    must_refuse: bool
    benign: bool


@dataclass(frozen=True)
class Site:
    key: str
    goal_name: str
    objective: str
    build: Callable[[Path, str], dict[str, int]]
    generic: bool

    def faults(self) -> list[str]:
        if self.generic:
            return list(generic_faults.FAULTS)
        from example_churn.faults import FAULTS

        return list(FAULTS)

    def expectation(self, fault: str) -> Expectation:
        if self.generic:
            g = generic_faults.FAULTS[fault]
            first = min(g.expected_causes) if g.expected_causes else None
            return Expectation(first, g.expected_causes, g.must_refuse, g.benign)
        from example_churn.faults import BENIGN, EXPECTED_CAUSE_SETS, EXPECTED_CAUSES, MUST_REFUSE

        first = EXPECTED_CAUSES.get(fault)
        causes = EXPECTED_CAUSE_SETS.get(fault, frozenset({first} if first else set()))
        return Expectation(first, frozenset(causes), fault in MUST_REFUSE, fault in BENIGN)

    def apply(self, warehouse: Path, fault: str, seed: int, objective: Any) -> dict[str, Any]:
        """Apply the fault; ``generic_faults.NotApplicable`` when the warehouse lacks a target."""
        if self.generic:
            shape = generic_faults.GoalShape.from_objective(objective)
            done = generic_faults.apply_generic(warehouse, fault, shape, seed=seed)
            return {
                "rows_affected": done.rows_affected,
                "targets": done.targets,
                "details": done.details,
            }
        from example_churn.faults import apply_fault

        applied = apply_fault(warehouse, fault, seed=seed)
        spec = applied.spec
        head = f"{spec.table}.{spec.column}" if spec.column else spec.table
        return {
            "rows_affected": applied.rows_affected,
            "targets": [head, *spec.also],
            "details": applied.details,
        }


def _example(path: Path, scale: str) -> dict[str, int]:
    from example_churn.warehouse import generate_warehouse

    return generate_warehouse(path, scale=scale, seed=WAREHOUSE_SEED)


def _counts(path: Path) -> dict[str, int]:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as conn:
        names = [n for (n,) in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return {
            n: int(conn.execute(f'SELECT count(*) FROM main."{n}"').fetchone()[0])  # type: ignore[index]
            for n in names
        }


def _shop(path: Path, scale: str) -> dict[str, int]:
    from tests.shop_warehouse import build_shop_warehouse

    build_shop_warehouse(path)
    return _counts(path)


def _telco(path: Path, scale: str) -> dict[str, int]:
    build_telco_warehouse(path)
    return _counts(path)


def _shop_objective() -> str:
    from tests.shop_warehouse import OBJECTIVE

    return OBJECTIVE


SITES: dict[str, Site] = {
    "example": Site("example", "churn", EXAMPLE_OBJECTIVE, _example, generic=False),
    "shop": Site("shop", "shop", _shop_objective(), _shop, generic=True),
    "telco": Site("telco", "telco", TELCO_OBJECTIVE, _telco, generic=True),
}
