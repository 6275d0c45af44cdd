"""The sample's monthly reports (Biểu 06): a few workbooks laid out like the form offices fill.

Every month of the 63-province geography gets two workbooks of Hòa Bình in
`reports/<YYYY-MM>/`: the province's report on its district People's Committees and one
district's report on its communes. Their counts are those of the agencies' generated dossiers
(received in the month online or in person, carried over, finished early, on time or late,
still in progress), so reports and dossiers reconcile. One commune of the district, the
report-only commune, files no dossier records at all (the generator gives it none): its
figures exist only in its report, as for a commune whose one-stop desk has no connection to
the national portal.

The layout is the form's: title lines, the period line, a header of three merged rows (the
three column groups, their columns, the online / in-person split), an STT column, one row per
agency and the total row "Tổng cộng".
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
from openpyxl.styles import Alignment, Font

from dvctt_pipeline.months import last_day, next_month
from dvctt_pipeline.reference import admin_units
from dvctt_pipeline.sample import seed_2022
from dvctt_pipeline.sample.dossiers import DAY, MonthBatch
from dvctt_pipeline.sample.plan import largest_remainder, national_share

REPORT_PROVINCE = seed_2022.HOA_BINH_CODE
ONLINE_CHANNEL = 2  # index of KenhThucHien 2 in dossiers.KENH_JSON
REFUSED_STATUS = 3
# The report-only commune's month at scale 1: about an average commune's dossiers.
REPORT_ONLY_MONTHLY_DOSSIERS = 40
COUNT_COLUMNS = 11
HEADER_ROWS = (
    ["STT", "Đơn vị", "Số hồ sơ nhận giải quyết", None, None, None, "Đã giải quyết", None,
     None, None, "Đang giải quyết", None, None],
    [None, None, "Tổng số", "Từ kỳ trước", "Trong kỳ", None, "Tổng số", "Trước hạn",
     "Đúng hạn", "Quá hạn", "Tổng số", "Trong hạn", "Quá hạn"],
    [None, None, None, None, "Trực tuyến", "Trực tiếp/dịch vụ bưu chính"],
)
HEADER_MERGES = ("A{0}:A{2}", "B{0}:B{2}", "C{0}:F{0}", "G{0}:J{0}", "K{0}:M{0}", "E{1}:F{1}",
                 "C{1}:C{2}", "D{1}:D{2}", "G{1}:G{2}", "H{1}:H{2}", "I{1}:I{2}", "J{1}:J{2}",
                 "K{1}:K{2}", "L{1}:L{2}", "M{1}:M{2}")
FIRST_HEADER_ROW = 5


@dataclass(frozen=True)
class ReportPlan:
    """Which agencies the sample's reports list: registry rows, by report."""

    district_committees: pd.DataFrame
    district_name: str
    communes: pd.DataFrame
    report_only: pd.Series  # the registry row of the report-only commune

    @property
    def agency_ids(self) -> np.ndarray:
        return np.concatenate([self.district_committees.index.to_numpy(),
                               self.communes.index.to_numpy()])


def plan_reports(registry: pd.DataFrame) -> ReportPlan:
    """Hòa Bình's district People's Committees, and the communes of its first district;
    the last of them is the report-only commune."""
    legacy = registry[registry["geography"] == admin_units.LEGACY]
    in_province = legacy[legacy["province_code"] == REPORT_PROVINCE]
    districts = in_province[in_province["admin_level"] == "district"]
    first_district = districts.iloc[0]
    communes = in_province[(in_province["admin_level"] == "commune")
                           & (in_province["district_code"] == first_district["district_code"])]
    return ReportPlan(districts, first_district["agency_name"], communes, communes.iloc[-1])


def commune_unit_name(name: str, district_name: str) -> str:
    """How the district's report names a commune: with its district, since commune names
    repeat across the country ("UBND xã Độc Lập, thành phố Hòa Bình")."""
    return f"{name}, {district_name.removeprefix('UBND ')}"


def with_report_agencies(registry: pd.DataFrame) -> pd.DataFrame:
    """The registry with a `report_only` column (agencies the generator gives no dossier:
    their figures come from reports alone) and, as an alias of each commune of the district
    report, the name that report gives it."""
    registry = registry.assign(report_only=False)
    if not (registry["geography"] == admin_units.LEGACY).any():
        return registry
    plan = plan_reports(registry)
    registry.loc[plan.report_only.name, "report_only"] = True
    registry.loc[plan.communes.index, "aliases"] = [
        commune_unit_name(name, plan.district_name) for name in plan.communes["agency_name"]]
    return registry


def _seconds(day: date) -> int:
    return (day - date(1970, 1, 1)).days * DAY


@dataclass
class DossierTally:
    """The report agencies' dossiers, kept across months for the carried-over counts."""

    agency_ids: np.ndarray
    dossiers: pd.DataFrame = field(default_factory=pd.DataFrame)

    def add(self, batch: MonthBatch) -> None:
        refused = batch.snapshots.loc[batch.snapshots["status"] == REFUSED_STATUS, "d_id"]
        mine = batch.dossiers[batch.dossiers["agency_id"].isin(self.agency_ids)
                              & batch.dossiers["bad"].isna()
                              & ~batch.dossiers["d_id"].isin(refused)]
        columns = ["agency_id", "received_s", "due_s", "finish_s", "kenh"]
        self.dossiers = pd.concat([self.dossiers, mine[columns]], ignore_index=True)

    def forget_finished_before(self, month: date) -> None:
        """Dossiers finished before the month count in none of its reports or later ones:
        memory stays bounded by the open dossiers, whatever the range."""
        finish = self.dossiers["finish_s"] if len(self.dossiers) else pd.Series(dtype=int)
        self.dossiers = self.dossiers[(finish < 0) | (finish >= _seconds(month))]

    def counts(self, agency_id: int, month: date) -> list[int]:
        """The eleven counts of the form for the agency's dossiers in the month."""
        start, end = _seconds(month), _seconds(last_day(month)) + DAY
        d = self.dossiers[(self.dossiers["agency_id"] == agency_id)
                          & (self.dossiers["received_s"] < end)]

        def unfinished_at(moment: int) -> pd.Series:
            return (d["finish_s"] < 0) | (d["finish_s"] >= moment)

        carried_over = int(((d["received_s"] < start) & unfinished_at(start)).sum())
        this_month = d["received_s"] >= start
        online = int((this_month & (d["kenh"] == ONLINE_CHANNEL)).sum())
        in_person = int(this_month.sum()) - online
        finished = d[(d["finish_s"] >= start) & (d["finish_s"] < end)]
        early = int((finished["finish_s"] // DAY < finished["due_s"] // DAY).sum())
        late = int((finished["finish_s"] > finished["due_s"]).sum())
        open_at_end = d[unfinished_at(end)]
        open_late = int((open_at_end["due_s"] < end).sum())
        return [carried_over + online + in_person, carried_over, online, in_person,
                len(finished), early, len(finished) - early - late, late,
                len(open_at_end), len(open_at_end) - open_late, open_late]


def report_only_counts(month: date, scale: float) -> list[int]:
    """The report-only commune's counts: an average commune, online at the national share."""
    received = max(4, round(REPORT_ONLY_MONTHLY_DOSSIERS * scale))
    online = round(received * national_share(month))
    carried_over = round(received * 0.1)
    in_progress = round((carried_over + received) * 0.15)
    finished = carried_over + received - in_progress
    early, on_time, late = largest_remainder(finished, np.array([0.5, 0.4, 0.1]))
    open_late = round(in_progress * 0.2)
    return [carried_over + received, carried_over, online, received - online, finished,
            int(early), int(on_time), int(late), in_progress, in_progress - open_late,
            open_late]


def write_bieu_06(path: Path, issuer: str, month: date,
                  rows: list[tuple[str, list[int]]]) -> None:
    """One Biểu 06 workbook: the issuer's title lines, the period, the header, the rows."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Biểu 06"
    sheet.append([issuer.upper()])
    sheet.append(["TÌNH HÌNH TIẾP NHẬN VÀ GIẢI QUYẾT HỒ SƠ THỦ TỤC HÀNH CHÍNH"])
    sheet.append([f"(Từ ngày 01/{month:%m/%Y} đến ngày {last_day(month):%d/%m/%Y})"])
    sheet.append([])
    for header in HEADER_ROWS:
        sheet.append(header)
    first, second, third = FIRST_HEADER_ROW, FIRST_HEADER_ROW + 1, FIRST_HEADER_ROW + 2
    for merge in HEADER_MERGES:
        sheet.merge_cells(merge.format(first, second, third))
    for number, (unit, counts) in enumerate(rows, start=1):
        # offices leave zeros blank
        sheet.append([number, unit, *(count or None for count in counts)])
    totals = np.sum([counts for _, counts in rows], axis=0)
    sheet.append([None, "Tổng cộng", *(int(total) for total in totals)])
    for row in sheet.iter_rows(min_row=first, max_row=third):
        for cell in row:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.column_dimensions["B"].width = 36
    path.parent.mkdir(parents=True, exist_ok=True)
    save_reproducibly(book, path, datetime(month.year, month.month, 1))


def save_reproducibly(book: openpyxl.Workbook, path: Path, moment: datetime) -> None:
    """Save with every timestamp set to `moment`: the same arguments give the same bytes
    (openpyxl stamps the modification time and each zip entry with the current time)."""
    book.properties.created = moment
    buffer = io.BytesIO()
    book.save(buffer)
    stamp = f"{moment:%Y-%m-%dT%H:%M:%SZ}".encode()
    with zipfile.ZipFile(buffer) as saved, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for entry in saved.infolist():
            content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp,
                             saved.read(entry))
            out.writestr(zipfile.ZipInfo(entry.filename, moment.timetuple()[:6]), content,
                         zipfile.ZIP_DEFLATED)


def write_month_reports(landing_dir: Path, plan: ReportPlan, tally: DossierTally,
                        month: date, scale: float) -> list[Path]:
    """The month's two workbooks; none in the 34-province geography (from July 2025)."""
    if admin_units.geography_on(month) != admin_units.LEGACY:
        return []
    folder = landing_dir / "reports" / f"{month:%Y-%m}"
    province = plan.district_committees["agency_name"]
    district_rows = [(name, tally.counts(agency_id, month)) for agency_id, name in province.items()]
    commune_rows = [
        (commune_unit_name(name, plan.district_name),
         report_only_counts(month, scale) if agency_id == plan.report_only.name
         else tally.counts(agency_id, month))
        for agency_id, name in plan.communes["agency_name"].items()
    ]
    paths = [folder / "bieu06_hoa_binh_cap_huyen.xlsx", folder / "bieu06_cap_xa.xlsx"]
    write_bieu_06(paths[0], "UBND tỉnh Hòa Bình", month, district_rows)
    write_bieu_06(paths[1], plan.district_name, month, commune_rows)
    tally.forget_finished_before(next_month(month))
    return paths
