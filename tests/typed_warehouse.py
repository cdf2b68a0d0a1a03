"""A small warehouse that holds every kind of DuckDB column a user's tables have.

Accounts (the entity) carry one column of each scalar type (booleans, signed and unsigned
integers up to HUGEINT, floats, decimals, text, dates and times, intervals, UUIDs, blobs,
enums) and nested ones (lists, structs, maps, JSON), with NULLs and odd values: NaN and
infinity, empty and quoted text, extreme integers. Sessions (a child table) hold typed events
with their own odd columns; cancellations hold the label. Its naming shares nothing with the
example project's.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

CUTOFF = "2026-03-01"
OBJECTIVE = "Predict which accounts cancel, with a ROC AUC of at least 0.6 for European accounts"

_SQL = """
CREATE TYPE tier_kind AS ENUM ('gold', 'silver', 'bronze');
CREATE TYPE channel_kind AS ENUM ('web', 'app', 'phone');

CREATE TABLE accounts AS
SELECT 900000 + i AS account_id,
       CASE WHEN i % 11 = 0 THEN NULL ELSE i % 3 = 0 END AS is_pro,
       (i % 100 - 50)::TINYINT AS tiny_score,
       (i % 3000)::SMALLINT AS small_score,
       (i * 7919)::BIGINT AS big_count,
       CASE WHEN i % 13 = 0 THEN NULL
            ELSE (i::HUGEINT * 1000000000000000000::HUGEINT) END AS huge_count,
       (i % 200)::UTINYINT AS utiny_level,
       (i % 60000)::USMALLINT AS usmall_level,
       (i * 3)::UINTEGER AS uint_level,
       CASE WHEN i % 17 = 0 THEN NULL ELSE (i * 104729)::UBIGINT END AS ubig_level,
       (i % 97 / 7.0)::FLOAT AS float_ratio,
       CASE WHEN i % 29 = 0 THEN 'NaN'::DOUBLE WHEN i % 31 = 0 THEN NULL
            ELSE i % 89 / 3.0 END AS double_ratio,
       (i % 500 * 1.25)::DECIMAL(10, 2) AS credit,
       CASE WHEN i % 19 = 0 THEN NULL WHEN i % 23 = 0 THEN ''
            WHEN i % 37 = 0 THEN 'O''Brien "the" ünïcode'
            ELSE 'holder ' || (i % 50)::VARCHAR END AS holder_name,
       ['DE', 'FR', 'US', 'GB', 'JP', 'ES'][1 + i % 6] AS country,
       CASE WHEN i % 7 = 0 THEN NULL ELSE DATE '2020-01-01' + (i % 1500)::INTEGER END AS opened_on,
       TIME '08:00:00' + INTERVAL (i % 600) MINUTE AS usual_time,
       TIMESTAMP '2024-01-01' + INTERVAL (i % 400) DAY AS profile_updated,
       (TIMESTAMPTZ '2024-01-01 00:00:00+00' + INTERVAL (i % 300) HOUR) AS created_tz,
       INTERVAL (i % 90) DAY AS trial_length,
       uuid() AS account_uuid,
       CASE WHEN i % 5 = 0 THEN NULL ELSE ('\\x' || lpad(to_hex(i % 256), 2, '0'))::BLOB END
           AS avatar,
       (['gold', 'silver', 'bronze'][1 + i % 3])::tier_kind AS tier,
       CASE WHEN i % 4 = 0 THEN NULL ELSE ['a', 'b', 'c'][1:(1 + i % 3)] END AS tag_list,
       {{'a': i % 10, 'b': 'x' || (i % 4)::VARCHAR}} AS settings,
       MAP {{'k': i % 5}} AS counters,
       {json}
FROM range({accounts}) AS t(i);

CREATE TABLE sessions AS
SELECT (row_number() OVER (ORDER BY a.account_id, s))::BIGINT AS session_ref, a.account_id,
       TIMESTAMP '2025-06-01' + INTERVAL (hash(a.account_id, s) % 260) DAY
           + INTERVAL (hash(s, a.account_id) % 1440) MINUTE AS began,
       CASE WHEN {infinite} AND hash(a.account_id, s, 2) % 41 = 0 THEN 'Infinity'::DOUBLE
            ELSE (hash(a.account_id, s, 3) % 3600)::DOUBLE END AS seconds_used,
       hash(a.account_id, s, 4) % 2 = 0 AS succeeded,
       (['web', 'app', 'phone'][1 + (hash(a.account_id, s, 5) % 3)::INTEGER])::channel_kind
           AS channel,
       (hash(a.account_id, s, 6) % 100000)::UBIGINT AS bytes_sent,
       ((hash(a.account_id, s, 7) % 10000) / 100.0)::DECIMAL(12, 3) AS charge
FROM (SELECT account_id, unnest(range(2 + (account_id % 9)::INTEGER)) AS s FROM accounts) AS a;

CREATE TABLE cancellations AS
WITH activity AS (
    SELECT a.account_id, count(s.session_ref) + (hash(a.account_id, 9) % 5)::INTEGER AS score
    FROM accounts AS a
    LEFT JOIN sessions AS s ON s.account_id = a.account_id AND s.began < TIMESTAMP '{cutoff}'
    GROUP BY a.account_id
)
SELECT account_id, DATE '{cutoff}' AS as_of,
       CASE WHEN score < (SELECT quantile_cont(score, 0.4) FROM activity) THEN 1 ELSE 0 END
           AS cancelled
FROM activity;
"""


def has_json(conn: duckdb.DuckDBPyConnection) -> bool:
    """Whether this DuckDB has the JSON type (a built-in extension in most builds)."""
    try:
        conn.execute("SELECT '{}'::JSON")
    except duckdb.Error:
        return False
    return True


def build_typed_warehouse(path: Path, *, accounts: int = 1200, infinite: bool = False) -> Path:
    """The warehouse at ``path``; ``infinite`` puts infinities among the sessions' durations."""
    with duckdb.connect(str(path)) as conn:
        json = (
            """CASE WHEN i % 3 = 0 THEN NULL ELSE ('{"n": ' || (i % 8)::VARCHAR || '}')::JSON END
           AS extra_doc"""
            if has_json(conn)
            else "NULL::VARCHAR AS extra_doc"
        )
        conn.execute(
            _SQL.format(accounts=accounts, cutoff=CUTOFF, json=json, infinite=str(infinite).upper())
        )
    return path
