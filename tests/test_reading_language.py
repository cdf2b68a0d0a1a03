"""Goals in another language are refused with the language named, never read word by word;
English goals with names in other languages are read, accented letters and all."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.kernel.policy.objective import interpret_objective
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WarehouseProfile]:
    path = tmp_path_factory.mktemp("language") / "couriers.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE parcels AS SELECT i AS parcel_id,"
            " ['Zürich', 'Genève', 'Lausanne', 'Bâle'][1 + i % 4] AS depot,"
            " 1.0 + (i * 13) % 40 AS weight_kg,"
            " CASE WHEN (i * 11) % 7 < 2 THEN 'yes' ELSE 'no' END AS delayed"
            " FROM range(1200) t(i)"
        )
    return path, profile_warehouse(Warehouse(path))


@pytest.mark.parametrize(
    ("objective", "language"),
    [
        (
            "Predecir qué paquetes llegarán con retraso para las sucursales, con un F1 de"
            " al menos 0,6",
            "Spanish",
        ),
        (
            "Prédire les colis en retard pour chaque dépôt avec une précision d'au moins 0,7",
            "French",
        ),
        (
            "Für jedes Paket vorhersagen, ob es verspätet ist, mit einer Präzision von"
            " mindestens 70%",
            "German",
        ),
    ],
)
def test_a_goal_in_another_language_is_refused_naming_it(
    profile: tuple[Path, WarehouseProfile], objective: str, language: str
) -> None:
    _, found = profile
    with pytest.raises(ObjectiveError) as caught:
        interpret_objective(objective, found, GoalOverrides())
    assert f"reads as {language}" in str(caught.value)
    assert "English" in str(caught.value) and "overrides" in caught.value.fix


def test_an_english_goal_with_accented_names_is_read(
    profile: tuple[Path, WarehouseProfile],
) -> None:
    path, found = profile
    objective = interpret_objective(
        "Which parcels from the Genève depot will be delayed? F1 of at least 0.6",
        found,
        GoalOverrides(),
    )
    assert objective.target_column == "delayed"
    assert objective.cohort_sql == "depot = 'Genève'"
    with duckdb.connect(str(path), read_only=True) as conn:
        row = conn.execute(f"SELECT count(*) FROM parcels WHERE {objective.cohort_sql}").fetchone()
    assert row == (300,)
