"""Goals written the way different users write them, read against real profiled warehouses.

Every warehouse here is a real DuckDB file with its own naming (CamelCase, snake_case with a
parent table, ``dim_``/``fct_`` prefixes, a label table keyed ``member_ref``, catalog
comments), profiled once per module by the real profiler. Each phrasing is checked for what
the kernel read (task, target, classes or positive class, metric, threshold) and, for its
cohort, for the rows the predicate selects when DuckDB runs it against the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dagster_agentic.errors import GoalError, GuardrailError, ObjectiveError
from dagster_agentic.goals.objective import Objective
from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.guardrails.sql_policy import check_select
from dagster_agentic.kernel.policy.cohort import cohort_columns, cohort_tables
from dagster_agentic.kernel.policy.objective import interpret_objective
from dagster_agentic.kernel.policy.sql import check_cohort_sql
from dagster_agentic.warehouse.connection import Warehouse, qualified_name
from dagster_agentic.warehouse.models import WarehouseProfile
from dagster_agentic.warehouse.profile import profile_warehouse

from . import goal_reading_warehouses as built

NAMES = (
    "telco",
    "hr",
    "club",
    "logistics",
    "deliveries",
    "houses",
    "two_prices",
    "lapse_windows",
    "shop",
)


@dataclass(frozen=True)
class Shelf:
    paths: dict[str, Path]
    profiles: dict[str, WarehouseProfile]


@pytest.fixture(scope="module")
def shelf(tmp_path_factory: pytest.TempPathFactory) -> Shelf:
    root = tmp_path_factory.mktemp("goal_reading")
    paths = {name: built.build(root / f"{name}.duckdb", getattr(built, name)) for name in NAMES}
    profiles = {name: profile_warehouse(Warehouse(path)) for name, path in paths.items()}
    return Shelf(paths, profiles)


def read(shelf: Shelf, name: str, text: str, **overrides: object) -> Objective:
    return interpret_objective(text, shelf.profiles[name], GoalOverrides(**overrides))


def selected(shelf: Shelf, name: str, objective: Objective, expected: str) -> int:
    """Rows the objective's cohort selects; they must be exactly those of ``expected``."""
    assert objective.cohort_sql is not None
    table = qualified_name("main", objective.entity_table)
    with duckdb.connect(str(shelf.paths[name]), read_only=True) as conn:
        total = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        ours = conn.execute(f"SELECT count(*) FROM {table} WHERE {objective.cohort_sql}").fetchone()
        mismatched = conn.execute(
            f"SELECT count(*) FROM {table} WHERE ({objective.cohort_sql}) IS DISTINCT FROM"
            f" ({expected})"
        ).fetchone()
    assert total and ours and mismatched is not None
    assert 0 < ours[0] < total[0], objective.cohort_sql
    assert mismatched[0] == 0, (objective.cohort_sql, expected)
    return int(ours[0])


def guarded(shelf: Shelf, name: str, objective: Objective) -> None:
    """The kernel's cohort passes the same check a hand-written one does."""
    profile = shelf.profiles[name]
    entity = profile.table(objective.entity_table)
    assert entity is not None and objective.cohort_sql is not None
    assert check_cohort_sql(objective.cohort_sql, entity, profile) == objective.cohort_sql
    for column in cohort_columns(objective.cohort_sql):
        assert entity.column(column.column) is not None, column


# --- the task, the target, the metric ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "task", "target", "metric", "threshold"),
    [
        ("telco", "Predict churn with 80% recall", "binary_classification", "Churn", "recall", 0.8),
        (
            "telco",
            "Which customers will churn? AUC >= 0.85",
            "binary_classification",
            "Churn",
            "roc_auc",
            0.85,
        ),
        (
            "telco",
            "Estimate each customer's monthly charges with an RMSE under $5",
            "regression",
            "MonthlyCharges",
            "rmse",
            5.0,
        ),
        (
            "telco",
            "Classify which contract each customer picks with 70% accuracy",
            "multiclass_classification",
            "Contract",
            "accuracy",
            0.7,
        ),
        (
            "hr",
            "Predict attrition with a recall of at least 0.7",
            "binary_classification",
            "left_company",
            "recall",
            0.7,
        ),
        (
            "hr",
            "Which employees will resign? precision 0.6",
            "binary_classification",
            "left_company",
            "precision",
            0.6,
        ),
        (
            "hr",
            "Predict each employee's salary with MAE below $2,500",
            "regression",
            "salary",
            "mae",
            2500.0,
        ),
        (
            "hr",
            "Classify the job level of each employee with a macro-F1 of at least 0.6",
            "multiclass_classification",
            "job_level",
            "macro_f1",
            0.6,
        ),
        (
            "hr",
            "how much will each employee earn? mean absolute error under 5k",
            "regression",
            "salary",
            "mae",
            5000.0,
        ),
        (
            "club",
            "Predict which members will lapse with 80% recall",
            "binary_classification",
            "Lapsed",
            "recall",
            0.8,
        ),
        (
            "logistics",
            "Predict which shipments will arrive at least a day late, with 70% precision",
            "binary_classification",
            "late_1d",
            "precision",
            0.7,
        ),
        (
            "logistics",
            "Classify each shipment's service level with 80% accuracy",
            "multiclass_classification",
            "service_level",
            "accuracy",
            0.8,
        ),
        (
            "logistics",
            "predict the declared value of a shipment, r-squared >= 0.8",
            "regression",
            "declared_value",
            "r2",
            0.8,
        ),
        (
            "deliveries",
            "Which deliveries will be late? 80% recall",
            "binary_classification",
            "arrival_status",
            "recall",
            0.8,
        ),
        ("houses", "Predict the sale price of each house", "regression", "SalePrice", "r2", 0.5),
        (
            "houses",
            "Predict SalePrice with an RMSE below 25,000",
            "regression",
            "SalePrice",
            "rmse",
            25000.0,
        ),
        ("houses", "house prices, R² of at least 0.8", "regression", "SalePrice", "r2", 0.8),
        ("houses", "sale price with MAE below 1.5m", "regression", "SalePrice", "mae", 1.5e6),
        (
            "houses",
            "What building type is each house? 90% accuracy",
            "multiclass_classification",
            "BldgType",
            "accuracy",
            0.9,
        ),
        (
            "houses",
            "Classify each house's overall quality",
            "multiclass_classification",
            "OverallQual",
            "macro_f1",
            0.5,
        ),
        (
            "shop",
            "Classify each order's shipping tier with 80% accuracy",
            "multiclass_classification",
            "shipping_tier",
            "accuracy",
            0.8,
        ),
        (
            "shop",
            "Predict the basket total of each order, RMSE under $40",
            "regression",
            "basket_total",
            "rmse",
            40.0,
        ),
        (
            "houses",
            "Estimate house sale prices (RMSE < 30000)",
            "regression",
            "SalePrice",
            "rmse",
            30000.0,
        ),
        (
            "houses",
            "What will each house sell for? RMSE below 20k",
            "regression",
            "SalePrice",
            "rmse",
            20000.0,
        ),
        (
            "telco",
            "Build a model that predicts whether a customer churns, target 85% recall",
            "binary_classification",
            "Churn",
            "recall",
            0.85,
        ),
    ],
)
def test_task_target_and_metric(
    shelf: Shelf, name: str, text: str, task: str, target: str, metric: str, threshold: float
) -> None:
    objective = read(shelf, name, text)
    assert (objective.task, objective.target_column) == (task, target)
    assert (objective.metric, objective.threshold) == (metric, threshold)
    assert objective.rationale[0].startswith(f"task {task}: the target ")
    if task == "multiclass_classification":
        assert len(objective.classes) >= 3 and objective.positive_value == 1
    else:
        assert objective.classes == ()


def test_positive_class_and_classes(shelf: Shelf) -> None:
    churn = read(shelf, "telco", "Predict churn with 80% recall")
    assert churn.positive_value == "Yes"
    late = read(shelf, "deliveries", "Which deliveries will be late? 80% recall")
    assert late.positive_value == "late"
    shipped = read(shelf, "logistics", "late shipments, 0.7 recall")
    assert (shipped.target_column, shipped.positive_value) == ("late_1d", 1)
    level = read(shelf, "hr", "Classify the job level of each employee with 70% accuracy")
    assert level.classes == ("Junior", "Mid", "Principal", "Senior")  # ascending, stable
    quality = read(shelf, "houses", "Classify each house's overall quality")
    assert quality.classes == tuple(range(1, 11))  # numbers by size
    assert any("macro_f1' by default" in line for line in quality.rationale)


def test_cohort_words_never_compete_with_the_outcome(shelf: Shelf) -> None:
    # 'members' names the population; member_type is no candidate for 'lapse'.
    objective = read(shelf, "club", "Predict which members will lapse with 80% recall")
    assert objective.target_column == "Lapsed" and objective.entity_table == "Members"
    trial = read(
        shelf, "club", "Predict which members will lapse with 80% recall for trial members"
    )
    assert (trial.target_column, trial.cohort_sql) == ("Lapsed", "plan = 'Trial'")
    # Two lapse windows: the error quotes the outcome word and lists both.
    with pytest.raises(ObjectiveError) as info:
        read(shelf, "lapse_windows", "Predict which members will lapse with 80% recall")
    message = str(info.value)
    assert "'lapse'" in message and "'members'" not in message
    assert "member_outcomes.lapsed_30d, member_outcomes.lapsed_90d" in message
    assert "target='member_outcomes.lapsed_30d'" in message


def test_rationale_has_a_line_per_field(shelf: Shelf) -> None:
    objective = read(shelf, "hr", "Predict attrition in the Support department with 70% recall")
    starts = ["task ", "metric ", "threshold ", "target ", "positive class ", "entity "]
    for prefix in starts:
        assert any(line.startswith(prefix) for line in objective.rationale), prefix
    assert "comment matches 'attrition'" in next(
        line for line in objective.rationale if line.startswith("target ")
    )
    cohort = objective.rationale[-1]
    assert cohort.startswith("cohort from the words 'Support department'")
    assert "foreign key dept_id -> departments.id" in cohort


# --- cohorts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "sql", "expected"),
    [
        # categories: multi-word, hyphenated, any case, named by their column
        (
            "telco",
            "Predict churn for monthly-contract customers with 80% recall",
            "\"Contract\" = 'Month-to-month'",
            "Contract = 'Month-to-month'",
        ),
        (
            "telco",
            "Which customers will churn? Aim for an AUC of 0.85 among fiber optic customers",
            "\"InternetService\" = 'Fiber optic'",
            "InternetService = 'Fiber optic'",
        ),
        (
            "telco",
            "churn precision 0.7 for customers on a two-year contract",
            "\"Contract\" = 'Two year'",
            "Contract = 'Two year'",
        ),
        (
            "telco",
            "churn, 0.8 recall, for customers paying by electronic check",
            None,
            "PaymentMethod = 'Electronic check'",
        ),
        ("club", "lapse with 0.8 recall for trial members", "plan = 'Trial'", "plan = 'Trial'"),
        (
            "club",
            "lapse with 0.8 recall for PREMIUM members",
            "plan = 'Premium'",
            "plan = 'Premium'",
        ),
        (
            "logistics",
            "late shipments with 70% recall for express shipments",
            "service_level = 'express'",
            "service_level = 'express'",
        ),
        (
            "houses",
            "sale price with r-squared >= 0.8 in the OldTown neighborhood",
            "\"Neighborhood\" = 'OldTown'",
            "Neighborhood = 'OldTown'",
        ),
        # flags
        (
            "telco",
            "churn with 90% precision for senior citizens",
            '"SeniorCitizen" = 1',
            "SeniorCitizen = 1",
        ),
        (
            "hr",
            "Predict each employee's salary with MAE below $2,500 for remote employees",
            "is_remote = TRUE",
            "is_remote",
        ),
        # one hop: the parent table's column through the foreign key
        (
            "hr",
            "Predict attrition in the Support department with 70% recall",
            'dept_id IN (SELECT id FROM "main"."departments" WHERE name = \'Support\')',
            "dept_id = 1",
        ),
        (
            "hr",
            "attrition, 0.7 recall, for employees in Research & Development",
            None,
            "dept_id = 4",
        ),
        (
            "logistics",
            "late shipments, 0.7 recall, for carriers based in Europe",
            None,
            "carrier_code = 'DHL'",
        ),
        # numeric ranges
        ("telco", "churn, 0.8 recall, customers older than 60", '"Age" > 60', "Age > 60"),
        (
            "hr",
            "Which employees will resign? 0.75 recall for employees aged between 25 and 40",
            "age BETWEEN 25 AND 40",
            "age >= 25 AND age <= 40",
        ),
        (
            "hr",
            "attrition with 70% recall for staff earning above $80k",
            "salary > 80000",
            "salary > 80000",
        ),
        (
            "logistics",
            "late shipments, 0.7 recall, for shipments above $20k",
            "declared_value > 20000",
            "declared_value > 20000",
        ),
        (
            "houses",
            "sale price, MAE below 15k, houses with a lot area between 5000 and 10000",
            '"LotArea" BETWEEN 5000 AND 10000',
            "LotArea >= 5000 AND LotArea <= 10000",
        ),
        ("club", "lapse, 0.8 recall, members younger than 30", '"Age" < 30', "Age < 30"),
        # negation
        (
            "hr",
            "attrition for non-smokers with 0.7 recall",
            "NOT (smoker = 'yes')",
            "smoker = 'no'",
        ),
        (
            "telco",
            "churn with 0.7 recall for customers not on a month-to-month contract",
            "NOT (\"Contract\" = 'Month-to-month')",
            "Contract <> 'Month-to-month'",
        ),
        (
            "telco",
            "churn 80% recall excluding fiber optic customers",
            "NOT (\"InternetService\" = 'Fiber optic')",
            "InternetService <> 'Fiber optic'",
        ),
        (
            "club",
            "lapse, 0.8 recall, excluding trial members",
            "NOT (plan = 'Trial')",
            "plan <> 'Trial'",
        ),
        # time
        (
            "telco",
            "Predict churn among customers who signed up in 2024 with 75% recall",
            None,
            "year(SignupDate) = 2024",
        ),
        (
            "hr",
            "attrition with 70% recall for employees hired after March 2021",
            None,
            "hired_on >= DATE '2021-04-01'",
        ),
        (
            "club",
            "lapse with 0.8 recall for members who joined before 2023",
            None,
            "JoinDate < DATE '2023-01-01'",
        ),
        (
            "houses",
            "house prices, R² of at least 0.8, for houses built after 2000",
            '"YearBuilt" > 2000',
            "YearBuilt > 2000",
        ),
        # several conditions joined by 'and'
        (
            "hr",
            "attrition, 70% recall, for remote employees in the Sales department",
            None,
            "is_remote AND dept_id = 2",
        ),
        (
            "telco",
            "churn with 0.8 recall for fiber optic customers older than 65",
            None,
            "InternetService = 'Fiber optic' AND Age > 65",
        ),
        (
            "shop",
            "What shipping tier will each order get? macro-F1 >= 0.6 for wholesale customers",
            'cust_code IN (SELECT cust_code FROM "main"."tbl_customers" WHERE '
            "channel = 'Wholesale')",
            "CAST(substr(cust_code, 2) AS INT) % 3 = 1",
        ),
        (
            "shop",
            "Predict each order's shipping tier for online-only customers with 75% accuracy",
            None,
            "CAST(substr(cust_code, 2) AS INT) % 3 = 2",
        ),
        (
            "shop",
            "Predict the basket total of each order, RMSE under $40, for orders placed in 2024",
            None,
            "year(placed_on) = 2024",
        ),
        (
            "telco",
            "Predict churn for customers with a month-to-month contract at 80% recall",
            None,
            "Contract = 'Month-to-month'",
        ),
        (
            "telco",
            "churn for customers on fiber, 0.8 recall",
            None,
            "InternetService = 'Fiber optic'",
        ),
        ("telco", "churn for female customers, precision >= 0.6", None, "gender = 'Female'"),
        ("telco", "80% recall on churn among customers aged 65+", None, "Age >= 65"),
        ("telco", "churn, 0.8 recall, customers over 65", None, "Age > 65"),
        ("telco", "churn, 0.8 recall, customers 65 and older", None, "Age >= 65"),
        (
            "houses",
            "Predict SalePrice; success = R2 >= 0.75 on houses in NAmes",
            None,
            "Neighborhood = 'NAmes'",
        ),
        (
            "houses",
            "What will each house sell for? RMSE below 20k for duplex houses built before 1950",
            None,
            "BldgType = 'Duplex' AND YearBuilt < 1950",
        ),
    ],
)
def test_cohorts(shelf: Shelf, name: str, text: str, sql: str | None, expected: str) -> None:
    objective = read(shelf, name, text)
    if sql is not None:
        assert objective.cohort_sql == sql
    selected(shelf, name, objective, expected)
    guarded(shelf, name, objective)
    assert objective.rationale[-1].startswith("cohort from the words")


# --- errors -----------------------------------------------------------------------------------


def _error(shelf: Shelf, name: str, text: str, kind: type[Exception] = ObjectiveError) -> str:
    with pytest.raises(kind) as info:
        read(shelf, name, text)
    message = str(info.value)
    assert "fix:" in message
    return message


@pytest.mark.parametrize(
    ("name", "text", "needles"),
    [
        ("telco", "churn 80% recall for platinum customers", ["'platinum customers'"]),
        (
            "hr",
            "attrition with 70% recall in the Legal department",
            ["'Legal department'", "'Engineering', 'Research & Development', 'Sales', 'Support'"],
        ),
        (
            "logistics",
            "late shipments with 70% recall for same-day shipments",
            ["'same-day shipments'"],
        ),
        (
            "hr",
            "attrition with 70% recall for employees taller than 180",
            ["'employees taller than 180'", "numeric columns", "employees.age", "employees.salary"],
        ),
        (
            "telco",
            "Predict churn in 2024 with 80% recall",
            ["condition 'in 2024'", "date columns: Customers.SignupDate"],
        ),
        (
            "telco",
            "churn with 90% recall for customers with the highest spend",
            ["'customers with the highest spend'"],
        ),
    ],
)
def test_unresolvable_cohorts_are_errors(
    shelf: Shelf, name: str, text: str, needles: list[str]
) -> None:
    message = _error(shelf, name, text)
    for needle in needles:
        assert needle in message, message
    # The suggested override never filters on the label.
    target = {"telco": "Churn", "hr": "left_company", "logistics": "late_1d"}[name]
    fix = message.split("fix:", 1)[1]
    assert target not in fix


def test_ambiguous_targets_list_the_candidates(shelf: Shelf) -> None:
    message = _error(shelf, "two_prices", "Predict the price of each house with an RMSE below 20k")
    assert "'price'" in message and "houses.ListPrice, houses.SalePrice" in message
    assert "target='houses.ListPrice'" in message
    objective = read(
        shelf,
        "two_prices",
        "Predict the price of each house with an RMSE below 20k",
        target="SalePrice",
    )
    assert (objective.target_column, objective.threshold) == ("SalePrice", 20000.0)


def test_no_matching_target_lists_columns_of_the_task(shelf: Shelf) -> None:
    message = _error(shelf, "houses", "Predict the rent of each house with an RMSE below 900")
    assert "no numeric column matches the objective's words 'rent'" in message
    assert "houses.SalePrice" in message and "houses.LotArea" in message


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("Forecast next month's sales", "time-series forecasting"),
        ("Recommend houses to each buyer", "ranking / recommendation"),
        ("Cluster houses into segments", "clustering / segmentation"),
        ("segment our houses into groups of similar buyers", "clustering / segmentation"),
        ("Tag each house with all the categories that apply", "multi-label"),
        ("Predict time to sale for each house", "survival / time-to-event"),
        ("Detect anomalies in sale prices", "anomaly detection"),
    ],
)
def test_out_of_scope_tasks_are_named(shelf: Shelf, text: str, task: str) -> None:
    message = _error(shelf, "houses", text)
    assert task in message
    assert "supported tasks: binary classification, multiclass classification and regression" in (
        message
    )


def test_a_metric_must_fit_the_task(shelf: Shelf) -> None:
    message = _error(shelf, "houses", "Predict SalePrice with 90% precision", GoalError)
    assert "houses.SalePrice" in message and "asks for a binary target" in message
    message = _error(shelf, "houses", "Predict the sale price of each house with 90% accuracy")
    assert "metrics that fit: mae, r2, rmse" in message
    message = _error(shelf, "telco", "Predict churn with an RMSE below 0.3", GoalError)
    assert "Customers.Churn" in message and "asks for a numeric target" in message
    with pytest.raises(ObjectiveError, match="metrics that fit: accuracy, f1, precision"):
        read(shelf, "telco", "Predict churn with an RMSE below 0.3", target="Churn")
    # A binary goal that names no metric is asked for one: which errors matter is the user's.
    assert "which metric" in _error(shelf, "telco", "Predict churn")


# --- overrides ---------------------------------------------------------------------------------


def test_overrides_for_task_and_unbounded_thresholds(shelf: Shelf) -> None:
    objective = read(shelf, "houses", "Predict the sale price", metric="rmse", threshold=30000)
    assert (objective.metric, objective.threshold) == ("rmse", 30000.0)
    quality = read(shelf, "houses", "Predict OverallQual with an MAE below 1", task="regression")
    assert quality.task == "regression" and quality.classes == ()
    for bad in ({"metric": "r2", "threshold": 3}, {"threshold": 25000}):
        with pytest.raises(ValueError, match="only rmse and mae take thresholds"):
            GoalOverrides(**bad)


def test_cohort_override_may_use_a_one_hop_subquery(shelf: Shelf) -> None:
    sql = "dept_id IN (SELECT id FROM main.departments WHERE floor >= 4)"
    objective = read(shelf, "hr", "attrition with 70% recall", cohort=sql)
    assert objective.cohort_sql == sql
    selected(shelf, "hr", objective, "dept_id IN (3, 4)")
    for bad in (
        "dept_id IN (SELECT id FROM departments LIMIT 1)",
        "dept_id IN (SELECT id FROM read_csv('x.csv'))",
        "dept_id IN (SELECT d.id FROM departments d JOIN employees e ON true)",
        "EXISTS (SELECT 1 FROM departments)",
    ):
        with pytest.raises(GoalError, match="subquery"):
            read(shelf, "hr", "attrition with 70% recall", cohort=bad)


def test_one_hop_cohorts_name_the_tables_they_read(shelf: Shelf) -> None:
    """The guarded connection allows a statement only the tables it names: a statement that
    embeds a one-hop cohort must allow the parent table too (``cohort_tables``)."""
    objective = read(shelf, "hr", "Predict attrition in the Support department with 70% recall")
    assert cohort_tables(objective.cohort_sql) == {"main.departments"}
    assert cohort_tables("age > 30") == frozenset() and cohort_tables(None) == frozenset()
    sql = (
        "SELECT avg(CASE WHEN COALESCE((" + str(objective.cohort_sql) + "), FALSE) THEN 1.0"
        ' ELSE 0.0 END) FROM "main"."employees"'
    )
    with pytest.raises(GuardrailError, match=r"main\.departments"):
        check_select(sql, allowed_tables={"main.employees"}, label="the cohort's share")
    check_select(
        sql,
        allowed_tables={"main.employees", *cohort_tables(objective.cohort_sql)},
        label="the cohort's share",
    )
    with duckdb.connect(str(shelf.paths["hr"]), read_only=True) as conn:
        share = conn.execute(sql).fetchone()
    assert share is not None and share[0] == pytest.approx(0.25)
    assert objective.cohort_description == "Support (departments.name = 'Support')"


# --- mechanisms that keep a cohort from being dropped, on warehouses of other naming --------


def _clinic(conn: duckdb.DuckDBPyConnection) -> None:
    """CamelCase patients, a small ward dimension with unique names, a one-to-one child
    (``insurance.patient_ref`` unique) and single-letter sex codes."""
    conn.execute(
        """
        CREATE TABLE wards AS SELECT * FROM (VALUES
            ('W1', 'Cardiology Unit East'), ('W2', 'Oncology'), ('W3', 'General Surgery'),
            ('W4', 'Maternity')) v(WardCode, WardName)
        """
    )
    conn.execute(
        """
        CREATE TABLE Patients AS
        SELECT
            'P' || lpad(CAST(i AS VARCHAR), 4, '0') AS PatientRef,
            CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END AS Sex,
            'W' || CAST(1 + i % 4 AS VARCHAR) AS WardCode,
            20 + (i * 7) % 60 AS Age,
            CASE WHEN (i * 7) % 10 < 3 THEN 'Yes' ELSE 'No' END AS Readmitted
        FROM range(400) t(i)
        """
    )
    conn.execute(
        """
        CREATE TABLE insurance AS
        SELECT 9000 + i AS policy_no, 'P' || lpad(CAST(i AS VARCHAR), 4, '0') AS patient_ref,
            CASE i % 3 WHEN 0 THEN 'Pay-as-you-go' WHEN 1 THEN 'Gold' ELSE 'Silver' END
                AS plan_type
        FROM range(400) t(i)
        """
    )


def _journeys(conn: duckdb.DuckDBPyConnection) -> None:
    """Events with abbreviated names (dep_/arr_), a band and its finer detail, a percentage
    column and a fraction column."""
    conn.execute(
        """
        CREATE TABLE journeys AS
        SELECT
            'J' || CAST(i AS VARCHAR) AS journey_code,
            DATE '2022-01-01' + CAST((i * 5) % 730 AS INTEGER) AS departed_on,
            ((i * 13) % 90) - 10 AS dep_delay_min,
            ((i * 17) % 120) - 20 AS arr_delay_min,
            chr(CAST(65 + i % 4 AS INTEGER)) AS risk_band,
            chr(CAST(65 + i % 4 AS INTEGER)) || CAST(1 + i % 3 AS VARCHAR)
                AS risk_band_detail,
            (i * 7) % 100 AS load_pct,
            ((i * 11) % 100) / 100.0 AS occupancy
        FROM range(500) t(i)
        """
    )


def _gym(conn: duckdb.DuckDBPyConnection) -> None:
    """Members whose outcomes are named otherwise than users say them (attrited, upgraded)."""
    conn.execute(
        """
        CREATE TABLE members AS
        SELECT
            'M' || CAST(i AS VARCHAR) AS member_code,
            CASE WHEN i % 2 = 0 THEN 'Basic' ELSE 'Premium' END AS plan,
            i % 5 = 0 AS is_student,
            CASE WHEN (i * 7) % 10 < 2 THEN 'yes' ELSE 'no' END AS attrited,
            CASE WHEN (i * 3) % 10 < 3 THEN 'yes' ELSE 'no' END AS upgraded,
            1 + i % 2 AS gender_code
        FROM range(300) t(i)
        """
    )
    conn.execute("COMMENT ON COLUMN members.gender_code IS 'gender: 1 = male, 2 = female'")


def _footfall(conn: duckdb.DuckDBPyConnection) -> None:
    """A table of days keyed by its date only."""
    conn.execute(
        """
        CREATE TABLE DailyFootfall AS
        SELECT DATE '2022-01-01' + CAST(i AS INTEGER) AS day,
            CASE i % 3 WHEN 0 THEN 'low' WHEN 1 THEN 'mid' ELSE 'high' END AS footfall_band,
            (i * 7) % 30 AS temp_c
        FROM range(730) t(i)
        """
    )


def _athletes(conn: duckdb.DuckDBPyConnection) -> None:
    """Two one-to-one tables (athletes and their fitness) and a label table."""
    conn.execute(
        """
        CREATE TABLE Athletes AS
        SELECT 500 + i AS AthleteNo,
            CASE i % 3 WHEN 0 THEN 'Rowing' WHEN 1 THEN 'Cycling' ELSE 'Track' END AS Sport,
            18 + i % 20 AS Age, (i * 7) % 40 AS Seasons, 150 + i % 40 AS HeightCm
        FROM range(300) t(i)
        """
    )
    conn.execute(
        """
        CREATE TABLE AthleteFitness AS
        SELECT 500 + i AS AthleteNo, 40 + (i * 13) % 35 AS RestingHr, 30 + (i * 7) % 40 AS Vo2
        FROM range(300) t(i)
        """
    )
    conn.execute(
        """
        CREATE TABLE InjuryRecords AS
        SELECT 500 + i AS AthleteNo, CASE WHEN (i * 7) % 10 < 3 THEN 'Yes' ELSE 'No' END
            AS Injured
        FROM range(300) t(i)
        """
    )


MORE = {
    "clinic": _clinic,
    "journeys": _journeys,
    "gym": _gym,
    "footfall": _footfall,
    "athletes": _athletes,
}


@pytest.fixture(scope="module")
def more(tmp_path_factory: pytest.TempPathFactory) -> Shelf:
    root = tmp_path_factory.mktemp("goal_reading_more")
    paths = {name: built.build(root / f"{name}.duckdb", b) for name, b in MORE.items()}
    profiles = {name: profile_warehouse(Warehouse(path)) for name, path in paths.items()}
    return Shelf(paths, profiles)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        # a value of a dimension one hop away, introduced by 'leaving out ... from'
        (
            "clinic",
            "Which patients will be readmitted? 0.8 recall, leaving out the ones from Maternity",
            "WardCode <> 'W4'",
        ),
        # two values joined by 'and', no head noun
        (
            "clinic",
            "readmitted with 80% recall in Oncology and General Surgery",
            "WardCode IN ('W2', 'W3')",
        ),
        # the leading words of a value written together, qualifying the population noun
        (
            "clinic",
            "how likely Cardiology Unit patients are to be readmitted; recall 0.8",
            "WardCode = 'W1'",
        ),
        # a one-to-one child's column, after 'who ... by'
        (
            "clinic",
            "readmitted, 0.8 recall, for the patients who pay by pay-as-you-go",
            "CAST(substr(PatientRef, 2) AS INT) % 3 = 0",
        ),
        (
            "clinic",
            "For gold patients, readmission with 0.8 recall",
            "CAST(substr(PatientRef, 2) AS INT) % 3 = 1",
        ),
        # a negation before the outcome's verb does not negate the cohort
        (
            "clinic",
            "Which patients will not be readmitted in Oncology? 0.8 recall",
            "WardCode = 'W2'",
        ),
        ("gym", "Which members will quit? recall 0.7, only non-students", "NOT is_student"),
        # an initial for a single-letter code
        ("clinic", "readmission for female patients, 0.8 recall", "Sex = 'F'"),
        # codes documented in a comment
        ("gym", "Which members will quit? recall 0.7 for female members", "gender_code = 2"),
        # flags named by a population noun: 'excluding students'
        ("gym", "Which members will quit? recall 0.7, excluding students", "NOT is_student"),
        ("gym", "Predict who will quit among students with 0.7 recall", "is_student"),
        # a percentage next to a numeric column's name, in the column's own scale
        (
            "journeys",
            "arrival delay for journeys with more than 80% load, MAE under 10",
            "load_pct > 80",
        ),
        ("journeys", "arrival delay when occupancy above 50%, MAE under 10", "occupancy > 0.5"),
        # a month with no year
        (
            "journeys",
            "arrival delay of journeys in December, MAE under 10",
            "month(departed_on) = 12",
        ),
        # a day keyed by its date
        ("footfall", "footfall band for days in 2023, macro-F1 of 0.5", "year(day) = 2023"),
        # the cohort's column picks the entity among one-to-one tables
        ("athletes", "Predict injury in Rowing with 70% recall", "Sport = 'Rowing'"),
    ],
)
def test_cohorts_read_from_the_data(more: Shelf, name: str, text: str, expected: str) -> None:
    objective = read(more, name, text)
    selected(more, name, objective, expected)
    guarded(more, name, objective)


def test_a_one_to_one_child_cohort_is_a_key_subquery(more: Shelf) -> None:
    from dagster_agentic.expectations.cohort import cohort_share

    objective = read(more, "clinic", "For gold patients, readmission with 0.8 recall")
    assert objective.cohort_sql == (
        '"PatientRef" IN (SELECT patient_ref FROM "main"."insurance" WHERE plan_type = \'Gold\')'
    )
    assert cohort_tables(objective.cohort_sql) == {"main.insurance"}
    with duckdb.connect(str(more.paths["clinic"]), read_only=True) as conn:
        share = cohort_share(conn, '"main"."Patients"', objective.cohort_sql)
    assert share == pytest.approx(133 / 400)


def test_unread_names_are_errors_not_dropped(more: Shelf) -> None:
    with pytest.raises(ObjectiveError, match="'Narnia'"):
        read(more, "clinic", "readmission with 0.8 recall for patients from Narnia")
    with pytest.raises(ObjectiveError, match="'Narnia'"):
        read(more, "clinic", "readmission with 0.8 recall, leaving out the ones from Narnia")


@pytest.mark.parametrize(
    ("name", "text", "target", "metric"),
    [
        # an exact name beats a partial one
        ("journeys", "Predict each journey's risk band with 60% accuracy", "risk_band", "accuracy"),
        # 'arr' abbreviates 'arrival'; 'in minutes' is the unit, never a target word
        ("journeys", "Predict the arrival delay in minutes, MAE below 10", "arr_delay_min", "mae"),
        ("journeys", "how late will each journey arrive? MAE below 10", "arr_delay_min", "mae"),
        # R² is all metric: no cohort 'journey with an R'
        (
            "journeys",
            "Predict the arrival delay of each journey with an R² of 0.6",
            "arr_delay_min",
            "r2",
        ),
        # outcome synonyms
        ("gym", "Which members will quit? ROC AUC 0.7", "attrited", "roc_auc"),
        ("gym", "Which members will buy an upgrade? ROC AUC 0.7", "upgraded", "roc_auc"),
        # a modifier of the target that names nothing in the data is no cohort
        ("gym", "annual upgrade propensity, recall 0.6", "upgraded", "recall"),
        # one-to-one tables: the population noun names the entity
        ("athletes", "Predict each athlete's resting hr with an MAE below 5", "RestingHr", "mae"),
    ],
)
def test_targets_by_meaning(more: Shelf, name: str, text: str, target: str, metric: str) -> None:
    objective = read(more, name, text)
    assert (objective.target_column, objective.metric) == (target, metric)
    assert objective.cohort_sql is None, objective.cohort_sql


def test_entities_of_dates_and_one_to_one_tables(more: Shelf) -> None:
    days = read(more, "footfall", "Classify each day's footfall band with 70% accuracy")
    assert (days.entity_table, days.entity_key) == ("DailyFootfall", "day")
    for text in (
        "Predict each athlete's resting hr with an MAE below 5",
        "Which athletes will be injured? 70% recall",
    ):
        objective = read(more, "athletes", text)
        assert (objective.entity_table, objective.entity_key) == ("Athletes", "AthleteNo"), text
