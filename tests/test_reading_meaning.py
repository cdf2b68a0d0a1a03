"""Reading by meaning, and the general readings that came with it: each with an invented
warehouse (real DuckDB files) and phrasings the rules' words do not spell.

* the offline sentence encoder: the same vectors as sentence-transformers, files checked
  against the upstream digests;
* a cohort number's column by the words around it ('more than 30 g of protein');
* an outcome no name spells ('who was killed' ~ outcome: dead, alive);
* a threshold said across a comma ('Use ROC AUC, at least 0.7');
* a year in the target's name ('height in September 1997' of Height 1997);
* inputs listed ('from its brand, body style and mileage') and classes in brackets;
* a word for one sex that no cohort reads, over a column coded 1/2: refused;
* Access's -1/0 booleans; no foreign key from a measurement into its own table's numbering;
* a forecast 'for each month' refused.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dagster_agentic import meaning
from dagster_agentic.errors import ObjectiveError
from dagster_agentic.meaning.encoder import DIGESTS, Encoder, EncoderUnavailable, model_dir
from tests.goal_reading_warehouses import Built
from tests.goal_reading_warehouses import build_sql as _build
from tests.goal_reading_warehouses import count_rows as _rows
from tests.goal_reading_warehouses import read_goal as _read

TEXTS = ["die", "status: alive, dead", "items with more than 30 g of protein", "Gewählte Heizung"]


def test_encoder_matches_sentence_transformers() -> None:
    from sentence_transformers import SentenceTransformer

    from dagster_agentic.meaning.encoder import encoder

    ours = encoder().encode(TEXTS)
    theirs = SentenceTransformer(str(model_dir()), device="cpu").encode(
        TEXTS, normalize_embeddings=True, convert_to_tensor=True
    )
    assert ours.shape == (4, 384)
    assert float((ours - theirs).abs().max()) < 1e-5
    assert float(ours.norm(dim=1).min()) == pytest.approx(1.0, abs=1e-5)


def test_altered_files_are_refused(tmp_path: Path) -> None:
    source = model_dir()
    for name in DIGESTS:
        (tmp_path / name).symlink_to(source / name)
    (tmp_path / "tokenizer.json").unlink()
    shutil.copy(source / "tokenizer.json", tmp_path / "tokenizer.json")
    with (tmp_path / "tokenizer.json").open("a") as handle:
        handle.write(" ")
    with pytest.raises(EncoderUnavailable, match=r"tokenizer\.json is not the pinned upstream"):
        Encoder(tmp_path)
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(EncoderUnavailable, match=r"model\.safetensors is missing"):
        Encoder(tmp_path)


def test_choice_needs_a_floor_and_a_margin() -> None:
    assert meaning.available() is None
    chosen = meaning.choose("more than 30 g of protein", ["carbs g", "protein g", "sugar g"])
    assert chosen is not None and chosen.index == 1
    assert chosen.score - chosen.runner_up >= meaning.MARGIN
    # Nothing near enough: no choice, the reader's error stands.
    assert meaning.choose("quarterly board meeting", ["carbs g", "protein g"]) is None
    assert meaning.choose("", ["carbs g"]) is None


@pytest.fixture(scope="module")
def menu(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(
        tmp_path_factory.mktemp("menu"),
        "menu",
        [
            """
            CREATE TABLE dishes AS
            SELECT 'D' || lpad(CAST(i AS VARCHAR), 4, '0') AS dish_code,
                   (i * 37) % 900 + 100 AS energy_kcal,
                   (i * 7) % 60 AS protein_g,
                   (i * 11) % 80 AS carbs_g,
                   (i * 5) % 45 AS sugar_g,
                   (i * 3) % 50 AS total_fat_g,
                   (i * 13) % 2400 + 100 AS sodium_mg,
                   CASE i % 3 WHEN 0 THEN 'Starter' WHEN 1 THEN 'Main' ELSE 'Dessert' END
                       AS course
            FROM range(600) t(i)
            """
        ],
    )


def test_number_column_by_the_words_around_it(menu: Built) -> None:
    objective = _read(
        menu,
        "Can the sodium (mg) be estimated for dishes with more than 30 g of protein? "
        "An MAE of 300 mg is the bar.",
    )
    assert objective.target_column == "sodium_mg"
    assert objective.cohort_sql == "protein_g > 30"
    assert _rows(menu, "dishes", objective.cohort_sql) == 290
    # 'g of protein' spells protein_g; without the unit, only the meaning of 'protein' does.
    assert any("words name the column" in line for line in objective.rationale)
    unitless = _read(
        menu,
        "Can the sodium (mg) be estimated for dishes with more than 30 of protein? "
        "An MAE of 300 mg is the bar.",
    )
    assert unitless.cohort_sql == "protein_g > 30"
    assert any("by meaning" in line and "protein g" in line for line in unitless.rationale)


def test_number_column_without_a_clear_meaning_is_refused(menu: Built) -> None:
    with pytest.raises(ObjectiveError, match="cannot tell which column") as info:
        _read(menu, "Estimate the sodium of dishes with more than 30 of them, MAE 300")
    assert "protein_g" in str(info.value) and "carbs_g" in str(info.value)


@pytest.fixture(scope="module")
def crashes(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(
        tmp_path_factory.mktemp("crashes"),
        "crashes",
        [
            """
            CREATE TABLE occupants AS
            SELECT 'OC' || lpad(CAST(i AS VARCHAR), 5, '0') AS occ_ref,
                   (i * 7) % 80 + 16 AS age_yrs,
                   CASE WHEN i % 4 = 0 THEN 'deployed' ELSE 'none' END AS airbag,
                   CASE WHEN (i * 13) % 9 = 0 THEN 'dead' ELSE 'alive' END AS outcome
            FROM range(800) t(i)
            """
        ],
    )


def test_outcome_by_meaning(crashes: Built) -> None:
    objective = _read(crashes, "Predict whether each occupant was killed, ROC AUC of 0.8")
    assert objective.target_column == "outcome"
    assert objective.positive_value == "dead"
    assert any("target occupants.outcome by meaning" in line for line in objective.rationale)


def test_no_outcome_near_enough_is_refused(crashes: Built) -> None:
    with pytest.raises(ObjectiveError, match="no binary column matches"):
        _read(crashes, "Predict whether each occupant renews a subscription, ROC AUC 0.8")


def test_meaning_against_spelling_is_no_reading(tmp_path: Path) -> None:
    """'premature' of columns lowbirthweight and premie: the encoder leans to the first, the
    spelling to the second; the reading must never settle on the first."""
    built = _build(
        tmp_path,
        "births",
        [
            """
            CREATE TABLE births AS
            SELECT i AS birth_no,
                   CASE WHEN i % 7 = 0 THEN 'low' ELSE 'not low' END AS lowbirthweight,
                   CASE WHEN i % 6 = 0 THEN 'premie' ELSE 'full term' END AS premie,
                   15 + i % 30 AS mage
            FROM range(600) t(i)
            """
        ],
    )
    try:
        objective = _read(built, "Will the baby be born premature? F1 of 0.5")
    except ObjectiveError as error:
        assert "births.premie" in str(error)
    else:
        assert objective.target_column == "premie"


@pytest.mark.parametrize(
    "text",
    [
        "Predict whether an occupant dies. Use ROC AUC, at least 0.7.",
        "Predict whether an occupant dies. Report ROC AUC; we expect at least 0.7.",
    ],
)
def test_threshold_across_a_comma_or_a_verb(crashes: Built, text: str) -> None:
    objective = _read(crashes, text)
    assert (objective.metric, objective.threshold) == ("roc_auc", 0.7)
    assert objective.cohort_sql is None


@pytest.fixture(scope="module")
def pines(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(
        tmp_path_factory.mktemp("pines"),
        "pines",
        [
            """
            CREATE TABLE "Seedlings" AS
            SELECT 'WP-' || lpad(CAST(i AS VARCHAR), 4, '0') AS "Tag",
                   (i * 7) % 30 + 10 AS "Planting Height (cm)",
                   (i * 11) % 120 + 20 AS "Height 1996 (cm)",
                   (i * 13) % 200 + 40 AS "Height 1997 (cm)",
                   CASE WHEN i % 2 = 0 THEN 'fertilised' ELSE 'control' END AS "Treatment"
            FROM range(500) t(i)
            """
        ],
    )


def test_year_in_the_name_picks_the_target(pines: Built) -> None:
    objective = _read(pines, "1997 tree height for fertilised seedlings, MAE 40 cm")
    assert objective.target_column == "Height 1997 (cm)"
    assert objective.cohort_sql == "\"Treatment\" = 'fertilised'"
    assert any("number 1997 is in its name" in line for line in objective.rationale)


def test_inputs_are_no_cohort_and_no_outcome(pines: Built) -> None:
    objective = _read(
        pines,
        "Predict each seedling's height in September 1997, in cm, from its planting height, "
        "its 1996 height and its treatment, with an RMSE under 50 cm.",
    )
    assert objective.target_column == "Height 1997 (cm)"
    assert objective.cohort_sql is None
    assert any(line.startswith("inputs 'from its planting") for line in objective.rationale)


@pytest.fixture(scope="module")
def league(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(
        tmp_path_factory.mktemp("league"),
        "league",
        [
            """
            CREATE TABLE matches AS
            SELECT i AS match_no,
                   (i * 7) % 18 + 1 AS home_club,
                   (i * 11) % 18 + 1 AS away_club,
                   CASE (i * 5) % 7 WHEN 0 THEN 'draw' WHEN 1 THEN 'draw'
                        WHEN 2 THEN 'away win' WHEN 3 THEN 'away win'
                        ELSE 'home win' END AS full_time_result,
                   (i * 3) % 5 AS away_goals,
                   CASE WHEN i % 2 = 0 THEN 'North' ELSE 'South' END AS league_group
            FROM range(700) t(i)
            """
        ],
    )


def test_words_in_brackets_give_way(league: Built) -> None:
    objective = _read(
        league,
        "Predict the result of each match (home win, draw or away win), accuracy 0.5",
    )
    assert objective.target_column == "full_time_result"
    assert objective.cohort_sql is None
    assert any("lists the classes" in line for line in objective.rationale)


def test_a_cohort_in_brackets_still_reads(league: Built) -> None:
    objective = _read(
        league,
        "Predict the full-time result of each match for the North group (not the South), "
        "accuracy 0.5",
    )
    assert objective.target_column == "full_time_result"
    assert objective.cohort_sql is not None and "North" in objective.cohort_sql


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(
        tmp_path_factory.mktemp("workers"),
        "workers",
        [
            """
            CREATE TABLE laid_off AS
            SELECT 700000 + i AS uid,
                   (i * 7) % 45 + 20 AS age,
                   1 + i % 2 AS sex_cd,
                   1980 + (i * 3) % 12 AS displacement_yr,
                   CASE WHEN (i * 11) % 3 = 0 THEN 'Y' ELSE 'N' END AS ui_received_yn
            FROM range(900) t(i)
            """
        ],
    )


def test_a_sex_no_cohort_reads_is_refused(workers: Built) -> None:
    with pytest.raises(ObjectiveError) as info:
        _read(
            workers,
            "Predict UI receipt for women who lost their jobs in 1986 or later, accuracy 0.7",
        )
    message = str(info.value)
    assert "'women', a sex" in message and "laid_off.sex_cd holds 1, 2" in message
    assert "codes that do not say which sex" in message


def test_both_sexes_restrict_nothing(workers: Built) -> None:
    objective = _read(
        workers, "Predict UI receipt for men and women displaced in 1986 or later, accuracy 0.7"
    )
    assert objective.cohort_sql == "displacement_yr >= 1986"


@pytest.fixture(scope="module")
def cars(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(
        tmp_path_factory.mktemp("cars"),
        "cars",
        [
            """
            CREATE TABLE "tblListings" AS
            SELECT 9000 + i AS "lngListingID",
                   ((i * 37) % 4000) + 1000 AS "curPrice",
                   (i * 7919) % 50000 AS "lngMileage",
                   CASE WHEN i % 3 = 0 THEN -1 ELSE 0 END AS "blnSunroof",
                   CASE i % 3 WHEN 0 THEN 'Sedan' WHEN 1 THEN 'Coupe' ELSE 'Wagon' END
                       AS "strBodyStyle"
            FROM range(800) t(i)
            """
        ],
    )


def test_inputs_and_access_booleans(cars: Built) -> None:
    objective = _read(
        cars,
        "Suggest the asking price of every car from its body style, mileage and sunroof, "
        "RMSE under 3000",
    )
    assert objective.target_column == "curPrice"
    assert objective.cohort_sql is None
    # A measurement inside the table's own numbering is no foreign key to it.
    assert not cars[1].relationships


def test_access_boolean_flag_suggests_minus_one(cars: Built) -> None:
    from dagster_agentic.kernel.policy.option_rows import yes_value

    table = cars[1].table("tblListings")
    assert table is not None
    column = table.column("blnSunroof")
    assert column is not None and yes_value(column) == -1


def test_a_forecast_for_each_month_is_refused(cars: Built) -> None:
    with pytest.raises(ObjectiveError, match="time-series forecasting"):
        _read(cars, "Forecast the average asking price for each month of 2027, MAE 100")
