"""Format readers for dossier exports.

Each reader fills the temporary table `incoming_records` (see validate.dossier_rules) from
one file, reading only the fields the metrics need: personal data (ChuHoSo,
SoGiayToChuHoSo, SoDienThoai, Email, DiaChi, ...) is never selected, so it cannot reach
the warehouse, its quarantine, the logs or Dagster metadata. File paths are passed as
query parameters, never spliced into SQL text.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

# DVCQG sync field -> column of incoming_records. Only these fields are ever read.
USED_FIELDS: dict[str, str] = {
    "MaHoSo": "ma_ho_so",
    "MaDonViXuLy": "ma_don_vi_xu_ly",
    "DonViXuLy": "don_vi_xu_ly",
    "MaTTHC": "ma_tthc",
    "MaLinhVuc": "ma_linh_vuc",
    "KenhThucHien": "kenh_thuc_hien",
    "NgayTiepNhan": "ngay_tiep_nhan",
    "NgayHenTra": "ngay_hen_tra",
    "NgayKetThucXuLy": "ngay_ket_thuc_xu_ly",
    "NgayTra": "ngay_tra",
    "TrangThaiHoSo": "trang_thai",
    "DuocThanhToanTrucTuyen": "thanh_toan_truc_tuyen",
}


class UnreadableFile(ValueError):
    """The whole file cannot be read; the message says what to fix."""


def _json_object_fields() -> str:
    paths = ", ".join(f"'$.{field}'" for field in USED_FIELDS)
    columns = ",\n        ".join(
        f"fields[{position}] AS {column}"
        for position, column in enumerate(USED_FIELDS.values(), start=1)
    )
    return f"""
    SELECT
        line_no,
        CASE WHEN json_kind IS NULL THEN 'invalid_json'
             WHEN json_kind <> 'OBJECT' THEN 'not_an_object' END AS read_error,
        {columns},
        fee_total
    FROM (
        SELECT
            line_no,
            json_kind,
            CASE WHEN json_kind = 'OBJECT' THEN json_extract_string(line, [{paths}]) END AS fields,
            CASE WHEN json_kind = 'OBJECT' THEN list_sum(list_transform(
                json_extract(line, '$.DanhSachLePhi[*].Gia'),
                price -> try_cast(json_extract_string(price, '$') AS DECIMAL(18, 2))))
            END AS fee_total
        FROM (
            -- CASE evaluates lazily, so invalid JSON never reaches the JSON functions
            SELECT line_no, line, CASE WHEN json_valid(line) THEN json_type(line) END AS json_kind
            FROM numbered_lines
        )
    )
    """


JSON_LINES_SQL = f"""
CREATE OR REPLACE TEMP TABLE incoming_records AS
WITH numbered_lines AS (
    SELECT line_no, line FROM (
        SELECT row_number() OVER () AS line_no, line
        -- one column per physical line: NUL never occurs in text, and quoting is off
        FROM read_csv($path, columns = {{'line': 'VARCHAR'}}, header = false, delim = '\\0',
                      quote = '', escape = '', auto_detect = false, strict_mode = false)
    )
    WHERE trim(line) <> ''
)
{_json_object_fields()}
"""


def read_json_lines(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    con.execute(JSON_LINES_SQL, {"path": str(path)})


Reader = Callable[[duckdb.DuckDBPyConnection, Path], None]


def reader_for(path: Path) -> Reader:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".jsonl"):
        return read_json_lines
    raise UnreadableFile(
        f"{path.name}: this export format is not supported yet; "
        "export the dossiers as JSON lines (.jsonl, optionally .gz)."
    )
