"""A label computed from two columns of its own row is found and neither column becomes a
feature; strong but honest columns are left alone. Real DuckDB files, built here with naming
conventions of their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from dagster_agentic.goals.objective import Objective
from dagster_agentic.kernel.policy.features import propose_feature_groups
from dagster_agentic.warehouse.connection import Warehouse, quote_ident
from dagster_agentic.warehouse.label_derivations import label_derivations
from dagster_agentic.warehouse.profile import profile_warehouse
from dagster_agentic.warehouse.semantics import analyse_schema

N = 1_500


def _write(path: Path, table: str, frame: pd.DataFrame) -> Warehouse:
    with duckdb.connect(str(path)) as conn:
        conn.register("frame", frame)
        conn.execute(f"CREATE TABLE {quote_ident(table)} AS SELECT * FROM frame")
    return Warehouse(path)


def _suspects(warehouse: Warehouse, objective: Objective) -> tuple[dict[str, str], Any]:
    profile = profile_warehouse(warehouse)
    with warehouse.connect(read_only=True) as conn:
        semantics = analyse_schema(conn, profile, objective)
    found = {c.column: c.evidence for c in semantics.columns if c.role == "leakage_suspect"}
    return found, (profile, semantics)


def _objective(table: str, key: str, target: str, task: str, **extra: Any) -> Objective:
    return Objective(
        task=task,
        entity_table=table,
        entity_key=key,
        label_table=table,
        label_key=key,
        target_column=target,
        **extra,
    )


def _clock(minutes: np.ndarray) -> np.ndarray:
    """Minutes since midnight (any integer) as an HHMM clock integer."""
    wrapped = np.mod(minutes, 1440)
    return (wrapped // 60) * 100 + wrapped % 60


def test_a_delay_between_two_clock_times_is_found_across_hours_and_midnight(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(3)
    scheduled = rng.integers(5 * 60, 24 * 60, N)  # late-evening legs arrive after midnight
    departure_delay = rng.gamma(1.2, 12, N) - 5
    delay = np.round(departure_delay + rng.normal(0, 8, N)).astype(int)
    frame = pd.DataFrame(
        {
            "id": np.arange(N) + 1,
            "sched_arr": _clock(scheduled),
            "actual_arr": _clock(scheduled + delay),
            "dep_delay_min": np.round(departure_delay, 1),  # known at departure: partial signal
            "seats": rng.integers(50, 300, N),
            "delay_min": delay,
        }
    )
    assert (frame["actual_arr"] < frame["sched_arr"]).sum() > 50  # differences wrap the hour
    objective = _objective("legs", "id", "delay_min", "regression", metric="mae", threshold=5.0)
    found, (profile, semantics) = _suspects(
        _write(tmp_path / "ops.duckdb", "legs", frame), objective
    )
    assert set(found) == {"sched_arr", "actual_arr"}, found
    assert "as clock times" in found["actual_arr"] and "difference" in found["actual_arr"]
    # The plan reads neither, and says why.
    groups = propose_feature_groups(objective, profile, semantics)
    read = " ".join(f.expression for g in groups for f in g.features)
    assert '"dep_delay_min"' in read and '"sched_arr"' not in read and '"actual_arr"' not in read
    assert any("actual_arr (its difference with sched_arr" in g.rationale for g in groups)


def test_a_late_flag_from_two_timestamps_is_found(tmp_path: Path) -> None:
    """Binary: LATE is a delivery more than a day past the promise (timestamps, upper case)."""
    rng = np.random.default_rng(5)
    promised = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300 * 24, N), "h")
    weight = rng.gamma(2.0, 3.0, N)
    slip_hours = rng.normal(0, 30, N) + 2 * weight
    delivered = promised + pd.to_timedelta(np.round(slip_hours), "h")
    frame = pd.DataFrame(
        {
            "SHIP_NO": [f"S{i:05d}" for i in range(N)],
            "PROMISED_AT": promised,
            "DELIVERED_AT": delivered,
            "WEIGHT_KG": np.round(weight, 2),
            "LATE": np.where(slip_hours > 24, "Y", "N"),
        }
    )
    objective = _objective(
        "SHIPMENT",
        "SHIP_NO",
        "LATE",
        "binary_classification",
        positive_value="Y",
        metric="roc_auc",
        threshold=0.7,
    )
    found, _ = _suspects(_write(tmp_path / "ship.duckdb", "SHIPMENT", frame), objective)
    assert set(found) == {"PROMISED_AT", "DELIVERED_AT"}, found
    assert "as times" in found["DELIVERED_AT"] and "entropy" in found["DELIVERED_AT"]


@pytest.mark.parametrize("how", ["difference", "ratio"])
def test_a_margin_or_a_rate_computed_from_two_amounts_is_found(tmp_path: Path, how: str) -> None:
    rng = np.random.default_rng(11)
    revenue = np.round(rng.gamma(3.0, 400.0, N) + 50, 2)
    cost = np.round(revenue * rng.uniform(0.4, 0.95, N), 2)
    target = revenue - cost if how == "difference" else revenue / cost
    frame = pd.DataFrame(
        {
            "OrderRef": np.arange(N) + 90_000,
            "Revenue": revenue,
            "Cost": cost,
            "ItemCount": rng.integers(1, 20, N),
            "Outcome": np.round(target, 4),
        }
    )
    objective = _objective(
        "Orders", "OrderRef", "Outcome", "regression", metric="r2", threshold=0.5
    )
    found, _ = _suspects(_write(tmp_path / "orders.duckdb", "Orders", frame), objective)
    assert set(found) == {"Revenue", "Cost"}, found
    assert how in found["Cost"]


def test_strong_honest_columns_and_noise_are_left_alone(tmp_path: Path) -> None:
    """A price driven by two areas, each strong on its own, is no derivation: the signal is in
    the measurements, not in arithmetic between them. Noise columns pair into nothing."""
    rng = np.random.default_rng(21)
    living = rng.gamma(6.0, 250.0, N)
    basement = 0.6 * living + rng.gamma(2.0, 100.0, N)
    price = np.round(80 * living + 40 * basement + rng.normal(0, 45_000, N), -2)
    noise = {f"reading_{k}": rng.normal(size=N) for k in range(6)}
    frame = pd.DataFrame(
        {"house_code": np.arange(N), "living_area": living, "basement_area": basement, **noise}
    )
    frame["sale_price"] = price
    objective = _objective(
        "houses", "house_code", "sale_price", "regression", metric="r2", threshold=0.5
    )
    found, _ = _suspects(_write(tmp_path / "houses.duckdb", "houses", frame), objective)
    assert found == {}


def test_the_pairs_checked_are_bounded_and_the_answer_is_the_same_twice(tmp_path: Path) -> None:
    """A wide table: derived values are measured for as many columns as fit one query's
    budget, and the sample is fixed."""
    from dagster_agentic.warehouse import label_derivations as module

    rng = np.random.default_rng(2)
    columns = {f"m{k:02d}": np.round(rng.normal(size=N), 1 if k > 1 else 6) for k in range(60)}
    frame = pd.DataFrame({"row_id": np.arange(N), **columns})
    frame["y"] = frame["m00"] - frame["m01"]  # the two most distinct columns: paired first
    objective = _objective("wide", "row_id", "y", "regression", metric="r2", threshold=0.5)
    warehouse = _write(tmp_path / "wide.duckdb", "wide", frame)
    profile = profile_warehouse(warehouse)
    usable = set(columns)
    with warehouse.connect(read_only=True) as conn:
        first = label_derivations(conn, profile, objective, usable, "main")
        second = label_derivations(conn, profile, objective, usable, "main")
    assert first == second
    assert {"m00", "m01"} <= {name for name, _ in first}
    pairs = module._pairs([module._Operand(f"c{k}", f"c{k}", "number", True) for k in range(60)])
    assert 1_000 < len(pairs) <= module.MAX_EXPRESSIONS


def test_a_table_with_one_row_per_entity_is_checked_as_the_entity_is(tmp_path: Path) -> None:
    """A one-to-one table is read as the entity's own attributes, so a copy of the label in it,
    or a pair the label is computed from, is a suspect there too, and no feature reads it."""
    rng = np.random.default_rng(9)
    n = 1_200
    visits = rng.poisson(4, n)
    lapsed = np.where(rng.random(n) < 0.2 + 0.05 * (visits < 3), "yes", "no")
    opened = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 4000, n), "D")
    closed_days = np.where(lapsed == "yes", rng.integers(1, 30, n), rng.integers(400, 900, n))
    path = tmp_path / "club.duckdb"
    with duckdb.connect(str(path)) as conn:
        members = pd.DataFrame({"MemberNo": np.arange(n) + 500, "Visits": visits})
        labels = pd.DataFrame({"Member": np.arange(n) + 500, "Lapsed": lapsed})
        account = pd.DataFrame(
            {
                "AccountOf": np.arange(n) + 500,
                "StatusNote": np.where(lapsed == "yes", "closed", "open"),  # a copy
                "OpenedOn": opened,
                "ReviewedOn": opened + pd.to_timedelta(closed_days, "D"),
                "CreditLimit": rng.integers(1, 60, n) * 100,
            }
        )
        for name, frame in (("Members", members), ("Lapses", labels), ("Accounts", account)):
            conn.register("frame", frame)
            conn.execute(f"CREATE TABLE {quote_ident(name)} AS SELECT * FROM frame")
            conn.unregister("frame")
    objective = Objective(
        task="binary_classification",
        entity_table="Members",
        entity_key="MemberNo",
        label_table="Lapses",
        label_key="Member",
        target_column="Lapsed",
        positive_value="yes",
        metric="roc_auc",
        threshold=0.7,
    )
    found, (profile, semantics) = _suspects(Warehouse(path), objective)
    assert "StatusNote" in found and "near-copy" in found["StatusNote"], found
    assert {"OpenedOn", "ReviewedOn"} <= set(found), found
    assert "CreditLimit" not in found and "Visits" not in found
    roles = {t.table: t for t in semantics.tables}
    assert roles["Accounts"].evidence.startswith("one-to-one with Members")
    read = " ".join(
        f.expression
        for g in propose_feature_groups(objective, profile, semantics)
        for f in g.features
    )
    assert '"CreditLimit"' in read and '"StatusNote"' not in read and '"ReviewedOn"' not in read
