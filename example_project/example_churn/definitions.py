"""The example project's definitions: everything under ``defs/``, i.e. the churn goal."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from example_churn.warehouse import DEFAULT_PATH, ensure_warehouse


@dg.definitions
def defs() -> dg.Definitions:
    # A fresh checkout has no warehouse yet: generate the default one so the UI has data.
    ensure_warehouse(DEFAULT_PATH)
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
