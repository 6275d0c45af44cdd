"""CSV exports and JSON arrays with more text than one piece (DVCTT_INGEST_PIECE_BYTES, set
here far below the files' sizes) are read, judged and stored piece by piece, with what
reading them whole gives: the same rows in raw, the same rows set aside with the same reasons
at the same record numbers, the same counts. The files are written as other tools write them
(pandas, Excel's CRLF and Windows-1258, json.dump)."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from office_files import windows_1258

from dvctt_pipeline.ingest import readers, registry
from dvctt_pipeline.ingest.changes import landing_changes
from dvctt_pipeline.ingest.dossiers import PIECE_BYTES_ENV, ingest_dossier_exports
from dvctt_pipeline.ingest.registry import FileOutcome
from dvctt_pipeline.settings import MEMORY_LIMIT_ENV
from dvctt_pipeline.warehouse import connect, ensure_base_tables

DAY = "2022-03-02"
PIECE_BYTES = 2048
RAW_COLUMNS = "* EXCLUDE (file_id, export_date)"
QUARANTINE_COLUMNS = "relative_path, line_no, ma_ho_so, reason"
PERSONAL = ("Trần Thị Bích Ngọc", "0912345678", "12 Lê Lợi")


def dossier(number: int) -> dict[str, object]:
    """A record as a portal's spreadsheet export holds it; every seventh one is bad in a
    way the rules name, and text fields hold commas, quotes and line ends."""
    record: dict[str, object] = {
        "MaHoSo": f"000.00.12.H17-P-{number}",
        "DonViXuLy": "Sở Tư pháp tỉnh Hòa Bình, Phòng \"Hành chính\"" if number % 3
                     else "UBND huyện Lạc Sơn",
        "MaTTHC": "1.001",
        "KenhThucHien": 2 if number % 5 else "",
        "NgayTiepNhan": f"202203{1 + number % 28:02d}080000",
        "NgayHenTra": f"202204{1 + number % 28:02d}170000",
        "TrangThaiHoSo": 4,
        "Gia": 50000 if number % 2 else "",
        "ChuHoSo": PERSONAL[0],
        "SoDienThoai": PERSONAL[1],
        "DiaChi": f"{PERSONAL[2]},\nphường Phương Lâm,\r\nHòa Bình",
    }
    if number % 7 == 3:
        record["KenhThucHien"] = 9
    if number % 7 == 5:
        record["NgayTiepNhan"] = "20220230080000"
    if number % 11 == 4:
        record["MaHoSo"] = ""
    return record


def frame(count: int = 120) -> pd.DataFrame:
    return pd.DataFrame([dossier(number) for number in range(1, count + 1)])


def export_path(landing: Path, name: str) -> Path:
    path = landing / "dossiers" / DAY / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def pieces_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many pieces each file read in pieces was cut into."""
    counts: list[int] = []
    cut = readers._pieces

    def counted(*args: object) -> Iterator[tuple[Path, object]]:
        counts.append(0)
        for piece in cut(*args):
            counts[-1] += 1
            yield piece

    monkeypatch.setattr(readers, "_pieces", counted)
    return counts


def ingest(landing: Path, warehouse: Path) -> tuple[list[FileOutcome], list[tuple], list[tuple]]:
    with connect(warehouse) as con:
        outcomes = ingest_dossier_exports(con, landing)
        raw = con.execute(f"SELECT {RAW_COLUMNS} FROM raw.dossier_snapshots "
                          "ORDER BY file_name, line_no").fetchall()
        quarantined = con.execute(f"SELECT {QUARANTINE_COLUMNS} FROM quarantine.dossier_snapshots "
                                  "ORDER BY ALL").fetchall()
    return outcomes, raw, quarantined


def assert_pieces_read_as_whole(tmp_path: Path, landing: Path, monkeypatch: pytest.MonkeyPatch,
                                pieces_read: list[int]) -> tuple[list[FileOutcome], list[tuple]]:
    monkeypatch.delenv(PIECE_BYTES_ENV, raising=False)
    whole = ingest(landing, tmp_path / "whole.duckdb")
    months = landing_changes(landing, {}).months  # what the landing sensor reads
    assert pieces_read == []
    monkeypatch.setenv(PIECE_BYTES_ENV, str(PIECE_BYTES))
    in_pieces = ingest(landing, tmp_path / "pieces.duckdb")
    assert in_pieces == whole
    assert landing_changes(landing, {}).months == months == {date(2022, 3, 1)}
    assert pieces_read and all(count > 1 for count in pieces_read)
    outcomes, raw, quarantined = whole
    assert all(outcome.status == "loaded" for outcome in outcomes)
    assert all(o.rows_read == o.rows_loaded + o.rows_quarantined for o in outcomes)
    assert raw and quarantined
    assert not any(text in str(raw + quarantined) for text in PERSONAL)
    return outcomes, quarantined


def assert_loads_as_the_portals_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       pieces_read: list[int], landing: Path, portal: Path
                                       ) -> None:
    """The export of `landing`, read whole and in pieces, gives the rows of the same records
    as the portal writes them (`portal`), some of them set aside."""
    monkeypatch.delenv(PIECE_BYTES_ENV, raising=False)
    expected = ingest(portal, tmp_path / "portal.duckdb")
    assert ingest(landing, tmp_path / "whole.duckdb") == expected
    monkeypatch.setenv(PIECE_BYTES_ENV, str(PIECE_BYTES))
    assert ingest(landing, tmp_path / "pieces.duckdb") == expected
    assert pieces_read[-1] > 1
    (outcome,), _, _ = expected
    assert outcome.rows_loaded > outcome.rows_quarantined > 0


@pytest.mark.parametrize(("name", "write"), [
    ("export.csv", lambda path: frame().to_csv(path, index=False)),
    ("export.csv.gz", lambda path: frame().to_csv(path, index=False, compression="gzip")),
    # Excel's "CSV UTF-8" on a Vietnamese Windows: a byte-order mark, semicolons, CRLF
    ("excel.csv", lambda path: frame().to_csv(path, index=False, sep=";",
                                              lineterminator="\r\n", encoding="utf-8-sig")),
    # a screen's list saved as CSV, its title and filter lines above the header
    ("titled.csv", lambda path: path.write_text(
        "DANH SÁCH HỒ SƠ;;\nTừ ngày 01/03/2022 đến ngày 02/03/2022;;\n;;\n"
        + frame().to_csv(index=False, sep=";"), encoding="utf-8")),
], ids=["pandas", "pandas-gzip", "excel-semicolons-crlf", "screen-list-under-its-title"])
def test_a_csv_with_quoted_line_ends_and_commas_in_pieces_is_read_as_whole(
        tmp_path, monkeypatch, pieces_read, name: str, write: Callable[[Path], None]):
    landing = tmp_path / "landing"
    write(export_path(landing, name))
    outcomes, quarantined = assert_pieces_read_as_whole(tmp_path, landing, monkeypatch,
                                                        pieces_read)
    assert outcomes[0].rows_read == 120
    reasons = {line_no: reason for _, line_no, _, reason in quarantined}
    assert reasons[3] == "unknown_channel" and reasons[5] == "bad_date"
    assert reasons[4] == "missing_ma_ho_so" and reasons[114] == "missing_ma_ho_so"


@pytest.mark.parametrize("title", ["", "DANH SÁCH HỒ SƠ;;\r\n;;\r\n"],
                         ids=["header-first", "under-a-title"])
def test_a_windows_1258_csv_in_pieces_is_read_as_whole(tmp_path, monkeypatch, pieces_read,
                                                      title):
    landing = tmp_path / "landing"
    text = title + frame().to_csv(index=False, sep=";", lineterminator="\r\n")
    export_path(landing, "cp1258.csv").write_bytes(windows_1258(text))
    assert_pieces_read_as_whole(tmp_path, landing, monkeypatch, pieces_read)
    with connect(tmp_path / "pieces.duckdb") as con:
        names = con.execute("SELECT DISTINCT don_vi_xu_ly FROM raw.dossier_snapshots "
                            "ORDER BY ALL").fetchall()
    assert names == [("Sở Tư pháp tỉnh Hòa Bình, Phòng \"Hành chính\"",),
                     ("UBND huyện Lạc Sơn",)]


def test_a_utf16_csv_in_pieces_is_read_as_whole(tmp_path, monkeypatch, pieces_read):
    landing = tmp_path / "landing"
    frame().to_csv(export_path(landing, "Unicode text.csv"), index=False, sep="\t",
                   encoding="utf-16")
    assert_pieces_read_as_whole(tmp_path, landing, monkeypatch, pieces_read)


def test_a_csv_with_ragged_rows_in_some_pieces_is_read_as_whole(tmp_path, monkeypatch,
                                                                pieces_read):
    """A hand-edited export: a row with a field too many, one with two too few, a blank line,
    in some pieces and not others; each ragged row keeps its place, set aside."""
    landing = tmp_path / "landing"
    rows = list(csv.reader(io.StringIO(frame().to_csv(index=False))))
    rows[40].append("thêm")
    rows[41] = []
    rows[90] = rows[90][:-2]
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    export_path(landing, "sua-tay.csv").write_text(text.getvalue(), encoding="utf-8")
    _, quarantined = assert_pieces_read_as_whole(tmp_path, landing, monkeypatch, pieces_read)
    reasons = {line_no: reason for _, line_no, _, reason in quarantined}
    # records 40 and 89: the blank line is no record
    assert reasons[40] == reasons[89] == "ragged_row"


def sorted_by_date(date_format: str) -> pd.DataFrame:
    """The records sorted by date (those that do not exist, 30 February, last), their dates
    written with `date_format`: the first pieces hold only days up to the 12th."""
    export = frame().sort_values("NgayTiepNhan", kind="stable", key=lambda dates: dates.where(
        ~dates.str.startswith("20220230"), "9"))
    export["NgayHenTra"] = export["NgayTiepNhan"].str[:8] + "170000"
    for column in ("NgayTiepNhan", "NgayHenTra"):
        export[column] = [text if text.startswith("20220230") else
                          pd.Timestamp(text).strftime(date_format) for text in export[column]]
    return export


def assert_first_piece_shows_no_order(path: Path) -> None:
    first_piece = path.read_bytes()[:PIECE_BYTES].decode(errors="ignore")
    assert "/03/2022" in first_piece and not re.search(r"\b(1[3-9]|2[0-9])/03/", first_piece)


def test_a_csv_whose_dates_excel_wrote_day_first_loads_as_the_portals_export(
        tmp_path, monkeypatch, pieces_read):
    """An export opened and saved again in Excel on a Vietnamese Windows (dates as
    05/03/2022 08:00), sorted by date: its first pieces hold only days up to the 12th, which
    could be read either way; the file's later dates tell the order of all of them, in pieces
    as whole."""
    def written(landing: Path, date_format: str) -> Path:
        sorted_by_date(date_format).to_csv(export_path(landing, "excel.csv"), index=False,
                                           sep=";", lineterminator="\r\n", encoding="utf-8-sig")
        return landing

    excel = written(tmp_path / "excel", "%d/%m/%Y %H:%M")
    assert_loads_as_the_portals_export(tmp_path, monkeypatch, pieces_read, excel,
                                       written(tmp_path / "portal", "%Y%m%d%H%M%S"))
    assert_first_piece_shows_no_order(excel / "dossiers" / DAY / "excel.csv")


@pytest.mark.parametrize("name", ["service.jsonl", "service.json"])
def test_a_json_export_whose_service_wrote_its_culture_s_dates_loads_as_the_portals_export(
        tmp_path, monkeypatch, pieces_read, name):
    """A service formatting its dates for vi-VN (.NET: 05/03/2022 08:00:00), its records
    sorted by date, as JSON lines and as an array: read whole, then again in their order; in
    pieces, with the order of all of its dates, the first pieces showing none."""
    def written(landing: Path, date_format: str) -> Path:
        records = sorted_by_date(date_format).to_dict(orient="records")
        text = (json.dumps(records, ensure_ascii=False) if name.endswith(".json") else
                "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records))
        export_path(landing, name).write_text(text, encoding="utf-8")
        return landing

    service = written(tmp_path / "service", "%d/%m/%Y %H:%M:%S")
    assert_loads_as_the_portals_export(tmp_path, monkeypatch, pieces_read, service,
                                       written(tmp_path / "portal", "%Y%m%d%H%M%S"))
    assert_first_piece_shows_no_order(service / "dossiers" / DAY / name)


def json_array_text(indent: int | None) -> str:
    records: list[object] = frame().to_dict(orient="records")
    records[9:9] = [42, None, "chuỗi", [1, 2]]  # elements that are not records
    return json.dumps(records, indent=indent, ensure_ascii=False)


@pytest.mark.parametrize("indent", [2, None], ids=["pretty-printed", "one-line"])
def test_a_json_array_in_pieces_is_read_as_whole(tmp_path, monkeypatch, pieces_read, indent):
    landing = tmp_path / "landing"
    text = json_array_text(indent)
    export_path(landing, "api.json").write_text(text, encoding="utf-8")
    export_path(landing, "api-nen.json.gz").write_bytes(gzip.compress(text.encode()))
    outcomes, quarantined = assert_pieces_read_as_whole(tmp_path, landing, monkeypatch,
                                                        pieces_read)
    assert [outcome.rows_read for outcome in outcomes] == [124, 124]
    reasons = {line_no: reason for path, line_no, _, reason in quarantined
               if path.endswith("api.json")}
    assert [reasons[element] for element in range(10, 14)] == ["not_an_object"] * 4
    assert reasons[3] == "unknown_channel" and reasons[5] == "bad_date"
    assert reasons[12 + 4] == "bad_date"  # the 12th record, after the four that are not


@pytest.mark.parametrize("wrapped", [False, True], ids=["member", "member-of-a-member"])
def test_an_apis_response_holding_the_array_in_pieces_loads_as_the_array(
        tmp_path, monkeypatch, pieces_read, wrapped):
    """The array as a member of an API's response, or of an object within it (ABP's
    result.items), after members of every kind (links to other pages: an array of objects
    that are no records) and before others, each longer than a piece: its elements load,
    whole and in pieces, as the array alone does."""
    records = json.loads(json_array_text(None))
    paging = {"page": 1, "links": [{"href": "?page=2"}] * 200, "note": "x" * 3000}
    response = {"status": "ok", "total": len(records), "filters": {"tinh": ["17"] * 500},
                "data": records, "paging": paging, "ids": list(range(800))}
    if wrapped:
        response = {"meta": {"paging": paging}, "result": {"totalCount": len(records),
                                                            "items": records, "paging": paging},
                    "success": True, "ids": list(range(800))}
    array = export_path(tmp_path / "portal", "api.json")
    array.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    held = export_path(tmp_path / "response", "api.json")
    held.write_text(json.dumps(response, ensure_ascii=False, indent=1), encoding="utf-8")
    assert_loads_as_the_portals_export(tmp_path, monkeypatch, pieces_read, tmp_path / "response",
                                       tmp_path / "portal")


def test_json_array_elements_with_documents_embedded_load_whole_and_in_pieces(
        tmp_path, monkeypatch, pieces_read):
    """An API export whose records embed their scanned documents (3 MB and 40 MB here: DuckDB's
    reader stops at an element past about 32 MB): every record loads, with what the same
    array without the documents gives, read whole (the file is then read again element by
    element) and in pieces; an element past the pipeline's limit fails its file alone, saying
    that the limit is the pipeline's."""
    records: list[dict[str, object]] = frame(20).to_dict(orient="records")
    plain, attached = tmp_path / "plain", tmp_path / "attached"
    export_path(plain, "api.json").write_text(json.dumps(records), encoding="utf-8")
    for index, size in ((3, 3_000_000), (8, 40_000_000)):
        records[index] = {"TepDinhKem": [{"NoiDung": "JVBERi0x" * (size // 8)}], **records[index]}
    export_path(attached, "api.json").write_text(json.dumps(records), encoding="utf-8")
    monkeypatch.delenv(PIECE_BYTES_ENV, raising=False)
    expected = ingest(plain, tmp_path / "plain.duckdb")
    assert ingest(attached, tmp_path / "whole.duckdb")[1:] == expected[1:]
    monkeypatch.setenv(PIECE_BYTES_ENV, str(1_000_000))
    assert ingest(attached, tmp_path / "pieces.duckdb")[1:] == expected[1:]
    assert pieces_read[-1] > 1
    monkeypatch.setattr(readers, "LONGEST_LINE_BYTES", 20_000_000)
    (outcome,), raw, _ = ingest(attached, tmp_path / "too_long.duckdb")
    assert (outcome.status, raw) == ("failed", [])
    assert "element 9 of its array has 20,000,000 characters or more" in outcome.message
    assert "a limit of the pipeline, not a fault of the file" in outcome.message


def powershell_utf16(text: str) -> bytes:
    """As Windows PowerShell 5's Out-File writes text: UTF-16 with its BOM, CRLF."""
    return "\ufeff".encode("utf-16-le") + text.replace("\n", "\r\n").encode("utf-16-le")


@pytest.mark.parametrize("name", ["powershell.jsonl", "powershell.json"])
def test_a_utf16_json_export_in_pieces_is_read_as_whole(tmp_path, monkeypatch, pieces_read,
                                                       name):
    records = frame().to_dict(orient="records")
    text = (json.dumps(records, ensure_ascii=False, indent=4) if name.endswith(".json")
            else "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records))
    landing = tmp_path / "landing"
    export_path(landing, name).write_bytes(powershell_utf16(text))
    (outcome,), _ = assert_pieces_read_as_whole(tmp_path, landing, monkeypatch, pieces_read)
    assert outcome.rows_read == len(records)


@pytest.mark.parametrize(("name", "spelling"), [
    ("database.jsonl", str.lower),
    ("api.json", lambda key: key[0].lower() + key[1:]),
    ("tables.jsonl", lambda key: re.sub(r"(?<=[a-z])(?=[A-Z])", "_", key).lower()),
], ids=["lower", "camel", "snake"])
def test_a_json_export_with_its_own_names_for_the_fields_loads_as_the_portals_spelling(
        tmp_path, monkeypatch, pieces_read, name, spelling):
    """Fields named in lower case (a database's export), camel case (an API's) or snake case
    (a table's columns, ma_ho_so) are read with those names, whole and in pieces: the rows of
    the portal's spelling."""
    def written(landing: Path, rename: Callable[[str], str]) -> Path:
        records = [{rename(key): value for key, value in record.items()}
                   for record in frame().to_dict(orient="records")]
        text = (json.dumps(records, ensure_ascii=False) if name.endswith(".json") else
                "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records))
        export_path(landing, name).write_text(text, encoding="utf-8")
        return landing

    own = written(tmp_path / "own", spelling)
    assert_loads_as_the_portals_export(tmp_path, monkeypatch, pieces_read, own,
                                       written(tmp_path / "portal", str))


def test_an_array_streamed_a_few_characters_at_a_time_gives_its_elements(monkeypatch):
    """Elements cut anywhere by the blocks of text read (a literal, an escape, a number, a
    string left open) are read on, not taken for faults; a fault is still one."""
    elements = [{"MaHoSo": "A-\\u00e9\u1ea1", "x": [True, False, None, -1.5e3, "\\n"]},
                [float("nan"), float("-inf")], "chuỗi", {}, 12345678]
    text = json.dumps(elements, ensure_ascii=True).replace(", ", " ,\r\n ")
    for block, whole in itertools.product(range(2, 40), (text, json.dumps(elements))):
        monkeypatch.setattr(readers, "TEXT_BLOCK", block)
        copy = io.BytesIO()
        readers._ArrayElements(io.StringIO(whole), Path("api.json")).copy(copy, 1 << 20)
        lines = copy.getvalue().decode().splitlines()
        assert json.dumps([json.loads(line) for line in lines]) == json.dumps(elements)
    with pytest.raises(readers.UnreadableFile, match="malformed after element 0"):
        readers._ArrayElements(io.StringIO(text.replace("false", "flase")), Path("api.json")
                               ).copy(io.BytesIO(), 1 << 20)


def test_a_malformed_json_array_in_pieces_fails_alone(tmp_path, monkeypatch, pieces_read):
    landing = tmp_path / "landing"
    export_path(landing, "cut.json").write_text(json_array_text(2)[:-200], encoding="utf-8")
    frame().to_csv(export_path(landing, "export.csv"), index=False)
    monkeypatch.setenv(PIECE_BYTES_ENV, str(PIECE_BYTES))
    outcomes, raw, quarantined = ingest(landing, tmp_path / "warehouse.duckdb")
    statuses = {outcome.relative_path.rsplit("/", 1)[1]: outcome for outcome in outcomes}
    assert statuses["cut.json"].status == "failed"
    assert "is not one complete JSON array" in (statuses["cut.json"].message or "")
    assert statuses["export.csv"].status == "loaded"
    # the pieces before the fault were stored and committed: they are gone with the file
    assert {row[0] for row in raw} == {"export.csv"}
    assert {row[0] for row in quarantined} == {f"dossiers/{DAY}/export.csv"}
    with connect(tmp_path / "warehouse.duckdb") as con:
        assert sorted(con.execute("SELECT relative_path, status FROM meta.source_files").fetchall()
                      ) == [(f"dossiers/{DAY}/cut.json", "failed"),
                            (f"dossiers/{DAY}/export.csv", "loaded")]


def test_a_load_in_pieces_whose_last_commit_fails_leaves_none_of_its_rows(tmp_path, monkeypatch,
                                                                          pieces_read):
    landing = tmp_path / "landing"
    path = export_path(landing, "export.csv")
    frame(60).to_csv(path, index=False)
    monkeypatch.setenv(PIECE_BYTES_ENV, str(PIECE_BYTES))
    ingest(landing, tmp_path / "warehouse.duckdb")
    frame(120).to_csv(path, index=False)  # delivered again; the disk fills as it is loaded
    supersede = registry._supersede
    calls: list[object] = []

    def failing_once(*args: object) -> None:
        calls.append(args)
        if len(calls) == 1:  # the commit that would make the new version `loaded`
            raise duckdb.IOException("No space left on device")
        supersede(*args)

    monkeypatch.setattr(registry, "_supersede", failing_once)
    (outcome,), raw, quarantined = ingest(landing, tmp_path / "warehouse.duckdb")
    assert outcome.status == "failed" and pieces_read[-1] > 1
    assert "disk ran out of space" in (outcome.message or "")
    # the file's pieces were stored and committed: they went with the failed load
    assert raw == quarantined == []
    with connect(tmp_path / "warehouse.duckdb") as con:
        assert con.execute("SELECT status FROM meta.source_files ORDER BY file_id").fetchall() == [
            ("superseded",), ("failed",)]


RECORD = ('{"MaHoSo": "000.00.12.H17-J-%d", "KenhThucHien": 2, "NgayTiepNhan": '
          '"20220302080000", "TrangThaiHoSo": 4, "GhiChu": "[{,]} \\" \\u1ea1"}')


@pytest.mark.parametrize("text", [
    "[]",
    f"[{RECORD % 1},]",
    RECORD % 1,
    f"[{RECORD % 1}] x",
    f"[{RECORD % 1} {RECORD % 2}]",
    '[{"MaHoSo": "A\nB", "NgayTiepNhan": "20220302080000"}]',
    f"[{RECORD % 1}, {RECORD % 2}",
    '[{"MaHoSo": "A", "Gia": NaN}]',
    f"\ufeff[null, {RECORD % 1}, [], {{}}, \"x\", 1.5e3,\r\n {RECORD % 2}]\r\n",
], ids=["empty", "trailing-comma", "object", "after-the-end", "no-comma",
        "line-end-in-a-string", "unclosed", "nan", "bom-odd-elements-crlf"])
def test_an_odd_or_malformed_json_array_in_pieces_ends_as_it_does_whole(tmp_path, monkeypatch,
                                                                        text):
    landing = tmp_path / "landing"
    export_path(landing, "api.json").write_text(text, encoding="utf-8")
    monkeypatch.delenv(PIECE_BYTES_ENV, raising=False)
    whole = ingest(landing, tmp_path / "whole.duckdb")
    monkeypatch.setenv(PIECE_BYTES_ENV, "1")
    in_pieces = ingest(landing, tmp_path / "pieces.duckdb")
    assert in_pieces[1:] == whole[1:]
    (outcome_whole,), (outcome,) = whole[0], in_pieces[0]
    assert (outcome.status, outcome.rows_read) == (outcome_whole.status, outcome_whole.rows_read)
    # the fault's position is told as bytes when read whole, as elements in pieces
    def without_position(message: str | None) -> str:
        return re.sub(r" \(malformed [^)]*\)", "", message or "")

    assert without_position(outcome.message) == without_position(outcome_whole.message)


@pytest.mark.parametrize("name", ["export.csv", "api.json"])
def test_a_file_the_memory_limit_cannot_hold_fails_alone_naming_the_limit(
        tmp_path, monkeypatch, name):
    """Memory too small for DuckDB to hold one piece, and nowhere to spill: the file fails
    alone with what to raise, and is not blamed; a small export beside it loads."""
    landing = tmp_path / "landing"
    path = export_path(landing, name)
    if name.endswith(".csv"):
        frame(100_000).to_csv(path, index=False)
    else:
        path.write_text(json.dumps(frame(60_000).to_dict(orient="records")), encoding="utf-8")
    frame(5).to_csv(export_path(landing, "small.csv"), index=False)
    monkeypatch.setenv(PIECE_BYTES_ENV, str(path.stat().st_size // 2))
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "64MB")
    with duckdb.connect() as con:
        ensure_base_tables(con)
        con.execute("SET memory_limit = '64MB'")
        con.execute("SET temp_directory = ''")
        big, small = ingest_dossier_exports(con, landing)
    assert (big.status, small.status) == ("failed", "loaded")
    assert f"{MEMORY_LIMIT_ENV}=64MB was not enough memory" in (big.message or "")
    assert "limit of the pipeline, not a fault of the file" in (big.message or "")
