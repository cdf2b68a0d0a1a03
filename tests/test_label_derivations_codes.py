"""A label computed from two measurements and a code of its own row (a tariff from a fee, a
weight and a service level) is found and neither measurement becomes a feature; a code whose
pair only correlates with the label leaves the measurements alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tests.test_label_derivations import _objective, _suspects, _write

N = 1_500
MARKUP = {"express": 0.6, "standard": 0.25, "economy": 0.0, "freight": 1.1}


TARIFF = _objective("parcels", "parcel_ref", "tariff", "regression", metric="mae", threshold=0.2)


def _parcels(seed: int, computed: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    service = rng.choice(list(MARKUP), N)
    weight = np.round(rng.gamma(2.0, 3.0, N) + 0.2, 2)
    tariff = np.round(rng.uniform(1.0, 4.0, N), 3)  # per kg, the label
    markup = np.array([MARKUP[s] for s in service])
    fee = weight * tariff * (1 + markup)
    if not computed:  # a fee quoted from the weight and the service, blind to the tariff
        fee = weight * 2.5 * (1 + markup) * rng.lognormal(0, 0.35, N)
    return pd.DataFrame(
        {
            "parcel_ref": [f"P{i:05d}" for i in range(N)],
            "service": service,
            "weight_kg": weight,
            "fee_total": np.round(fee, 2),
            "distance_km": rng.integers(5, 900, N),
            "tariff": tariff,
        }
    )


def test_a_ratio_within_each_service_level_is_found_and_both_measurements_are_suspects(
    tmp_path: Path,
) -> None:
    found, _ = _suspects(_write(tmp_path / "post.duckdb", "parcels", _parcels(5, True)), TARIFF)
    assert set(found) == {"weight_kg", "fee_total"}, found
    evidence = found["fee_total"]
    assert "ratio with weight_kg within each value of service" in evidence
    shares = [int(part.split("%")[0].split()[-1]) for part in evidence.split("(")[:2]]
    assert shares[0] >= 95, evidence  # the derivation explains nearly all of the label


def test_a_fee_that_only_correlates_with_the_label_leaves_the_measurements_alone(
    tmp_path: Path,
) -> None:
    found, _ = _suspects(_write(tmp_path / "post.duckdb", "parcels", _parcels(6, False)), TARIFF)
    assert found == {}, found
