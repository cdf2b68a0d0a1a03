"""The resources a goal's assets reach the outside through: the warehouse, dbt, the artifacts.

Each has a key a deployment can set, and :func:`goal_definitions` supplies a default for each
built from the goal, so a goal needs no resources to run::

    agentic_warehouse  WarehouseResource(database=<goal.warehouse>)
    dbt                DbtCliResource(project_dir=<the plan version's dbt project>)
    agentic_artifacts  ArtifactStore(base_dir=<goal.artifacts_dir or its state dir>)

They hand plain paths and objects (:class:`~dagster_agentic.warehouse.connection.Warehouse`, a
directory) to the core, which knows nothing of Dagster.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import Field, field_validator

from dagster_agentic.errors import GoalError

if TYPE_CHECKING:
    import duckdb
    from dagster_dbt import DbtCliResource

    from dagster_agentic.goals.spec import Goal
    from dagster_agentic.guardrails.cost import QueryLimits
    from dagster_agentic.plan.store import PlanBundle
    from dagster_agentic.warehouse.connection import Warehouse

WAREHOUSE_KEY = "agentic_warehouse"
ARTIFACTS_KEY = "agentic_artifacts"
DBT_KEY = "dbt"
"""dagster-dbt's conventional key: a ``DbtCliResource`` under it is the goal's dbt."""


class WarehouseResource(dg.ConfigurableResource):
    """The goal's DuckDB warehouse, opened locked down: read-only unless writing, no external
    access, no extension loading, no persistent secrets, its configuration locked, every query
    under the goal's budget (:class:`~dagster_agentic.warehouse.connection.Warehouse`).

    Shaped like ``dagster_duckdb.DuckDBResource`` (``database``, ``get_connection()``), but not
    built on it: that resource always opens read-write (it has no ``read_only``), retries a
    held lock instead of reporting it, and leaves the configuration unlocked, so a statement
    could switch external access back on. A ``DuckDBResource`` passed under
    ``agentic_warehouse`` is accepted for its ``database``; its connections are never used.

    Example::

        da.goal_definitions(goal, resources={"agentic_warehouse":
            da.WarehouseResource(database=dg.EnvVar("WAREHOUSE_PATH"))})
    """

    database: str = Field(description="Path to the goal's DuckDB file.")

    @field_validator("database")
    @classmethod
    def _not_in_memory(cls, value: str) -> str:
        if value.strip() in ("", ":memory:") or value.startswith("md:"):
            raise ValueError(
                f"database {value!r} is not a DuckDB file: the goal's dbt project and every run"
                " must open the same file"
            )
        return value

    @property
    def path(self) -> Path:
        return Path(configured(self.database)).expanduser().absolute()

    def warehouse(self, limits: QueryLimits | None = None) -> Warehouse:
        """The warehouse the core queries, with ``limits`` (default: the default budget's)."""
        from dagster_agentic.guardrails.cost import QueryLimits
        from dagster_agentic.warehouse.connection import Warehouse

        return Warehouse(self.path, limits=limits or QueryLimits())

    @contextmanager
    def get_connection(self, *, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """A locked-down connection, closed on exit; read-only unless ``read_only=False``."""
        with self.warehouse().connect(read_only=read_only) as conn:
            yield conn


class ArtifactStore(dg.ConfigurableResource):
    """Where the goal's trained models, evaluations, explanations and scores are kept:
    ``<base_dir>/<goal>/artifacts/<version>``. The default is the goal's state dir.

    The model asset writes there and the evaluation, goal and predictions assets read it back,
    often in other processes (one run worker per run, a code server for the healing job): in a
    deployment point ``base_dir`` at a volume every one of them mounts at the same path (an
    NFS, EFS or Filestore share, a Kubernetes ``ReadWriteMany`` volume), through
    ``goal_definitions(goal, resources={"agentic_artifacts": ArtifactStore(base_dir=...)})``
    or ``Goal(artifacts_dir=...)``: then the goal itself, and so the headless runner, healing
    and ``predict`` of every process, use the same directory. Artifacts are files (models are
    pickled, plots are PNG), read and written with the file system's own calls: an object-store
    URL (``s3://...``) is refused, mount the bucket instead.
    """

    base_dir: str = Field(description="A directory every process of the deployment mounts.")

    @field_validator("base_dir")
    @classmethod
    def _a_directory(cls, value: str) -> str:
        if "://" in value:
            raise ValueError(
                f"base_dir {value!r} is a URL: artifacts are files written with the file"
                " system's calls; mount the storage (e.g. a shared volume) and name its path"
            )
        return value

    @property
    def path(self) -> Path:
        return Path(configured(self.base_dir)).expanduser().absolute()

    def version_of(self, goal: str, bundle: PlanBundle) -> Path:
        """The artifacts directory of ``bundle``'s version of ``goal`` (created); the layout
        is the plan store's."""
        from dagster_agentic.plan.store import PlanStore

        store = PlanStore(self.path, goal, artifacts_root=self.path)
        return store.artifacts_dir(bundle.version)


def configured(value: Any) -> str:
    """A resource field's value: an ``EnvVar`` read from the environment."""
    if isinstance(value, dg.EnvVar):
        found = value.get_value()
        if found is None:
            raise GoalError(
                f"the environment variable {value.env_var_name} is not set",
                fix=f"set {value.env_var_name}, or pass the path itself",
            )
        return str(found)
    return str(value)


def goal_with_resources(goal: Goal, resources: Mapping[str, Any]) -> Goal:
    """``goal`` with the warehouse and artifacts directory of the resources given for it, so
    the plan, dbt's profile and the core (healing, ``predict``, the runner) use those too."""
    update: dict[str, Path] = {}
    warehouse = resources.get(WAREHOUSE_KEY)
    if warehouse is not None:
        database = getattr(warehouse, "database", None)
        if database is None:
            raise GoalError(
                f"the {WAREHOUSE_KEY} resource has no database",
                fix="pass a WarehouseResource (or a dagster_duckdb.DuckDBResource) naming the file",
            )
        if getattr(warehouse, "connection_config", None):
            raise GoalError(
                f"the {WAREHOUSE_KEY} resource sets connection_config: the goal's connections"
                " are locked down and sized by its budget",
                fix="leave connection_config out, and set memory and threads in the goal's"
                " budget (max_query_memory_mb, max_query_threads)",
            )
        update["warehouse"] = WarehouseResource(database=configured(database)).path
    artifacts = resources.get(ARTIFACTS_KEY)
    if artifacts is not None:
        if not isinstance(artifacts, ArtifactStore):
            raise GoalError(
                f"the {ARTIFACTS_KEY} resource must be an ArtifactStore, got"
                f" {type(artifacts).__name__}",
                fix="pass dagster_agentic.ArtifactStore(base_dir=...)",
            )
        update["artifacts_dir"] = artifacts.path
    return goal.model_copy(update=update) if update else goal


def goal_resources(goal: Goal, bundle: PlanBundle, given: Mapping[str, Any]) -> dict[str, Any]:
    """The defaults, replaced by what is ``given``; a ``DuckDBResource`` becomes a
    :class:`WarehouseResource` of its database (its own connections are not locked down)."""
    resources = {**default_resources(goal, bundle), **given}
    warehouse = resources[WAREHOUSE_KEY]
    if not isinstance(warehouse, WarehouseResource):
        resources[WAREHOUSE_KEY] = WarehouseResource(database=warehouse.database)
    return resources


def default_resources(goal: Goal, bundle: PlanBundle) -> dict[str, Any]:
    """The resources of ``goal``'s assets when none are given."""
    from dagster_dbt import DbtCliResource

    from dagster_agentic.features.dbt_project import dbt_executable

    project = str(bundle.dbt_dir)
    return {
        WAREHOUSE_KEY: WarehouseResource(database=str(goal.warehouse)),
        ARTIFACTS_KEY: ArtifactStore(base_dir=str(goal.artifacts_dir or goal.resolved_state_dir)),
        DBT_KEY: DbtCliResource(
            project_dir=project, profiles_dir=project, dbt_executable=dbt_executable()
        ),
    }


def require_same(what: str, given: Path, expected: Path) -> None:
    """A resource set outside :func:`goal_definitions` (a ``Definitions`` merge) must name the
    goal's own file or directory: the plan and dbt's profile were built for that one."""
    if given.resolve() != expected.resolve():
        raise dg.Failure(
            description=f"the {what} resource names {given}, but the goal's is {expected}",
            metadata={
                "fix": "pass the resource through goal_definitions(goal, resources=...), or"
                " declare the goal with that path"
            },
        )


def checked_warehouse(resource: WarehouseResource, goal: Goal) -> Warehouse:
    """The warehouse ``resource`` opens, with the goal's query limits; it must be the goal's."""
    warehouse = resource.warehouse(goal.budget.query_limits())
    require_same(WAREHOUSE_KEY, warehouse.path, goal.warehouse)
    return warehouse


def checked_artifacts(store: ArtifactStore, bundle: PlanBundle, expected: Path) -> Path:
    """The artifacts directory ``store`` gives ``bundle``'s version; it must be ``expected``
    (the goal's, which the core reads)."""
    found = store.version_of(bundle.plan.goal, bundle)
    require_same(ARTIFACTS_KEY, found, expected)
    return found


def version_dbt(dbt: DbtCliResource, bundle: PlanBundle) -> DbtCliResource:
    """``dbt`` as configured by the user (executable, global flags, state path) on the plan
    version's project and its generated profile, behind the launcher that makes dbt die with
    this process, and without colour codes when the output is not a terminal. dbt's version
    is asked once per process and no in-process adapter is made (:mod:`.dbt_runner`)."""
    from dagster_agentic.features.dbt_launcher import launcher
    from dagster_agentic.orchestration.dbt_runner import BuildDbtResource

    flags = list(dbt.global_config_flags)
    if not sys.stdout.isatty() and not any("use-colors" in flag for flag in flags):
        flags.append("--no-use-colors")
    executable = dbt.dbt_executable
    if not _is_launcher(executable):
        executable = launcher(shutil.which(executable) or executable)
    project = str(bundle.dbt_dir)
    return BuildDbtResource(
        project_dir=project,
        profiles_dir=project,
        dbt_executable=executable,
        global_config_flags=flags,
        state_path=dbt.state_path,
    )


def _is_launcher(executable: str) -> bool:
    return Path(executable).parent.name == f"dagster-agentic-{os.getuid()}"
