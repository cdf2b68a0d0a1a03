"""A DuckDB warehouse file, opened briefly and read-only by default, with an egress meter.

DuckDB allows one writing process per file, so connections are short-lived (context managers
that always close) and read-only unless a caller asks to write. Every DataFrame that leaves the
warehouse through :meth:`Warehouse.fetch_df` can be recorded in an :class:`EgressLedger`: how
many bytes leave the warehouse is a product metric (data gravity), not an afterthought.

It also holds the small SQL vocabulary the profiler shares: identifier quoting, DuckDB type
kinds, catalog lookups and the conversion of result values to JSON-friendly scalars.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, cast

import duckdb
import pandas as pd

from dagster_agentic.errors import GuardrailError, WarehouseError
from dagster_agentic.guardrails.cost import QueryLimits, bounded
from dagster_agentic.observability.spans import query_span
from dagster_agentic.warehouse.locking import conflict_error, lock_conflict
from dagster_agentic.warehouse.models import ScalarValue

if TYPE_CHECKING:
    from dagster_agentic.goals.spec import Goal

ColumnKind = Literal["numeric", "boolean", "temporal", "text", "other"]

INTEGER_TYPES = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}
    | {"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}
)
_FLOAT_TYPES = frozenset({"FLOAT", "REAL", "DOUBLE", "VARINT", "BIGNUM"})
_TEMPORAL_PREFIXES = ("DATE", "TIMESTAMP")  # DATE, TIMESTAMP[_S|_MS|_NS], TIMESTAMP WITH ...
# A TIME (of day) is not a point in time: it cannot be compared with a cutoff.
_TEXT_TYPES = frozenset({"VARCHAR", "UUID"})
INTERNAL_SCHEMAS = frozenset({"information_schema", "pg_catalog"})


def quote_ident(name: str) -> str:
    """Quote an identifier for DuckDB: double quotes, embedded quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: object) -> str:
    """A SQL literal for a scalar: booleans, numbers, or a quoted string."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def qualified_name(schema: str, table: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(table)}"


def column_kind(data_type: str) -> ColumnKind:
    """Map a DuckDB type name to the coarse kind the agent reasons about."""
    upper = data_type.upper()
    if upper in INTEGER_TYPES or upper in _FLOAT_TYPES or upper.startswith("DECIMAL"):
        return "numeric"
    if upper == "BOOLEAN":
        return "boolean"
    if upper.startswith(_TEMPORAL_PREFIXES):
        return "temporal"
    if upper in _TEXT_TYPES or upper.startswith("ENUM"):
        return "text"
    return "other"  # nested types, BLOB, INTERVAL, JSON, BIT, ...


def is_key_type(data_type: str) -> bool:
    """Types that plausibly hold identifiers: integers and strings, never floats or dates."""
    upper = data_type.upper()
    return upper in INTEGER_TYPES or upper in _TEXT_TYPES


@dataclass(frozen=True)
class EgressEntry:
    """One transfer out of the warehouse."""

    purpose: str
    nbytes: int
    rows: int


class EgressLedger:
    """Counts the bytes and rows that leave the warehouse, by purpose. Thread-safe."""

    def __init__(self) -> None:
        self._entries: list[EgressEntry] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"EgressLedger(entries={len(self._entries)}, total_bytes={self.total_bytes})"

    def record(self, purpose: str, nbytes: int, rows: int) -> EgressEntry:
        """Add one transfer; negative sizes are a caller bug."""
        if nbytes < 0 or rows < 0:
            raise ValueError(f"egress sizes must be >= 0, got nbytes={nbytes}, rows={rows}")
        entry = EgressEntry(purpose=purpose, nbytes=int(nbytes), rows=int(rows))
        with self._lock:
            self._entries.append(entry)
        return entry

    @property
    def entries(self) -> list[EgressEntry]:
        """A copy of the recorded transfers, oldest first."""
        with self._lock:
            return list(self._entries)

    @property
    def total_bytes(self) -> int:
        return sum(entry.nbytes for entry in self.entries)

    @property
    def total_rows(self) -> int:
        return sum(entry.rows for entry in self.entries)

    def bytes_by_purpose(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for entry in self.entries:
            totals[entry.purpose] = totals.get(entry.purpose, 0) + entry.nbytes
        return totals

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        entries = self.entries
        return {
            "total_bytes": sum(e.nbytes for e in entries),
            "total_rows": sum(e.rows for e in entries),
            "by_purpose": self.bytes_by_purpose(),
            "entries": [asdict(e) for e in entries],
        }


_BATCH_VECTORS = 16
FETCH_BATCH_ROWS = _BATCH_VECTORS * 2048
"""Rows per batch of a fetch (DuckDB's vectors hold 2,048): the egress budget's granularity."""

_LOCKDOWN: dict[str, Any] = {
    # Nothing but the warehouse file: no other files, URLs, ATTACH, COPY, EXPORT or secrets.
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_persistent_secrets": False,
}


def connection_config(limits: QueryLimits) -> dict[str, Any]:
    """The DuckDB settings of every agent connection (a second line behind the SQL policy)."""
    config = {**_LOCKDOWN, "memory_limit": f"{limits.memory_mb}MB"}
    if limits.threads:
        config["threads"] = limits.threads
    return config


@dataclass(frozen=True)
class Warehouse:
    """A DuckDB database file, and what one query of the agent may cost on it."""

    path: Path
    limits: QueryLimits = field(default_factory=QueryLimits)

    def __post_init__(self) -> None:
        # Accept plain strings too; the dataclass is frozen, hence object.__setattr__.
        object.__setattr__(self, "path", Path(self.path).expanduser())

    def require_exists(self) -> None:
        """Raise WarehouseError if the database file is missing."""
        if not self.path.is_file():
            raise WarehouseError(
                f"warehouse file not found: {self.path}",
                fix="check the warehouse path (an absolute path avoids working-directory "
                "surprises), or build the warehouse first",
            )

    @contextmanager
    def connect(self, *, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open a locked-down connection that is closed on exit.

        External access and extension loading are off and the configuration is locked, so a
        statement the SQL policy would refuse fails here too; every query runs under the
        watchdog of ``limits``. Read-only connections never create a file: a missing
        warehouse is an error, not an empty database.
        """
        if read_only:
            self.require_exists()
        try:
            conn = duckdb.connect(
                str(self.path), read_only=read_only, config=connection_config(self.limits)
            )
        except duckdb.Error as exc:
            raise open_error(self.path, read_only, exc) from exc
        try:
            # Profiling queries on big tables would otherwise draw a progress bar on stderr.
            conn.execute("SET enable_progress_bar = false")
            conn.execute("SET lock_configuration = true")
            yield cast(duckdb.DuckDBPyConnection, GuardedConnection(conn, self.limits))
        finally:
            conn.close()

    def fetch_df(
        self,
        sql: str,
        params: list[Any] | None = None,
        *,
        purpose: str,
        ledger: EgressLedger | None = None,
        max_bytes: int | None = None,
    ) -> pd.DataFrame:
        """Run a read-only query and return its result, recording its size in ``ledger``.

        The result leaves the warehouse in batches of ``FETCH_BATCH_ROWS`` rows, each counted
        as it arrives; with ``max_bytes``, the batch that would pass it is dropped, what was
        fetched is recorded, and the fetch is refused (``GuardrailError``, rule
        ``budget.egress``).
        """
        chunks: list[pd.DataFrame] = []
        nbytes = rows = 0
        with query_span(sql, purpose) as span, self.connect(read_only=True) as conn:
            try:
                conn.execute(sql, params or [])
                while True:
                    chunk = conn.fetch_df_chunk(_BATCH_VECTORS)
                    if chunk.empty:
                        chunks = chunks or [chunk]  # an empty result keeps its columns
                        break
                    size = int(chunk.memory_usage(deep=True).sum())
                    if max_bytes is not None and nbytes + size > max_bytes:
                        if ledger is not None:
                            ledger.record(purpose, nbytes, rows)
                        raise GuardrailError(
                            f"{purpose}: {nbytes:,} bytes fetched in {len(chunks)} batches, and"
                            f" the next {size:,} would pass the egress budget left of"
                            f" {max_bytes:,} bytes; the fetch was stopped",
                            fix="raise budget.max_egress_bytes, lower"
                            " training_set.max_train_rows or select fewer features",
                            rule="budget.egress",
                        )
                    chunks.append(chunk)
                    nbytes, rows = nbytes + size, rows + len(chunk)
            except duckdb.Error as exc:
                raise WarehouseError(
                    f"query for {purpose!r} failed on {self.path}: {exc}",
                    fix="check the table and column names against the warehouse profile",
                ) from exc
            span.set("dagster_agentic.egress_bytes", nbytes)
            span.set("db.response.returned_rows", rows)
        if ledger is not None:
            ledger.record(purpose, nbytes, rows)
        return chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)


def goal_warehouse(goal: Goal) -> Warehouse:
    """The warehouse of ``goal``, with the query limits of its budget."""
    return Warehouse(goal.warehouse, limits=goal.budget.query_limits())


class GuardedConnection:
    """A DuckDB connection whose every ``execute`` runs under the watchdog; all else is the
    connection's own (results are read from it after ``execute`` returns it)."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, limits: QueryLimits) -> None:
        self._conn = conn
        self._limits = limits

    def execute(self, query: str, parameters: Any = None) -> GuardedConnection:
        label = _label(query)
        try:
            with query_span(query), bounded(self._conn, self._limits, label=label):
                self._conn.execute(query, parameters or [])
        except duckdb.OutOfMemoryException as error:
            raise GuardrailError(
                f"{label}: over the memory limit of {self._limits.memory_mb:,} MB: {error}",
                fix="make the query cheaper, or raise budget.max_query_memory_mb",
                rule="memory",
            ) from error
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def _label(query: str) -> str:
    head = " ".join(query.split())
    return f"query {head[:80]!r}" + ("..." if len(head) > 80 else "")


_SQLITE_HEADER = b"SQLite format 3\x00"


def open_error(path: Path, read_only: bool, exc: duckdb.Error) -> WarehouseError:
    """What went wrong opening ``path``, told apart: a lock held elsewhere, a file that is not
    a DuckDB database, anything else."""
    mode = "read-only" if read_only else "read-write"
    text = str(exc)
    if lock_conflict(text):
        return conflict_error(path, f"a {mode} open", text)
    try:
        with path.open("rb") as handle:
            header = handle.read(16)
    except OSError:
        header = b""
    if header == _SQLITE_HEADER:
        return WarehouseError(
            f"{path} is a SQLite database, not a DuckDB one",
            fix="convert it into a DuckDB file (for example with DuckDB's sqlite extension,"
            " outside the agent) and point the goal's warehouse at that file",
        )
    return WarehouseError(
        f"cannot open warehouse {path} ({mode}): {text}",
        fix="check that the file is a DuckDB database of a compatible version and readable",
    )


# --- catalog ----------------------------------------------------------------------------------


def list_tables(conn: duckdb.DuckDBPyConnection, schema: str = "main") -> tuple[str, ...]:
    """Base tables and views of ``schema`` in the open database (not attached or temp ones)."""
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_schema = ? "
        "AND table_type IN ('BASE TABLE', 'VIEW') ORDER BY table_name",
        [schema],
    ).fetchall()
    return tuple(str(row[0]) for row in rows)


def require_schema(conn: duckdb.DuckDBPyConnection, schema: str) -> None:
    """Raise WarehouseError, listing the user schemas, if ``schema`` is internal or missing."""
    rows = conn.execute(
        "SELECT schema_name FROM information_schema.schemata "
        "WHERE catalog_name = current_database() ORDER BY schema_name"
    ).fetchall()
    schemas = [str(r[0]) for r in rows if str(r[0]).lower() not in INTERNAL_SCHEMAS]
    if schema not in schemas:
        raise WarehouseError(
            f"schema {schema!r} not found or internal; available: {', '.join(schemas) or '(none)'}",
            fix="pass one of the available schemas",
        )


def resolve_tables(
    conn: duckdb.DuckDBPyConnection, schema: str = "main", tables: Sequence[str] | None = None
) -> tuple[str, ...]:
    """Stored names of ``tables`` (default: all of ``schema``), matched case-insensitively as
    DuckDB identifiers are; unknown names raise WarehouseError listing the available ones."""
    available = list_tables(conn, schema)
    if not available or schema.lower() in INTERNAL_SCHEMAS:
        require_schema(conn, schema)
    if tables is None:
        return available
    by_lower = {name.lower(): name for name in available}
    missing = [t for t in tables if t.lower() not in by_lower]
    if missing:
        raise WarehouseError(
            f"unknown table(s) {', '.join(missing)} in schema {schema!r}; "
            f"available: {', '.join(available) or '(none)'}",
            fix="use one of the available table names",
        )
    return tuple(dict.fromkeys(by_lower[t.lower()] for t in tables))


class TableColumns(NamedTuple):
    name: str
    """The stored spelling of the table's name."""
    columns: list[tuple[str, str]]
    """(column, upper-case DuckDB type) in table order."""
    is_view: bool


def table_columns(
    conn: duckdb.DuckDBPyConnection, table: str, schema: str = "main"
) -> TableColumns:
    """A table's or view's columns; the name is matched case-insensitively."""
    rows = conn.execute(
        "SELECT c.table_name, c.column_name, c.data_type, t.table_type = 'VIEW' "
        "FROM information_schema.columns AS c JOIN information_schema.tables AS t "
        "USING (table_catalog, table_schema, table_name) "
        "WHERE c.table_catalog = current_database() AND c.table_schema = ? "
        "AND lower(c.table_name) = lower(?) ORDER BY c.ordinal_position",
        [schema, table],
    ).fetchall()
    if not rows:
        available = list_tables(conn, schema)
        raise WarehouseError(
            f"table {table!r} not found in schema {schema!r}; "
            f"available: {', '.join(available) or '(none)'}",
            fix="use one of the available table names",
        )
    columns = [(str(r[1]), str(r[2]).upper()) for r in rows]
    return TableColumns(str(rows[0][0]), columns, bool(rows[0][3]))


# --- result values ----------------------------------------------------------------------------


def to_scalar(value: Any) -> ScalarValue:
    """A DuckDB result value as a JSON-friendly scalar."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return value.hex()
    return str(value)


def iso_text(value: Any) -> ScalarValue:
    """DuckDB's temporal text as ISO 8601: '2024-01-02 03:04:05' -> '2024-01-02T03:04:05'."""
    if isinstance(value, str) and len(value) > 10 and value[10] == " " and value[4] == "-":
        return value[:10] + "T" + value[11:]
    return to_scalar(value)


def finite_float(value: Any) -> float | None:
    """NaN and infinities become None: they are not statistics anyone can use."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None
