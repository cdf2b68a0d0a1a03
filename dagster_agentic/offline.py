"""The switches that keep third-party libraries offline, given only to what needs them.

Importing the package never changes the process's environment: a library that reads its
switch from the environment once (litellm reads ``LITELLM_LOCAL_MODEL_COST_MAP`` while it is
imported) gets it for that moment only, and subprocesses get an environment of their own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

DBT_SWITCHES = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "False", "DBT_USE_COLORS": "False"}
"""dbt sends no usage statistics and (its output read by a program) draws no colours."""
LITELLM_SWITCHES = {"LITELLM_LOCAL_MODEL_COST_MAP": "True"}
"""litellm reads its cost map from the installed package instead of fetching it."""

_LOCK = threading.Lock()


def with_switches(base: Mapping[str, str], switches: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``base`` with ``switches`` added where ``base`` does not set them already
    (a switch the user set deliberately is theirs)."""
    return {**switches, **base}


@contextmanager
def scoped_environ(switches: Mapping[str, str]) -> Iterator[None]:
    """Set the ``switches`` the environment lacks for the duration of the block only; the
    environment is as it was afterwards (names the block itself set are removed again)."""
    with _LOCK:
        added = [name for name in switches if name not in os.environ]
        for name in added:
            os.environ[name] = switches[name]
        try:
            yield
        finally:
            for name in added:
                os.environ.pop(name, None)
