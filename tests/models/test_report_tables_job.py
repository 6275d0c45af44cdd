"""A tiny landing folder through the real Dagster job: the reference files reach the marts,
and every table of the BI contract is published with its documentation."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

BI_CONTRACT_TABLES = {
    "agency_period_rates", "province_period_rates", "national_period_rates",
    "province_rankings", "target_compliance", "target_compliance_summary",
    "report_reconciliation", "data_quality",
}


def write(landing: Path, relative: str, text: str) -> None:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def dossier(number: int, procedure: str, channel: int) -> str:
    return json.dumps({
        "MaHoSo": f"000.00.01.H17-220105-{number:04d}", "MaTTHC": procedure,
        "KenhThucHien": channel, "NgayTiepNhan": "20220105080000",
        "NgayHenTra": "20220110170000", "TrangThaiHoSo": 4, "DuocThanhToanTrucTuyen": 0,
    })


def hoa_binh_landing(landing: Path) -> None:
    write(landing, "reference/agencies.csv",
          "agency_code,agency_name,admin_level,province_code,district_code,commune_code,"
          "valid_from,valid_to,aliases\n"
          "000.00.01.H17,Sở Tư pháp tỉnh Hòa Bình,province,17,,,2015-01-01,2025-06-30,\n")
    write(landing, "catalog/services_2022-01-01.csv",
          "province_code,admin_level,MaTTHC,TenTTHC,MucDo,du_dieu_kien_toan_trinh\n"
          "17,province,1.001,Cấp phiếu lý lịch tư pháp,toàn trình,1\n"
          "17,province,1.002,Chứng thực bản sao,3,0\n"
          "17,province,1.003,Thủ tục lỗi,7,0\n")
    write(landing, "targets/targets_2022.csv",
          "year,province_code,admin_level,agency_code,metric,target_min,target_stretch,"
          "decision_ref\n2022,17,*,,online_share_all,55%,,QĐ 01/2022\n")
    # 1.001: 3 of 4 online; 1.002: 1 of 2 online → 4 of 6 = 66.7 % ≥ 55 %
    channels = [("1.001", 2)] * 3 + [("1.001", 1), ("1.002", 2), ("1.002", 1)]
    write(landing, "dossiers/2022-01-06/dvcqg.jsonl", "".join(
        dossier(number, procedure, channel) + "\n"
        for number, (procedure, channel) in enumerate(channels)))


@pytest.mark.slow
def test_reference_files_reach_the_published_marts(folders, materialize):
    hoa_binh_landing(folders.landing)
    materialize("2022-01", "2022-01")
    assert folders.query("SELECT reason FROM quarantine.service_catalog") == [("unknown_muc_do",)]
    with duckdb.connect(str(folders.serving), read_only=True) as con:
        assert con.execute(
            "SELECT online_share_all, online_share_full, dvctt_uptake_rate "
            "FROM marts.agency_period_rates WHERE period_type = 'month'"
        ).fetchall() == [(4 / 6, 3 / 4, 2 / 2)]
        assert con.execute(
            "SELECT status, gap_pp FROM marts.target_compliance").fetchall() == [
            ("met", round((4 / 6 - 0.55) * 100, 2))]
        assert con.execute(
            "SELECT province_name, agencies, agencies_met FROM marts.target_compliance_summary"
        ).fetchall() == [("Hòa Bình", 1, 1)]
        tables = {name for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'").fetchall()}
        assert tables >= BI_CONTRACT_TABLES
        undocumented = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE schema_name = 'marts' AND (comment IS NULL OR comment = '')").fetchall()
        assert undocumented == []
