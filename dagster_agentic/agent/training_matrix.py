"""Fetching a goal's training matrix out of the warehouse, within the egress budget.

Only the selected feature columns, the label, the split and the cohort flag leave the
warehouse, in the smallest types that hold them, and every byte is counted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dagster_agentic.errors import GuardrailError
from dagster_agentic.features.dbt_project import training_set_model
from dagster_agentic.plan.models import Plan
from dagster_agentic.warehouse.connection import EgressLedger, Warehouse, quote_ident

SPLITS = ("train", "valid", "test")


def load_training_set(plan: Plan, warehouse: Warehouse, ledger: EgressLedger) -> pd.DataFrame:
    """Fetch the selected feature columns, label, split and cohort flag, within the budget.

    What leaves is kept small: features as 4-byte floats, the label, split and cohort flag as
    1-byte codes, and each categorical feature as 2-byte codes plus its dictionary (the
    distinct values, fetched once). Codes are decoded here, after they are counted. Beyond
    ``max_train_rows`` training rows, a stable sample of them is fetched; validation and test
    rows are always fetched whole.
    """
    relation = f"{quote_ident(plan.models_schema)}.{quote_ident(training_set_model(plan.goal))}"
    kinds = set(plan.categorical_columns)
    categorical = [c for c in plan.feature_columns if c in kinds]
    numeric = [c for c in plan.feature_columns if c not in kinds]
    with warehouse.connect(read_only=True) as conn:
        row = conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE split = 'train') FROM {relation}"
        ).fetchone()
    total, train = (int(row[0]), int(row[1])) if row else (0, 0)
    spec = plan.training_set
    sampled = "TRUE"
    if train > spec.max_train_rows:  # a stable sample of the training rows, by entity hash
        keep = round(spec.max_train_rows / train * 1_000_000)
        sampled = f"split <> 'train' OR hash(entity_id, {spec.split_seed + 1}) % 1000000 < {keep}"
    rows = total - train + min(train, spec.max_train_rows)
    refuse_oversized_matrix(plan, rows)
    budget = plan.budget.max_egress_bytes
    dictionaries = {
        column: warehouse.fetch_df(
            f"SELECT DISTINCT {quote_ident(column)} AS value FROM {relation}"
            f" WHERE {quote_ident(column)} IS NOT NULL ORDER BY 1",
            purpose="category dictionary",
            ledger=ledger,
            max_bytes=budget - ledger.total_bytes,
        )["value"].tolist()
        for column in categorical
    }
    split_code = " ".join(f"WHEN '{name}' THEN {i}" for i, name in enumerate(SPLITS))
    selected = [
        "entity_id",
        f"CAST(label AS {_label_type(plan)}) AS label",
        f"CAST(CASE split {split_code} END AS TINYINT) AS split",
        "in_cohort",
        *(f"CAST({quote_ident(c)} AS FLOAT) AS {quote_ident(c)}" for c in numeric),
        *(
            f"CAST(CASE WHEN {quote_ident(c)} IS NULL THEN NULL ELSE dense_rank() OVER"
            f" (PARTITION BY {quote_ident(c)} IS NULL ORDER BY {quote_ident(c)}) - 1 END"
            f" AS SMALLINT) AS {quote_ident(c)}"
            for c in categorical
        ),
    ]
    # A fixed row order: the physical order may differ between builds; learners are not immune.
    # Codes are ranked over every row, then the sample is taken: the dictionary stays valid.
    sql = (
        f"SELECT * EXCLUDE (__keep) FROM (SELECT {', '.join(selected)},"
        f" ({sampled}) AS __keep, cutoff_at FROM {relation})"
        " WHERE __keep ORDER BY entity_id, cutoff_at"
    )
    frame = warehouse.fetch_df(
        sql, purpose="training matrix", ledger=ledger, max_bytes=budget - ledger.total_bytes
    )
    frame["split"] = pd.Series(np.asarray(SPLITS, dtype=object)[frame["split"].to_numpy()])
    for column, values in dictionaries.items():
        codes = frame[column].to_numpy(dtype="float64")
        decoded = np.full(len(codes), None, dtype=object)
        known = ~np.isnan(codes)
        decoded[known] = np.asarray(values, dtype=object)[codes[known].astype(np.int64)]
        frame[column] = pd.Series(decoded, dtype="str")
    return frame[["entity_id", "cutoff_at", "label", "split", "in_cohort", *plan.feature_columns]]


MATRIX_FIXED_BYTES = 8 + 8 + 1 + 1 + 1
"""Per row of the training matrix, besides its features: entity id, cutoff, label, split and
cohort flag."""
REGRESSION_LABEL_BYTES = 8 - 1
"""A regression target moves as a DOUBLE, not a 1-byte class code."""


def _label_type(plan: Plan) -> str:
    """Class codes (0/1, or the class index) fit a TINYINT; a regression target is a DOUBLE."""
    return "DOUBLE" if plan.objective.task == "regression" else "TINYINT"


def matrix_bytes(plan: Plan, rows: int) -> int:
    """The least the training matrix of ``rows`` rows can move: 4 bytes a numeric feature, 2 a
    categorical code (more where pandas widens a column with NULLs)."""
    categorical = len(set(plan.categorical_columns) & set(plan.feature_columns))
    numeric = len(plan.feature_columns) - categorical
    fixed = MATRIX_FIXED_BYTES + (
        REGRESSION_LABEL_BYTES if plan.objective.task == "regression" else 0
    )
    return rows * (fixed + 4 * numeric + 2 * categorical)


def refuse_oversized_matrix(plan: Plan, rows: int) -> None:
    """Refuse a plan whose training matrix cannot fit the egress budget, before it is fetched
    (and, called by the planner, before dbt builds anything)."""
    least = matrix_bytes(plan, rows)
    if least > plan.budget.max_egress_bytes:
        raise GuardrailError(
            f"the training set of {rows:,} rows and {len(plan.feature_columns)} features would"
            f" move at least {least:,} bytes out of the warehouse, over the budget of"
            f" {plan.budget.max_egress_bytes:,}",
            fix="raise budget.max_egress_bytes, lower training_set.max_train_rows or select"
            " fewer features",
            rule="budget.egress",
        )
