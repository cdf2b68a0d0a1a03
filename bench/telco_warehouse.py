"""A prepaid-mobile warehouse, shaped and named unlike the example: subscribers, top-ups,
usage sessions with a handset dimension keyed by text, and defection labels.

Countries are full English names (not ISO codes), keys are ``*_key`` (not ``*_id``), times are
``*_ts``, and the goal's cohort (European subscribers) lives on ``subscribers.nation``. Top-ups
before the snapshot carry the signal; activity also continues after it. Only ~80% of the
subscribers are labelled, so a child's keys are found in the entity table, not in the labels.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

SNAPSHOT = "2025-07-01"
OBJECTIVE = (
    "Predict which subscribers defect, with a ROC AUC of at least 0.75 for European subscribers"
)

_SQL = """
CREATE TABLE subscribers AS
SELECT 70000 + i AS sub_key,
       ['Germany', 'France', 'Spain', 'Italy', 'Poland', 'United States', 'Canada', 'Brazil',
        'Mexico', 'Germany', 'France', 'Spain'][1 + (hash(i, 'n') % 12)::INTEGER] AS nation,
       ['pay_as_you_go', 'bundle_s', 'bundle_l'][1 + (hash(i, 't') % 3)::INTEGER] AS tariff,
       DATE '2023-01-01' + (hash(i, 'a') % 700)::INTEGER AS activated_on,
       (hash(i, 'p') % 100)::DOUBLE / 100 AS propensity
FROM range({subscribers}) AS t(i);

CREATE TABLE handsets AS
SELECT 'HS-' || lpad(i::VARCHAR, 2, '0') AS handset_sku,
       ['nokia', 'samsung', 'apple', 'xiaomi'][1 + i % 4] AS maker,
       (2016 + i % 9)::INTEGER AS release_year
FROM range(24) AS t(i);

CREATE TABLE topups AS
SELECT (row_number() OVER (ORDER BY sub_key, k))::BIGINT AS topup_key, sub_key,
       TIMESTAMP '2024-07-01' + INTERVAL (hash(sub_key, k, 'd') % 450) DAY
           + INTERVAL (hash(sub_key, k, 'm') % 1440) MINUTE AS topup_ts,
       round(5 + (hash(sub_key, k, 'v') % 30)::DOUBLE * (1.5 - propensity), 2) AS amount_eur,
       ['shop', 'online', 'voucher'][1 + (hash(sub_key, k, 'c') % 3)::INTEGER] AS channel
FROM (SELECT sub_key, propensity,
             unnest(range(2 + (hash(sub_key) % 9)::BIGINT + ((1 - propensity) * 6)::BIGINT)) AS k
      FROM subscribers);

CREATE TABLE usage_sessions AS
SELECT (row_number() OVER (ORDER BY sub_key, k))::BIGINT AS session_key, sub_key,
       TIMESTAMP '2024-07-01' + INTERVAL (hash(sub_key, k, 's') % 450) DAY
           + INTERVAL (hash(sub_key, k, 'h') % 1440) MINUTE AS session_ts,
       'HS-' || lpad((hash(sub_key, 'hs') % 24)::BIGINT::VARCHAR, 2, '0') AS handset_sku,
       round((hash(sub_key, k, 'mb') % 500)::DOUBLE * (1.2 - propensity), 1) AS data_mb
FROM (SELECT sub_key, propensity, unnest(range(3 + (hash(sub_key, 'u') % 12)::BIGINT)) AS k
      FROM subscribers);

CREATE TABLE defections AS
WITH score AS (
    SELECT s.sub_key, s.propensity * 2 + (hash(s.sub_key, 'noise') % 100)::DOUBLE / 100 AS z
    FROM subscribers AS s
)
SELECT sub_key, DATE '{snapshot}' AS snapshot_on,
       CASE WHEN z > (SELECT quantile_cont(z, 0.65) FROM score) THEN 1 ELSE 0 END AS defected
FROM score
WHERE hash(sub_key, 'labelled') % 10 < 8;  -- subscribers activated too late have no label yet

ALTER TABLE subscribers DROP COLUMN propensity;
"""


def build_telco_warehouse(path: Path, *, subscribers: int = 3000) -> Path:
    """Write the warehouse at ``path`` (deterministic: every value is a hash of its keys)."""
    with duckdb.connect(str(path)) as conn:
        conn.execute(_SQL.format(subscribers=subscribers, snapshot=SNAPSHOT))
    return path
