"""A label table that only extends another table one-to-one: an invented insurance study (a
real DuckDB file) whose yearly claims (claims_annual, keyed by the enrolment year's
reference) hang off member_years, which references members and plans.

* the goal is about the enrolment years, the table the claims extend and the rest of the
  warehouse hangs from, however many measures the claims table holds;
* a goal whose words name the claims table keeps it the entity;
* 'medical spend per enrollee per plan year': 'spend' right after 'medical' says what the
  outcome measures (not the any_spend flag's rows), and 'per plan year' is a period, not
  each plan; 'per plan' alone is still refused (several enrolment years per plan).
"""

from __future__ import annotations

import pytest

from dagster_agentic.errors import ObjectiveError
from tests.goal_reading_warehouses import Built
from tests.goal_reading_warehouses import build_sql as _build
from tests.goal_reading_warehouses import read_goal as _read

_STUDY = [
    """
    CREATE TABLE members AS
    SELECT 5000 + i AS member_no, CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END AS sex,
           round(8000 + (i * 37) % 9000, 2) AS family_income_usd
    FROM range(300) t(i)
    """,
    """
    CREATE TABLE plans AS
    SELECT 'PL' || CAST(i AS VARCHAR) AS plan_code, (i * 25) % 100 AS coinsurance_pct
    FROM range(6) t(i)
    """,
    """
    CREATE TABLE member_years AS
    SELECT 'R' || CAST(5000 + i % 300 AS VARCHAR) || '-' || CAST(1 + i // 300 AS VARCHAR)
               AS ref_no,
           5000 + i % 300 AS member_no, 'PL' || CAST(i % 6 AS VARCHAR) AS plan_code,
           1 + i // 300 AS study_year, 20 + (i * 7) % 50 AS age_yrs
    FROM range(900) t(i)
    """,
    """
    CREATE TABLE claims_annual AS
    SELECT 'R' || CAST(5000 + i % 300 AS VARCHAR) || '-' || CAST(1 + i // 300 AS VARCHAR)
               AS ref_no,
           round((i * 53) % 2000 + 0.5, 2) AS medical_usd,
           round((i * 31) % 900 + 0.25, 2) AS outpatient_usd,
           (i * 7) % 12 AS physician_visits, (i * 3) % 4 AS admissions,
           CASE WHEN i % 9 = 0 THEN 'N' ELSE 'Y' END AS any_spend
    FROM range(900) t(i)
    """,
]


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("study"), "study", _STUDY)


def test_the_table_a_leaf_label_extends_is_the_entity(study: Built) -> None:
    objective = _read(study, "Predict the medical cost of each enrolment year, MAE under 350")
    assert (objective.label_table, objective.target_column) == ("claims_annual", "medical_usd")
    assert objective.entity_table == "member_years"


def test_a_label_table_the_words_name_stays_the_entity(study: Built) -> None:
    objective = _read(study, "Predict the medical cost on the annual claims, MAE under 350")
    assert objective.entity_table == "claims_annual"


def test_the_outcome_noun_phrase_and_a_period_after_per(study: Built) -> None:
    objective = _read(
        study, "total covered medical spend per enrollee per plan year, USD, MAE < 350"
    )
    assert (objective.target_column, objective.entity_table) == ("medical_usd", "member_years")
    assert objective.cohort_sql is None


def test_per_plan_alone_is_still_finer_than_a_plan(study: Built) -> None:
    with pytest.raises(ObjectiveError, match="each plan"):
        _read(study, "total covered medical spend per plan, USD, MAE < 350")
