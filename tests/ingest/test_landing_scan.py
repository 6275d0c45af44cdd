"""What the landing folder holds besides well-named exports: badly named folders and files,
named pipes, links that lead nowhere. The look of the daily schedule and the landing sensor
(ingest.changes.landing_changes) passes over them with a warning and still reads the rest."""

from __future__ import annotations

import json
import logging
import os
from datetime import date
from pathlib import Path

from dvctt_pipeline.ingest.changes import landing_changes
from dvctt_pipeline.ingest.dossiers import ingest_dossier_exports
from dvctt_pipeline.ingest.landing import dossier_exports
from dvctt_pipeline.warehouse import connect

RECORD = {"MaHoSo": "000.00.12.H17-1", "MaDonViXuLy": "000.00.12.H17", "KenhThucHien": 2,
          "NgayTiepNhan": "20220305080000", "NgayKetThucXuLy": "20220407100000",
          "TrangThaiHoSo": 9, "ChuHoSo": "Nguyễn Văn An"}


def export(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(RECORD, ensure_ascii=False) + "\n", encoding="utf-8")


def a_landing_folder_with_bad_names(landing: Path) -> None:
    dossiers = landing / "dossiers"
    export(dossiers / "2022-04-07" / "dvcqg.jsonl")
    export(dossiers / "2022-13-45" / "dvcqg.jsonl")  # a typo in the folder's date
    export(dossiers / "latest" / "dvcqg.jsonl")  # a copy kept by the sender's sync tool
    # a Windows archive unzipped on Linux leaves its Vietnamese names in Windows-1258
    export(Path(os.fsdecode(os.fsencode(dossiers / "2022-04-07") + b"/b\xe1o c\xe1o.jsonl")))
    os.mkfifo(dossiers / "2022-04-07" / "stream.jsonl")
    (dossiers / "2022-04-07" / "loop.jsonl").symlink_to("loop.jsonl")


def test_the_schedule_reads_the_good_exports_and_passes_over_the_bad_names(tmp_path, caplog):
    landing = tmp_path / "landing"
    a_landing_folder_with_bad_names(landing)
    with caplog.at_level(logging.WARNING):
        changes = landing_changes(landing, {})
    assert changes.months == {date(2022, 3, 1), date(2022, 4, 1)}
    assert sorted(changes.unreadable) == [
        "dossiers/2022-04-07/b\\xe1o c\\xe1o.jsonl", "dossiers/2022-04-07/loop.jsonl",
        "dossiers/2022-04-07/stream.jsonl", "dossiers/2022-13-45", "dossiers/latest",
    ]
    warned = " ".join(record.getMessage() for record in caplog.records)
    assert "dossiers/2022-13-45 is not read: the folder name is not a real date" in warned
    assert "is not valid UTF-8" in warned
    # what was seen is remembered (in the landing sensor's cursor), so the next look warns no more
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        again = landing_changes(landing, changes.fingerprints)
    assert (again.new_files, again.months, caplog.records) == ([], set(), [])


def test_a_dated_folder_linked_from_outside_the_landing_is_refused_file_by_file(tmp_path):
    """Only links are resolved when the folder is read (a year of small exports is 20 000
    files): a file that is not a link, in a dated folder that is one, is still outside."""
    landing, elsewhere = tmp_path / "landing", tmp_path / "elsewhere"
    export(landing / "dossiers" / "2022-04-07" / "dvcqg.jsonl")
    export(elsewhere / "2022-04-08" / "dvcqg.jsonl")
    (landing / "dossiers" / "2022-04-08").symlink_to(elsewhere / "2022-04-08",
                                                     target_is_directory=True)
    (landing / "dossiers" / "2022-04-07" / "linked.jsonl").symlink_to(
        elsewhere / "2022-04-08" / "dvcqg.jsonl")
    (landing / "dossiers" / "2022-04-07" / "within.jsonl").symlink_to("dvcqg.jsonl")

    assert [(f.relative_path, f.outside_landing) for f in dossier_exports(landing)] == [
        ("dossiers/2022-04-07/dvcqg.jsonl", False), ("dossiers/2022-04-07/linked.jsonl", True),
        ("dossiers/2022-04-07/within.jsonl", False), ("dossiers/2022-04-08/dvcqg.jsonl", True)]
    with connect(tmp_path / "warehouse.duckdb") as con:
        outcomes = {o.relative_path: o for o in ingest_dossier_exports(con, landing)}
    assert outcomes["dossiers/2022-04-07/dvcqg.jsonl"].status == "loaded"
    for refused in ("dossiers/2022-04-07/linked.jsonl", "dossiers/2022-04-08/dvcqg.jsonl"):
        assert outcomes[refused].status == "failed"
        assert "a symbolic link to a place outside the landing folder" in outcomes[
            refused].message


def test_an_export_whose_fields_are_named_in_lower_case_touches_its_months(tmp_path):
    """A database's export names the fields in lower case: the look reads its months as the
    ingest reads its records, with those names."""
    landing = tmp_path / "landing"
    lower = landing / "dossiers" / "2022-04-07" / "tu-csdl.jsonl"
    lower.parent.mkdir(parents=True)
    lower.write_text(json.dumps({key.lower(): value for key, value in RECORD.items()}) + "\n",
                     encoding="utf-8")
    changes = landing_changes(landing, {})
    assert (changes.months, changes.unreadable) == ({date(2022, 3, 1), date(2022, 4, 1)}, [])


def test_an_export_cut_short_by_its_copy_is_unreadable_not_the_months_of_its_first_records(
        tmp_path):
    """A copy cut short leaves the file at its full size, its end zero bytes: the look lists
    it as unreadable (its load fails) rather than reading the months of the records before."""
    landing = tmp_path / "landing"
    export(landing / "dossiers" / "2022-04-07" / "dvcqg.jsonl")
    cut = landing / "dossiers" / "2022-05-08" / "dvcqg.jsonl"
    cut.parent.mkdir(parents=True)
    may = {**RECORD, "NgayTiepNhan": "20220505080000", "NgayKetThucXuLy": None}
    cut.write_bytes(json.dumps(may).encode() + b"\n" + bytes(1 << 20))
    changes = landing_changes(landing, {})
    assert (changes.months, changes.unreadable) == (
        {date(2022, 3, 1), date(2022, 4, 1)}, ["dossiers/2022-05-08/dvcqg.jsonl"])
    assert set(changes.file_months) == {"dossiers/2022-04-07/dvcqg.jsonl"}
