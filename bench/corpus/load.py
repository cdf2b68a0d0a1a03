"""Load the corpus into DuckDB: one file per data set, from the packages that ship the data.

    python -m bench.corpus.load --out bench/data/corpus [--only telco,wine]

Writes ``<out>/<set>.duckdb`` and ``<out>/manifest.json`` (per set: package and version,
licence, tables with their row counts and a content hash). Nothing is downloaded: a set whose
package is not installed is reported in the manifest and skipped. Files are written with one
DuckDB thread and a fixed row order, so the same package versions give the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from bench.corpus.sets import BY_KEY, SETS, CorpusSet


def table_hash(conn: duckdb.DuckDBPyConnection, table: str) -> str:
    """sha256 (16 hex) of a table's rows in stored order, column names and types included."""
    frame = conn.execute(f'SELECT * FROM "{table}"').df()
    digest = hashlib.sha256()
    described = conn.execute(f'DESCRIBE "{table}"').fetchall()
    digest.update(json.dumps([(row[0], row[1]) for row in described]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def write_set(corpus_set: CorpusSet, out: Path) -> dict[str, Any]:
    """Build one set's tables and write them into ``out/<key>.duckdb`` (replacing it)."""
    started = time.perf_counter()
    tables = corpus_set.build()
    path = out / f"{corpus_set.key}.duckdb"
    partial = path.with_suffix(".duckdb.partial")
    partial.unlink(missing_ok=True)
    with duckdb.connect(str(partial)) as conn:
        conn.execute("SET threads = 1")
        for name, frame in tables.items():
            conn.register("frame_in", frame)
            conn.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame_in')
            conn.unregister("frame_in")
        conn.execute("CHECKPOINT")
        info = {
            name: {
                "rows": conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0],  # type: ignore[index]
                "columns": len(frame.columns),
                "hash": table_hash(conn, name),
            }
            for name, frame in tables.items()
        }
    partial.replace(path)
    return {
        "title": corpus_set.title,
        "file": path.name,
        "package": corpus_set.package,
        "version": corpus_set.package_version(),
        "licence": corpus_set.licence,
        "shape": corpus_set.shape,
        "tasks": list(corpus_set.tasks),
        "tables": info,
        "seconds": round(time.perf_counter() - started, 2),
    }


def load(out: Path, only: list[str] | None = None) -> dict[str, Any]:
    """Write every set (or ``only`` those) into ``out``; return and write the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    chosen = [BY_KEY[k] for k in only] if only else list(SETS)
    manifest: dict[str, Any] = {"sets": {}, "skipped": {}}
    for corpus_set in chosen:
        try:
            manifest["sets"][corpus_set.key] = write_set(corpus_set, out)
        except ImportError as error:  # the package is not installed here
            manifest["skipped"][corpus_set.key] = f"{corpus_set.package} not installed: {error}"
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--only", default="", help="comma-separated set keys (default: all)")
    args = parser.parse_args(argv)
    only = [k for k in args.only.split(",") if k] or None
    unknown = sorted(set(only or ()) - set(BY_KEY))
    if unknown:
        parser.error(f"unknown set(s) {', '.join(unknown)}; known: {', '.join(BY_KEY)}")
    manifest = load(args.out, only)
    for key, entry in manifest["sets"].items():
        tables = ", ".join(f"{t} {v['rows']:,}" for t, v in entry["tables"].items())
        print(f"{key:16} {entry['package']} {entry['version']}: {tables} ({entry['seconds']} s)")
    for key, why in manifest["skipped"].items():
        print(f"{key:16} SKIPPED: {why}", file=sys.stderr)
    return 1 if manifest["skipped"] else 0


if __name__ == "__main__":
    sys.exit(main())
