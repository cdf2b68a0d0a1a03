"""The offline policy kernel's reading of an objective, against hand-built warehouse profiles."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from dagster_agentic.errors import GoalError, ObjectiveError
from dagster_agentic.goals.objective import Objective
from dagster_agentic.goals.spec import GoalOverrides
from dagster_agentic.kernel.policy.countries import BY_CODE
from dagster_agentic.kernel.policy.geography import REGION_CODES, classify_value, find_places
from dagster_agentic.kernel.policy.objective import interpret_objective
from dagster_agentic.kernel.policy.sql import ident, literal
from dagster_agentic.warehouse.models import (
    ColumnProfile,
    Relationship,
    TableProfile,
    TopValue,
    WarehouseProfile,
)

EXAMPLE = "Optimise the churn prediction model for 95% precision on European cohorts"
COUNTRY_COUNTS = [
    ("US", 300),
    ("DE", 200),
    ("GB", 150),
    ("FR", 120),
    ("BR", 80),
    ("JP", 60),
    ("ES", 40),
    ("NL", 30),
    ("CH", 15),
    ("IN", 5),
]
EUROPEAN_PRESENT = ["CH", "DE", "ES", "FR", "GB", "NL"]


# --- profile builders -------------------------------------------------------------------------


def col(
    name: str,
    data_type: str,
    kind: str,
    distinct: int,
    top: Iterable[tuple[object, int]] = (),
    **extra: object,
) -> ColumnProfile:
    return ColumnProfile(
        name=name,
        data_type=data_type,
        kind=kind,
        null_fraction=0.0,
        distinct_count=distinct,
        top_values=tuple(TopValue(value=v, count=c) for v, c in top),
        **extra,
    )


def key(name: str, distinct: int = 1000) -> ColumnProfile:
    return col(name, "BIGINT", "numeric", distinct, min=1, max=distinct)


def link(child: str, parent: str, column: str = "customer_id") -> Relationship:
    return Relationship(
        child_table=child,
        child_column=column,
        parent_table=parent,
        parent_column=column,
        inclusion=1.0,
        evidence="name_and_values",
    )


def customers_table(
    country: ColumnProfile | None = None, extra: Sequence[ColumnProfile] = ()
) -> TableProfile:
    country = country or col("country", "VARCHAR", "text", len(COUNTRY_COUNTS), COUNTRY_COUNTS)
    return TableProfile(
        name="customers",
        row_count=1000,
        candidate_keys=("customer_id",),
        columns=(
            key("customer_id"),
            country,
            col(
                "plan", "VARCHAR", "text", 3, [("basic", 500), ("standard", 300), ("premium", 200)]
            ),
            col("signup_date", "DATE", "temporal", 700),
            *extra,
        ),
    )


def labels_table(target: ColumnProfile | None = None, name: str = "churn_labels") -> TableProfile:
    target = target or col("churned", "INTEGER", "numeric", 2, [(0, 800), (1, 200)], min=0, max=1)
    return TableProfile(
        name=name,
        row_count=1000,
        candidate_keys=("customer_id",),
        columns=(key("customer_id"), col("cutoff_date", "DATE", "temporal", 1), target),
    )


def events_table() -> TableProfile:
    return TableProfile(
        name="events",
        row_count=50_000,
        candidate_keys=("event_id",),
        columns=(
            key("event_id", 50_000),
            key("customer_id"),
            col("event_type", "VARCHAR", "text", 3, [("login", 30), ("view", 15), ("support", 5)]),
            col("event_time", "TIMESTAMP", "temporal", 40_000),
        ),
    )


def payments_table() -> TableProfile:
    return TableProfile(
        name="payments",
        row_count=8000,
        candidate_keys=("payment_id",),
        columns=(
            key("payment_id", 8000),
            key("customer_id"),
            col("amount", "DOUBLE", "numeric", 500, min=1.0, max=99.0),
            col("paid_at", "TIMESTAMP", "temporal", 8000),
        ),
    )


def warehouse(
    customers: TableProfile | None = None,
    labels: TableProfile | None = None,
    extra: Sequence[TableProfile] = (),
) -> WarehouseProfile:
    labels = labels or labels_table()
    tables = (customers or customers_table(), labels, events_table(), payments_table(), *extra)
    return WarehouseProfile(
        tables=tables,
        relationships=(
            link(labels.name, "customers"),
            link("events", "customers"),
            link("payments", "customers"),
        ),
        fingerprint="test",
    )


def interpret(text: str, profile: WarehouseProfile | None = None, **overrides: object) -> Objective:
    return interpret_objective(text, profile or warehouse(), GoalOverrides(**overrides))


def in_values(sql: str) -> list[str]:
    """The literal values of a ``column IN (...)`` or ``column = v`` predicate."""
    tree = sqlglot.parse_one(sql, dialect="duckdb")
    if isinstance(tree, exp.In):
        return [str(e.this) for e in tree.expressions]
    assert isinstance(tree, exp.EQ)
    return [str(tree.expression.this)]


def selected(sql: str, values: Iterable[str], column: str = "country") -> set[str]:
    """Run the predicate in DuckDB over a one-column customers table."""
    con = duckdb.connect()
    try:
        con.execute(f"CREATE TABLE customers ({ident(column)} VARCHAR, plan VARCHAR)")
        con.executemany("INSERT INTO customers VALUES (?, 'basic')", [[v] for v in values])
        rows = con.execute(f"SELECT {ident(column)} FROM customers WHERE {sql}").fetchall()
    finally:
        con.close()
    return {row[0] for row in rows}


# --- the example objective --------------------------------------------------------------------


def test_example_objective() -> None:
    objective = interpret(EXAMPLE)
    assert objective.task == "binary_classification"
    assert objective.metric == "precision"
    assert objective.threshold == 0.95
    assert (objective.label_table, objective.target_column) == ("churn_labels", "churned")
    assert objective.positive_value == 1
    assert (objective.entity_table, objective.entity_key) == ("customers", "customer_id")
    assert objective.label_key == "customer_id"
    assert objective.cutoff_column == "cutoff_date"
    assert objective.cohort_sql == "country IN ('CH', 'DE', 'ES', 'FR', 'GB', 'NL')"
    assert objective.cohort_description == "European customers (country in 6 European codes)"


def test_example_cohort_is_valid_sql_that_selects_only_european_rows() -> None:
    sql = interpret(EXAMPLE).cohort_sql
    assert sql is not None
    tree = sqlglot.parse_one(sql, dialect="duckdb")
    assert isinstance(tree, exp.In)
    assert tree.this.name == "country"
    assert in_values(sql) == EUROPEAN_PRESENT
    assert "US" not in in_values(sql)
    assert selected(sql, [c for c, _ in COUNTRY_COUNTS]) == set(EUROPEAN_PRESENT)


def test_example_rationale_explains_each_decision() -> None:
    rationale = interpret(EXAMPLE).rationale
    expected = [
        "task binary_classification: the target churn_labels.churned has two values; the metric"
        " precision",
        "metric 'precision' from the words '95% precision'",
        "threshold 0.95 from '95%' (a percentage)",
        "target churn_labels.churned: binary column in a label table whose name matches 'churn'",
        "positive class 1: integer 0/1 column",
        "entity customers.customer_id",
        "cutoff churn_labels.cutoff_date: DATE column named for the prediction time",
    ]
    assert len(rationale) >= len(expected)
    for line, start in zip(rationale, expected, strict=False):
        assert line.startswith(start), (line, start)
    assert rationale[-1].startswith("cohort from the words 'European cohorts': customers.country")
    assert len(rationale) == len(expected) + 1


# --- other phrasings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "metric", "threshold", "cohort"),
    [
        ("recall of at least 0.8 for German customers", "recall", 0.8, "country = 'DE'"),
        ("maximise F1 >= 0.7 on the premium plan", "f1", 0.7, "plan = 'premium'"),
        ("0.9 ROC AUC", "roc_auc", 0.9, None),
        ("Predict churn in the US with 95 percent accuracy", "accuracy", 0.95, "country = 'US'"),
        ("churn model with an AUC of at least .85", "roc_auc", 0.85, None),
        ("minimise false positives: churn precision of 0.9", "precision", 0.9, None),
        (
            "churn f-score of 0.75 for EU customers",
            "f1",
            0.75,
            "country IN ('DE', 'ES', 'FR', 'NL')",
        ),
        ("churn, 90% recall, customers based in Germany", "recall", 0.9, "country = 'DE'"),
        ("90% precision for UK customers", "precision", 0.9, "country = 'GB'"),
        ("churn with 85% recall for enterprise plan customers", None, None, None),
        (
            "churn: 90% recall for basic and standard plan customers",
            "recall",
            0.9,
            "plan IN ('basic', 'standard')",
        ),
        (
            "churn with 90% recall for premium customers in Germany",
            "recall",
            0.9,
            "plan = 'premium' AND country = 'DE'",
        ),
    ],
)
def test_other_phrasings(
    text: str, metric: str | None, threshold: float | None, cohort: str | None
) -> None:
    if metric is None:  # 'enterprise' is no plan of this warehouse
        with pytest.raises(ObjectiveError, match="enterprise"):
            interpret(text)
        return
    objective = interpret(text)
    assert (objective.metric, objective.threshold, objective.cohort_sql) == (
        metric,
        threshold,
        cohort,
    )
    assert objective.target_column == "churned"


@pytest.mark.parametrize(
    "text",
    [
        "churn model with ROC-AUC >= 0.8 excluding European customers",
        "churn 0.8 recall for non-European customers",
        "churn 0.8 recall for customers outside Europe",
    ],
)
def test_negated_cohorts(text: str) -> None:
    sql = interpret(text).cohort_sql
    assert sql == "NOT (country IN ('CH', 'DE', 'ES', 'FR', 'GB', 'NL'))"
    assert selected(sql, [c for c, _ in COUNTRY_COUNTS]) == {"US", "BR", "JP", "IN"}


def test_place_without_population_noun() -> None:
    objective = interpret("Predict churn across Europe, precision of 0.9")
    assert objective.cohort_sql == "country IN ('CH', 'DE', 'ES', 'FR', 'GB', 'NL')"
    # A lower-case 'in' is a preposition, never India.
    assert interpret("churn in production with 90% precision").cohort_sql is None


def test_enterprise_plan_customers_resolve_when_the_plan_exists() -> None:
    plans = col("plan_name", "VARCHAR", "text", 2, [("Team", 70), ("Enterprise", 30)])
    profile = warehouse(customers_table(extra=[plans]))
    objective = interpret("churn with 85% recall for enterprise plan customers", profile)
    assert objective.cohort_sql == "plan_name = 'Enterprise'"
    assert "'Enterprise' is a value of customers.plan_name" in objective.rationale[-1]


def test_no_cohort_phrase_means_all_rows() -> None:
    objective = interpret("Predict churn with 90% recall")
    assert objective.cohort_sql is None
    assert objective.cohort_description == "all rows"
    assert (
        objective.rationale[-1] == "cohort: all rows of customers (the objective names no cohort)"
    )


# --- geography --------------------------------------------------------------------------------


def test_country_names_instead_of_codes() -> None:
    names = [("United States", 300), ("Germany", 200), ("United Kingdom", 150), ("France", 120)]
    names += [("Brazil", 80), ("Japan", 60)]
    country = col("country", "VARCHAR", "text", len(names), names)
    sql = interpret(EXAMPLE, warehouse(customers_table(country))).cohort_sql
    assert sql == "country IN ('France', 'Germany', 'United Kingdom')"
    assert selected(sql, [n for n, _ in names]) == {"France", "Germany", "United Kingdom"}


def test_lower_case_codes_keep_their_case() -> None:
    codes = [(c.lower(), n) for c, n in COUNTRY_COUNTS]
    country = col("country_code", "VARCHAR", "text", len(codes), codes)
    objective = interpret(EXAMPLE, warehouse(customers_table(country)))
    assert objective.cohort_sql == "country_code IN ('ch', 'de', 'es', 'fr', 'gb', 'nl')"


def test_uncovered_column_lists_the_whole_region() -> None:
    # 60 countries but only 10 top values: the predicate must list every European code.
    country = col("country", "VARCHAR", "text", 60, COUNTRY_COUNTS)
    objective = interpret(EXAMPLE, warehouse(customers_table(country)))
    assert objective.cohort_sql is not None
    values = in_values(objective.cohort_sql)
    assert values == sorted(REGION_CODES["europe"])
    assert {"GB", "NO", "CH", "IS", "UA", "RS", "DE"} <= set(values)
    assert "US" not in values and "TR" not in values
    assert f"country in {len(values)} European codes" in objective.cohort_description


def test_region_column() -> None:
    region = col("region", "VARCHAR", "text", 3, [("Europe", 5), ("North America", 4), ("APAC", 1)])
    objective = interpret(EXAMPLE, warehouse(customers_table(region)))
    assert objective.cohort_sql == "region = 'Europe'"
    assert selected("region = 'Europe'", ["Europe", "APAC"], "region") == {"Europe"}


def test_region_column_with_eu_value() -> None:
    region = col("market", "VARCHAR", "text", 3, [("EU", 5), ("NA", 4), ("APAC", 1)])
    profile = warehouse(customers_table(region))
    assert interpret(EXAMPLE, profile).cohort_sql == "market = 'EU'"
    assert interpret("churn, 0.9 recall, North American users", profile).cohort_sql == (
        "market = 'NA'"
    )


def test_country_column_is_preferred_over_look_alike_columns() -> None:
    language = col("language", "VARCHAR", "text", 4, [("de", 9), ("fr", 5), ("es", 3), ("it", 2)])
    customers = TableProfile(
        name="customers",
        row_count=10,
        candidate_keys=("customer_id",),
        columns=(
            key("customer_id"),
            language,
            col("Country Code", "VARCHAR", "text", 3, [("DE", 5), ("US", 3), ("FR", 2)]),
        ),
    )
    sql = interpret(EXAMPLE, warehouse(customers)).cohort_sql
    assert sql == "\"Country Code\" IN ('DE', 'FR')"
    assert selected(sql, ["DE", "US", "FR"], "Country Code") == {"DE", "FR"}


def test_geography_table() -> None:
    assert len(BY_CODE) == 250  # the 249 ISO codes and XK
    assert len(REGION_CODES["eu"]) == 27
    assert REGION_CODES["eu"] < REGION_CODES["europe"]
    assert {"GB", "NO", "CH", "IS", "UA", "RS"} <= REGION_CODES["europe"]
    assert REGION_CODES["dach"] == {"DE", "AT", "CH"}
    assert {"US", "CA", "MX"} <= REGION_CODES["north_america"]
    assert all(codes <= set(BY_CODE) for codes in REGION_CODES.values())
    for words, code in [("UK", "GB"), ("USA", "US"), ("United States", "US"), ("Germany", "DE")]:
        places = find_places(words.split())
        assert places is not None and places[0].codes == {code}
    assert find_places(["in"]) is None and find_places(["no"]) is None  # not India, Norway
    assert classify_value("Côte d'Ivoire") is not None
    assert classify_value("basic") is None


def test_string_literals_and_identifiers_are_quoted_safely() -> None:
    assert literal("Côte d'Ivoire") == "'Côte d''Ivoire'"
    assert ident("country") == "country"
    assert ident("Country") == '"Country"'
    assert ident("order") == '"order"'
    assert ident('we"ird') == '"we""ird"'
    names = [("Côte d'Ivoire", 5), ("Kenya", 3), ("Germany", 2)]
    country = col("country", "VARCHAR", "text", len(names), names)
    sql = interpret(
        "churn 90% precision for African customers", warehouse(customers_table(country))
    )
    assert sql.cohort_sql == "country IN ('Côte d''Ivoire', 'Kenya')"
    assert selected(sql.cohort_sql, [n for n, _ in names]) == {"Côte d'Ivoire", "Kenya"}


# --- target, positive value, entity, cutoff ---------------------------------------------------


@pytest.mark.parametrize(
    ("word", "column"),
    [
        ("churn", "is_churned"),
        ("churn", "churn_flag"),
        ("fraud", "is_fraud"),
        ("default", "defaulted"),
    ],
)
def test_target_stem_matching(word: str, column: str) -> None:
    target = col(column, "BOOLEAN", "boolean", 2)
    profile = warehouse(labels=labels_table(target, name="outcomes"))
    objective = interpret(f"predict {word} with 90% precision", profile)
    assert (objective.label_table, objective.target_column) == ("outcomes", column)
    assert objective.positive_value is True


def test_label_table_is_preferred_among_equal_matches() -> None:
    flag = col("is_churned", "BOOLEAN", "boolean", 2)
    objective = interpret(EXAMPLE, warehouse(customers_table(extra=[flag])))
    assert (objective.label_table, objective.target_column) == ("churn_labels", "churned")


@pytest.mark.parametrize(
    ("values", "positive"),
    [
        ([("no", 90), ("yes", 10)], "yes"),
        ([("active", 90), ("churned", 10)], "churned"),
        ([("not_churned", 90), ("churned", 10)], "churned"),
        ([("A", 90), ("B", 10)], "B"),
    ],
)
def test_positive_value_of_text_labels(values: list[tuple[str, int]], positive: str) -> None:
    target = col("status", "VARCHAR", "text", 2, values)
    objective = interpret(EXAMPLE, warehouse(labels=labels_table(target)), target="status")
    assert objective.positive_value == positive
    assert any(line.startswith(f"positive class '{positive}'") for line in objective.rationale)


def test_label_table_that_is_the_entity() -> None:
    churned = col("churned", "BOOLEAN", "boolean", 2)
    customers = customers_table(extra=[churned])
    profile = WarehouseProfile(
        tables=(customers, events_table()),
        relationships=(link("events", "customers"),),
        fingerprint="t",
    )
    objective = interpret(EXAMPLE, profile)
    assert (objective.entity_table, objective.label_table) == ("customers", "customers")
    assert objective.entity_key == objective.label_key == "customer_id"
    assert objective.cutoff_column is None
    assert objective.cohort_sql == "country IN ('CH', 'DE', 'ES', 'FR', 'GB', 'NL')"


def test_entity_found_by_shared_key_name_without_a_relationship() -> None:
    profile = WarehouseProfile(
        tables=(customers_table(), labels_table()), relationships=(), fingerprint="t"
    )
    objective = interpret(EXAMPLE, profile)
    assert (objective.entity_table, objective.entity_key) == ("customers", "customer_id")
    assert any("by the shared column name" in line for line in objective.rationale)


def test_cutoff_names() -> None:
    labels = TableProfile(
        name="churn_labels",
        row_count=10,
        candidate_keys=(),
        columns=(
            key("customer_id"),
            col("created_at", "TIMESTAMP", "temporal", 10),
            col("as_of", "TIMESTAMP", "temporal", 3),
            col("churned", "INTEGER", "numeric", 2, [(0, 8), (1, 2)]),
        ),
    )
    assert interpret(EXAMPLE, warehouse(labels=labels)).cutoff_column == "as_of"


# --- overrides --------------------------------------------------------------------------------


def test_overrides_win_for_metric_and_threshold() -> None:
    objective = interpret(EXAMPLE, metric="recall", threshold=0.6)
    assert (objective.metric, objective.threshold) == ("recall", 0.6)
    assert "metric 'recall' from overrides.metric" in objective.rationale
    assert interpret("churn for European customers", metric="f1", threshold=0.5).metric == "f1"


def test_override_metric_takes_the_untied_number() -> None:
    objective = interpret("churn at 80% on European cohorts", metric="recall")
    assert (objective.metric, objective.threshold) == ("recall", 0.8)


def test_override_threshold_completes_a_named_metric() -> None:
    assert interpret("churn precision on European cohorts", threshold=0.9).threshold == 0.9


def test_override_target_wins() -> None:
    flag = col("is_premium", "BOOLEAN", "boolean", 2)
    objective = interpret(
        EXAMPLE, warehouse(customers_table(extra=[flag])), target="customers.is_premium"
    )
    assert (objective.label_table, objective.target_column) == ("customers", "is_premium")
    assert objective.entity_table == "customers" and objective.label_key == "customer_id"


def test_override_entity_table_wins() -> None:
    objective = interpret(EXAMPLE, entity_table="churn_labels", cohort="cutoff_date IS NOT NULL")
    assert (objective.entity_table, objective.entity_key, objective.label_key) == (
        "churn_labels",
        "customer_id",
        "customer_id",
    )


def test_override_cohort_wins() -> None:
    objective = interpret(EXAMPLE, cohort="plan = 'premium' AND country IN ('DE')")
    assert objective.cohort_sql == "plan = 'premium' AND country IN ('DE')"
    assert "overrides.cohort" in objective.rationale[-1]
    # The text's cohort phrase is not resolved at all, even when it could not be.
    assert interpret("churn 0.9 recall on Martian cohorts", cohort="plan = 'basic'").cohort_sql


# --- errors -----------------------------------------------------------------------------------


def _error(
    kind: type[Exception], text: str, profile: WarehouseProfile | None = None, **overrides: object
) -> str:
    with pytest.raises(kind) as info:
        interpret(text, profile, **overrides)
    if kind is GoalError:
        assert not isinstance(info.value, ObjectiveError)
    assert "fix:" in str(info.value)
    return str(info.value)


def test_no_metric() -> None:
    message = _error(ObjectiveError, "Optimise the churn prediction model on European cohorts")
    assert "which metric" in message and "95% precision" in message


def test_metric_without_threshold() -> None:
    message = _error(ObjectiveError, "maximise churn precision on European cohorts")
    assert "no threshold" in message and "95% precision" in message and "threshold=" in message


def test_bare_number_gets_a_unit_hint() -> None:
    assert "write 95%" in _error(ObjectiveError, "churn precision of 95")


def test_percentage_above_100() -> None:
    message = _error(ObjectiveError, "churn model with 120% precision")
    assert "'120%'" in message and "at most 100" in message


def test_number_tied_to_no_metric() -> None:
    message = _error(
        ObjectiveError,
        "churn recall is key; the team works in Berlin; reach 95% on European cohorts",
    )
    assert "'95%'" in message and "tied to no metric" in message


def test_two_metrics_with_thresholds() -> None:
    assert "several metrics" in _error(ObjectiveError, "churn: precision 0.9 and recall 0.8")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A quantity is a regression now; no column is named revenue, but payments.amount
        # is the one numeric column and means it (by meaning), and accuracy fits no quantity.
        (
            "Predict revenue per customer with 90% accuracy",
            "the metric accuracy does not fit a regression goal; metrics that fit: mae, r2, rmse",
        ),
        ("Forecast next quarter's sales", "time-series forecasting"),
        (
            "predict each customer's payment amount with 90% accuracy",
            "accuracy does not fit a regression goal; metrics that fit: mae, r2, rmse",
        ),
    ],
)
def test_regression_wording(text: str, expected: str) -> None:
    assert expected in _error(ObjectiveError, text)


def test_a_quantity_is_read_as_a_regression() -> None:
    objective = interpret("predict how much each customer will spend")
    assert (objective.task, objective.label_table, objective.target_column) == (
        "regression",
        "payments",
        "amount",
    )
    assert (objective.metric, objective.threshold) == ("r2", 0.5)  # the documented default


def test_unknown_target_word() -> None:
    labels = labels_table(col("converted", "INTEGER", "numeric", 2, [(0, 9), (1, 1)]), "signups")
    other = labels_table(col("upgraded", "INTEGER", "numeric", 2, [(0, 9), (1, 1)]), "upgrades")
    profile = warehouse(labels=labels, extra=[other])
    # Two outcome tables of one row per customer, one binary column each: no structural choice.
    linked = (*profile.relationships, link("upgrades", "customers"))
    profile = profile.model_copy(update={"relationships": linked})
    message = _error(ObjectiveError, "predict fraud with 90% precision", profile)
    assert "'fraud'" in message
    assert "signups.converted" in message and "upgrades.upgraded" in message
    assert "target='table.column'" in message


def test_ambiguous_target() -> None:
    a = col("churned_30d", "INTEGER", "numeric", 2, [(0, 9), (1, 1)])
    b = col("churned_90d", "INTEGER", "numeric", 2, [(0, 9), (1, 1)])
    labels = TableProfile(
        name="churn_labels",
        row_count=10,
        candidate_keys=("customer_id",),
        columns=(key("customer_id"), a, b),
    )
    message = _error(ObjectiveError, EXAMPLE, warehouse(labels=labels))
    assert "churn_labels.churned_30d, churn_labels.churned_90d" in message
    assert "target='table.column'" in message


def test_override_target_missing() -> None:
    message = _error(GoalError, EXAMPLE, target="churn_labels.churnd")
    assert "'churn_labels.churnd'" in message and "churn_labels.churned" in message


def test_override_target_not_binary() -> None:
    # Precision asks for a binary target; three plans are a multiclass one.
    message = _error(GoalError, EXAMPLE, target="customers.plan")
    assert "not binary" in message and "3 distinct values" in message
    objective = interpret("plan model with 80% accuracy", target="customers.plan")
    assert objective.task == "multiclass_classification"
    assert objective.classes == ("basic", "premium", "standard")


def test_override_entity_table_missing_or_unreachable() -> None:
    assert "customerz" in _error(GoalError, EXAMPLE, entity_table="customerz")
    message = _error(GoalError, EXAMPLE, entity_table="events")
    assert "not reachable" in message and "customers" in message


def test_unknown_cohort() -> None:
    message = _error(ObjectiveError, "churn model, 90% precision on Martian cohorts")
    assert "'Martian cohorts'" in message and 'cohort="<SQL predicate>"' in message


def test_unknown_plan_lists_the_plans() -> None:
    message = _error(ObjectiveError, "churn 90% precision on the platinum plan")
    assert "'platinum'" in message and "'basic', 'premium', 'standard'" in message


def test_cohort_without_geographic_column() -> None:
    customers = TableProfile(
        name="customers",
        row_count=10,
        candidate_keys=("customer_id",),
        columns=(key("customer_id"),),
    )
    message = _error(ObjectiveError, EXAMPLE, warehouse(customers))
    assert "Europe" in message and "no text column of customers" in message


def test_cohort_with_no_rows() -> None:
    message = _error(ObjectiveError, "churn 90% precision for African customers")
    assert "selects no rows" in message and "BR, CH, DE" in message


@pytest.mark.parametrize(
    ("cohort", "expected"),
    [
        ("continent = 'EU'", "'continent'"),
        ("customers.nation = 'DE'", "'nation'"),
        ("country = ", "not valid SQL"),
        ("country IN (", "not valid SQL"),
        ("country || 'x'", "not a boolean expression"),
        ("country IN (SELECT country FROM events)", "subquery"),
        ("events.country = 'DE'", "'events'"),
        ("country = 'DE'; DROP TABLE customers", "exactly one"),
    ],
)
def test_override_cohort_errors(cohort: str, expected: str) -> None:
    assert expected in _error(GoalError, EXAMPLE, cohort=cohort)


def test_empty_objective() -> None:
    assert "empty" in _error(ObjectiveError, "   ")


# --- determinism ------------------------------------------------------------------------------


def test_same_input_same_objective() -> None:
    first = interpret(EXAMPLE)
    assert all(interpret(EXAMPLE) == first for _ in range(3))
    assert interpret(EXAMPLE).model_dump_json() == first.model_dump_json()


def test_table_order_does_not_change_the_result() -> None:
    profile = warehouse()
    reordered = WarehouseProfile(
        tables=tuple(reversed(profile.tables)),
        relationships=tuple(reversed(profile.relationships)),
        fingerprint=profile.fingerprint,
    )
    assert interpret(EXAMPLE, reordered) == interpret(EXAMPLE, profile)


def test_errors_do_not_depend_on_order() -> None:
    a = col("is_churned", "BOOLEAN", "boolean", 2)
    tables = [labels_table(a, "accounts"), labels_table(a, "members")]
    tables = [TableProfile(name=t.name, row_count=1, columns=t.columns) for t in tables]
    messages = set()
    for order in (tables, tables[::-1]):
        profile = WarehouseProfile(tables=tuple(order), fingerprint="t")
        with pytest.raises(ObjectiveError) as info:
            interpret("churn with 90% recall", profile)
        messages.add(str(info.value))
    assert len(messages) == 1
    assert "accounts.is_churned, members.is_churned" in messages.pop()
