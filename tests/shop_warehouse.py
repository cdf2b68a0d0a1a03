"""A small warehouse the package has never seen: members, visits, purchases through visits,
an item dimension and lapse labels, with different naming habits from the example project.

Signal sits two tables away from the entity (spend in purchases, reached through visits), and
members who lapse come back for a burst of visits *after* the prediction time: a pipeline that
ignores the cutoff reads the label off those visits.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

CUTOFF = "2026-01-01"
OBJECTIVE = "Predict which members lapse, with a ROC AUC of at least 0.8"

_SQL = """
CREATE TABLE members AS
SELECT 5000 + i AS member_key,
       ['north', 'south', 'west'][1 + i % 3] AS region,
       DATE '2024-01-01' + (i % 300)::INTEGER AS joined_on
FROM range({members}) AS t(i);

CREATE TABLE items AS
SELECT 'SKU' || lpad(i::VARCHAR, 3, '0') AS item_code,
       ['acme', 'zen'][1 + i % 2] AS brand,
       (5 + i)::DOUBLE AS list_price
FROM range(40) AS t(i);

CREATE TABLE visits AS
SELECT (row_number() OVER (ORDER BY member_key, v))::BIGINT AS visit_no, member_key,
       TIMESTAMP '2025-01-01' + INTERVAL (hash(member_key, v) % 540) DAY
           + INTERVAL (hash(v, member_key) % 1440) MINUTE AS started,
       ['web', 'app'][1 + (hash(v, member_key, 1) % 2)::INTEGER] AS device
FROM (SELECT member_key, unnest(range(4 + member_key % 7)) AS v FROM members);

CREATE TABLE purchases AS
SELECT (row_number() OVER (ORDER BY visit_no, k))::BIGINT AS purchase_no, visit_no,
       started + INTERVAL (k * 3) MINUTE AS bought_at,
       'SKU' || lpad((hash(visit_no, k) % 40)::BIGINT::VARCHAR, 3, '0') AS item_code,
       round((5 + (hash(visit_no, k) % 40)::BIGINT) * (0.5 + (member_key % 10) / 10.0), 2) AS price
FROM (SELECT visit_no, member_key, started, unnest(range((hash(visit_no) % 4)::BIGINT)) AS k
      FROM visits);

CREATE TABLE outcomes AS
WITH spend AS (
    SELECT m.member_key, coalesce(sum(p.price), 0)
           + (hash(m.member_key, 9) % 100)::DOUBLE AS score
    FROM members AS m
    LEFT JOIN visits AS v ON v.member_key = m.member_key AND v.started < TIMESTAMP '{cutoff}'
    LEFT JOIN purchases AS p ON p.visit_no = v.visit_no AND p.bought_at < TIMESTAMP '{cutoff}'
    GROUP BY m.member_key
)
SELECT member_key, DATE '{cutoff}' AS as_of,
       CASE WHEN score < (SELECT quantile_cont(score, 0.4) FROM spend) THEN 1 ELSE 0 END AS lapsed
FROM spend;
"""

_LEAK = """
INSERT INTO visits
SELECT (SELECT max(visit_no) FROM visits) + row_number() OVER (ORDER BY o.member_key, r)
       AS visit_no, o.member_key,
       TIMESTAMP '{cutoff}' + INTERVAL (5 + r) DAY AS started, 'web' AS device
FROM (SELECT member_key, unnest(range(8)) AS r FROM outcomes WHERE lapsed = 1) AS o;
"""


def build_shop_warehouse(path: Path, *, members: int = 1500, leak: bool = True) -> Path:
    with duckdb.connect(str(path)) as conn:
        conn.execute(_SQL.format(members=members, cutoff=CUTOFF))
        if leak:
            conn.execute(_LEAK.format(cutoff=CUTOFF))
    return path


def drop_rows_after_cutoff(path: Path) -> None:
    """What the warehouse looked like at the prediction time (for the point-in-time test)."""
    with duckdb.connect(str(path)) as conn:
        conn.execute(f"DELETE FROM purchases WHERE bought_at >= TIMESTAMP '{CUTOFF}'")
        conn.execute(f"DELETE FROM visits WHERE started >= TIMESTAMP '{CUTOFF}'")
