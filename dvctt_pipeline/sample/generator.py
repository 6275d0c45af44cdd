"""Generates a realistic landing folder (DESIGN §3) for any month range 2021-01 … 2026-12.

For January–April 2022 at scale ≥ 0.5 the dossier records reproduce the seed report
(DESIGN §9, ``seed_2022``); other months are plausible: a slowly rising national online
share and seeded random province rates. Same arguments give byte-identical files.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from dvctt_pipeline.months import months_between, parse_month
from dvctt_pipeline.reference import admin_units
from dvctt_pipeline.sample import reference_files
from dvctt_pipeline.sample.agencies import build_registry
from dvctt_pipeline.sample.catalog import build_catalogue
from dvctt_pipeline.sample.dossiers import (
    BAD_LINES_PER_MONTH,
    Context,
    build_group_tables,
    generate_month,
    month_days,
)
from dvctt_pipeline.sample.export_writer import ExportWriter, vocabulary_sizes
from dvctt_pipeline.sample.plan import FIRST_MONTH, LAST_MONTH, Planner, build_design
from dvctt_pipeline.sample.report_writer import (
    DossierTally,
    plan_reports,
    with_report_agencies,
    write_month_reports,
)

ALL_GEOGRAPHIES = [admin_units.LEGACY, admin_units.GEOGRAPHY_2025]


@dataclass(frozen=True)
class SampleSummary:
    months: int
    agencies: int
    dossiers: int  # distinct real dossiers (refused at intake included)
    snapshots: int  # valid snapshot lines written
    files: int  # dossier export files
    report_files: int = 0  # monthly report workbooks (Biểu 06)
    bad_lines: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def month_range(start: str, end: str) -> list[date]:
    first, last = parse_month(start), parse_month(end)
    if not FIRST_MONTH <= first <= last <= LAST_MONTH:
        raise ValueError(f"month range {start}..{end} must lie within "
                         f"{FIRST_MONTH:%Y-%m}..{LAST_MONTH:%Y-%m} and be ordered")
    return months_between(first, last)


def _addresses(geographies: list[str]) -> pd.DataFrame:
    """Applicant address lines: commune, district (legacy), province."""
    frames = []
    for geography in geographies:
        provinces = admin_units.provinces(geography).reset_index(names="province_pos")
        communes = admin_units.communes(geography).merge(provinces, on="province_code")
        text = communes["commune_name"]
        if geography == admin_units.LEGACY:
            district_names = admin_units.districts().set_index("district_code")["district_name"]
            text = text + ", " + communes["district_code"].map(district_names)
        frames.append(pd.DataFrame({"geography": geography,
                                    "province_pos": communes["province_pos"],
                                    "address": text + ", " + communes["province_full_name"]}))
    return pd.concat(frames, ignore_index=True)


def _propensity(registry: pd.DataFrame, seed: int) -> np.ndarray:
    """How readily each agency's dossiers go online; stable whatever the month range."""
    propensity = np.empty(len(registry))
    for geography in ALL_GEOGRAPHIES:
        rows = np.flatnonzero(registry["geography"].to_numpy() == geography)
        rng = np.random.default_rng([seed, 47, len(geography)])
        propensity[rows] = rng.lognormal(0.0, 0.5, len(rows))
    return propensity


def _build_context(months: list[date], scale: float, seed: int,
                   geographies: list[str]) -> Context:
    registry = with_report_agencies(build_registry(geographies, seed))
    catalogue = build_catalogue(ALL_GEOGRAPHIES, seed)
    addresses = _addresses(geographies)
    return Context(
        seed=seed, end_day=month_days(months[-1])[-1],
        planner=Planner(build_design(catalogue, seed), scale),
        registry=registry, catalogue=catalogue, addresses=addresses,
        tables={g: build_group_tables(registry, catalogue, addresses, g, seed)
                for g in geographies},
        propensity=_propensity(registry, seed),
        fee_policies=reference_files.choose_fee_policies(catalogue, seed),
    )


def _write_reference_files(ctx: Context, months: list[date], geographies: list[str],
                           landing_dir: Path) -> None:
    reference_files.write_agencies(ctx.registry, landing_dir)
    reference_files.write_catalogue(ctx.catalogue, geographies, months[0], landing_dir)
    reference_files.write_targets(sorted({m.year for m in months}), landing_dir)
    reference_files.write_fee_policies(ctx.fee_policies, ctx.catalogue, landing_dir)


def generate_landing(landing_dir: Path, start: str, end: str, scale: float = 1.0,
                     seed: int = 2022) -> SampleSummary:
    """Write a landing folder for the months ``start``..``end`` ("YYYY-MM", inclusive)."""
    started = time.perf_counter()
    landing_dir = Path(landing_dir)
    months = month_range(start, end)
    geographies = [g for g in ALL_GEOGRAPHIES
                   if any(admin_units.geography_on(m) == g for m in months)]
    ctx = _build_context(months, scale, seed, geographies)
    _write_reference_files(ctx, months, geographies, landing_dir)

    writer = ExportWriter(landing_dir, ctx.registry, ctx.catalogue.procedures, ctx.addresses,
                          seed, ctx.end_day)
    bad_lines = dict.fromkeys(BAD_LINES_PER_MONTH, 0)
    dossiers, next_id, report_files = 0, 0, 0
    report_plan = plan_reports(ctx.registry) if admin_units.LEGACY in geographies else None
    tally = DossierTally(report_plan.agency_ids if report_plan else np.array([], dtype=int))
    try:
        for month in months:
            batch = generate_month(ctx, month, next_id, vocabulary_sizes())
            real = int(batch.dossiers["bad"].isna().sum())
            dossiers += real
            next_id += len(batch.dossiers)
            for reason, count in batch.bad_lines.items():
                bad_lines[reason] += count
            writer.add(batch)
            writer.write_days(month_days(month))
            if report_plan is not None:
                tally.add(batch)
                report_files += len(write_month_reports(landing_dir, report_plan, tally, month,
                                                        scale))
    finally:
        writer.close()
    return SampleSummary(
        months=len(months), agencies=len(ctx.registry), dossiers=dossiers,
        snapshots=writer.snapshots_written, files=writer.files_written,
        report_files=report_files, bad_lines=bad_lines,
        seconds=round(time.perf_counter() - started, 2),
    )
