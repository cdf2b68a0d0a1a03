"""Schema faults: columns renamed, retyped or dropped, tables renamed or added."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._faults_core import (
    Connection,
    Fault,
    FaultSpec,
    Outcome,
    already_applied,
    require_column,
    require_no_table,
    require_rows,
    require_table,
    rng,
    scalar,
)

INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}
SURVEY_LOOKBACK_DAYS = 180


def _count(con: Connection, table: str) -> int:
    return int(scalar(con, f"SELECT count(*) FROM {table}"))


def rename_column(con: Connection, seed: int) -> Outcome:
    require_column(con, "payments", "amount")
    con.execute("ALTER TABLE payments RENAME COLUMN amount TO amount_eur")
    return _count(con, "payments"), {"renamed_from": "amount", "renamed_to": "amount_eur"}


def change_type(con: Connection, seed: int) -> Outcome:
    dtype = require_column(con, "support_tickets", "satisfaction_score")
    if dtype not in INTEGER_TYPES:
        raise already_applied(f"support_tickets.satisfaction_score is {dtype}, not an integer")
    con.execute("ALTER TABLE support_tickets ALTER COLUMN satisfaction_score TYPE VARCHAR")
    return _count(con, "support_tickets"), {"old_type": dtype, "new_type": "VARCHAR"}


def drop_column(con: Connection, seed: int) -> Outcome:
    require_column(con, "support_tickets", "resolution_hours")
    con.execute("ALTER TABLE support_tickets DROP COLUMN resolution_hours")
    return _count(con, "support_tickets"), {"dropped": "resolution_hours"}


def renamed_table(con: Connection, seed: int) -> Outcome:
    require_table(con, "events")
    require_no_table(con, "events_v2")
    rows = _count(con, "events")
    con.execute("ALTER TABLE events RENAME TO events_v2")
    return rows, {"renamed_from": "events", "renamed_to": "events_v2"}


def _survey_frame(people: pd.DataFrame, seed: int) -> pd.DataFrame:
    """0-3 surveys per labelled customer, after signup and before the cutoff; churners score
    lower on average, with enough noise that the score is a signal, not the label."""
    gen = rng(seed, "new_table")
    n_surveys = gen.choice(4, size=len(people), p=[0.3, 0.35, 0.25, 0.1])
    owner = np.repeat(np.arange(len(people)), n_surveys)
    cutoff = pd.to_datetime(people["cutoff_date"]).to_numpy("datetime64[s]")[owner]
    signup = pd.to_datetime(people["signup_date"]).to_numpy("datetime64[s]")[owner]
    span = np.clip((cutoff - signup).astype(np.int64), 3600, SURVEY_LOOKBACK_DAYS * 86_400)
    answered = cutoff - (60 + gen.random(owner.size) * (span - 60)).astype(np.int64)
    churned = people["churned"].to_numpy()[owner] == 1
    score = np.where(churned, 4.0, 7.5) + gen.normal(0.0, 2.0, owner.size)
    frame = pd.DataFrame(
        {
            "customer_id": people["customer_id"].to_numpy()[owner],
            "answered_at": answered.astype("datetime64[us]"),
            "score": np.clip(np.round(score), 0, 10).astype(np.int32),
        }
    )
    return frame.sort_values(["customer_id", "answered_at"], kind="stable")


def new_table(con: Connection, seed: int) -> Outcome:
    require_no_table(con, "nps_surveys")
    for table, column in [("churn_labels", "churned"), ("customers", "signup_date")]:
        require_column(con, table, column)
    require_rows(con, "churn_labels")
    people = con.execute(
        "SELECT l.customer_id, l.cutoff_date, c.signup_date, l.churned"
        " FROM churn_labels AS l JOIN customers AS c USING (customer_id) ORDER BY l.customer_id"
    ).df()
    frame = _survey_frame(people, seed)
    con.execute(
        "CREATE TABLE nps_surveys (customer_id BIGINT NOT NULL,"
        " answered_at TIMESTAMP NOT NULL, score INTEGER NOT NULL)"
    )
    con.register("_nps_incoming", frame)
    try:
        con.execute("INSERT INTO nps_surveys SELECT * FROM _nps_incoming")
    finally:
        con.unregister("_nps_incoming")
    return len(frame), {
        "new_table": "nps_surveys",
        "customers_answering": int(frame["customer_id"].nunique()),
    }


FAULTS = [
    Fault(
        FaultSpec(
            "rename_column", "payments", "amount",
            "The billing export renames amount to amount_eur in a release; values are unchanged.",
            "map the renamed column by name similarity and identical value distribution",
        ),
        rename_column,
    ),
    Fault(
        FaultSpec(
            "change_type", "support_tickets", "satisfaction_score",
            "The helpdesk API starts serialising satisfaction_score as text ('4' instead of 4).",
            "cast the text back to an integer after checking every value parses",
        ),
        change_type,
    ),
    Fault(
        FaultSpec(
            "drop_column", "support_tickets", "resolution_hours",
            "The helpdesk vendor stops exporting resolution_hours after a plan change.",
            "drop the features built on the column, retrain and re-check the metrics",
        ),
        drop_column,
    ),
    Fault(
        FaultSpec(
            "renamed_table", "events", None,
            "The product analytics team migrates to a new pipeline that writes events_v2.",
            "map the renamed table by matching columns and row statistics",
        ),
        renamed_table,
    ),
    Fault(
        FaultSpec(
            "new_table", "nps_surveys", None,
            "A new NPS survey source (customer_id, answered_at, score 0-10) lands in the"
            " warehouse, answered before the prediction time and predictive of churn.",
            "profile the new table, propose point-in-time features from it, keep them if they"
            " improve validation",
        ),
        new_table,
    ),
]  # fmt: skip
