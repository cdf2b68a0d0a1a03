"""The user-facing declaration of a goal."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dagster_agentic.goals.kernel_spec import _URL, ModelKernelSpec
from dagster_agentic.goals.objective import UNBOUNDED_METRICS, Metric, TaskType
from dagster_agentic.guardrails.cost import QueryLimits

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class Budget(BaseModel):
    """Hard limits on what one goal run may spend."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_train_seconds: float = Field(default=300.0, gt=0, description="Wall time for training.")
    max_trials: int = Field(default=8, ge=1, description="Model fits tried per plan version.")
    max_egress_bytes: int = Field(
        default=512 * 1024 * 1024, gt=0, description="Bytes allowed to leave the warehouse per run."
    )
    max_query_seconds: float = Field(
        default=600.0, gt=0, description="Wall time of one agent query; it is interrupted then."
    )
    max_query_rows: int = Field(
        default=10_000_000_000,
        gt=0,
        description="Largest row count DuckDB may estimate for any step of an agent query.",
    )
    max_query_memory_mb: int = Field(
        default=8192, ge=64, description="DuckDB memory_limit of the agent's connections and dbt's."
    )
    max_query_threads: int | None = Field(
        default=None,
        ge=1,
        description="DuckDB threads of the agent's connections (default: cores).",
    )

    def query_limits(self) -> QueryLimits:
        """What one agent query may cost in the warehouse (``guardrails.cost``)."""
        return QueryLimits(
            max_seconds=self.max_query_seconds,
            max_rows=self.max_query_rows,
            memory_mb=self.max_query_memory_mb,
            threads=self.max_query_threads,
        )


class Healing(BaseModel):
    """How the agent repairs the goal's pipeline when the data changes under it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(default=True, description="Diagnose and repair failed checks.")
    metric_tolerance: float = Field(
        default=0.05,
        ge=0.0,
        le=1.0,
        description="A repair goes live only if the goal metric drops by at most this much"
        " (absolute) from the last good version's.",
    )
    max_attempts: int = Field(
        default=2,
        ge=1,
        le=5,
        description="Repairs tried per incident; a later one builds on a candidate whose own"
        " checks revealed another cause.",
    )
    max_seconds: float = Field(
        default=1800.0,
        gt=0,
        description="Wall time of one incident: no repair is started after it, and a"
        " candidate's training gets at most what is left of it.",
    )
    allow_loss: bool = Field(
        default=False,
        description="Let a repair that loses a source table, or more than max_feature_loss of"
        " the live version's features or max_importance_loss of its SHAP importance, go live"
        " as 'repaired_with_loss' (reported with what was lost and what it cost). Off: such a"
        " repair is refused and the last good version stays live.",
    )
    max_feature_loss: float = Field(
        default=0.25,
        ge=0.0,
        le=1.0,
        description="Share of the live version's feature columns a plain repair may drop.",
    )
    max_importance_loss: float = Field(
        default=0.2,
        ge=0.0,
        le=1.0,
        description="Share of the live model's SHAP importance (mean |SHAP|, on the features"
        " the repair drops) a plain repair may lose.",
    )


class GoalOverrides(BaseModel):
    """Explicit fields that win over what the kernel reads from the objective's text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target: str | None = Field(
        default=None, description="Label column, as 'column' or 'table.column'."
    )
    entity_table: str | None = Field(
        default=None, description="Table with one row per entity the model scores."
    )
    task: TaskType | None = Field(
        default=None,
        description="binary_classification, multiclass_classification or regression; default:"
        " read from the words and the target column.",
    )
    metric: Metric | None = Field(
        default=None,
        description="The metric the threshold applies to; default: read from the words.",
    )
    threshold: float | None = Field(
        default=None,
        ge=0.0,
        description="A score's floor in [0, 1]; for rmse and mae a ceiling in the target's unit.",
    )
    cohort: str | None = Field(
        default=None, description="SQL predicate over the entity table, e.g. \"country = 'DE'\"."
    )

    @model_validator(mode="after")
    def _threshold_fits_metric(self) -> GoalOverrides:
        """A threshold above 1 is in the target's unit: only an error metric takes one, and
        it must be named with it (else 25000 could be read as a score)."""
        if (
            self.threshold is not None
            and self.threshold > 1.0
            and self.metric not in UNBOUNDED_METRICS
        ):
            named = f"a {self.metric} threshold" if self.metric else "a threshold"
            raise ValueError(
                f"{named} must be less than or equal to 1, got {self.threshold:g}; only "
                "rmse and mae take thresholds in the target's unit (set metric= with it)"
            )
        return self


class Predictions(BaseModel):
    """Which entities ``<goal>/predictions`` (and ``dagster-agentic predict``) scores, and as of
    when. Not part of the plan: changing it never plans or trains again.

    Example::

        Predictions(entities="unlabelled", where="country = 'DE'")
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    entities: Literal["all", "unlabelled"] = Field(
        default="all",
        description="'all': every row of the entity table; 'unlabelled': the entities with no"
        " labelled row in the label table yet (no row, or only rows whose target is NULL).",
    )
    where: str | None = Field(
        default=None,
        description="A boolean SQL predicate over the entity table's columns, checked like"
        " overrides.cohort, e.g. \"country = 'DE'\".",
    )
    as_of: datetime | None = Field(
        default=None,
        description="The prediction time features are computed at (point in time, like each"
        " label's cutoff); default: the moment of scoring.",
    )


class Telemetry(BaseModel):
    """Where the goal's runs send their spans (OpenTelemetry GenAI conventions, OTLP/HTTP).
    Not part of the plan: changing it never plans again.

    Example::

        Telemetry(otlp_endpoint="http://127.0.0.1:4318/v1/traces")
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP traces endpoint of every span of a run (agent steps, tools,"
        " decisions, model calls); default: the model kernel's otlp_endpoint, else"
        " OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT, else no export."
        " The SQLite trace records every step either way.",
    )

    @field_validator("otlp_endpoint")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not _URL.match(value):
            raise ValueError(
                f"telemetry.otlp_endpoint {value!r} must be an http:// or https:// URL"
            )
        return value


class Goal(BaseModel):
    """A goal: what to optimise, in words, against which warehouse.

    Example::

        Goal(
            name="churn",
            objective="Optimise the churn prediction model for 95% precision on European cohorts",
            warehouse="data/warehouse.duckdb",
        )
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Lower-case identifier; prefixes every asset of the goal.")
    objective: str = Field(
        min_length=1,
        description="What to optimise, in words, e.g. 'Optimise the churn prediction model for"
        " 95% precision on European cohorts'.",
    )
    warehouse: Path = Field(
        description="Path to the DuckDB file; a relative one is relative to the working"
        " directory where the Goal is built (a YAML declaration's: to its project)."
    )
    overrides: GoalOverrides = GoalOverrides()
    exclude_columns: tuple[str, ...] = Field(
        default=(),
        description="Columns no feature may read, as 'table.column' or 'column': those recorded"
        " with or after the outcome (an actual arrival time when delays are predicted at"
        " departure), or not to be used. Each must exist.",
    )
    budget: Budget = Field(
        default=Budget(), description="Hard limits on what one goal run may spend (see Budget)."
    )
    healing: Healing = Field(
        default=Healing(), description="How failed checks are diagnosed and repaired (see Healing)."
    )
    kernel: ModelKernelSpec | None = Field(
        default=None,
        description="A language model that reasons for this goal (see ModelKernelSpec);"
        " default: the offline policy kernel.",
    )
    # Excluded from dumps, so from the plan's fingerprint: what is scored is not what is planned.
    predictions: Predictions = Field(
        default=Predictions(),
        exclude=True,
        description="Which entities the predictions asset scores (see Predictions).",
    )
    telemetry: Telemetry = Field(
        default=Telemetry(),
        exclude=True,
        description="Where the goal's runs export their spans (see Telemetry).",
    )
    state_dir: Path | None = Field(
        default=None,
        description="Where plan versions and the trace live; default '<warehouse dir>/.agentic'.",
    )

    # Excluded from dumps too: where files are kept is no part of the plan.
    artifacts_dir: Path | None = Field(
        default=None,
        exclude=True,
        description="Where trained models, evaluations and scores of each plan version live"
        " (<artifacts_dir>/<goal>/artifacts/<version>); default: the state dir. Point it at"
        " storage every process of a deployment mounts (see ArtifactStore).",
    )

    @field_validator("warehouse", "state_dir", "artifacts_dir")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        """Relative paths are resolved once, here, against the working directory of the
        declaration: definitions built, dbt parsed or runs started later from another
        directory (a code server, a run worker, a test) all mean the same files."""
        if value is None:
            return None
        return Path(value).expanduser().absolute()

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                f"goal name {value!r} must be lower-case letters, digits and underscores, "
                "starting with a letter (it becomes part of asset keys and SQL identifiers)"
            )
        return value

    @field_validator("exclude_columns")
    @classmethod
    def _named_columns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            if not entry.strip() or entry.strip().startswith(".") or entry.strip().endswith("."):
                raise ValueError(
                    f"exclude_columns entry {entry!r} must name a column as 'table.column' or"
                    " 'column'"
                )
        return tuple(entry.strip() for entry in value)

    @property
    def resolved_state_dir(self) -> Path:
        return self.state_dir or self.warehouse.parent / ".agentic"
