"""Checks a landing file passes before any reader opens it.

Compressed files are measured before they are read: a gzip that expands past the limit
(`DVCTT_MAX_UNCOMPRESSED_BYTES`, 20 GB by default) is refused. The gzip is decompressed as a
stream into a small buffer that is thrown away, so a "gzip bomb" never occupies memory or
disk; the price is one extra decompression of every gzip that is loaded.
"""

from __future__ import annotations

import gzip
import os
import zipfile
import zlib
from pathlib import Path

from dvctt_pipeline.ingest.landing import LandingFile

MAX_UNCOMPRESSED_ENV = "DVCTT_MAX_UNCOMPRESSED_BYTES"
DEFAULT_MAX_UNCOMPRESSED_BYTES = 20 * 1024**3
_BLOCK = 1 << 20
# A copy or download cut short can leave a file at its full size, the part never written
# zero bytes: Windows' copy and several download tools size a file before they write it. No
# export ends in this many: text has no zero byte, UTF-16's line end has one (a NUL character
# would be two), a gzip or a zip (an .xlsx) ends in at most eight (sizes and lengths).
CUT_SHORT_ZERO_BYTES = 16
# An .xls is an OLE2 compound file, written in sectors of 512 bytes, the last one padded with
# zero bytes: it may end in hundreds of them. Its own reader finds one cut short (its sector
# chains lead into zeros), so the rule above is not applied to it.
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FIRST_TAIL_BYTES = 4096


class UnreadableFile(ValueError):
    """The whole file cannot be read; the message says what to fix."""


def not_utf8(name: str) -> UnreadableFile:
    """A JSON export's text that is neither UTF-8 nor UTF-16 with its byte-order mark (CSV
    exports are read in Windows-1258 too)."""
    return UnreadableFile(f"{name} is not UTF-8 text; export it again as UTF-8, or as UTF-16 "
                          "with its byte-order mark.")


def max_uncompressed_bytes() -> int:
    text = os.environ.get(MAX_UNCOMPRESSED_ENV, "")
    if not text:
        return DEFAULT_MAX_UNCOMPRESSED_BYTES
    if not text.isdigit():
        raise UnreadableFile(f"{MAX_UNCOMPRESSED_ENV}={text!r} must be a number of bytes.")
    return int(text)


def check_landing_file(landing_file: LandingFile) -> None:
    """Refuse what must not be read: links leaving the landing folder, empty files, bombs."""
    if landing_file.outside_landing:
        raise UnreadableFile(
            f"{landing_file.name} is, or lies in a folder that is, a symbolic link to a place "
            "outside the landing folder, which the pipeline does not read; copy the file itself "
            "into the landing folder."
        )
    if landing_file.size_bytes == 0:
        raise UnreadableFile(f"{landing_file.name} is empty (0 bytes); export it again.")
    check_not_cut_short(landing_file)
    if landing_file.name.lower().endswith(".gz"):
        check_gzip(landing_file.path, max_uncompressed_bytes())


def check_not_cut_short(landing_file: LandingFile) -> None:
    """Refuse a file whose end was never written (CUT_SHORT_ZERO_BYTES): read as it is, the
    records before the zero bytes would load and the file's other dossiers be missing."""
    zeros = trailing_zero_bytes(landing_file.path)
    if zeros < CUT_SHORT_ZERO_BYTES or _is_ole2(landing_file.path):
        return
    what = (f"is {zeros:,} zero bytes and nothing else" if zeros == landing_file.size_bytes
            else f"ends in {zeros:,} zero bytes of its {landing_file.size_bytes:,}")
    raise UnreadableFile(
        f"{landing_file.name} {what}: a copy or download cut short leaves a file so, at its "
        "full size with the rest never written; copy or download it again."
    )


def _is_ole2(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(len(OLE2_SIGNATURE)) == OLE2_SIGNATURE


def trailing_zero_bytes(path: Path) -> int:
    """How many zero bytes end the file, read backwards from a few kilobytes (most files end
    in text) to a block at a time."""
    zeros, size = 0, _FIRST_TAIL_BYTES
    with path.open("rb", buffering=0) as stream:
        end = stream.seek(0, os.SEEK_END)
        while end > 0:
            start = max(0, end - size)
            stream.seek(start)
            block = stream.read(end - start)
            written = block.rstrip(b"\0")
            zeros += len(block) - len(written)
            if written:
                break
            end, size = start, min(2 * size, _BLOCK)
    return zeros


def check_gzip(path: Path, limit: int) -> None:
    """Stream-decompress, counting bytes, and stop as soon as the limit is passed."""
    expanded = 0
    try:
        with gzip.open(path, "rb") as stream:
            while block := stream.read(_BLOCK):
                expanded += len(block)
                if expanded > limit:
                    raise UnreadableFile(
                        f"{path.name} expands to more than {limit:,} bytes, the limit set by "
                        f"{MAX_UNCOMPRESSED_ENV}; split the export or raise the limit."
                    )
    except gzip.BadGzipFile as error:
        raise UnreadableFile(
            f"{path.name} is not a gzip file although its name ends in .gz; "
            "remove the .gz suffix if it is not compressed, or export it again."
        ) from error
    except (EOFError, zlib.error) as error:
        raise UnreadableFile(
            f"{path.name} is a damaged or truncated gzip file; copy or export it again."
        ) from error


def not_a_workbook(path: Path, error: Exception | None = None) -> UnreadableFile:
    """The message for a file that is no workbook or a damaged one (e.g. its XML cut short)."""
    what = f" ({type(error).__name__})" if error else ""
    return UnreadableFile(
        f"{path.name} is not a readable Excel workbook (.xlsx or .xls){what}; open it in Excel and "
        "save it as 'Excel Workbook (.xlsx)', or copy it again if it was cut short."
    )


def check_zip(path: Path, limit: int) -> None:
    """An .xlsx is a zip: refuse one that is not, or whose members declare more than the limit.

    The declared sizes are what the zip reader enforces while it inflates each member.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            declared = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile as error:
        raise not_a_workbook(path) from error
    if declared > limit:
        raise UnreadableFile(
            f"{path.name} expands to {declared:,} bytes, more than the limit set by "
            f"{MAX_UNCOMPRESSED_ENV} ({limit:,}); check the workbook or raise the limit."
        )
