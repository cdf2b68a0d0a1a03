"""The dbt resource a plan version's build runs through: dagster-dbt's ``DbtCliResource``
without the two costs it pays on every build that a goal's assets never use.

- ``dbt --version``: dagster-dbt runs it once per resource instance to tell dbt Core from the
  Fusion engine, and a goal makes one instance per build. Here it runs once per executable per
  process, keyed by the executable file's path, size and modification time.
- The in-process dbt Core adapter: dagster-dbt loads the project, the profile and every macro of
  dbt's to give ``fetch_column_metadata`` and ``fetch_row_counts`` a connection. A goal's build
  streams its events without either, and its checks read the warehouse through their own
  guarded connection, so no adapter is made (as for the Fusion engine, which has none).

Imported only where a build runs: dagster-dbt is a heavy import.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from threading import Lock
from typing import Any

from dagster_dbt import DbtCliResource
from packaging import version

_VERSIONS: dict[tuple[str, int, int], version.Version] = {}
_LOCK = Lock()


def dbt_version(executable: str) -> version.Version:
    """The version ``executable --version`` prints, asked once per process and executable."""
    found_at = shutil.which(executable)
    try:
        path = Path(found_at or executable).resolve()
        stat = path.stat()
        key: tuple[str, int, int] | None = (str(path), stat.st_size, stat.st_mtime_ns)
    except OSError:  # not found: dbt's own error comes from running it
        key = None
    with _LOCK:
        if key is not None and key in _VERSIONS:
            return _VERSIONS[key]
    output = subprocess.check_output([executable, "--version"]).decode("utf-8").strip()
    match = re.search(r"(\d+\.\d+\.\d+)", output)
    if not match:
        raise ValueError(f"could not read dbt's version from `{executable} --version`: {output}")
    found = version.parse(match.group(1))
    if key is not None:
        with _LOCK:
            _VERSIONS[key] = found
    return found


class BuildDbtResource(DbtCliResource):
    """``DbtCliResource`` for a plan version's ``dbt build``: dbt's version asked once per
    process, and no in-process adapter (see the module's docstring)."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return dbt_version(self.dbt_executable)

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        return None
