"""Bad exports as senders make them, run through `dvctt materialize` in a new process on a
persistent DAGSTER_HOME, as a user runs it: the run succeeds and publishes, every bad row,
file and folder is accounted for in marts.data_quality, and no figure of another agency moves."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from operations.commands import dvctt_materialize

LAST_EXPORT_DAY = "2022-02-28"
BAD_DAY = "2022-02-20"
FEBRUARY = "2022-02-01"


def january_and_february(sample_landing: Path, landing: Path) -> None:
    shutil.copytree(sample_landing, landing)
    for folder in (landing / "dossiers").iterdir():
        if folder.name > LAST_EXPORT_DAY:
            shutil.rmtree(folder)
    shutil.rmtree(landing / "reports", ignore_errors=True)


def two_agencies(landing: Path) -> tuple[str, str]:
    """Two agencies of the sample: X, which the bad files' good rows belong to, and Y, which
    only rows that must not load belong to."""
    with (landing / "reference" / "agencies.csv").open(encoding="utf-8-sig") as stream:
        codes = [row["agency_code"] for row in csv.DictReader(stream)]
    return codes[0], codes[1]


def snapshot(agency: str, number: int, **fields: object) -> dict[str, object]:
    return {"MaHoSo": f"{agency}-HU-{number}", "MaDonViXuLy": agency, "MaTTHC": "1.001",
            "KenhThucHien": 2, "NgayTiepNhan": "20220220080000", "TrangThaiHoSo": 4,
            "ChuHoSo": "Nguyễn Văn An", "SoDienThoai": "0912345678", **fields}


def json_lines(records: list[dict[str, object]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def land_bad_inputs(landing: Path, x: str, y: str) -> None:
    """What a month of real senders brings besides the portal's sync: six good rows of X among
    bad rows, and folders and files that are not read, holding rows of Y."""
    day = landing / "dossiers" / BAD_DAY
    day.mkdir(parents=True, exist_ok=True)
    # edited by hand in a text editor: a comma typed into a name, codes and dates mistyped
    (day / "sua-tay.csv").write_text(
        "MaHoSo,MaDonViXuLy,DonViXuLy,KenhThucHien,NgayTiepNhan,TrangThaiHoSo,ChuHoSo\n"
        f"{x}-HU-1,{x},Phòng Tư pháp,2,20220220080000,4,Lê Thị Hoa\n"
        f"{x}-HU-2,{x},Phòng Tư pháp, huyện,2,20220220080000,4,Lê Thị Hoa\n"
        f"{x}-HU-3,{x},Phòng Tư pháp,1.5,20220220080000,4,Lê Thị Hoa\n"
        f"{x}-HU-4,{x},Phòng Tư pháp,2,99991231235959,4,Lê Thị Hoa\n"
        f"{x}-HU-5,{x},Phòng Tư pháp,2,2022022008000,2.5,Lê Thị Hoa\n",
        encoding="utf-8")
    # Excel's "Unicode text": UTF-16 with a byte-order mark, tabs, CR LF
    (day / "Unicode text.csv").write_bytes("\ufeff".encode("utf-16-le") + (
        "MaHoSo\tMaDonViXuLy\tKenhThucHien\tNgayTiepNhan\tTrangThaiHoSo\tChuHoSo\r\n"
        f"{x}-HU-6\t{x}\t1\t20220220090000\t4\tTrần Thị Bích Ngọc\r\n").encode("utf-16-le"))
    # a portal export embedding a scanned attachment in one record: read cut to its fields
    attachment = [{"TenTep": "don.pdf", "NoiDung": "JVBERi0xLjQK" * 300_000}]
    (day / "dinh-kem.jsonl").write_text(json_lines([
        snapshot(x, 7), snapshot(x, 8, TepDinhKem=attachment)]), encoding="utf-8")
    # the portal's newer API: ISO 8601 dates in UTC
    (day / "api-v2.json").write_text(json.dumps([snapshot(
        x, 9, NgayTiepNhan="2022-02-20T01:00:00Z", NgayHenTra="2022-02-25T10:00:00Z")]),
        encoding="utf-8")
    (day / "export.ndjson").write_text(json_lines([snapshot(x, 10)]), encoding="utf-8")
    # not read: rows of Y in a folder that names no date, one that names no real date, a file
    # whose name is not UTF-8 (a Windows archive unzipped), a named pipe, a link to itself
    for folder in ("latest", "2022-13-45"):
        (landing / "dossiers" / folder).mkdir()
        (landing / "dossiers" / folder / "dvcqg.jsonl").write_text(
            json_lines([snapshot(y, 1)]), encoding="utf-8")
    Path(os.fsdecode(os.fsencode(day) + b"/b\xe1o c\xe1o.jsonl")).write_text(
        json_lines([snapshot(y, 2)]), encoding="utf-8")
    os.mkfifo(day / "stream.jsonl")
    (day / "loop.jsonl").symlink_to("loop.jsonl")
    (landing / "reports" / "2022-13").mkdir(parents=True)
    (landing / "reports" / "2022-13" / "bieu06.xlsx").write_bytes(b"PK not read")


def dvctt_materialize_january_and_february(root: Path, landing: Path) -> Path:
    """`dvctt materialize` for January–February in a new process; the serving file."""
    run = dvctt_materialize(root, landing, "2022-01", "2022-02")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return root / "serving" / "dvctt.duckdb"


def query(database: Path, sql: str, params: dict | None = None) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql, params or {}).fetchall()


AGENCY_FIGURES = """
SELECT * EXCLUDE (agency_name) FROM marts.agency_period_rates
WHERE period_start <= DATE '2022-02-01' ORDER BY ALL
"""


@pytest.mark.slow
def test_bad_exports_fail_or_set_aside_alone_and_move_no_other_agency(tmp_path, sample_landing):
    clean, bad = tmp_path / "clean", tmp_path / "bad"
    january_and_february(sample_landing, clean / "landing")
    january_and_february(sample_landing, bad / "landing")
    x, y = two_agencies(bad / "landing")
    land_bad_inputs(bad / "landing", x, y)
    clean_serving = dvctt_materialize_january_and_february(clean, clean / "landing")
    bad_serving = dvctt_materialize_january_and_february(bad, bad / "landing")

    # every other agency's figures are those of the run without the bad inputs
    others = [row for row in query(clean_serving, AGENCY_FIGURES) if row[0] != x]
    assert others
    assert [row for row in query(bad_serving, AGENCY_FIGURES) if row[0] != x] == others
    # X counts the six good rows in February, nothing else
    received = "SELECT received FROM marts.agency_period_rates WHERE agency_code = $x AND " \
               "period_type = 'month' AND period_start = DATE '2022-02-01'"
    before = query(clean_serving, received, {"x": x})
    assert query(bad_serving, received, {"x": x})[0][0] == (before[0][0] if before else 0) + 6

    quality = {path: rest for path, *rest in query(bad_serving, """
        SELECT relative_path, status, rows_read, rows_loaded, rows_quarantined,
               quarantined_by_reason, message
        FROM marts.data_quality WHERE relative_path LIKE 'dossiers/2022-02-20/%'
           OR relative_path IN ('dossiers/latest', 'dossiers/2022-13-45', 'reports/2022-13')""")}
    folder = f"dossiers/{BAD_DAY}/"
    assert quality[folder + "sua-tay.csv"][:5] == [
        "loaded", 5, 1, 4, "implausible_date: 2, ragged_row: 1, unknown_channel: 1"]
    assert quality[folder + "Unicode text.csv"][:4] == ["loaded", 1, 1, 0]
    assert quality[folder + "dinh-kem.jsonl"][:4] == ["loaded", 2, 2, 0]
    assert quality[folder + "api-v2.json"][:4] == ["loaded", 1, 1, 0]
    assert quality[folder + "export.ndjson"][:4] == ["loaded", 1, 1, 0]
    not_read = {path: (status, message) for path, (status, *_, message) in quality.items()
                if status in ("failed", "skipped")}
    assert {path: status for path, (status, _) in not_read.items()} == {
        "dossiers/latest": "skipped", "dossiers/2022-13-45": "failed",
        "reports/2022-13": "failed", folder + "b\\xe1o c\\xe1o.jsonl": "failed",
        folder + "stream.jsonl": "skipped", folder + "loop.jsonl": "skipped",
    }
    assert "not a real date (month must be in 1..12)" in not_read["dossiers/2022-13-45"][1]
    assert "not valid UTF-8" in not_read[folder + "b\\xe1o c\\xe1o.jsonl"][1]
    # the zoned time is Vietnam time in the warehouse
    assert query(bad / "warehouse.duckdb",
                 "SELECT ngay_tiep_nhan::VARCHAR, ngay_hen_tra::VARCHAR FROM raw.dossier_snapshots "
                 "WHERE ma_ho_so = $id", {"id": f"{x}-HU-9"}) == [
        ("2022-02-20 08:00:00", "2022-02-25 17:00:00")]
