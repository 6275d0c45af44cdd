"""Writes dossier snapshots as DVCQG-style JSON lines, one folder per export day.

DuckDB turns the numeric dossier tables into JSON text in parallel, leaving out the keys a
record should lack (MaDonViXuLy on about a fifth of records, MaHoSo/NgayTiepNhan on
deliberately bad records), one export day at a time, and the lines go to their files as
raw slices of the Arrow text buffers: memory stays bounded by a month's numeric tables and
a day's lines, whatever the scale.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from dvctt_pipeline.sample import seed_2022, vocabulary
from dvctt_pipeline.sample.dossiers import (
    BAD_SEQUENCE_START,
    DAY,
    KENH_JSON,
    MonthBatch,
    export_day_files,
)
from dvctt_pipeline.warehouse import table_exists

EPOCH = date(1970, 1, 1)
FILE_NAMES = {1: "dvcqg.jsonl", 2: "dvcqg_2.jsonl"}
STREAM_BATCH_ROWS = 200_000


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _fee_json(name: str, amount: int) -> str:
    if amount == 0:
        return "[]"
    return json.dumps([{"TenPhiLePhi": name, "Gia": int(amount)}], ensure_ascii=False,
                      separators=(",", ":"))


def vocabulary_sizes() -> dict[str, int]:
    return {"family": len(vocabulary.FAMILY_NAMES), "middle": len(vocabulary.MIDDLE_NAMES),
            "given": len(vocabulary.GIVEN_NAMES), "mobile": len(vocabulary.MOBILE_PREFIXES)}


def _escaped(text: str) -> str:
    """JSON string content (without the quotes), so SQL can concatenate it verbatim."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


def _escaped_column(texts: pd.Series) -> pd.Series:
    """``_escaped`` for a column; its texts (names from the dataset) hold no control
    characters, so escaping backslashes and quotes is all JSON needs."""
    if texts.str.contains(r"[\x00-\x1f]", regex=True).any():
        raise ValueError("control character in a text the sample writes as JSON")
    backslashes_escaped = texts.str.replace("\\", "\\\\", regex=False)
    return backslashes_escaped.str.replace('"', '\\"', regex=False)


def timestamp_digits(seconds: np.ndarray) -> np.ndarray:
    """Local epoch seconds as the int64 yyyyMMddHHmmss (0 where -1: no such time).

    Computed in numpy because casting an integer to text in SQL is several times cheaper
    than strftime, and there are up to four timestamps per line."""
    moments = seconds.astype("datetime64[s]")
    days = moments.astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    years = months.astype("datetime64[Y]")
    second_of_day = (moments - days).astype(np.int64)
    digits = (
        (years.astype(np.int64) + 1970) * 10**10
        + ((months - years).astype(np.int64) + 1) * 10**8
        + ((days - months).astype(np.int64) + 1) * 10**6
        + second_of_day // 3600 * 10**4 + second_of_day % 3600 // 60 * 100
        + second_of_day % 60
    )
    return np.where(seconds >= 0, digits, 0)


# JSON text is concatenated rather than produced by to_json, which is several times
# slower on Vietnamese text; every text value comes pre-escaped from the lookup tables.
# One variadic concat() per line (chained || would copy the growing line at every step).
# Lines are built one export day at a time from the numeric tables, so memory grows with a
# day's snapshots, not with a month's text (a national month is ~4.5 GB of it).
_LINE = """concat(
    '{',
    CASE WHEN d.bad IS DISTINCT FROM 'missing_ma_ho_so' THEN concat(
        '"MaHoSo":"', a.agency_code, '-', (d.received_stamp // 1000000 % 1000000)::VARCHAR,
        '-', lpad(d.seq::VARCHAR, 4, '0'), '",') ELSE '' END,
    CASE WHEN d.has_handler_code THEN concat('"MaDonViXuLy":"', a.agency_code, '",')
        ELSE '' END,
    '"DonViXuLy":"', CASE WHEN d.uses_alias AND a.alias <> '' THEN a.alias
        ELSE a.agency_name END,
    '","MaTTHC":"', p.MaTTHC, '","TenTTHC":"', p.TenTTHC,
    '","MaLinhVuc":"', p.MaLinhVuc,
    '","KenhThucHien":', k.kenh_json,
    CASE WHEN d.bad IS DISTINCT FROM 'missing_ngay_tiep_nhan' THEN
        concat(',"NgayTiepNhan":"', d.received_stamp, '"') ELSE '' END,
    ',"NgayHenTra":"', d.due_stamp,
    '","NgayKetThucXuLy":"', CASE WHEN s.kind = 2 THEN d.finish_stamp::VARCHAR ELSE '' END,
    '","NgayTra":"', CASE WHEN s.kind = 2 AND d.returned_stamp > 0
        THEN d.returned_stamp::VARCHAR ELSE '' END,
    '","TrangThaiHoSo":', s.status,
    ',"DuocThanhToanTrucTuyen":', d.paid,
    ',"DanhSachLePhi":', CASE WHEN d.reduced THEN p.fee_reduced ELSE p.fee_full END,
    ',"ChuHoSo":"', f.family_name, ' ', m.middle_name, ' ', g.given_name,
    '","SoGiayToChuHoSo":"', lpad(d.id_number::VARCHAR, 12, '0'),
    '","SoDienThoai":"0', mp.prefix, lpad(d.mobile::VARCHAR, 7, '0'),
    '","Email":"', g.given_ascii, '.', f.family_ascii, d.email_number, '@gmail.com',
    '","DiaChi":"Số ', d.house, ', ', ad.address, '"}')"""
DAY_LINES_SQL = f"""
SELECT day, file_no,
    concat(CASE WHEN bad = 'truncated_json' THEN left(line, length(line) // 2) ELSE line END,
           chr(10)) AS line
FROM (
    SELECT s.day, s.file_no, s.event_s, s.d_id, s.kind, d.bad, {_LINE} AS line
    FROM snapshots s
    JOIN dossiers d USING (d_id)
    JOIN agencies a USING (agency_id)
    JOIN procedures p USING (proc_id)
    JOIN addresses ad USING (address_id)
    JOIN kenh k USING (kenh)
    JOIN family f USING (family)
    JOIN middle m USING (middle)
    JOIN given g USING (given)
    JOIN mobile mp USING (mobile_prefix)
    WHERE s.day = $day
)
ORDER BY file_no, event_s, d_id, kind
"""
# What the lines need of a dossier, kept until its last snapshot is written.
DOSSIER_COLUMNS = """d_id, bad, agency_id, proc_id, address_id, kenh, has_handler_code,
    uses_alias, paid, reduced, family, middle, given, id_number, mobile_prefix, mobile,
    email_number, house, received_stamp, due_stamp, finish_stamp, returned_stamp, seq"""


def _numbered(column: str, values: list[str], **extra: list[str]) -> pd.DataFrame:
    # Dossiers index the word lists from 1.
    return pd.DataFrame({column: range(1, 1 + len(values)),
                         **{name: [_escaped(v) for v in vals]
                            for name, vals in {f"{column}_name": values, **extra}.items()}})


def _vocabulary_tables() -> dict[str, pd.DataFrame]:
    return {
        "family": _numbered("family", list(vocabulary.FAMILY_NAMES),
                            family_ascii=[_ascii(x) for x in vocabulary.FAMILY_NAMES]),
        "middle": _numbered("middle", list(vocabulary.MIDDLE_NAMES)),
        "given": _numbered("given", list(vocabulary.GIVEN_NAMES),
                           given_ascii=[_ascii(x) for x in vocabulary.GIVEN_NAMES]),
        "mobile": _numbered("mobile_prefix", list(vocabulary.MOBILE_PREFIXES)).rename(
            columns={"mobile_prefix_name": "prefix"}),
        "kenh": pd.DataFrame({"kenh": range(len(KENH_JSON)), "kenh_json": list(KENH_JSON)}),
    }


class ExportWriter:
    """Accumulates monthly batches and writes the export files of finished days."""

    def __init__(self, landing_dir: Path, registry: pd.DataFrame, procedures: pd.DataFrame,
                 addresses: pd.DataFrame, seed: int, end_day: date) -> None:
        self.dossier_dir = landing_dir / "dossiers"
        self.seed = seed
        self.last_day_number = (end_day - EPOCH).days
        self.con = duckdb.connect()
        # no progress bar: at national scale it would fill the caller's terminal (set on the
        # connection: a config at connect() clashes with other in-memory databases)
        self.con.execute("SET enable_progress_bar = false")
        self._register_lookups(registry, procedures, addresses)
        self.files_written = 0
        self.snapshots_written = 0
        self._started_files: set[tuple[int, int]] = set()

    def _register_lookups(self, registry: pd.DataFrame, procedures: pd.DataFrame,
                          addresses: pd.DataFrame) -> None:
        fee_names = procedures["fee_name"] + " " + procedures["TenTTHC"].map(
            lambda t: t[0].lower() + t[1:])
        reduced_fee = procedures["fee"] * (100 - seed_2022.FEE_REDUCTION_PCT) // 100
        lookups = {
            "agencies": pd.DataFrame({"agency_id": registry.index.to_numpy(),
                                      "agency_code": _escaped_column(registry["agency_code"]),
                                      "agency_name": _escaped_column(registry["agency_name"]),
                                      "alias": _escaped_column(
                                          registry["aliases"].str.split("|").str[0])}),
            "procedures": pd.DataFrame({
                "proc_id": procedures["proc_id"],
                "MaTTHC": _escaped_column(procedures["MaTTHC"]),
                "TenTTHC": _escaped_column(procedures["TenTTHC"]),
                "MaLinhVuc": _escaped_column(procedures["MaLinhVuc"]),
                "fee_full": [_fee_json(n, f) for n, f in zip(fee_names, procedures["fee"],
                                                             strict=True)],
                "fee_reduced": [_fee_json(n, f) for n, f in zip(fee_names, reduced_fee,
                                                                strict=True)],
            }),
            "addresses": pd.DataFrame({"address_id": addresses.index.to_numpy(),
                                       "address": _escaped_column(addresses["address"])}),
        }
        for name, frame in lookups.items():
            self.con.register(f"{name}_frame", frame)
            self.con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_frame")
            self.con.unregister(f"{name}_frame")
        for name, frame in _vocabulary_tables().items():
            self.con.register(f"{name}_frame", frame)
            self.con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_frame")
            self.con.unregister(f"{name}_frame")

    def add(self, batch: MonthBatch) -> None:
        snapshots = batch.snapshots.assign(day=batch.snapshots["event_s"] // DAY)
        # Snapshots after the last exported day have not been exported yet.
        snapshots = snapshots[snapshots["day"] <= self.last_day_number]
        snapshots = snapshots.assign(file_no=export_day_files(
            snapshots["day"].to_numpy(), snapshots["kind"].to_numpy() == 2, self.seed))
        stamps = {f"{name}_stamp": timestamp_digits(batch.dossiers[f"{name}_s"].to_numpy())
                  for name in ("received", "due", "finish", "returned")}
        self.con.register("batch_dossiers", batch.dossiers.assign(**stamps))
        self.con.register("batch_snapshots", snapshots)
        # Sequence numbers count an agency's dossiers per reception day, in time order;
        # bad records take numbers from BAD_SEQUENCE_START so they never collide.
        self.con.execute(f"""CREATE OR REPLACE TEMP VIEW batch_with_sequence AS
            SELECT *, row_number() OVER (PARTITION BY agency_id, received_s // {DAY},
                bad IS NULL ORDER BY received_s, d_id)
                + CASE WHEN bad IS NULL THEN 0 ELSE {BAD_SEQUENCE_START - 1} END AS seq
            FROM batch_dossiers""")
        if not table_exists(self.con, "main", "dossiers"):
            self.con.execute(
                f"CREATE TABLE dossiers AS SELECT {DOSSIER_COLUMNS} FROM batch_with_sequence")
            self.con.execute("CREATE TABLE snapshots AS SELECT * FROM batch_snapshots")
        else:
            self.con.execute(
                f"INSERT INTO dossiers SELECT {DOSSIER_COLUMNS} FROM batch_with_sequence")
            self.con.execute("INSERT INTO snapshots SELECT * FROM batch_snapshots")
        self.con.execute("DROP VIEW batch_with_sequence")
        self.con.unregister("batch_dossiers")
        self.con.unregister("batch_snapshots")

    def write_days(self, days: list[date]) -> None:
        """Write every export file of ``days`` and forget what no later day needs."""
        numbers = [n for n in ((d - EPOCH).days for d in days) if n <= self.last_day_number]
        if not numbers:
            return
        first, last = numbers[0], numbers[-1]
        self.snapshots_written += self.con.execute(
            "SELECT count(*) FROM snapshots s JOIN dossiers d USING (d_id) "
            "WHERE s.day BETWEEN ? AND ? AND d.bad IS NULL", [first, last]).fetchone()[0]
        written: set[tuple[int, int]] = set()
        for number in numbers:
            # Each day's lines are streamed in batches, going to their files as raw slices
            # of the Arrow text buffer with no per-line Python work.
            reader = self.con.execute(DAY_LINES_SQL, {"day": number}).to_arrow_reader(
                STREAM_BATCH_ROWS)
            for batch in reader:
                written |= self._write_batch(batch)
        # A day without any snapshot still gets its (empty) export file.
        for number in numbers:
            if (number, 1) not in written:
                self._path(number, 1).touch()
                written.add((number, 1))
        self.files_written += len(written)
        self._forget_through(last)

    def _path(self, day_number: int, file_no: int) -> Path:
        folder = self.dossier_dir / (EPOCH + timedelta(days=day_number)).isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        return folder / FILE_NAMES[file_no]

    def _write_batch(self, batch: pa.RecordBatch) -> set[tuple[int, int]]:
        keys = np.column_stack([batch.column("day").to_numpy(),
                                batch.column("file_no").to_numpy()]).astype(np.int64)
        lines = batch.column("line")
        offset_type = np.int64 if pa.types.is_large_string(lines.type) else np.int32
        offsets = np.frombuffer(lines.buffers()[1], dtype=offset_type)[
            lines.offset: lines.offset + len(lines) + 1]
        data = memoryview(lines.buffers()[2])
        starts = np.flatnonzero(np.any(np.diff(keys, axis=0) != 0, axis=1)) + 1
        bounds = np.concatenate([[0], starts, [len(keys)]])
        files = set()
        for begin, end in zip(bounds[:-1], bounds[1:], strict=True):
            key = (int(keys[begin, 0]), int(keys[begin, 1]))
            # A file continues across batches: append unless this run starts it.
            mode = "ab" if key in self._started_files else "wb"
            with self._path(*key).open(mode) as handle:
                handle.write(data[offsets[begin]: offsets[end]])
            self._started_files.add(key)
            files.add(key)
        return files

    def _forget_through(self, day_number: int) -> None:
        self.con.execute("DELETE FROM snapshots WHERE day <= ?", [day_number])
        self.con.execute("DELETE FROM dossiers WHERE d_id NOT IN (SELECT d_id FROM snapshots)")

    def close(self) -> None:
        self.con.close()
