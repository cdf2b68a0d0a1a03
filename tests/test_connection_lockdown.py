"""The second line of defence: what the SQL policy refuses fails on the agent's connections too.

Each statement runs directly on a connection from ``Warehouse.connect`` (and on dbt's, through
the generated profile), bypassing the policy, and must fail there without touching a file.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import duckdb
import pytest
import yaml

from dagster_agentic.errors import GuardrailError, WarehouseError
from dagster_agentic.features.dbt_project import dbt_environment, dbt_executable
from dagster_agentic.guardrails.cost import QueryLimits
from dagster_agentic.warehouse.connection import Warehouse, connection_config


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory beside the warehouse with one readable file in it."""
    directory = tmp_path / "outside"
    directory.mkdir()
    (directory / "data.csv").write_text("a,b\n1,2\n")
    return directory


def refused_statements(outside: Path) -> list[str]:
    csv, out = outside / "data.csv", outside / "written"
    return [
        f"SELECT * FROM read_csv('{csv}')",
        f"SELECT * FROM '{csv}'",
        f"SELECT * FROM read_text('{csv}')",
        f"SELECT * FROM glob('{outside}/*')",
        f"COPY (SELECT 1) TO '{out}.csv'",
        f"COPY customers TO '{out}.parquet' (FORMAT parquet)",
        f"EXPORT DATABASE '{out}'",
        f"ATTACH '{out}.duckdb' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "LOAD sqlite",
        "CREATE PERSISTENT SECRET leak (TYPE s3, KEY_ID 'a', SECRET 'b')",
        "SET enable_external_access = true",
        "SET memory_limit = '100GB'",
        "SET threads = 64",
        "RESET lock_configuration",
        "CREATE TABLE planted AS SELECT 1",
        "DROP TABLE customers",
        "SELECT * FROM read_csv('https://example.invalid/x.csv')",
    ]


def test_refused_statements_fail_on_the_agent_connection(
    warehouse_copy: Path, outside: Path
) -> None:
    warehouse = Warehouse(warehouse_copy)
    before = sorted(p.name for p in warehouse_copy.parent.rglob("*"))
    with warehouse.connect(read_only=True) as conn:
        for statement in refused_statements(outside):
            with pytest.raises(duckdb.Error):
                conn.execute(statement).fetchall()
        # The connection is still the locked-down, working one.
        assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] > 0
        settings = dict(
            conn.execute(
                "SELECT name, value FROM duckdb_settings() WHERE name IN ('enable_external_access',"
                " 'autoinstall_known_extensions', 'autoload_known_extensions',"
                " 'lock_configuration')"
            ).fetchall()
        )
    assert settings == {
        "enable_external_access": "false",
        "autoinstall_known_extensions": "false",
        "autoload_known_extensions": "false",
        "lock_configuration": "true",
    }
    assert sorted(p.name for p in warehouse_copy.parent.rglob("*")) == before
    assert [p.name for p in outside.iterdir()] == ["data.csv"]


def test_a_read_write_agent_connection_is_locked_down_too(
    warehouse_copy: Path, outside: Path
) -> None:
    with Warehouse(warehouse_copy).connect(read_only=False) as conn:
        for statement in refused_statements(outside)[:13]:
            with pytest.raises(duckdb.Error):
                conn.execute(statement).fetchall()
    assert [p.name for p in outside.iterdir()] == ["data.csv"]


def test_memory_and_threads_come_from_the_budget(warehouse_copy: Path) -> None:
    limits = QueryLimits(memory_mb=512, threads=1)
    with Warehouse(warehouse_copy, limits=limits).connect() as conn:
        memory, threads = conn.execute(
            "SELECT current_setting('memory_limit'), current_setting('threads')"
        ).fetchone()
    assert memory in ("512.0 MiB", "488.2 MiB") and int(threads) == 1


def test_the_memory_limit_is_a_guardrail_error(warehouse_copy: Path) -> None:
    warehouse = Warehouse(warehouse_copy, limits=QueryLimits(memory_mb=64, threads=1))
    with warehouse.connect() as conn:
        with pytest.raises(GuardrailError) as refused:
            conn.execute(
                "SELECT a.customer_id, list(b.event_type) FROM events AS a JOIN events AS b"
                " ON a.customer_id = b.customer_id GROUP BY 1"
            ).fetchall()
        assert refused.value.rule == "memory"
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_sqlite_file_is_named_as_such_and_nothing_is_downloaded(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (a INTEGER)")
    with pytest.raises(WarehouseError) as refused, Warehouse(path).connect() as _:
        pass
    message = str(refused.value)
    assert "SQLite" in message and "lock" not in message.lower()
    assert not (Path.home() / ".duckdb" / "extensions").exists() or not list(
        (Path.home() / ".duckdb" / "extensions").rglob("sqlite_scanner*")
    )


@pytest.mark.slow
def test_dbt_connection_is_locked_down(warehouse_copy: Path, outside: Path) -> None:
    """A model that reads a file or writes one fails in a real `dbt build` on the profile the
    agent generates."""
    project = warehouse_copy.parent / "dbt"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        yaml.safe_dump(
            {"name": "lockdown", "version": "1.0.0", "config-version": 2, "profile": "p"}
        )
    )
    output = {
        "type": "duckdb",
        "path": str(warehouse_copy),
        "schema": "agentic_lockdown",
        "threads": 1,
        "config_options": {**connection_config(QueryLimits()), "lock_configuration": True},
    }
    (project / "profiles.yml").write_text(
        yaml.safe_dump({"p": {"target": "t", "outputs": {"t": output}}})
    )
    (project / "models" / "reads_file.sql").write_text(
        f"SELECT * FROM read_csv('{outside / 'data.csv'}')"
    )
    (project / "models" / "writes_file.sql").write_text(
        f"{{{{ config(post_hook=\"COPY (SELECT 1) TO '{outside / 'x.csv'}'\") }}}}SELECT 1 AS a"
    )
    (project / "models" / "fine.sql").write_text("SELECT count(*) AS n FROM main.customers")
    result = subprocess.run(
        [dbt_executable(), "build", "--project-dir", str(project), "--profiles-dir", str(project)],
        env=dbt_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert "file system operations are disabled" in log
    assert "PASS=1" in log.replace(" ", "") or "OK created" in log
    assert [p.name for p in outside.iterdir()] == ["data.csv"]
    shutil.rmtree(project)
