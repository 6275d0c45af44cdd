"""Data versions as Dagster records them on an asset's events: the tag its UI reads to show
an asset "Unsynced", written by the assets that compute their own version and read back by
the runs that compare with it."""

import dagster as dg
from dagster._core.definitions.data_version import DATA_VERSION_TAG  # not public, but the one


def version_tags(version: str) -> dict[str, str]:
    """The tags that record an event's data version."""
    return {DATA_VERSION_TAG: version}


def recorded_version(
    event: dg.AssetMaterialization | dg.AssetObservation | None,
) -> str | None:
    """The data version an event recorded, if any."""
    return (event.tags or {}).get(DATA_VERSION_TAG) if event else None
