"""Two small relational warehouses whose goals are multiclass and regression, for end-to-end runs.

Both are generated deterministically with numpy and loaded into DuckDB as a company would hold
them: an entity table, child tables with their own timestamps (some rows dated after the
prediction time, which a point-in-time pipeline must ignore) and a label table with one row per
entity and its cutoff. Their naming shares nothing with the example project:

* ``freight``: ``orders`` (key ``order_ref``, text like ``'ORD-00042'``), ``shipments`` and
  ``tracking_scans`` of each order, and ``tier_decisions`` with a four-class
  ``shipping_tier``. The tier follows a score built from the order's own ``declared_value``
  and ``destination_zone``, the total weight of its shipments and its count of ``'customs'``
  scans before the cutoff, plus noise.
* ``housing``: ``houses`` (key ``parcel_code``), ``renovations`` of each house and ``sales``
  with a ``sale_price`` in dollars that depends on the floor area, the neighbourhood, the
  year built and the cost of the renovations done before the appraisal date, plus noise with
  a standard deviation of 12,000 dollars.

2,000 entities each: their test split (about 17% of rows, by a hash of the id) holds more
than the 300 rows below which the metric is cross-validated, so a run's verdict rests on the
test split whatever training time is left for folds, and two runs of the same goal (a live
version and its repair) are measured the same way.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

TIERS = ("economy", "standard", "express", "priority")
"""Shipping tiers, in order of the score that decides them."""
FREIGHT_CUTOFF = np.datetime64("2025-06-01")
HOUSING_CUTOFF = np.datetime64("2025-03-01")
PRICE_NOISE = 12_000.0
"""Standard deviation of the sale price's noise, in dollars: no model's RMSE goes far below."""


def _days(rng: np.random.Generator, cutoff: np.datetime64, n: int, lo: int, hi: int) -> np.ndarray:
    """Timestamps ``lo`` to ``hi`` days before ``cutoff`` (negative ``lo``: after it)."""
    minutes = rng.integers(lo * 1440, hi * 1440, size=n)
    return cutoff.astype("datetime64[m]") - minutes.astype("timedelta64[m]")


def _load(path: Path, tables: dict[str, pd.DataFrame]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as conn:
        for name, frame in tables.items():
            conn.register("frame", frame)
            conn.execute(f"CREATE TABLE main.{name} AS SELECT * FROM frame")
            conn.unregister("frame")
    return path


def build_freight_warehouse(path: Path, *, orders: int = 2000, seed: int = 11) -> Path:
    """Orders, their shipments and tracking scans, and each order's shipping tier."""
    rng = np.random.default_rng(seed)
    refs = np.array([f"ORD-{i:05d}" for i in range(1, orders + 1)])
    zones = rng.choice(["domestic", "near-shore", "overseas"], size=orders, p=[0.45, 0.3, 0.25])
    declared = np.round(rng.lognormal(5.5, 0.8, size=orders), 2)
    placed = _days(rng, FREIGHT_CUTOFF, orders, 40, 400)
    order_frame = pd.DataFrame(
        {
            "order_ref": refs,
            "destination_zone": zones,
            "declared_value": declared,
            "sales_channel": rng.choice(["web", "phone", "partner"], size=orders),
            "placed_at": placed,
        }
    )

    per_order = rng.integers(1, 4, size=orders)
    owner = np.repeat(np.arange(orders), per_order)
    n_ship = len(owner)
    weight = np.round(rng.gamma(2.0, 6.0, size=n_ship), 1)
    # A tenth of the shipments leave after the cutoff: they must not count.
    late = rng.random(n_ship) < 0.1
    shipped = np.where(
        late, _days(rng, FREIGHT_CUTOFF, n_ship, -30, -1), _days(rng, FREIGHT_CUTOFF, n_ship, 1, 35)
    )
    shipment_frame = pd.DataFrame(
        {
            "shipment_no": np.arange(70_001, 70_001 + n_ship),
            "order_ref": refs[owner],
            "carrier": rng.choice(["Northwind", "Blue Arrow", "Kestrel"], size=n_ship),
            "weight_kg": weight,
            "shipped_at": shipped,
        }
    )

    customs_rate = np.select([zones == "overseas", zones == "near-shore"], [1.5, 0.6], 0.1)
    customs = rng.poisson(customs_rate)
    other = rng.poisson(1.0, size=orders)
    scans = []
    for kind, counts in (("customs", customs), ("hub", other)):
        who = np.repeat(np.arange(orders), counts)
        scans.append(pd.DataFrame({"order": who, "scan_type": kind}))
    scan_frame = pd.concat(scans, ignore_index=True)
    scan_frame["scanned_at"] = _days(rng, FREIGHT_CUTOFF, len(scan_frame), 1, 30)
    scan_frame = scan_frame.sort_values(["order", "scanned_at"]).reset_index(drop=True)
    scan_frame.insert(0, "scan_id", np.arange(1, len(scan_frame) + 1))
    scan_frame["order_ref"] = refs[scan_frame.pop("order").to_numpy()]

    counted = ~late
    total_weight = np.bincount(owner[counted], weights=weight[counted], minlength=orders)
    score = (
        0.9 * np.log(declared)
        + 0.06 * total_weight
        + 0.8 * customs
        + np.select([zones == "overseas", zones == "near-shore"], [1.0, 0.4], 0.0)
        + rng.normal(0.0, 0.3, size=orders)
    )
    edges = np.quantile(score, [0.25, 0.5, 0.75])
    tier = np.array(TIERS)[np.searchsorted(edges, score)]
    label_frame = pd.DataFrame(
        {
            "order_ref": refs,
            "snapshot_day": np.full(orders, FREIGHT_CUTOFF).astype("datetime64[D]"),
            "shipping_tier": tier,
        }
    )
    return _load(
        path,
        {
            "orders": order_frame,
            "shipments": shipment_frame,
            "tracking_scans": scan_frame[["scan_id", "order_ref", "scan_type", "scanned_at"]],
            "tier_decisions": label_frame,
        },
    )


def build_housing_warehouse(path: Path, *, houses: int = 2000, seed: int = 5) -> Path:
    """Houses, their renovations, and one sale per house with its price in dollars."""
    rng = np.random.default_rng(seed)
    codes = np.array([f"P{i:04d}-{c}" for i, c in enumerate(rng.choice(list("ABC"), houses))])
    hoods = rng.choice(["Riverside", "Old Town", "Hillcrest", "Mill Park"], size=houses)
    area = np.round(rng.normal(1600, 450, size=houses).clip(500, 3500))
    built = rng.integers(1950, 2021, size=houses)
    house_frame = pd.DataFrame(
        {
            "parcel_code": codes,
            "neighbourhood": hoods,
            "floor_area_sqft": area.astype(int),
            "bedrooms": np.clip(np.round(area / 550 + rng.normal(0, 0.6, houses)), 1, 6).astype(
                int
            ),
            "year_built": built,
        }
    )

    per_house = rng.poisson(1.3, size=houses)
    owner = np.repeat(np.arange(houses), per_house)
    cost = np.round(rng.gamma(2.0, 9_000.0, size=len(owner)), 0)
    # A sixth of the renovations are done after the appraisal date: they must not count.
    after = rng.random(len(owner)) < 1 / 6
    done = np.where(
        after,
        _days(rng, HOUSING_CUTOFF, len(owner), -60, -1),
        _days(rng, HOUSING_CUTOFF, len(owner), 10, 900),
    )
    renovation_frame = pd.DataFrame(
        {
            "renovation_id": np.arange(1, len(owner) + 1),
            "parcel_code": codes[owner],
            "kind": rng.choice(["kitchen", "roof", "bathroom", "extension"], size=len(owner)),
            "cost_usd": cost,
            "completed_at": done,
        }
    )

    premium = {"Riverside": 60_000.0, "Old Town": 25_000.0, "Hillcrest": 90_000.0, "Mill Park": 0.0}
    renovated = np.bincount(owner[~after], weights=cost[~after], minlength=houses)
    price = (
        40_000.0
        + 140.0 * area
        + np.vectorize(premium.get)(hoods)
        + 600.0 * (built - 1950)
        + 0.9 * renovated
        + rng.normal(0.0, PRICE_NOISE, size=houses)
    )
    sale_frame = pd.DataFrame(
        {
            "parcel_code": codes,
            "appraised_as_of": np.full(houses, HOUSING_CUTOFF).astype("datetime64[D]"),
            "sale_price": np.round(price, 0),
        }
    )
    return _load(
        path, {"houses": house_frame, "renovations": renovation_frame, "sales": sale_frame}
    )
