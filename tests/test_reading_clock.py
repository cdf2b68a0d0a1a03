"""Times of day, clauses that contradict each other, and tables named in another language:
invented warehouses (real DuckDB files) of calls and of plants.

* 'calls taken before midday', 'after 6pm', 'between 9am and 5pm', 'in the evening' read
  the column of times (``TIME``), the time of a timestamp, or an hour column, and select
  exactly the rows a hand-written predicate selects;
* a time phrase on the population that nothing reads is refused, quoting it; 'before they
  leave' (an event of the population) is no restriction;
* two clauses that pin one column to different values select nothing: refused, never run;
* 'the unclipped plants' of a table ``plantor`` is a cohort of that table: an unknown
  qualifier is refused, never dropped.
"""

from __future__ import annotations

import pytest

from dagster_agentic.errors import ObjectiveError
from tests.goal_reading_warehouses import Built
from tests.goal_reading_warehouses import build_sql as _build
from tests.goal_reading_warehouses import count_rows as _rows
from tests.goal_reading_warehouses import read_goal as _read


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> Built:
    # One call every 37 minutes around the clock; 'Yes' for a fifth of them.
    return _build(
        tmp_path_factory.mktemp("calls"),
        "calls",
        [
            """
            CREATE TABLE support_calls AS
            SELECT 'K' || lpad(CAST(i AS VARCHAR), 5, '0') AS call_ref,
                   CAST(TIME '00:00:00' + INTERVAL ((i * 37) % 1440) MINUTE AS TIME)
                       AS answered_at,
                   CASE i % 3 WHEN 0 THEN 'Billing' WHEN 1 THEN 'Technical' ELSE 'Sales' END
                       AS queue,
                   (i * 13) % 40 AS wait_minutes,
                   CASE WHEN (i * 7) % 5 = 0 THEN 'Yes' ELSE 'No' END AS escalated
            FROM range(1500) t(i)
            """
        ],
    )


@pytest.fixture(scope="module")
def stamped(tmp_path_factory: pytest.TempPathFactory) -> Built:
    # Orders with a timestamp and an hour column of a different event: the words choose.
    return _build(
        tmp_path_factory.mktemp("stamped"),
        "stamped",
        [
            """
            CREATE TABLE orders AS
            SELECT i AS order_id,
                   TIMESTAMP '2024-01-01 00:00:00' + INTERVAL ((i * 53) % 100000) MINUTE
                       AS placed_at,
                   (i * 5) % 24 AS delivery_hour,
                   round(5 + (i * 17) % 300 / 3.0, 2) AS basket_value,
                   CASE WHEN (i * 3) % 7 = 0 THEN 'Yes' ELSE 'No' END AS returned
            FROM range(1200) t(i)
            """
        ],
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            "Among the calls answered before midday, predict which are escalated, recall 0.6",
            "answered_at < TIME '12:00:00'",
        ),
        (
            "For calls answered after 6pm, predict escalation with 70% precision",
            "answered_at >= TIME '18:00:00'",
        ),
        (
            "Predict which calls are escalated for calls between 9am and 5:30pm, recall 0.6",
            "answered_at >= TIME '09:00:00' AND answered_at < TIME '17:30:00'",
        ),
        (
            "Predict escalated calls in the afternoon, ROC AUC 0.8",
            "answered_at >= TIME '12:00:00' AND answered_at < TIME '18:00:00'",
        ),
        (
            "Predict escalated calls answered between 10 p.m. and 2 a.m., ROC AUC 0.8",
            "answered_at >= TIME '22:00:00' OR answered_at < TIME '02:00:00'",
        ),
        (
            "Billing calls taken before 08:30 - which get escalated? recall 0.5",
            "answered_at < TIME '08:30:00' AND queue = 'Billing'",
        ),
    ],
)
def test_a_time_of_day_reads_the_column_of_times(calls: Built, text: str, where: str) -> None:
    objective = _read(calls, text)
    assert objective.target_column == "escalated"
    assert objective.cohort_sql is not None
    expected = _rows(calls, "support_calls", where)
    assert 0 < expected < 1500
    assert _rows(calls, "support_calls", objective.cohort_sql) == expected
    assert _rows(calls, "support_calls", f"({objective.cohort_sql}) AND ({where})") == expected
    assert "time-of-day" in " ".join(objective.rationale) or "words name" in " ".join(
        objective.rationale
    )


def test_a_time_of_day_reads_a_timestamp_or_the_hour_the_words_name(stamped: Built) -> None:
    placed = _read(stamped, "For orders placed after 8pm, predict returns, ROC AUC 0.7")
    assert placed.cohort_sql is not None
    want = "CAST(placed_at AS TIME) >= TIME '20:00:00'"
    assert _rows(stamped, "orders", placed.cohort_sql) == _rows(stamped, "orders", want) > 0
    delivered = _read(
        stamped, "For orders with a delivery hour before 9am, predict returns, ROC AUC 0.7"
    )
    assert delivered.cohort_sql is not None and "delivery_hour" in delivered.cohort_sql
    assert _rows(stamped, "orders", delivered.cohort_sql) == _rows(
        stamped, "orders", "delivery_hour < 9"
    )


def test_two_columns_of_times_and_no_word_for_either_is_refused_with_both(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    built = _build(
        tmp_path_factory.mktemp("shifts"),
        "shifts",
        [
            """
            CREATE TABLE visits AS
            SELECT i AS visit_id,
                   CAST(TIME '06:00:00' + INTERVAL ((i * 7) % 600) MINUTE AS TIME) AS arrival,
                   CAST(TIME '07:00:00' + INTERVAL ((i * 11) % 600) MINUTE AS TIME) AS departure,
                   CASE WHEN i % 4 = 0 THEN 'Yes' ELSE 'No' END AS readmitted
            FROM range(800) t(i)
            """
        ],
    )
    with pytest.raises(ObjectiveError) as error:
        _read(built, "Predict readmitted visits before noon, recall 0.6")
    message = str(error.value)
    assert "visits.arrival" in message and "visits.departure" in message
    assert _read(built, "Predict readmitted visits by arrival before noon, recall 0.6").cohort_sql


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        (
            "Among the calls handled before the outage, predict escalation, recall 0.6",
            "handled before the outage",
        ),
        ("For calls after lunch, predict escalation with a recall of 0.6", "after lunch"),
    ],
)
def test_a_time_phrase_on_the_population_nothing_reads_is_refused(
    calls: Built, text: str, quoted: str
) -> None:
    with pytest.raises(ObjectiveError) as error:
        _read(calls, text)
    assert quoted in str(error.value)


def test_an_event_of_the_population_is_no_time_restriction(calls: Built) -> None:
    objective = _read(
        calls,
        "Supervisors want to reach the callers before they hang up: predict which calls are"
        " escalated, recall 0.6",
    )
    assert objective.target_column == "escalated" and objective.cohort_sql is None


def test_clauses_that_pin_one_column_to_two_values_are_refused(calls: Built) -> None:
    with pytest.raises(ObjectiveError) as error:
        _read(calls, "For Billing calls and Technical calls, predict escalation, recall 0.6")
    message = str(error.value)
    assert "Billing" in message and "Technical" in message and "'or'" in message
    either = _read(calls, "For Billing or Technical calls, predict escalation, recall 0.6")
    assert either.cohort_sql is not None
    assert _rows(calls, "support_calls", either.cohort_sql) == 1000


@pytest.fixture(scope="module")
def plantor(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(
        tmp_path_factory.mktemp("plantor"),
        "plantor",
        [
            """
            CREATE TABLE plantor AS
            SELECT i AS plant_id,
                   CASE WHEN i % 2 = 0 THEN 'ja' ELSE 'nej' END AS klippt,
                   (i * 7) % 50 AS hojd_cm,
                   (i * 13) % 30 AS antal_frukter
            FROM range(400) t(i)
            """
        ],
    )


def test_a_table_named_in_another_language_names_the_population(plantor: Built) -> None:
    with pytest.raises(ObjectiveError) as error:
        _read(plantor, "fruit count (antal frukter) for the unclipped plants, r2 at least 0.3")
    assert "unclipped" in str(error.value)
    plain = _read(plantor, "fruit count (antal frukter) for the plants, r2 at least 0.3")
    assert plain.target_column == "antal_frukter" and plain.cohort_sql is None
