"""What is in the landing folder, and which of it the warehouse has already loaded.

The pipeline never modifies or deletes landing files. A file is identified by its path
relative to the landing folder; its content hash decides whether it is new, unchanged, a
copy of a file already loaded, or a changed version that supersedes the earlier one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

DOSSIER_DIR = "dossiers"
REPORT_DIR = "reports"
DOSSIER_SUFFIXES = (".jsonl", ".json", ".csv")
_EXPORT_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_REPORT_MONTH = re.compile(r"^\d{4}-\d{2}$")


@dataclass(frozen=True)
class LandingFile:
    path: Path
    relative_path: str
    # the date its folder names: the export date of dossiers, the first day of a report's month
    export_date: date
    size_bytes: int
    mtime_ns: int
    # a symbolic link whose target lies outside the landing folder is never read
    outside_landing: bool = False

    @property
    def name(self) -> str:
        return self.path.name

    def sha256(self) -> str:
        digest = hashlib.sha256()
        with self.path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


def is_dossier_export(path: Path) -> bool:
    name = path.name.lower().removesuffix(".gz")
    return name.endswith(DOSSIER_SUFFIXES)


def is_report_candidate(path: Path) -> bool:
    """Every file of a report folder but Excel's lock files (~$...) and hidden files: a report
    saved in the wrong format is reported as failed rather than ignored."""
    return not path.name.startswith(("~$", "."))


def _landing_file(landing: Path, path: Path, folder_date: date) -> LandingFile:
    stat = path.lstat() if path.is_symlink() else path.stat()
    return LandingFile(
        path=path,
        relative_path=path.relative_to(landing).as_posix(),
        export_date=folder_date,
        size_bytes=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        outside_landing=not path.resolve().is_relative_to(landing.resolve()),
    )


def _dated_files(
    landing: Path, subdir: str, folder_pattern: re.Pattern[str],
    folder_date: Callable[[str], date], wanted: Callable[[Path], bool],
) -> Iterator[LandingFile]:
    """Files of landing/<subdir>/<dated folder>/, by folder then file name."""
    root = landing / subdir
    if not root.is_dir():
        return
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and folder_pattern.match(p.name)):
        for path in sorted(p for p in folder.iterdir() if p.is_file() and wanted(p)):
            yield _landing_file(landing, path, folder_date(folder.name))


def dossier_exports(landing: Path) -> Iterator[LandingFile]:
    """Dossier export files in load order: export folder date, then file name (DESIGN §3.2)."""
    return _dated_files(landing, DOSSIER_DIR, _EXPORT_DATE, date.fromisoformat, is_dossier_export)


def monthly_reports(landing: Path) -> Iterator[LandingFile]:
    """Report workbooks, reports/<YYYY-MM>/<name>.xlsx (DESIGN §3.3), by month then name."""
    return _dated_files(
        landing, REPORT_DIR, _REPORT_MONTH, lambda month: date.fromisoformat(f"{month}-01"),
        is_report_candidate,
    )


@dataclass(frozen=True)
class RegisteredFile:
    file_id: int
    size_bytes: int
    mtime_ns: int
    content_sha256: str | None


def registered_version(con: duckdb.DuckDBPyConnection, relative_path: str) -> RegisteredFile | None:
    """The version of this path the warehouse holds now (loaded or failed), if any."""
    row = con.execute(
        """
        SELECT file_id, size_bytes, mtime_ns, content_sha256 FROM meta.source_files
        WHERE relative_path = $path AND status IN ('loaded', 'failed', 'duplicate')
        """,
        {"path": relative_path},
    ).fetchone()
    return RegisteredFile(*row) if row else None


def loaded_elsewhere(con: duckdb.DuckDBPyConnection, sha256: str, relative_path: str) -> str | None:
    """The path of another loaded file with identical content, if there is one."""
    row = con.execute(
        """
        SELECT relative_path FROM meta.source_files
        WHERE content_sha256 = $sha AND status = 'loaded' AND relative_path <> $path
        LIMIT 1
        """,
        {"sha": sha256, "path": relative_path},
    ).fetchone()
    return row[0] if row else None
