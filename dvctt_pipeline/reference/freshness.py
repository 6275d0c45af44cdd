"""Whether the reference tables must be loaded again.

They come from a handful of small files (agencies, catalogue, targets, fees) and the
vietnamadminunits package, which change a few times a year, while the pipeline runs every
day: reloading them every run costs seconds of a daily run that should take a few (the
agency name keys alone take about 3 s). A reference asset loads its tables when the
fingerprint of all their inputs differs from the one `meta.reference_loads` holds for it:
every reference file's path, size and modification time, the package's version, and this
package's reference code (a release that loads them differently loads them again).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import TypeVar

import duckdb

from dvctt_pipeline.reference.agencies import AGENCIES_FILE
from dvctt_pipeline.reference.catalog import CATALOG_DIR
from dvctt_pipeline.reference.fees import FEES_FILE
from dvctt_pipeline.reference.targets import TARGETS_DIR

REFERENCE_FOLDERS = (AGENCIES_FILE.parent, CATALOG_DIR, TARGETS_DIR, FEES_FILE.parent)
REFERENCE_CODE = Path(__file__).resolve().parent
T = TypeVar("T")


def reference_fingerprint(landing: Path) -> str:
    digest = hashlib.sha256(f"vietnamadminunits {version('vietnamadminunits')}".encode())
    for folder in REFERENCE_FOLDERS:
        for path in sorted(p for p in (landing / folder).rglob("*") if p.is_file()):
            stat = path.stat()
            digest.update(f"{path.relative_to(landing)} {stat.st_size} {stat.st_mtime_ns}".encode())
    for module in sorted(REFERENCE_CODE.glob("*.py")):
        digest.update(module.read_bytes())
    return digest.hexdigest()


def loaded_from(con: duckdb.DuckDBPyConnection, source: str) -> str | None:
    """The fingerprint the source's tables were last loaded from, if any."""
    row = con.execute(
        "SELECT fingerprint FROM meta.reference_loads WHERE source = $source", {"source": source}
    ).fetchone()
    return row[0] if row else None


def mark_loaded(con: duckdb.DuckDBPyConnection, source: str, fingerprint: str) -> None:
    con.execute("DELETE FROM meta.reference_loads WHERE source = $source", {"source": source})
    con.execute(
        "INSERT INTO meta.reference_loads VALUES ($source, $fingerprint, $loaded_at)",
        {"source": source, "fingerprint": fingerprint, "loaded_at": datetime.now(UTC)},
    )


def load_when_changed(
    con: duckdb.DuckDBPyConnection, source: str, landing: Path, load: Callable[[], T]
) -> T | None:
    """Run `load` unless the source's tables were loaded from the same inputs already; its
    result, or None when nothing was loaded."""
    fingerprint = reference_fingerprint(landing)
    if loaded_from(con, source) == fingerprint:
        return None
    result = load()
    mark_loaded(con, source, fingerprint)
    return result
