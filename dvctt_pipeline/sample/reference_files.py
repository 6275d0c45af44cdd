"""The small landing files: agency registry, catalogue snapshots, targets and fee policies."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from dvctt_pipeline.reference import admin_units
from dvctt_pipeline.sample import seed_2022
from dvctt_pipeline.sample.agencies import REGISTRY_COLUMNS
from dvctt_pipeline.sample.catalog import Catalogue, catalogue_snapshot
from dvctt_pipeline.sample.dossiers import FeePolicy

TARGET_COLUMNS = ["year", "province_code", "admin_level", "agency_code", "metric",
                  "target_min", "target_stretch", "decision_ref"]
FEE_COLUMNS = ["province_code", "MaTTHC", "reduction_pct", "valid_from", "valid_to",
               "decision_ref"]
HCM_FEE_DECISION = "Nghị quyết số 10/2021/NQ-HĐND của HĐND Thành phố Hồ Chí Minh"
QUANG_NAM_FEE_DECISION = "Nghị quyết số 05/2022/NQ-HĐND của HĐND tỉnh Quảng Nam"
# An agency-specific override: Sở Y tế tỉnh Hòa Bình (14th department) was given 45%.
HOA_BINH_OVERRIDE_AGENCY = "000.00.14.H17"


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def write_agencies(registry: pd.DataFrame, landing_dir: Path) -> None:
    write_csv(registry[REGISTRY_COLUMNS], landing_dir / "reference" / "agencies.csv")


def write_catalogue(catalogue: Catalogue, geographies: list[str], first_month: date,
                    landing_dir: Path) -> None:
    for geography in geographies:
        effective = (first_month if geography == admin_units.LEGACY
                     else admin_units.REORGANISATION_DATE)
        write_csv(catalogue_snapshot(catalogue, geography),
                  landing_dir / "catalog" / f"services_{effective.isoformat()}.csv")


def _decision(number: int, year: int, province_name: str) -> str:
    return (f"Quyết định số {number}/QĐ-UBND ngày 30/12/{year - 1} "
            f"của UBND tỉnh {province_name}")


def _targets_2022() -> list[tuple]:
    hb = _decision(2785, 2022, "Hòa Bình")
    kh = _decision(3611, 2022, "Khánh Hòa")
    tn = _decision(4212, 2022, "Thái Nguyên")
    rows: list[tuple] = [
        (2022, "17", level, "", "online_share_all", seed_2022.HOA_BINH_TARGET_ALL, None, hb)
        for level in ("province", "district")
    ]
    rows.append((2022, "17", "province", HOA_BINH_OVERRIDE_AGENCY, "online_share_all", 0.45,
                 None, hb))
    rows += [(2022, "56", level, "", "online_share_dvctt", low, high, kh)
             for level, (low, high) in seed_2022.KHANH_HOA_TARGETS_DVCTT.items()]
    rows.append((2022, "19", "*", "", "online_share_full", seed_2022.THAI_NGUYEN_TARGET_FULL,
                 None, tn))
    return rows


def _targets_other_year(year: int) -> list[tuple]:
    """A few plausible rows, rising each year; only codes and levels valid all year."""
    step = 0.05 * (year - 2022)
    kh = _decision(3600 + year % 100, year, "Khánh Hòa")
    tn = _decision(4200 + year % 100, year, "Thái Nguyên")
    rows: list[tuple] = [
        (year, "56", "province", "", "online_share_dvctt", round(0.45 + step, 2),
         round(0.50 + step, 2), kh),
        (year, "56", "commune", "", "online_share_dvctt", round(0.25 + step, 2),
         round(0.30 + step, 2), kh),
        (year, "19", "*", "", "online_share_full", round(0.55 + step, 2), None, tn),
    ]
    if year < admin_units.REORGANISATION_DATE.year:
        hb = _decision(2700 + year % 100, year, "Hòa Bình")
        rows += [(year, "17", level, "", "online_share_all", round(0.55 + step, 2), None, hb)
                 for level in ("province", "district")]
    return rows


def write_targets(years: list[int], landing_dir: Path) -> None:
    for year in years:
        rows = _targets_2022() if year == 2022 else _targets_other_year(year)
        write_csv(pd.DataFrame(rows, columns=TARGET_COLUMNS),
                  landing_dir / "targets" / f"targets_{year}.csv")


def choose_fee_policies(catalogue: Catalogue, seed: int) -> tuple[FeePolicy, ...]:
    """The procedures of TP.HCM and Quảng Nam whose fees were halved for online filing."""
    rng = np.random.default_rng([seed, 53])
    offers = catalogue.offers[admin_units.LEGACY].merge(
        catalogue.procedures[["proc_id", "fee", "popularity"]], on="proc_id")
    candidates = offers[(offers["muc_do"] >= 3) & (offers["fee"] > 0)]

    def pick(province_code: str, count: int) -> tuple[int, ...]:
        """Fees are cut where they weigh most: procedures drawn by their demand."""
        ids = candidates[candidates["province_code"] == province_code].drop_duplicates("proc_id")
        weights = ids["popularity"] / ids["popularity"].sum()
        chosen = rng.choice(ids["proc_id"], count, replace=False, p=weights)
        return tuple(sorted(int(i) for i in chosen))

    quang_nam_count = seed_2022.QUANG_NAM_FEES_REDUCED + seed_2022.QUANG_NAM_CHARGES_REDUCED
    return (
        FeePolicy(seed_2022.HCM_CODE, pick(seed_2022.HCM_CODE,
                                           seed_2022.HCM_FEE_REDUCED_PROCEDURES),
                  seed_2022.FEE_REDUCTION_PCT, seed_2022.HCM_FEE_POLICY_FROM, None),
        FeePolicy(seed_2022.QUANG_NAM_CODE, pick(seed_2022.QUANG_NAM_CODE, quang_nam_count),
                  seed_2022.FEE_REDUCTION_PCT, seed_2022.QUANG_NAM_POLICY_FROM,
                  seed_2022.QUANG_NAM_POLICY_TO),
    )


def write_fee_policies(policies: tuple[FeePolicy, ...], catalogue: Catalogue,
                       landing_dir: Path) -> None:
    code_of = catalogue.procedures["MaTTHC"]
    decisions = {seed_2022.HCM_CODE: HCM_FEE_DECISION,
                 seed_2022.QUANG_NAM_CODE: QUANG_NAM_FEE_DECISION}
    rows = [
        (p.province_code, code_of[proc_id], p.reduction_pct, p.valid_from.isoformat(),
         p.valid_to.isoformat() if p.valid_to else "", decisions[p.province_code])
        for p in policies for proc_id in p.proc_ids
    ]
    write_csv(pd.DataFrame(rows, columns=FEE_COLUMNS), landing_dir / "fees" / "fee_policies.csv")
