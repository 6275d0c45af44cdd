"""The landing folder's dossier exports as a monthly source asset, observed by the landing
sensor: each month's data version is a digest of the exports that touch that month (their
paths, sizes and modification times). When new exports land for a month, the sensor records
the month's new version, and Dagster shows that month of the staged dossiers and of every
model after them as stale ("upstream data version changed") until a run covers it."""

import hashlib
from collections.abc import Mapping

import dagster as dg

from dvctt_pipeline.defs.partitions import MONTHLY_PARTITIONS

LANDING_EXPORTS = dg.AssetKey(["landing", "dossier_exports"])


def month_versions(
    fingerprints: Mapping[str, str], file_months: Mapping[str, list[str]]
) -> dict[str, str]:
    """Month (first day, ISO) -> digest of the exports that touch it."""
    files_of: dict[str, list[str]] = {}
    for path, months in file_months.items():
        for month in months:
            files_of.setdefault(month, []).append(f"{path} {fingerprints.get(path, 'gone')}")
    return {month: hashlib.sha256("\n".join(sorted(files)).encode()).hexdigest()[:24]
            for month, files in files_of.items()}


@dg.definitions
def landing_exports() -> dg.Definitions:
    return dg.Definitions(assets=[dg.AssetSpec(
        LANDING_EXPORTS, group_name="ingest", partitions_def=MONTHLY_PARTITIONS,
        description="The dossier exports of the landing folder, by the months their dossiers "
        "were received or finished in. Observed by the landing_files sensor: a month's data "
        "version changes when an export touching it lands or is delivered again.",
    )])
