"""Load Vietnam's administrative units (before and after 1 July 2025) into `core`."""

from __future__ import annotations

import duckdb
import pandas as pd

from dvctt_pipeline.reference import admin_units
from dvctt_pipeline.warehouse import replace_table


def _tagged(frame: pd.DataFrame, geography_version: str) -> pd.DataFrame:
    return frame.assign(geography_version=geography_version)


def load_admin_units(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Provinces, districts, communes and the 63 → 34 province mapping, from vietnamadminunits."""
    provinces = pd.concat(
        [_tagged(admin_units.provinces(version), version) for version in ("legacy", "2025")]
    )[["geography_version", "province_code", "province_name", "province_full_name"]]
    communes = pd.concat(
        [_tagged(admin_units.communes(version), version) for version in ("legacy", "2025")]
    )[["geography_version", "province_code", "district_code", "commune_code", "commune_name"]]
    return {
        "core.provinces": replace_table(con, "core.provinces", provinces),
        "core.districts": replace_table(
            con, "core.districts", admin_units.districts()[
                ["province_code", "district_code", "district_name"]]
        ),
        "core.communes": replace_table(con, "core.communes", communes),
        "core.province_mapping_2025": replace_table(
            con, "core.province_mapping_2025", admin_units.province_mapping_2025()[
                ["old_province_code", "new_province_code"]]
        ),
    }
