"""Saving a trained learner so that another process can load and score with it."""

from __future__ import annotations

import json
from pathlib import Path

from dagster_agentic.errors import AgenticError
from dagster_agentic.training.learners import Learner, load_family

LEARNER_FILE = "learner.json"
FORMAT_VERSION = 1


def save_learner(learner: Learner, dir: Path | str) -> Path:
    """Write the learner's files and ``learner.json`` naming its family; returns ``dir``."""
    path = Path(dir)
    path.mkdir(parents=True, exist_ok=True)
    learner.save(path)
    manifest = {
        "family": learner.family,
        "format_version": FORMAT_VERSION,
        "feature_columns": list(learner.feature_columns),
    }
    # Written last: its presence marks a complete artifact.
    (path / LEARNER_FILE).write_text(json.dumps(manifest, indent=1))
    return path


def load_learner(dir: Path | str) -> Learner:
    """Load the learner saved in ``dir`` by :func:`save_learner`."""
    path = Path(dir)
    manifest_path = path / LEARNER_FILE
    if not manifest_path.is_file():
        raise AgenticError(
            f"no trained model at {path} ({LEARNER_FILE} is missing)",
            fix="run the model step first, or point the evaluation at its output directory",
        )
    try:
        manifest = json.loads(manifest_path.read_text())
        family = str(manifest["family"])
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise AgenticError(
            f"{manifest_path} is not a valid model manifest: {error}",
            fix="re-run the model step to rewrite the model artifacts",
        ) from error
    version = int(manifest.get("format_version", FORMAT_VERSION))
    if version > FORMAT_VERSION:
        raise AgenticError(
            f"{manifest_path} has format version {version}, newer than this package reads "
            f"({FORMAT_VERSION})",
            fix="upgrade dagster-agentic in the evaluation environment",
        )
    return load_family(family, path)
