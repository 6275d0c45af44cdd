"""The checks a landing file passes before any reader opens it (ingest.guards): here, a file
whose end a copy or download cut short never wrote, told from the ways an export really ends."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from dvctt_pipeline.ingest.guards import (
    CUT_SHORT_ZERO_BYTES,
    UnreadableFile,
    check_not_cut_short,
    trailing_zero_bytes,
)
from dvctt_pipeline.ingest.landing import LandingFile

LINE = '{"MaHoSo": "000.00.12.H17-1", "NgayTiepNhan": "20220305080000"}\n'


def landing_file(path: Path, content: bytes) -> LandingFile:
    path.write_bytes(content)
    return LandingFile(path, f"dossiers/2022-03-05/{path.name}", date(2022, 3, 5),
                       len(content), path.stat().st_mtime_ns)


def an_excel_workbook(path: Path) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.append(["Đơn vị", 1])
    workbook.save(path)
    return path.read_bytes()


@pytest.mark.parametrize("ending", ["utf-16", "gzip of nothing", "xlsx", "zeros below the mark"])
def test_exports_that_end_in_a_few_zero_bytes_are_read(tmp_path, ending):
    content = {
        "utf-16": ("\ufeff" + LINE).encode("utf-16-le"),  # its line end is 0A 00
        "gzip of nothing": gzip.compress(b""),  # its checksum and size are zeros
        "xlsx": an_excel_workbook(tmp_path / "workbook.xlsx"),
        "zeros below the mark": LINE.encode() + bytes(CUT_SHORT_ZERO_BYTES - 1),
    }[ending]
    check_not_cut_short(landing_file(tmp_path / "export", content))


def test_a_file_whose_end_was_never_written_is_refused_with_how_much(tmp_path):
    # more zero bytes than one read backwards takes, so that they are counted block by block
    zeros = 3 << 20
    cut = landing_file(tmp_path / "dvcqg.jsonl", LINE.encode() * 3 + bytes(zeros))
    assert trailing_zero_bytes(cut.path) == zeros
    with pytest.raises(UnreadableFile, match=f"ends in {zeros:,} zero bytes of its "
                                             f"{zeros + 3 * len(LINE):,}.*copy or download"):
        check_not_cut_short(cut)
    never_written = landing_file(tmp_path / "empty.jsonl", bytes(CUT_SHORT_ZERO_BYTES))
    with pytest.raises(UnreadableFile, match="is 16 zero bytes and nothing else"):
        check_not_cut_short(never_written)
