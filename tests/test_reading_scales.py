"""A metric's name abbreviated, the size of the target's own scale, a relative clause that
names another column beside the outcome, and a number that counts the rows: an invented
survey warehouse (a real DuckDB file) whose answers are on scales.

* 'mean abs error under 2.5', 'root mean sq. error of 1.5': the metric, not a condition;
* 'on the 11 point scale' of answers from 1 to 11 (or 0 to 10): the target's scale, no
  condition; an 11 that is no scale's size stays an error;
* 'people who scored zero on the knowledge question about Europe' of a Europe-scale outcome:
  the clause names the knowledge column, so it is never dropped;
* 'the 900 answers we collected' where the table holds 900 rows: a description of the data.
"""

from __future__ import annotations

import pytest

from dagster_agentic.errors import ObjectiveError
from tests.goal_reading_warehouses import Built
from tests.goal_reading_warehouses import build_sql as _build
from tests.goal_reading_warehouses import read_goal as _read


@pytest.fixture(scope="module")
def survey(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(
        tmp_path_factory.mktemp("survey"),
        "survey",
        [
            """
            CREATE TABLE panel_answers AS
            SELECT i AS respondent_no,
                   1 + (i * 7) % 11 AS trust_eu_scale,
                   (i * 3) % 4 AS eu_knowledge,
                   18 + (i * 13) % 70 AS age_years,
                   CASE WHEN i % 2 = 0 THEN 'urban' ELSE 'rural' END AS area
            FROM range(900) t(i)
            """
        ],
    )


@pytest.mark.parametrize(
    ("text", "metric", "threshold"),
    [
        ("Estimate each respondent's trust eu scale, mean abs error under 2.5", "mae", 2.5),
        ("Estimate each respondent's trust eu scale, avg. absolute err below 2", "mae", 2.0),
        ("Estimate each respondent's trust eu scale, root mean sq. error of 1.5", "rmse", 1.5),
    ],
)
def test_an_abbreviated_metric_name_is_the_metric(
    survey: Built, text: str, metric: str, threshold: float
) -> None:
    objective = _read(survey, text)
    assert objective.metric == metric and objective.threshold == threshold
    assert objective.target_column == "trust_eu_scale" and objective.cohort_sql is None


@pytest.mark.parametrize(
    "text",
    [
        "Estimate how much a respondent trusts the EU on the 11 point trust eu scale, MAE 2",
        "Estimate the trust eu scale (an 11-point scale) of each respondent, MAE 2",
    ],
)
def test_the_size_of_the_targets_scale_is_no_condition(survey: Built, text: str) -> None:
    objective = _read(survey, text)
    assert objective.target_column == "trust_eu_scale" and objective.cohort_sql is None
    assert any("points of the target's own scale" in line for line in objective.rationale)


def test_a_number_that_is_no_scale_size_stays_an_error(survey: Built) -> None:
    # Respondents aged 1 to 11 would be rows: '7' is not the trust scale's size (11).
    with pytest.raises(ObjectiveError, match="'7'"):
        _read(survey, "Estimate the trust eu scale of the 7 point respondents, MAE 2")


def test_a_clause_naming_the_outcome_and_another_column_is_refused(survey: Built) -> None:
    with pytest.raises(ObjectiveError, match="who scored zero on the knowledge question"):
        _read(
            survey,
            "Estimate the trust eu scale, leaving out the people who scored zero on the "
            "knowledge question about the eu, MAE 2",
        )


def test_a_number_that_counts_the_rows_describes_the_data(survey: Built) -> None:
    # panel_answers holds 900 rows: '900 answers' says how many, it selects none.
    objective = _read(
        survey, "We collected 900 answers about the EU. Estimate the trust eu scale, MAE 2"
    )
    assert objective.cohort_sql is None
    assert any("counts the rows the goal is about" in line for line in objective.rationale)
    with pytest.raises(ObjectiveError, match="'800'"):  # not the table's count: may be rows
        _read(
            survey,
            "We collected 800 answers about the EU. Estimate the trust eu scale, MAE 2",
        )
