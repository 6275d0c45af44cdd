"""The sample service catalogue: a national list of procedures and what each province offers.

Each procedure belongs to a pool (province, district or commune level). A province offers
most procedures of each pool at the matching level and decides at which level (MucDo) it
offers each one: procedures eligible for end-to-end service (du_dieu_kien_toan_trinh = 1)
are almost all offered at level 4, a few other procedures at level 3, the rest at level 2
(information only, not a DVCTT). In the 2025 geography the district pool is split between
the province and commune levels, as the district level no longer exists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dvctt_pipeline.reference import admin_units
from dvctt_pipeline.sample.vocabulary import (
    FEE_NAMES,
    PROCEDURE_ACTIONS,
    PROCEDURE_OBJECTS,
    STANDALONE_PROCEDURES,
)

POOL_SIZES = {"commune": 30, "district": 60, "province": 140}
# Share of each pool a province offers.
OFFERED_SHARE = (0.82, 0.95)
ELIGIBLE_FULL_ONLINE_SHARE = 0.30
NON_ELIGIBLE_LEVEL3_SHARE = 0.20
# At most this share of eligible procedures is held back at level 3 (keeps provision ≥ 96%).
MAX_ELIGIBLE_HELD_BACK = 0.04
SLA_DAYS = np.array([1, 2, 3, 5, 7, 10, 15, 20])
SLA_WEIGHTS = np.array([0.10, 0.10, 0.20, 0.20, 0.15, 0.12, 0.08, 0.05])
FEE_AMOUNTS = np.array([10_000, 20_000, 30_000, 50_000, 100_000, 200_000, 500_000])
FEE_SHARE = 0.40
MUC_DO_2025 = {2: "2", 3: "một phần", 4: "toàn trình"}
# Which pool each level of the 2025 geography draws from; 30% of the district pool moves
# up to the province level, the rest down to the communes.
DISTRICT_POOL_TO_PROVINCE_2025 = 0.30
LEVELS = {admin_units.LEGACY: ("province", "district", "commune"),
          admin_units.GEOGRAPHY_2025: ("province", "commune")}


@dataclass(frozen=True)
class Catalogue:
    """The national procedure list and, per geography, the offer of each province × level."""

    procedures: pd.DataFrame  # proc_id, MaTTHC, TenTTHC, MaLinhVuc, pool, popularity, ...
    offers: dict[str, pd.DataFrame]  # geography -> province_code, admin_level, proc_id, ...


def _procedure_names() -> list[tuple[str, str]]:
    combined = [(f"{action} {obj}", field) for obj, field in PROCEDURE_OBJECTS
                for action in PROCEDURE_ACTIONS]
    return list(STANDALONE_PROCEDURES) + combined


def _national_procedures(rng: np.random.Generator) -> pd.DataFrame:
    names = _procedure_names()
    needed = sum(POOL_SIZES.values())
    if len(names) < needed:
        raise RuntimeError(f"vocabulary has {len(names)} procedure names, {needed} needed")
    # Standalone procedures (civil status, certification...) come first: communes get them.
    pools = np.repeat(list(POOL_SIZES), list(POOL_SIZES.values()))
    numbers = rng.choice(np.arange(1_000, 14_000), size=needed, replace=False)
    prefixes = rng.choice(["1", "2"], size=needed, p=[0.8, 0.2])
    has_fee = rng.random(needed) < FEE_SHARE
    return pd.DataFrame({
        "proc_id": np.arange(needed),
        "MaTTHC": [f"{p}.{n:06d}" for p, n in zip(prefixes, numbers, strict=True)],
        "TenTTHC": [name for name, _ in names[:needed]],
        "MaLinhVuc": [field for _, field in names[:needed]],
        "pool": pools,
        # Heavy-tailed demand: a few procedures (birth registration...) take most dossiers.
        "popularity": rng.lognormal(0.0, 1.1, size=needed),
        "sla_days": rng.choice(SLA_DAYS, size=needed, p=SLA_WEIGHTS),
        "fee": np.where(has_fee, rng.choice(FEE_AMOUNTS, size=needed), 0),
        "fee_name": rng.choice(FEE_NAMES, size=needed),
        "eligible": rng.random(needed) < ELIGIBLE_FULL_ONLINE_SHARE,
    })


def _pool_of_level(procedures: pd.DataFrame, geography: str, level: str) -> pd.DataFrame:
    if geography == admin_units.LEGACY:
        return procedures[procedures["pool"] == level]
    district_pool = procedures[procedures["pool"] == "district"]
    moved_up = district_pool.iloc[: int(len(district_pool) * DISTRICT_POOL_TO_PROVINCE_2025)]
    if level == "province":
        return pd.concat([procedures[procedures["pool"] == "province"], moved_up])
    return pd.concat([procedures[procedures["pool"] == "commune"],
                      district_pool.drop(moved_up.index)])


def _levels_for_offer(eligible: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """MucDo 2/3/4 for one province × level offer."""
    levels = np.where(rng.random(len(eligible)) < NON_ELIGIBLE_LEVEL3_SHARE, 3, 2)
    levels[eligible] = 4
    eligible_positions = np.flatnonzero(eligible)
    held_back = rng.integers(0, int(len(eligible_positions) * MAX_ELIGIBLE_HELD_BACK) + 1)
    levels[rng.choice(eligible_positions, size=held_back, replace=False)] = 3
    return levels


def _offers(procedures: pd.DataFrame, geography: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng([seed, 23, len(geography)])
    pools = {level: _pool_of_level(procedures, geography, level)["proc_id"].to_numpy()
             for level in LEVELS[geography]}
    eligible = procedures["eligible"].to_numpy()
    columns: dict[str, list[np.ndarray]] = {"province_code": [], "admin_level": [],
                                            "proc_id": [], "muc_do": []}
    for province_code in admin_units.provinces(geography)["province_code"]:
        for level, pool in pools.items():
            size = round(rng.uniform(*OFFERED_SHARE) * len(pool))
            offered = np.sort(rng.choice(pool, size=size, replace=False))
            columns["province_code"].append(np.full(size, province_code))
            columns["admin_level"].append(np.full(size, level))
            columns["proc_id"].append(offered)
            columns["muc_do"].append(_levels_for_offer(eligible[offered], rng))
    offers = pd.DataFrame({name: np.concatenate(parts) for name, parts in columns.items()})
    offers["eligible"] = eligible[offers["proc_id"].to_numpy()]
    return offers


def build_catalogue(geographies: list[str], seed: int) -> Catalogue:
    procedures = _national_procedures(np.random.default_rng([seed, 17]))
    return Catalogue(procedures, {g: _offers(procedures, g, seed) for g in geographies})


def catalogue_snapshot(catalogue: Catalogue, geography: str) -> pd.DataFrame:
    """Rows of ``catalog/services_<date>.csv`` for one geography."""
    offers = catalogue.offers[geography].merge(
        catalogue.procedures[["proc_id", "MaTTHC", "TenTTHC"]], on="proc_id")
    muc_do = offers["muc_do"].astype(str)
    if geography == admin_units.GEOGRAPHY_2025:
        muc_do = offers["muc_do"].map(MUC_DO_2025)
    return pd.DataFrame({
        "province_code": offers["province_code"], "admin_level": offers["admin_level"],
        "MaTTHC": offers["MaTTHC"], "TenTTHC": offers["TenTTHC"], "MucDo": muc_do,
        "du_dieu_kien_toan_trinh": offers["eligible"].astype(int),
    })
