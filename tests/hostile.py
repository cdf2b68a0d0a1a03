"""A warehouse and a goal that carry Jinja payloads in every channel dbt could render.

Every channel carries the same five payloads (``run_query``, ``env_var``, ``adapter.execute``,
``modules`` and ``{% do %}``), each of which leaves a trace if dbt renders it: a table
``pw_<channel>_<form>``, the canary environment value, or ``PWNED``. Used by
``tests/test_jinja_injection.py`` and ``make bench-security``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from dagster_agentic import Goal

EXAMPLE_OBJECTIVE = "Optimise the churn prediction model for 95% precision on European cohorts"
WAREHOUSE_CHANNELS = ("value", "column", "table", "comment", "objective", "cohort")
KERNEL_CHANNEL = "kernel"
EUROPEAN = "('DE', 'FR', 'ES', 'IT', 'NL', 'SE', 'PL', 'BE', 'AT', 'IE', 'PT', 'DK', 'FI')"

CANARY_VARIABLE, CANARY = "AGENTIC_JINJA_CANARY", "canary-7f3a9c"


def payloads(channel: str) -> list[str]:
    """The five payload forms; single quotes, so that names stay quotable by dbt."""
    return [
        f"{{{{ run_query('CREATE TABLE main.pw_{channel}_rq AS SELECT 1') }}}}",
        f"{{{{ env_var('{CANARY_VARIABLE}', 'unset') }}}}",
        f"{{{{ adapter.execute('CREATE TABLE main.pw_{channel}_ax AS SELECT 1') }}}}",
        # Rendered, this writes PWNED; the text itself holds only 'PW' ~ 'NED'.
        "{{ modules.re.sub('a', 'PW' ~ 'NED', 'a') }}",
        f"{{% do run_query('CREATE TABLE main.pw_{channel}_do AS SELECT 1') %}}",
    ]


def payload(channel: str) -> str:
    """All five forms in one string."""
    return "".join(payloads(channel))


def sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ident(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def hostile_goal(pristine: Path, warehouse: Path) -> Goal:
    """A copy of ``pristine`` at ``warehouse`` with payloads in a frequent category value, a
    column name, a table name and comments; a goal with payloads in its objective and cohort."""
    shutil.copy(pristine, warehouse)
    with duckdb.connect(str(warehouse)) as conn:
        # The five most frequent event types become one payload each: short enough to stay
        # categories the kernel writes into feature SQL as literals.
        frequent = conn.execute(
            "SELECT event_type FROM events GROUP BY 1 ORDER BY count(*) DESC LIMIT 5"
        ).fetchall()
        for (value,), hostile in zip(frequent, payloads("value"), strict=True):
            conn.execute(
                f"UPDATE events SET event_type = {sql_text(hostile)}"
                f" WHERE event_type = {sql_text(value)}"
            )
        conn.execute(f"ALTER TABLE payments RENAME COLUMN status TO {ident(payload('column'))}")
        conn.execute(f"ALTER TABLE support_tickets RENAME TO {ident(payload('table'))}")
        conn.execute(f"COMMENT ON TABLE customers IS {sql_text(payload('comment'))}")
        conn.execute(f"COMMENT ON COLUMN events.event_type IS {sql_text(payload('comment'))}")
    return Goal(
        name="churn",
        objective=f"{EXAMPLE_OBJECTIVE} {payload('objective')}",
        warehouse=warehouse,
        overrides={
            "cohort": f"country <> {sql_text(payload('cohort'))} AND country IN {EUROPEAN}",
            "metric": "precision",
            "threshold": 0.95,
        },
    )


def planted_tables(warehouse: Path) -> list[str]:
    """Tables a payload would have created, anywhere in the warehouse."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rows = conn.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables()"
            " WHERE table_name LIKE 'pw\\_%' ESCAPE '\\'"
        ).fetchall()
    return [str(r[0]) for r in rows]


def rendered_traces(texts: str) -> list[str]:
    """What a rendered payload leaves in text dbt wrote: the canary value, PWNED."""
    return [marker for marker in (CANARY, "PWNED") if marker in texts]
