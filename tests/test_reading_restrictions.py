"""A negation right before a cohort phrase, and restricting clauses nothing read: an invented
shore survey (real DuckDB file) whose quadrats carry Yes/No flags.

* 'quadrats that had no standing water' is standing_water = 'No' (NOT 'Yes'), never 'Yes';
* 'When neither survey involves a boat, ...', 'leaving out the windy days' and 'quadrats
  facing the open sea' restrict the rows: when nothing of the warehouse is read from them
  the goal is refused, quoting them;
* a clause about what is to come ('when will a quadrat ...') or an indirect question is no
  restriction;
* 'for the sheltered pools only' restricts the rows even where 'pools' names no table.
"""

from __future__ import annotations

import pytest

from dagster_agentic.errors import ObjectiveError
from tests.goal_reading_warehouses import Built
from tests.goal_reading_warehouses import build_sql as _build
from tests.goal_reading_warehouses import count_rows as _rows
from tests.goal_reading_warehouses import read_goal as _read


@pytest.fixture(scope="module")
def shore(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(
        tmp_path_factory.mktemp("shore"),
        "shore",
        [
            """
            CREATE TABLE quadrats AS
            SELECT 'SQ-' || lpad(CAST(i AS VARCHAR), 4, '0') AS quadrat_ref,
                   CASE WHEN i % 3 = 0 THEN 'Yes' ELSE 'No' END AS standing_water,
                   (i * 7) % 90 AS rockweed_pct,
                   CASE WHEN (i * 11) % 6 = 0 THEN 'Yes' ELSE 'No' END AS gunnel_found
            FROM range(900) t(i)
            """
        ],
    )


@pytest.mark.parametrize(
    "text",
    [
        "Among the quadrats that had no standing water, flag the ones where we find gunnels."
        " Recall 0.6.",
        "For quadrats with no standing water, predict whether a gunnel is found, recall 0.6",
        "Predict gunnel found for quadrats not in standing water, recall 0.6",
    ],
)
def test_a_negation_before_the_phrase_negates_it(shore: Built, text: str) -> None:
    objective = _read(shore, text)
    assert objective.target_column == "gunnel_found"
    assert objective.cohort_sql is not None
    assert _rows(shore, "quadrats", objective.cohort_sql) == 600  # the 'No' rows


def test_the_positive_phrase_is_unchanged(shore: Built) -> None:
    objective = _read(
        shore, "For quadrats with standing water, predict whether a gunnel is found, recall 0.6"
    )
    assert objective.cohort_sql is not None
    assert _rows(shore, "quadrats", objective.cohort_sql) == 300


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        (
            "When neither survey involved a boat crossing, can we tell whether a gunnel is"
            " found? Recall 0.6.",
            "When neither survey involved a boat crossing",
        ),
        (
            "Predict whether a gunnel is found, leaving out the windy mornings, recall 0.6",
            "leaving out the windy mornings",
        ),
        (
            "Predict whether a gunnel is found, excluding the spring tides, recall 0.6",
            "excluding the spring tides",
        ),
        (
            "Predict whether a gunnel is found, recall 0.6, for quadrats facing the open sea",
            "facing the open sea",
        ),
    ],
)
def test_a_restricting_clause_nothing_read_is_refused(shore: Built, text: str, quoted: str) -> None:
    with pytest.raises(ObjectiveError, match="restricts the rows with") as info:
        _read(shore, text)
    assert repr(quoted) in str(info.value) or f"'{quoted}'" in str(info.value)


def test_a_clause_about_the_future_is_no_restriction(shore: Built) -> None:
    objective = _read(
        shore,
        "We want to know when gunnels will be found: predict whether a gunnel is found, recall 0.6",
    )
    assert objective.target_column == "gunnel_found"
    assert objective.cohort_sql is None


def test_a_participle_the_reading_reads_is_no_unread_restriction(shore: Built) -> None:
    objective = _read(
        shore, "Predict whether a gunnel is found for quadrats having standing water, recall 0.6"
    )
    assert objective.cohort_sql is not None
    assert _rows(shore, "quadrats", objective.cohort_sql) == 300


def test_rows_left_out_by_their_order_are_refused(shore: Built) -> None:
    with pytest.raises(ObjectiveError, match="leaving out the first five surveys"):
        _read(
            shore,
            "For quadrats with standing water, leaving out the first five surveys, predict"
            " whether a gunnel is found, recall 0.6",
        )


@pytest.fixture(scope="module")
def pools(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(
        tmp_path_factory.mktemp("pools"),
        "pools",
        [
            """
            CREATE TABLE Tide_Pool_Survey AS
            SELECT 'TP-' || CAST(i AS VARCHAR) AS Pool_Code, (i * 7) % 90 AS Kelp_Pct,
                   CASE WHEN (i * 11) % 6 = 0 THEN 'Yes' ELSE 'No' END AS Crab_Found
            FROM range(400) t(i)
            """
        ],
    )


def test_a_for_clause_that_only_closes_is_a_restriction(pools: Built) -> None:
    # 'pools' names no table here, so no cohort phrase is proposed: the closing 'only' says
    # the clause restricts the rows all the same.
    with pytest.raises(ObjectiveError, match="'for the sheltered pools'"):
        _read(pools, "Predict whether a crab is found, for the sheltered pools only; recall 0.7")
    objective = _read(pools, "Predict whether a crab is found, for the whole survey; recall 0.7")
    assert objective.cohort_sql is None
