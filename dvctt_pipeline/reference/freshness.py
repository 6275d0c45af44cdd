"""What the reference tables are loaded from, as versions Dagster can compare.

They come from a handful of small files (agencies, catalogue, targets, fees) and the
vietnamadminunits package, which change a few times a year, while the pipeline runs every
day: reloading them every run costs seconds of a daily run that should take a few (the
agency name keys alone take about 3 s). Each reference source has a data version, a digest
of the content of its files (or the package's version), and the reference assets a code
version, a digest of this package's reference code; Dagster records both with every
materialization, and a source is loaded again only when one of them differs from its last
record (defs/assets.py).
"""

from __future__ import annotations

import hashlib
from importlib.metadata import version
from pathlib import Path

from dvctt_pipeline.reference.agencies import AGENCIES_FILE
from dvctt_pipeline.reference.catalog import CATALOG_DIR
from dvctt_pipeline.reference.fees import FEES_FILE
from dvctt_pipeline.reference.targets import TARGETS_DIR

REFERENCE_CODE = Path(__file__).resolve().parent
# The folders of the landing folder each reference source reads: the targets resolve named
# agencies against agencies.csv, so they are loaded again when it changes.
SOURCE_FOLDERS: dict[str, tuple[Path, ...]] = {
    "agencies": (AGENCIES_FILE.parent,),
    "service_catalog": (CATALOG_DIR,),
    "targets": (TARGETS_DIR, AGENCIES_FILE.parent),
    "fee_policies": (FEES_FILE.parent,),
}
ADMIN_UNITS_PACKAGE = "vietnamadminunits"


def reference_files(landing: Path, folders: tuple[Path, ...]) -> list[Path]:
    return sorted(p for folder in folders for p in (landing / folder).rglob("*") if p.is_file())


def source_version(landing: Path, source: str) -> str:
    """A digest of what a reference source is loaded from: its files' names and content."""
    if source == "admin_units":
        return f"{ADMIN_UNITS_PACKAGE} {version(ADMIN_UNITS_PACKAGE)}"
    digest = hashlib.sha256()
    for path in reference_files(landing, SOURCE_FOLDERS[source]):
        digest.update(f"{path.relative_to(landing)}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def code_version(files: list[Path]) -> str:
    """A digest of the source files that make an asset: a release that changes them makes the
    asset again."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def reference_code_version() -> str:
    """A release that loads the reference files differently loads them again."""
    return code_version(list(REFERENCE_CODE.glob("*.py")))
