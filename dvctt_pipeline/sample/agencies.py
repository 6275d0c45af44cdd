"""The sample agency registry: departments, district and commune People's Committees.

Codes are shaped like the national electronic identifier (``000.00.12.H17``). Legacy
agencies carry the letter ``H`` and 2025 agencies the letter ``K`` so that the two
geographies never share a code:

- department ``000.00.<nn>.<L><pp>`` with nn = 01..20;
- district People's Committee ``000.00.<30+j>.H<pp>`` for the j-th district (31..60);
- commune People's Committee ``<kkk>.<30+j>.00.H<pp>`` for the k-th commune of district j,
  or ``<kkk>.00.00.K<pp>`` for the k-th commune of a 2025 province.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dvctt_pipeline.reference import admin_units
from dvctt_pipeline.sample import seed_2022
from dvctt_pipeline.sample.vocabulary import DEPARTMENTS_2025, LEGACY_DEPARTMENTS

REGISTRY_COLUMNS = [
    "agency_code", "agency_name", "admin_level", "province_code", "district_code",
    "commune_code", "valid_from", "valid_to", "aliases",
]
VALIDITY = {
    admin_units.LEGACY: ("2015-01-01", "2025-06-30"),
    admin_units.GEOGRAPHY_2025: ("2025-07-01", ""),
}
CODE_LETTER = {admin_units.LEGACY: "H", admin_units.GEOGRAPHY_2025: "K"}
UNIT_TYPES = ("Tỉnh", "Thành phố", "Thị xã", "Thị trấn", "Đặc khu", "Quận", "Huyện", "Phường", "Xã")
# Spellings seen in real exports: old tone placement and the report's "Đắc Nông".
SPELLING_VARIANTS = {"Hòa": "Hoà", "Khánh Hòa": "Khánh Hoà", "Đắk Nông": "Đắc Nông"}


def lower_unit_type(full_name: str) -> str:
    """'Huyện Lạc Sơn' -> 'huyện Lạc Sơn', as the unit type reads inside an agency name."""
    for unit_type in UNIT_TYPES:
        if full_name.startswith(unit_type + " "):
            return unit_type.lower() + full_name[len(unit_type):]
    return full_name


def _department_counts(province_codes: list[str], rng: np.random.Generator) -> list[int]:
    counts = rng.integers(15, 21, size=len(province_codes))
    return [
        seed_2022.HOA_BINH_DEPARTMENTS if code == seed_2022.HOA_BINH_CODE else int(n)
        for code, n in zip(province_codes, counts, strict=True)
    ]


def _variant_spelling(name: str) -> str | None:
    variant = name
    for standard, other in SPELLING_VARIANTS.items():
        variant = variant.replace(standard, other)
    return variant if variant != name else None


def _department_rows(geography: str, rng: np.random.Generator) -> list[dict[str, str]]:
    provinces = admin_units.provinces(geography)
    titles = LEGACY_DEPARTMENTS if geography == admin_units.LEGACY else DEPARTMENTS_2025
    if geography == admin_units.LEGACY:
        counts = _department_counts(provinces["province_code"].tolist(), rng)
    else:
        counts = [len(titles)] * len(provinces)
    rows = []
    for province, count in zip(provinces.itertuples(), counts, strict=True):
        suffix = lower_unit_type(province.province_full_name)
        for number, title in enumerate(titles[:count], start=1):
            name = f"{title} {suffix}"
            aliases = [a for a in [_variant_spelling(name)] if a]
            if province.province_code == seed_2022.HCM_CODE:
                aliases.append(f"{title} TP.HCM")
            rows.append({
                "agency_code": f"000.00.{number:02d}.{CODE_LETTER[geography]}"
                               f"{province.province_code}",
                "agency_name": name, "admin_level": "province",
                "province_code": province.province_code, "district_code": "",
                "commune_code": "", "aliases": "|".join(aliases),
            })
    return rows


def _district_rows() -> list[dict[str, str]]:
    districts = admin_units.districts()
    districts["number"] = districts.groupby("province_code").cumcount() + 1
    rows = []
    for district in districts.itertuples():
        name = f"UBND {lower_unit_type(district.district_name)}"
        # Every fifth district also appears with the long form of "UBND" in exports.
        long_form = name.replace("UBND", "Ủy ban nhân dân", 1) if district.number % 5 == 0 else ""
        rows.append({
            "agency_code": f"000.00.{30 + district.number:02d}.H{district.province_code}",
            "agency_name": name, "admin_level": "district",
            "province_code": district.province_code, "district_code": district.district_code,
            "commune_code": "", "aliases": long_form,
        })
    return rows


def _commune_rows(geography: str) -> pd.DataFrame:
    communes = admin_units.communes(geography)
    letter = CODE_LETTER[geography]
    if geography == admin_units.LEGACY:
        district_number = (
            admin_units.districts().assign(n=lambda d: d.groupby("province_code").cumcount() + 31)
            .set_index("district_code")["n"]
        )
        middle = communes["district_code"].map(district_number).astype(str).str.zfill(2)
        number = communes.groupby("district_code").cumcount() + 1
    else:
        middle = pd.Series("00", index=communes.index)
        number = communes.groupby("province_code").cumcount() + 1
    codes = (number.astype(str).str.zfill(3) + "." + middle + ".00." + letter
             + communes["province_code"])
    names = "UBND " + communes["commune_name"].map(lower_unit_type)
    return pd.DataFrame({
        "agency_code": codes, "agency_name": names, "admin_level": "commune",
        "province_code": communes["province_code"],
        "district_code": communes["district_code"].fillna(""),
        "commune_code": communes["commune_code"], "aliases": "",
    })


def build_registry(geographies: list[str], seed: int) -> pd.DataFrame:
    """The registry rows for the given geographies plus a ``geography`` column (not written)."""
    frames = []
    for geography in geographies:
        rng = np.random.default_rng([seed, 11, len(geography)])
        rows = _department_rows(geography, rng)
        if geography == admin_units.LEGACY:
            rows += _district_rows()
        frame = pd.concat([pd.DataFrame(rows), _commune_rows(geography)], ignore_index=True)
        frame["valid_from"], frame["valid_to"] = VALIDITY[geography]
        frame["geography"] = geography
        frames.append(frame)
    registry = pd.concat(frames, ignore_index=True)
    return registry[[*REGISTRY_COLUMNS, "geography"]]
