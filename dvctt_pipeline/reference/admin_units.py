"""Vietnam's administrative units before and after the 1 July 2025 reorganisation.

Read offline from the dataset bundled with the `vietnamadminunits` package, so the
pipeline and the sample generator never need the network. Two geographies exist:

- ``"legacy"``: 63 provinces, their districts and communes (valid until 2025-06-30);
- ``"2025"``: 34 provinces and their communes, no district level (from 2025-07-01).

All codes are GSO codes kept as zero-padded text (province 2 digits, district 3,
commune 5), exactly as the dataset stores them.
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from importlib import resources

import pandas as pd

REORGANISATION_DATE: date = date(2025, 7, 1)

LEGACY = "legacy"
GEOGRAPHY_2025 = "2025"
GEOGRAPHIES = (LEGACY, GEOGRAPHY_2025)

_TABLE_BY_GEOGRAPHY = {LEGACY: "admin_units_legacy", GEOGRAPHY_2025: "admin_units"}


def geography_on(day: date) -> str:
    """The geography in force on ``day``: ``"legacy"`` before 2025-07-01, else ``"2025"``."""
    return LEGACY if day < REORGANISATION_DATE else GEOGRAPHY_2025


def _query(sql: str) -> list:
    """Rows of the package's bundled dataset. The package is imported here, not with this
    module: its import compiles its address parsers (seconds), and only loading the admin
    units needs it, not every process that loads the Dagster definitions."""
    from vietnamadminunits.database import query

    return query(sql)


def _table(geography: str) -> str:
    if geography not in _TABLE_BY_GEOGRAPHY:
        raise ValueError(f"unknown geography {geography!r}; expected one of {GEOGRAPHIES}")
    return _TABLE_BY_GEOGRAPHY[geography]


@cache
def _provinces(geography: str) -> pd.DataFrame:
    rows = _query(
        f"""SELECT DISTINCT provinceCode AS province_code, provinceShort AS province_name,
                   province AS province_full_name, provinceKey AS province_key
            FROM [{_table(geography)}] ORDER BY provinceCode"""
    )
    return pd.DataFrame(rows, dtype="str")


def provinces(geography: str) -> pd.DataFrame:
    """Provinces of a geography: code, short name, full name and the dataset's key."""
    # Callers get a copy so that mutating it cannot corrupt the cache.
    return _provinces(geography).copy()


@cache
def _districts() -> pd.DataFrame:
    rows = _query(
        """SELECT DISTINCT provinceCode AS province_code, districtCode AS district_code,
                  district AS district_name
           FROM admin_units_legacy ORDER BY provinceCode, districtCode"""
    )
    return pd.DataFrame(rows, dtype="str")


def districts() -> pd.DataFrame:
    """Legacy districts (the 2025 geography has none): province, district code, full name."""
    return _districts().copy()


@cache
def _communes(geography: str) -> pd.DataFrame:
    district_column = "districtCode" if geography == LEGACY else "NULL"
    # A handful of legacy island districts have no commune row (wardCode NULL).
    rows = _query(
        f"""SELECT provinceCode AS province_code, {district_column} AS district_code,
                   wardCode AS commune_code, ward AS commune_name
            FROM [{_table(geography)}] WHERE wardCode IS NOT NULL
            ORDER BY provinceCode, wardCode"""
    )
    frame = pd.DataFrame(rows, columns=["province_code", "district_code", "commune_code",
                                        "commune_name"])
    return frame.astype({"province_code": "str", "commune_code": "str", "commune_name": "str",
                         "district_code": "object"})


def communes(geography: str) -> pd.DataFrame:
    """Communes/wards of a geography; ``district_code`` is None in the 2025 geography."""
    return _communes(geography).copy()


@cache
def _province_keys_2025() -> dict[str, list[str]]:
    converter = resources.files("vietnamadminunits") / "data" / "converter_2025.json"
    return json.loads(converter.read_text(encoding="utf-8"))["DICT_PROVINCE"]


@cache
def _province_mapping_2025() -> pd.DataFrame:
    legacy_code_by_key = _provinces(LEGACY).set_index("province_key")["province_code"]
    new_code_by_key = _provinces(GEOGRAPHY_2025).set_index("province_key")["province_code"]
    pairs = [
        (legacy_code_by_key[old_key], new_code_by_key[new_key])
        for new_key, old_keys in _province_keys_2025().items()
        for old_key in old_keys
    ]
    frame = pd.DataFrame(pairs, columns=["old_province_code", "new_province_code"], dtype="str")
    return frame.sort_values("old_province_code", ignore_index=True)


def province_mapping_2025() -> pd.DataFrame:
    """Each of the 63 legacy provinces mapped to the one of the 34 that absorbed it."""
    return _province_mapping_2025().copy()
