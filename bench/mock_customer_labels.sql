-- The planted rule of bench/data/mock_customer.duckdb: which customers are "high value".
--
-- Featuretools' mock customers are uniformly random, so a label is planted with signal at
-- three depths, plus seeded noise. Every input is computed from rows strictly before the
-- cutoff; activity after the cutoff exists and must not be used by either side.
--
--   score = 1.0 * z(mean transaction amount)   depth 2: transactions reach customers via sessions
--         + 0.8 * z(number of sessions)        depth 1: count of child rows
--         + 0.8 * z(share of mobile sessions)  depth 1: share of one category value
--         + 0.6 * [zip_code = '60091']         depth 0: attribute of the customer row
--         + 1.0 * noise                        standard normal, seeded, from md5 (Box-Muller)
--   label = 1 for the top 30% of score, else 0
--
-- z(x) is the z-score across customers; a customer with no session or transaction before the
-- cutoff gets z = 0 for the mean amount and the mobile share.
-- Set before running: SET VARIABLE cutoff = TIMESTAMP '...'; SET VARIABLE seed = <int>;
CREATE OR REPLACE TABLE customer_labels AS
WITH
sess AS (
    SELECT
        customer_id,
        count(*) AS n_sessions,
        avg(CASE WHEN device = 'mobile' THEN 1.0 ELSE 0.0 END) AS mobile_share
    FROM sessions
    WHERE session_start < getvariable('cutoff')
    GROUP BY customer_id
),
tx AS (
    SELECT s.customer_id, avg(t.amount) AS mean_amount
    FROM transactions AS t
    JOIN sessions AS s ON s.session_id = t.session_id
    WHERE t.transaction_time < getvariable('cutoff')
    GROUP BY s.customer_id
),
uniform AS (
    SELECT
        customer_id,
        (CAST('0x' || substr(md5(concat(customer_id, ':', getvariable('seed'), ':u1')), 1, 8)
            AS UBIGINT) + 0.5) / 4294967296.0 AS u1,
        (CAST('0x' || substr(md5(concat(customer_id, ':', getvariable('seed'), ':u2')), 1, 8)
            AS UBIGINT) + 0.5) / 4294967296.0 AS u2
    FROM customers
),
base AS (
    SELECT
        c.customer_id,
        coalesce(sess.n_sessions, 0) AS n_sessions,
        sess.mobile_share,
        tx.mean_amount,
        CASE WHEN c.zip_code = '60091' THEN 1.0 ELSE 0.0 END AS zip_60091,
        sqrt(-2.0 * ln(u.u1)) * cos(2.0 * pi() * u.u2) AS noise
    FROM customers AS c
    JOIN uniform AS u ON u.customer_id = c.customer_id
    LEFT JOIN sess ON sess.customer_id = c.customer_id
    LEFT JOIN tx ON tx.customer_id = c.customer_id
),
z AS (
    SELECT
        customer_id,
        zip_60091,
        noise,
        coalesce((mean_amount - avg(mean_amount) OVER ()) / stddev_pop(mean_amount) OVER (), 0)
            AS z_amount,
        (n_sessions - avg(n_sessions) OVER ()) / stddev_pop(n_sessions) OVER () AS z_sessions,
        coalesce((mobile_share - avg(mobile_share) OVER ()) / stddev_pop(mobile_share) OVER (), 0)
            AS z_mobile
    FROM base
),
scored AS (
    SELECT
        customer_id,
        1.0 * z_amount + 0.8 * z_sessions + 0.8 * z_mobile + 0.6 * zip_60091 + 1.0 * noise
            AS score
    FROM z
)
SELECT
    customer_id,
    getvariable('cutoff') AS cutoff_time,
    CAST(score >= (SELECT quantile_cont(score, 0.7) FROM scored) AS INTEGER) AS label
FROM scored
ORDER BY customer_id;
