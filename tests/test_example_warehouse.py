"""Tests for the example churn warehouse generator (tiny scale, seeded)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from example_churn.warehouse import (
    CUTOFF_DATE,
    SCALES,
    TABLES,
    ensure_warehouse,
    generate_warehouse,
    main,
)

EUROPE = "('DE','FR','GB','ES','IT','NL','SE','PL','IE','PT','BE','AT','DK','FI','NO','CH','CZ')"
COHORT_SQL = f"""
    WITH failed AS (
        SELECT DISTINCT customer_id FROM payments
        WHERE status = 'failed' AND paid_at < DATE '{CUTOFF_DATE}')
    SELECT c.country IN {EUROPE} AS europe, f.customer_id IS NOT NULL AS has_failed,
           avg(l.churned) AS rate
    FROM churn_labels l JOIN customers c USING (customer_id)
    LEFT JOIN failed f USING (customer_id)
    GROUP BY ALL
"""

EXPECTED_SCHEMA = {
    "customers": [
        ("customer_id", "BIGINT"), ("country", "VARCHAR"), ("plan", "VARCHAR"),
        ("billing_cycle", "VARCHAR"), ("signup_date", "DATE"), ("age", "INTEGER"),
        ("acquisition_channel", "VARCHAR"), ("company_size", "VARCHAR"),
    ],
    "subscriptions": [
        ("subscription_id", "BIGINT"), ("customer_id", "BIGINT"), ("plan", "VARCHAR"),
        ("started_at", "DATE"), ("ended_at", "DATE"), ("monthly_price", "DOUBLE"),
        ("status", "VARCHAR"),
    ],
    "events": [
        ("event_id", "BIGINT"), ("customer_id", "BIGINT"), ("event_time", "TIMESTAMP"),
        ("event_type", "VARCHAR"), ("duration_seconds", "DOUBLE"),
    ],
    "support_tickets": [
        ("ticket_id", "BIGINT"), ("customer_id", "BIGINT"), ("created_at", "TIMESTAMP"),
        ("category", "VARCHAR"), ("priority", "VARCHAR"), ("satisfaction_score", "INTEGER"),
        ("resolution_hours", "DOUBLE"),
    ],
    "payments": [
        ("payment_id", "BIGINT"), ("customer_id", "BIGINT"), ("paid_at", "TIMESTAMP"),
        ("amount", "DOUBLE"), ("currency", "VARCHAR"), ("status", "VARCHAR"),
    ],
    "churn_labels": [("customer_id", "BIGINT"), ("cutoff_date", "DATE"), ("churned", "INTEGER")],
}  # fmt: skip


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    return path, generate_warehouse(path, "tiny", seed=7)


@pytest.fixture(scope="module")
def con(tiny: tuple[Path, dict[str, int]]):
    with duckdb.connect(str(tiny[0]), read_only=True) as connection:
        yield connection


def _scalar(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


def _checksums(path: Path) -> dict[str, tuple]:
    with duckdb.connect(str(path), read_only=True) as c:
        sql = "SELECT count(*), sum(hash(t)::HUGEINT), bit_xor(hash(t)) FROM {} t"
        return {name: c.execute(sql.format(name)).fetchone() for name in TABLES}


def test_row_counts_and_volumes(tiny, con) -> None:
    _, counts = tiny
    assert set(counts) == set(EXPECTED_SCHEMA)
    for table, rows in counts.items():
        assert _scalar(con, f"SELECT count(*) FROM {table}") == rows
    assert counts["customers"] == SCALES["tiny"]
    assert 0.9 * counts["customers"] < counts["churn_labels"] < counts["customers"]
    assert counts["customers"] <= counts["subscriptions"] <= 3 * counts["customers"]
    assert counts["events"] > 40 * counts["customers"]
    assert _scalar(con, "SELECT count(*) - count(DISTINCT customer_id) FROM customers") == 0


def test_schema_is_exact(con) -> None:
    for table, expected in EXPECTED_SCHEMA.items():
        rows = con.execute(f"DESCRIBE {table}").fetchall()
        assert [(r[0], r[1]) for r in rows] == expected, table


def test_same_seed_identical_other_seed_differs(tiny, tmp_path: Path) -> None:
    generate_warehouse(tmp_path / "again.duckdb", "tiny", seed=7)
    generate_warehouse(tmp_path / "other.duckdb", "tiny", seed=8)
    reference = _checksums(tiny[0])
    assert _checksums(tmp_path / "again.duckdb") == reference
    other = _checksums(tmp_path / "other.duckdb")
    assert all(other[t] != reference[t] for t in TABLES)


def test_labels_are_binary_with_plausible_rate(con) -> None:
    values = {r[0] for r in con.execute("SELECT DISTINCT churned FROM churn_labels").fetchall()}
    assert values == {0, 1}
    assert 0.10 <= _scalar(con, "SELECT avg(churned) FROM churn_labels") <= 0.30
    assert _scalar(con, "SELECT count(DISTINCT cutoff_date) FROM churn_labels") == 1
    assert _scalar(con, "SELECT min(cutoff_date) FROM churn_labels") == CUTOFF_DATE
    unlabelled_old = f"""SELECT count(*) FROM customers c ANTI JOIN churn_labels USING (customer_id)
        WHERE c.signup_date < DATE '{CUTOFF_DATE}'"""
    assert _scalar(con, unlabelled_old) == 0
    late = "SELECT max(signup_date) FROM customers JOIN churn_labels USING (customer_id)"
    assert _scalar(con, late) < CUTOFF_DATE


def test_european_share(con) -> None:
    share = _scalar(con, f"SELECT avg((country IN {EUROPE})::INT) FROM customers")
    assert 0.36 <= share <= 0.50
    assert _scalar(con, "SELECT count(DISTINCT country) FROM customers") >= 20


@pytest.mark.parametrize(
    ("table", "column"),
    [("events", "event_time"), ("support_tickets", "created_at"), ("payments", "paid_at")],
)
def test_activity_window(con, table: str, column: str) -> None:
    before_signup = f"""SELECT count(*) FROM {table} x JOIN customers c USING (customer_id)
        WHERE x.{column} < c.signup_date"""
    assert _scalar(con, before_signup) == 0
    after = f"SELECT count(*) FROM {table} WHERE {column} >= DATE '{CUTOFF_DATE}'"
    assert _scalar(con, after) > 0
    first = _scalar(con, f"SELECT min({column})::DATE FROM {table}")
    assert 500 <= (CUTOFF_DATE - first).days <= 600  # about 18 months of history
    last = _scalar(con, f"SELECT max({column})::DATE FROM {table}")
    assert (last - CUTOFF_DATE).days <= 60


def test_churners_go_quiet_after_cancelling(con) -> None:
    cancelled = "SELECT customer_id, ended_at FROM subscriptions WHERE status = 'cancelled'"
    assert _scalar(con, f"SELECT count(*) FROM ({cancelled})") == _scalar(
        con, "SELECT sum(churned) FROM churn_labels"
    )
    late_events = f"""SELECT count(*) FROM events e JOIN ({cancelled}) s USING (customer_id)
        WHERE e.event_time >= s.ended_at"""
    assert _scalar(con, late_events) == 0


def test_realistic_mess(con) -> None:
    null_share = _scalar(con, "SELECT avg((satisfaction_score IS NULL)::INT) FROM support_tickets")
    assert 0.05 < null_share < 0.5
    assert _scalar(con, "SELECT count(*) FROM events WHERE duration_seconds = 0") > 0
    scores = "SELECT min(satisfaction_score), max(satisfaction_score) FROM support_tickets"
    assert con.execute(scores).fetchone() == (1, 5)


def test_failed_payments_drive_churn_in_europe_only(con) -> None:
    rates = {(eu, failed): rate for eu, failed, rate in con.execute(COHORT_SQL).fetchall()}
    europe_ratio = rates[(True, True)] / rates[(True, False)]
    elsewhere_ratio = rates[(False, True)] / rates[(False, False)]
    assert europe_ratio > 3.0
    assert europe_ratio > 2.0 * elsewhere_ratio


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "wh.duckdb"
    generate_warehouse(path, 50, seed=1)
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="--overwrite"):
        generate_warehouse(path, 50, seed=2)
    assert path.read_bytes() == before
    counts = generate_warehouse(path, 60, seed=2, overwrite=True)
    assert counts["customers"] == 60
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wh.duckdb"]  # no temp files left


def test_unknown_scale_lists_valid_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="tiny, small, large"):
        generate_warehouse(tmp_path / "wh.duckdb", "huge")
    assert not (tmp_path / "wh.duckdb").exists()


def test_cli_prints_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cli.duckdb"
    main(["--path", str(path), "--scale", "40", "--seed", "3"])
    out = capsys.readouterr().out
    assert "customers" in out and "events" in out
    with pytest.raises(SystemExit):
        main(["--path", str(path), "--scale", "40"])
    assert "--overwrite" in capsys.readouterr().err


def test_if_missing_keeps_an_existing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "wh.duckdb"
    assert ensure_warehouse(path, 40, seed=3) == path
    before = path.read_bytes()
    ensure_warehouse(path, 50, seed=4)
    main(["--path", str(path), "--scale", "50", "--if-missing"])
    assert "already exists" in capsys.readouterr().out
    assert path.read_bytes() == before


def test_a_crash_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import example_churn.warehouse as module

    def explode(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(module, "_insert", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        generate_warehouse(tmp_path / "wh.duckdb", 40)
    assert list(tmp_path.iterdir()) == []
