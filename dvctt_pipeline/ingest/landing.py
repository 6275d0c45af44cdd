"""What is in the landing folder, and which of it the warehouse has already loaded.

The pipeline never modifies or deletes landing files. A file is identified by its path
relative to the landing folder; its content hash decides whether it is new, unchanged, a
copy of a file already loaded, or a changed version that supersedes the earlier one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import blake3
import duckdb

DOSSIER_DIR = "dossiers"
REPORT_DIR = "reports"
# Dossier exports kept as a workbook (ingest.workbook_exports)
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
DOSSIER_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", *WORKBOOK_SUFFIXES)
# What a gzipped export is taken to expand to: the sample's JSON lines compress 6.5-7 times at
# gzip's default level; 8 errs towards batches smaller than BATCH_BYTES of text, not larger.
GZIP_EXPANSION = 8
# How content hashes are made (LandingFile.content_hash); a warehouse registered before holds
# "sha256:" digests, which no new digest equals.
HASH_ALGORITHM = "blake3"
HASH_BLOCK = 1 << 20
_EXPORT_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_REPORT_MONTH = re.compile(r"^\d{4}-\d{2}$")


@dataclass(frozen=True)
class NotRead:
    """Why an entry of the landing folder is not read, and how it is recorded."""

    status: str  # failed: meant as an input but badly named; skipped: not an input at all
    message: str


@dataclass(frozen=True)
class LandingFile:
    path: Path
    # as text even when the name is not valid UTF-8 (its bad bytes written as \xNN)
    relative_path: str
    # the date its folder names: the export date of dossiers, the first day of a report's month
    # (None for an entry of a folder that names no date)
    export_date: date | None
    size_bytes: int
    mtime_ns: int
    # a symbolic link whose target lies outside the landing folder is never read
    outside_landing: bool = False
    # an entry that is recorded with why it is not read, and never opened
    not_read: NotRead | None = None

    @property
    def name(self) -> str:
        return Path(self.relative_path).name

    @property
    def text_bytes(self) -> int:
        """The text a reader has to go through: a gzipped file's expected expansion, as
        what a batch or a piece holds in memory is its text, not the bytes on disk."""
        gzipped = self.name.lower().endswith(".gz")
        return self.size_bytes * (GZIP_EXPANSION if gzipped else 1)

    def content_hash(self) -> str:
        """The digest of the file's bytes, named by its algorithm (HASH_ALGORITHM:hex). BLAKE3:
        a national month's 6.3 GB in 1.7 s of one core, where SHA-256 took 4.3 s. Read in
        blocks: a mapped file would count its gigabytes in the process's memory."""
        digest = blake3.blake3()
        with self.path.open("rb", buffering=0) as stream:
            while block := stream.read(HASH_BLOCK):
                digest.update(block)
        return f"{HASH_ALGORITHM}:{digest.hexdigest()}"


def is_dossier_export(path: Path) -> bool:
    name = path.name.lower().removesuffix(".gz")
    return name.endswith(DOSSIER_SUFFIXES)


def is_tool_artefact(name: str) -> bool:
    """Hidden files (.DS_Store, editors' swap files) and Office lock files (~$...) are
    ignored without a word: nobody sends them."""
    return name.startswith(("~$", "."))


def as_text(path: str | os.PathLike[str]) -> str:
    """A path as text: bytes of a name that is not valid UTF-8 are written as \\xNN."""
    return os.fsencode(path).decode("utf-8", errors="backslashreplace")


def _landing_file(landing: Path, path: Path, folder_date: date | None,
                  not_read: NotRead | None = None) -> LandingFile:
    """An entry that is not a file of a dated folder (a badly named folder, a file directly
    in the kind's folder), given with why it is not read."""
    stat = path.lstat() if not_read or path.is_symlink() else path.stat()
    return LandingFile(
        path=path,
        relative_path=as_text(path.relative_to(landing)),
        export_date=folder_date,
        size_bytes=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        outside_landing=not not_read and not path.resolve().is_relative_to(landing.resolve()),
        not_read=not_read,
    )


def _folder_files(inside: Path, folder: Path, folder_date: date,
                  wanted: Callable[[Path], bool]) -> Iterator[LandingFile]:
    """The entries of one dated folder, by name, each with why it is not read if it is not.
    One directory read and one stat per file: a year of 63 provinces' daily exports is 20 000
    files, and the sensor and the ingest each look at all of them at every run (0.2 ms a file
    with a Path's own checks, 4.7–5.1 s in all). Only a link, or a folder that is one, is
    resolved to tell whether it leaves the landing folder (`inside`, resolved once per
    look)."""
    folder_inside = folder.resolve().is_relative_to(inside)
    where = f"{folder.parent.name}/{folder.name}/"
    with os.scandir(folder) as scan:
        entries = sorted((entry for entry in scan if not is_tool_artefact(entry.name)),
                         key=lambda entry: entry.name)
    for entry in entries:
        path = Path(entry.path)
        link = entry.is_symlink()
        not_read = _why_not_read(path, where, wanted) if link or not entry.is_file() else (
            _why_not_read_file(path, where, wanted))
        stat = entry.stat(follow_symlinks=not (not_read or link))
        outside = not not_read and not (
            path.resolve().is_relative_to(inside) if link else folder_inside)
        yield LandingFile(path=path, relative_path=f"{where}{as_text(entry.name)}",
                          export_date=folder_date, size_bytes=stat.st_size,
                          mtime_ns=stat.st_mtime_ns, outside_landing=outside, not_read=not_read)


def _why_not_read(path: Path, where: str, wanted: Callable[[Path], bool]) -> NotRead | None:
    """None for a file to read; otherwise what the entry is and what to do."""
    if path.is_symlink() and not path.exists():
        return NotRead("skipped", "a symbolic link that leads nowhere (a loop or a missing "
                                  "target); replace it with the file itself")
    if path.is_dir():
        return NotRead("skipped", f"a folder inside {where}, which is not read; put its files "
                                  f"directly in {where}")
    if not path.is_file():
        return NotRead("skipped", "not a regular file (a named pipe, socket or device); copy "
                                  "the export itself into the landing folder")
    return _why_not_read_file(path, where, wanted)


def _why_not_read_file(path: Path, where: str, wanted: Callable[[Path], bool]
                       ) -> NotRead | None:
    """None for a regular file to read; otherwise why not (its kind, its name)."""
    if not wanted(path):
        return NotRead("skipped", "not a dossier export: exports are .jsonl, .ndjson, .json "
                                  "or .csv, optionally .gz")
    if as_text(path.name) != path.name:
        return NotRead("failed", "its name is not valid UTF-8 text (the bytes shown as \\xNN); "
                                 "rename the file")
    return None


def _folder_date(name: str, shape: re.Pattern[str], parse: Callable[[str], date]
                 ) -> date | NotRead:
    """The date a dated folder names, or why its files are not read."""
    if not shape.match(name):
        return NotRead("skipped", "the folder does not name a date; its files are not read: "
                                  "move them into a dated folder")
    try:
        return parse(name)
    except ValueError as error:
        return NotRead("failed", f"the folder name is not a real date ({error}); its files are "
                                 "not read: move them into the folder of their date")


def _dated_files(
    landing: Path, subdir: str, folder_pattern: re.Pattern[str],
    folder_date: Callable[[str], date], wanted: Callable[[Path], bool],
) -> Iterator[LandingFile]:
    """Files of landing/<subdir>/<dated folder>/, by folder then file name; every other entry
    of those folders is given with why it is not read (a badly named folder as one entry)."""
    root = landing / subdir
    if not root.is_dir():
        return
    inside = landing.resolve()
    for folder in sorted(root.iterdir()):
        if is_tool_artefact(folder.name):
            continue
        if not folder.is_dir():
            reason = (_why_not_read(folder, f"{subdir}/", wanted) if not folder.is_file()
                      else NotRead("skipped", f"a file directly in {subdir}/, which is not read; "
                                              f"move it into its dated folder {subdir}/<date>/"))
            yield _landing_file(landing, folder, None, reason)
            continue
        day = _folder_date(folder.name, folder_pattern, folder_date)
        if isinstance(day, NotRead):
            yield _landing_file(landing, folder, None, day)
            continue
        yield from _folder_files(inside, folder, day, wanted)


def dossier_exports(landing: Path) -> Iterator[LandingFile]:
    """Dossier export files in load order: export folder date, then file name (DESIGN §3.2),
    and the entries of the dossier folders that are not read, with why."""
    return _dated_files(landing, DOSSIER_DIR, _EXPORT_DATE, date.fromisoformat, is_dossier_export)


def monthly_reports(landing: Path) -> Iterator[LandingFile]:
    """Report workbooks, reports/<YYYY-MM>/<name>.xlsx or .xls (DESIGN §3.3), by month then
    name, and the entries of the report folders that are not read, with why."""
    # every file of a report folder is a candidate: a report saved in the wrong format is
    # reported as failed rather than ignored
    return _dated_files(
        landing, REPORT_DIR, _REPORT_MONTH, lambda month: date.fromisoformat(f"{month}-01"),
        lambda _: True,
    )


@dataclass(frozen=True)
class RegisteredFile:
    file_id: int
    size_bytes: int
    mtime_ns: int
    content_hash: str | None


def registered_versions(con: duckdb.DuckDBPyConnection) -> dict[str, RegisteredFile]:
    """The version of each path the warehouse holds now (loaded or failed), in one read: a
    query per path took 0.7 ms, 15 s for a registry of 20 000 files (a year of 63 provinces'
    daily exports) at every run, against 0.03 s."""
    rows = con.execute(
        """
        SELECT relative_path, file_id, size_bytes, mtime_ns, content_hash FROM meta.source_files
        WHERE status IN ('loaded', 'failed', 'duplicate', 'skipped')
        """
    ).fetchall()
    return {path: RegisteredFile(*version) for path, *version in rows}


def is_unchanged(landing_file: LandingFile, registered: RegisteredFile | None) -> bool:
    """Whether the file has the size and modification time of its registered version: it is
    not read again."""
    return registered is not None and (registered.size_bytes, registered.mtime_ns) == (
        landing_file.size_bytes, landing_file.mtime_ns)
