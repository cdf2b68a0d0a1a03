"""A plan: everything the agent decided for one goal, as data.

A plan is rendered into a dbt project and Dagster definitions; it never contains code that
is executed as Python. Plans are immutable: a change is a new version in the plan store.
"""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dagster_agentic.goals.objective import Objective
from dagster_agentic.goals.spec import Budget
from dagster_agentic.training.spec import TrainingSpec


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FeatureSpec(_Frozen):
    """One feature: a SQL expression and the hypothesis behind it.

    In an ``entity_attributes`` group the expression reads one row of the source (alias ``t``);
    in a ``child_aggregates`` group it is an aggregate over the entity's rows of the source.
    Either may use ``s.cutoff_at``, the prediction time of the row being predicted.
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    expression: str
    hypothesis: str
    kind: Literal["numeric", "categorical"] = "numeric"


ExpectationCheck = Literal["not_null", "unique", "between", "accepted_values", "row_count_between"]


class Expectation(_Frozen):
    """A data expectation on a column (or, for ``row_count_between``, on the whole table)."""

    check: ExpectationCheck
    column: str | None = None
    min_value: float | None = None
    max_value: float | None = None
    values: tuple[str | int, ...] = ()
    severity: Literal["error", "warn"] = "warn"
    reason: str = ""


class PathStep(_Frozen):
    """The middle table of a depth-2 path: entity <- ``table`` <- source.

    ``join_column`` of ``table`` holds the entity id; the source's ``join_column`` references
    ``key_column`` of ``table``. Rows of ``table`` at or after the cutoff are ignored too.
    """

    table: str
    join_column: str
    key_column: str
    time_column: str | None = None


TimeBucket = Literal["hour", "day"]


class KeyPart(_Frozen):
    """One column pair of a lookup's join: source.``column`` (truncated to ``bucket`` when
    set, e.g. an event's time to its hour) = ``table``.``key_column``."""

    column: str
    key_column: str
    bucket: TimeBucket | None = None


class Lookup(_Frozen):
    """A parent (dimension) row joined to each source row: source.``column`` -> ``table``.``key``.

    A composite key adds ``more`` column pairs (a weather row keyed by place and hour is found
    by the event's place and its time truncated to the hour). ``time_key`` names the
    dimension's time column: under a cutoff only rows with it at or before the prediction time
    are joined. Feature expressions read the row through ``alias`` (``d0``, ``d1``...).
    """

    alias: str = Field(pattern=r"^d[0-9]+$")
    table: str
    column: str
    key_column: str
    bucket: TimeBucket | None = None
    more: tuple[KeyPart, ...] = ()
    time_key: str | None = None

    @property
    def parts(self) -> tuple[KeyPart, ...]:
        first = KeyPart(column=self.column, key_column=self.key_column, bucket=self.bucket)
        return (first, *self.more)


class FeatureGroup(_Frozen):
    """A set of features computed from one source table: one dbt model, one asset.

    * ``entity_attributes``: one row of the entity table per entity (alias ``t``).
    * ``child_aggregates``: aggregates over the source rows that reference the entity.
    * ``path_aggregates``: aggregates over source rows that reference rows of ``via`` (alias
      ``p``) that reference the entity: a depth-2 path.
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Literal["entity_attributes", "child_aggregates", "path_aggregates"]
    source_table: str
    join_column: str = Field(
        description="Column of source_table holding the entity id (or, on a path, the key of via)."
    )
    time_column: str | None = Field(
        default=None,
        description="Event time of source rows; rows at or after the cutoff are ignored.",
    )
    via: PathStep | None = None
    lookups: tuple[Lookup, ...] = ()
    features: tuple[FeatureSpec, ...]
    expectations: tuple[Expectation, ...] = ()
    rationale: str = ""

    def column_name(self, feature: FeatureSpec) -> str:
        """Feature columns carry their group's name, so groups never collide in the training set."""
        return f"{self.name}__{feature.name}"


class RawColumn(_Frozen):
    name: str
    data_type: str


class RawTable(_Frozen):
    """A warehouse table the plan reads, as it was when the plan was made."""

    name: str
    schema_name: str = "main"
    row_count: int
    columns: tuple[RawColumn, ...]
    memory_bytes: int = Field(
        default=0, description="What loading the table whole into pandas would move, about."
    )


FixKind = Literal[
    "rename", "cast", "scale", "relabel", "impute", "shift_time", "normalise_key", "parse_time"
]
KeyStep = Literal["trim", "upper", "lower", "strip_prefix", "strip_suffix", "strip_zeros", "pad"]
"""One step of a key normalisation, from a fixed set (see ``ColumnFix``): never data text."""


class ColumnFix(_Frozen):
    """How a repaired plan version reads one column of a source, in SQL (raw data is untouched).

    * ``rename``: read ``source`` (the column's new name) as ``column``.
    * ``cast``: ``TRY_CAST`` to ``data_type`` (values that do not parse become NULL).
    * ``scale``: multiply by ``factor`` (and cast back to ``data_type``).
    * ``relabel``: map each new label to the old one (``mapping``: (new, old) pairs).
    * ``impute``: NULLs with ``since <= time_column < until`` become ``value``; an indicator
      column ``<column>__imputed`` says which rows were filled.
    * ``shift_time``: add ``hours`` to values at or after ``since``.
    * ``normalise_key``: read a key as text, apply ``steps`` in order (trim, upper/lower case,
      strip a non-digit prefix/suffix, strip leading zeros, left-pad with zeros to ``width``)
      and ``TRY_CAST`` to ``data_type``, the parent key's type, so it matches its parent again.
    * ``parse_time``: read text in ``format`` (one of ``warehouse.times.TIME_FORMATS``; None for
      ISO text) or an epoch in ``epoch_unit`` seconds/milliseconds as a TIMESTAMP (NULL where a
      value does not parse), so event-time filters work on times that arrived encoded.
    """

    kind: FixKind
    column: str
    source: str | None = None
    data_type: str | None = None
    factor: float | None = None
    mapping: tuple[tuple[str, str], ...] = ()
    value: float | None = None
    time_column: str | None = None
    since: str | None = None
    until: str | None = None
    hours: int | None = None
    steps: tuple[KeyStep, ...] = ()
    width: int | None = Field(default=None, ge=1, le=64)
    format: str | None = None
    epoch_unit: Literal["s", "ms"] | None = None


class RowFilter(_Frozen):
    """Rows of a source a repaired version quarantines (leaves out), as a kept-row predicate.

    * ``within``: keep rows whose ``column`` is NULL or within [``min_value``, ``max_value``].
    * ``in_parent``: keep rows whose ``column`` is NULL or found in
      ``parent_table``.``parent_column``.
    """

    kind: Literal["within", "in_parent"]
    column: str
    min_value: float | None = None
    max_value: float | None = None
    parent_table: str | None = None
    parent_column: str | None = None


class SourceAdapter(_Frozen):
    """How a repaired plan version reads a raw table: the relation behind ``source('raw', t)``.

    The features keep reading ``table`` as they were planned; the adapter reads ``read_from``
    (the table's current name), fixes columns, quarantines rows and drops duplicate keys, all
    in SQL over the untouched raw table.
    """

    table: str
    read_from: str | None = None
    columns: tuple[ColumnFix, ...] = ()
    keep: tuple[RowFilter, ...] = ()
    dedupe_on: str | None = None
    dedupe_order: tuple[str, ...] = ()
    accepted_values: tuple[tuple[str, tuple[str, ...]], ...] = Field(
        default=(),
        description="(column, values): new category levels the version's expectations accept.",
    )
    reasons: tuple[str, ...] = ()

    @property
    def physical(self) -> str:
        return self.read_from or self.table


class TrainingSetSpec(_Frozen):
    """How labelled rows are split; the split is a hash of the entity id, so it is stable."""

    train_fraction: float = Field(default=0.70, gt=0, lt=1)
    valid_fraction: float = Field(default=0.15, gt=0, lt=1)
    split_seed: int = 17
    max_train_rows: int = Field(
        default=100_000,
        ge=1_000,
        description="Training rows fetched at most (a stable hash sample beyond it): a learner"
        " gains little from more, and every row is egress.",
    )
    expectations: tuple[Expectation, ...] = ()


class Plan(_Frozen):
    """Everything needed to build and run one goal's asset graph."""

    goal: str
    goal_fingerprint: str
    objective: Objective
    profile_fingerprint: str
    warehouse_schema: str = "main"
    agent_schema: str
    raw_tables: tuple[RawTable, ...]
    warehouse_bytes: int = Field(
        default=0,
        description="What loading every profiled table into pandas would move, about: the peer"
        " of what a run lets leave the warehouse.",
    )
    feature_groups: tuple[FeatureGroup, ...]
    training_set: TrainingSetSpec = TrainingSetSpec()
    training: TrainingSpec
    budget: Budget
    kernel: str
    rationale: tuple[str, ...] = ()
    sources: tuple[SourceAdapter, ...] = Field(
        default=(), description="Repairs: how each adapted raw table is read (see SourceAdapter)."
    )
    schema_version: int | None = Field(
        default=None,
        description="The plan version whose schema the models are built in (set when written).",
    )

    @property
    def models_schema(self) -> str:
        """Every version builds its own tables, so a refused candidate never touches the live
        version's: ``<agent_schema>_v<N>``."""
        if self.schema_version is None:
            return self.agent_schema
        return f"{self.agent_schema}_v{self.schema_version}"

    def adapter(self, table: str) -> SourceAdapter | None:
        return next((a for a in self.sources if a.table == table), None)

    def physical(self, table: str) -> str:
        """The warehouse table read for the plan's ``table`` (its new name after a rename)."""
        adapter = self.adapter(table)
        return adapter.physical if adapter else table

    def group(self, name: str) -> FeatureGroup:
        for group in self.feature_groups:
            if group.name == name:
                return group
        raise KeyError(name)

    @property
    def feature_columns(self) -> tuple[str, ...]:
        return tuple(g.column_name(f) for g in self.feature_groups for f in g.features)

    @property
    def tables(self) -> tuple[str, ...]:
        """Every raw table one of the plan's feature groups reads."""
        names = [g.source_table for g in self.feature_groups]
        names += [g.via.table for g in self.feature_groups if g.via]
        names += [lookup.table for g in self.feature_groups for lookup in g.lookups]
        return tuple(dict.fromkeys(names))

    @property
    def categorical_columns(self) -> tuple[str, ...]:
        return tuple(
            g.column_name(f)
            for g in self.feature_groups
            for f in g.features
            if f.kind == "categorical"
        )

    def fingerprint(self) -> str:
        """Hash of the plan's content: two plans with the same fingerprint build the same graph."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]
