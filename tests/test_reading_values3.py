"""Value surface forms and which words can carry a cohort, read against a real profiled
warehouse of its own naming.

The warehouse is a small DuckDB file of animal shelter intakes: a tier stored as ordinals
('1st' .. '4th'), a clinic dimension whose names cut a word short ('orthopaedic dept'), a
breed group, a flag, and trace-element amounts named by their symbols (``Ti`` with zeros,
``Mo`` without). Each reading is checked for its predicate and, where it matters, the rows
DuckDB selects with it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dagster_agentic.errors import ObjectiveError
from dagster_agentic.goals.objective import Objective
from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.kernel.policy.objective import interpret_objective
from dagster_agentic.kernel.policy.surface import cut_forms, number_form, ordinal, shortens
from dagster_agentic.warehouse.connection import Warehouse
from dagster_agentic.warehouse.models import WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse


def _shelter(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(
        """
        CREATE TABLE clinics AS
        SELECT * FROM (VALUES
            ('K1', 'orthopaedic dept'), ('K2', 'general practice'), ('K3', 'dental wing')
        ) t(clinic_code, clinic_label)
        """
    )
    conn.execute(
        """
        CREATE TABLE intakes AS
        SELECT
            i AS intake_ref,
            CASE i % 4 WHEN 0 THEN '1st' WHEN 1 THEN '2nd' WHEN 2 THEN '3rd' ELSE '4th' END
                AS kennel_tier,
            CASE i % 3 WHEN 0 THEN 'terrier' WHEN 1 THEN 'hound' ELSE 'toy' END AS breed_group,
            'K' || CAST(1 + i % 3 AS VARCHAR) AS clinic_code,
            1 + i % 12 AS age_years,
            CASE WHEN i % 5 = 0 THEN 0 ELSE round((i % 7) / 10.0, 1) END AS Ti,
            round(0.5 + (i % 9) / 10.0, 1) AS Mo,
            CASE WHEN (i * 7) % 10 < 4 THEN 'yes' ELSE 'no' END AS adopted
        FROM range(600) t(i)
        """
    )


@pytest.fixture(scope="module")
def shelter(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WarehouseProfile]:
    path = tmp_path_factory.mktemp("reading_values3") / "shelter.duckdb"
    conn = duckdb.connect(str(path))
    try:
        _shelter(conn)
    finally:
        conn.close()
    return path, profile_warehouse(Warehouse(path))


def _read(shelter: tuple[Path, WarehouseProfile], text: str) -> Objective:
    return interpret_objective(text, shelter[1], GoalOverrides())


def _rows(shelter: tuple[Path, WarehouseProfile], where: str) -> int:
    conn = duckdb.connect(str(shelter[0]), read_only=True)
    try:
        row = conn.execute(f"SELECT count(*) FROM intakes WHERE {where}").fetchone()
    finally:
        conn.close()
    assert row is not None
    return int(row[0])


def test_ordinals_and_number_words() -> None:
    assert [ordinal(w) for w in ("third", "3rd", "three", "3", "Eleventh")] == [3, 3, 3, 3, 11]
    assert ordinal("2th") is None and ordinal("thirds") is None
    assert number_form("second") == number_form("2nd") == "#2"
    assert number_form("kennel") == "kennel"


def test_short_forms() -> None:
    assert shortens("dept", "department") and shortens("emerg", "emergency")
    assert shortens("mgmt", "management") and shortens("govt", "government")
    assert not shortens("dp", "department")  # too short to say anything
    assert not shortens("dent", "department")  # cut-off plus a letter the word lacks there
    assert not shortens("ward", "department")
    assert "dept" in cut_forms("department") and "orth" in cut_forms("orthopaedic")


def test_ordinal_words_read_stored_ordinals(shelter: tuple[Path, WarehouseProfile]) -> None:
    objective = _read(
        shelter, "Among dogs housed in first or fourth tier, which are adopted? 70% precision."
    )
    assert objective.cohort_sql == "kennel_tier IN ('1st', '4th')"
    assert _rows(shelter, objective.cohort_sql) == 300


def test_a_word_cut_short_in_a_dimension(shelter: tuple[Path, WarehouseProfile]) -> None:
    objective = _read(
        shelter,
        "For the intakes seen at the Orthopaedic Department, predict which are adopted "
        "with a recall of 0.5.",
    )
    assert objective.cohort_sql is not None
    assert "clinic_label = 'orthopaedic dept'" in objective.cohort_sql
    assert _rows(shelter, objective.cohort_sql) == 200


def test_a_trailing_noun_restating_the_value(shelter: tuple[Path, WarehouseProfile]) -> None:
    objective = _read(
        shelter, "Predict which intakes are adopted among intakes from hound lineage, 70% precision"
    )
    assert objective.cohort_sql == "breed_group = 'hound'"
    assert any("'lineage' read as restating" in note for note in objective.rationale)


def test_a_capitalised_trailing_word_is_no_restatement(
    shelter: tuple[Path, WarehouseProfile],
) -> None:
    with pytest.raises(ObjectiveError, match="Barnaby"):
        _read(
            shelter,
            "Predict which intakes are adopted among intakes from hound Barnaby, 70% precision",
        )


def test_without_any_amount_named_by_its_symbol(shelter: tuple[Path, WarehouseProfile]) -> None:
    objective = _read(
        shelter, "Predict which intakes are adopted for dogs without any titanium, 70% precision"
    )
    assert objective.cohort_sql == '"Ti" = 0'
    # i % 5 == 0, or i % 7 == 0: 120 + 86 - 18 rows.
    assert _rows(shelter, objective.cohort_sql) == 188
    assert any("smallest value is 0" in note for note in objective.rationale)


def test_without_an_amount_that_holds_no_zero(shelter: tuple[Path, WarehouseProfile]) -> None:
    with pytest.raises(ObjectiveError, match="holds no zero"):
        _read(
            shelter, "Predict which intakes are adopted for dogs with no molybdenum, 70% precision"
        )


def test_the_subject_of_a_model_is_no_cohort(shelter: tuple[Path, WarehouseProfile]) -> None:
    objective = _read(shelter, "parvovirus intake model, precision .7, age 3+")
    assert objective.cohort_sql == "age_years >= 3"
    # A word the warehouse holds before the model's noun still selects rows.
    objective = _read(shelter, "terrier intake model, precision .7")
    assert objective.cohort_sql == "breed_group = 'terrier'"


def test_a_scene_setting_sentence_is_no_cohort(shelter: tuple[Path, WarehouseProfile]) -> None:
    objective = _read(
        shelter,
        "Our volunteers welcome Westland intakes. Predict which intakes are "
        "adopted with a precision of 0.7.",
    )
    assert objective.cohort_sql is None
    assert any("only sets the scene" in note for note in objective.rationale)
    # A value in such a sentence is never left out: the phrase is refused, naming it; the
    # words that do not read, in the request itself, are an error too.
    with pytest.raises(ObjectiveError, match=r"'terrier' reads as intakes\.breed_group"):
        _read(
            shelter,
            "Our volunteers welcome terrier intakes. Predict which intakes are "
            "adopted with a precision of 0.7.",
        )
    with pytest.raises(ObjectiveError, match="Westland"):
        _read(shelter, "Predict which Westland intakes are adopted with a precision of 0.7.")
