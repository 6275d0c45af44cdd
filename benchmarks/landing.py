"""The benchmark's landing folder: N dossier snapshots a month, generated once and reused.

The sample generator's volume is a scale, not a row count; the scale for N snapshots a month
is found from a scale-1 run of the first month (the plan's counts grow linearly with it).
The last export day is held back outside the landing folder, so that the same folder serves
the month (everything but that day) and then the daily run (that day landing on top).
With `files`, the export days before the held-back one are packed, in load order, into that
many files of one folder, as a national portal's monthly dump comes (`--files 1`: the whole
month in one file).

Two shapes of month (`SHAPES`): `snapshots`, the generator's own (a dossier sends a snapshot
at every change of status, about two per dossier, with fee lists), and `distinct`, one
snapshot for each of as many distinct dossiers and no fee lists, as a portal's monthly dump of
closed dossiers comes. The distinct shape is not written by the sample generator: DuckDB's own
JSON writer rewrites the snapshot shape's lines (its key order, its number and null
spelling), one file per export day.

And the layout of a setup where each province's portal drops its own daily export
(`prepare_province_files_landing`): the generator's lines, one file per province and export
day, a few records each; a year is some 20 000 files.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import duckdb

from dvctt_pipeline.ingest.landing import DOSSIER_DIR
from dvctt_pipeline.sample.generator import generate_landing, month_range
from dvctt_pipeline.sqltext import quote_literal

MARKER = "sample.json"
SHAPES = ("snapshots", "distinct")
# The province code that ends an agency code (000.00.02.H01), in a line's MaHoSo or its
# MaDonViXuLy, whichever comes first.
_PROVINCE_CODE = re.compile(rb'"Ma(?:HoSo|DonViXuLy)":"[^"]*?\.(H\d{2})\b')
# The fields of a DVCQG record the distinct shape keeps: all but the fee list.
DISTINCT_FIELDS = ("MaHoSo", "MaDonViXuLy", "DonViXuLy", "MaTTHC", "TenTTHC", "MaLinhVuc",
                   "KenhThucHien", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra",
                   "TrangThaiHoSo", "DuocThanhToanTrucTuyen", "ChuHoSo", "SoGiayToChuHoSo",
                   "SoDienThoai", "Email", "DiaChi")


@dataclass(frozen=True)
class BenchLanding:
    landing: Path
    held_day: Path  # the last export day's folder, kept outside the landing folder
    first: str
    last: str
    scale: float
    snapshots: int  # valid snapshot lines written, every day included
    files: int

    @property
    def _day_in_landing(self) -> Path:
        return self.landing / DOSSIER_DIR / self.held_day.name

    def hold_back_last_day(self) -> None:
        """Move the last export day out of the landing folder (done already after a run
        that was interrupted)."""
        if self._day_in_landing.exists():
            self._day_in_landing.rename(self.held_day)

    def land_last_day(self) -> None:
        if self.held_day.exists():
            self.held_day.rename(self._day_in_landing)


def snapshots_per_scale_unit(first: str, seed: int) -> int:
    """Snapshots a month of `first` has at scale 1 (written to a temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="dvctt-bench-calibration-") as folder:
        return generate_landing(Path(folder), first, first, scale=1.0, seed=seed).snapshots


def month_label(month: date) -> str:
    return f"{month:%Y-%m}"


def prepare_landing(workdir: Path, first: str, months: int, rows: int, seed: int,
                    files: int | None = None) -> BenchLanding:
    """The landing folder for `months` months from `first` with about `rows` snapshots each,
    generated unless a previous run left it (same arguments, same files); with `files`, the
    exports before the held-back day packed into that many files."""
    all_months = month_range(first, "2026-12")[:months]
    last = month_label(all_months[-1])
    folder = workdir / f"landing_{first}_{months}x{rows}_seed{seed}"
    marker = folder / MARKER
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        scale = rows / snapshots_per_scale_unit(first, seed)
        summary = generate_landing(folder / "landing", first, last, scale=scale, seed=seed)
        marker.write_text(json.dumps({"scale": scale, "snapshots": summary.snapshots,
                                      "files": summary.files}), encoding="utf-8")
    if files:
        folder = _packed(folder, files)
        marker = folder / MARKER
    facts = json.loads(marker.read_text(encoding="utf-8"))
    exports = sorted((folder / "landing" / DOSSIER_DIR).iterdir())
    held = folder / "held_back" / max(exports[-1].name, _held_name(folder))
    held.parent.mkdir(exist_ok=True)
    return BenchLanding(folder / "landing", held, first, last, facts["scale"],
                        facts["snapshots"], facts["files"])


def _packed(folder: Path, files: int) -> Path:
    """A copy of the generated landing folder whose exports of each month, but the held-back
    last day's, are packed into `files` files in the folder of the month's last export day,
    split at line ends into parts of about equal size; made once, like the folder it copies."""
    packed = folder.with_name(f"{folder.name}_files{files}")
    if (packed / MARKER).exists():
        return packed
    shutil.rmtree(packed, ignore_errors=True)
    shutil.copytree(folder, packed, ignore=shutil.ignore_patterns(DOSSIER_DIR, "held_back"))
    days = sorted([*(folder / "landing" / DOSSIER_DIR).iterdir(),
                   *((folder / "held_back").glob("*"))])
    *month_days, last_day = days
    dossiers = packed / "landing" / DOSSIER_DIR
    shutil.copytree(last_day, dossiers / last_day.name)
    for month in sorted({day.name[:7] for day in month_days}):
        of_month = [day for day in month_days if day.name.startswith(month)]
        target = dossiers / of_month[-1].name
        target.mkdir(parents=True)
        _split_lines([path for day in of_month for path in sorted(day.iterdir())],
                     [target / f"dvcqg_{month}_{part:03}.jsonl" for part in range(1, files + 1)])
    facts = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    parts = files * len({day.name[:7] for day in month_days})
    (packed / MARKER).write_text(
        json.dumps({**facts, "files": parts + len(list(last_day.iterdir()))}), encoding="utf-8")
    return packed


def _split_lines(sources: list[Path], parts: list[Path]) -> None:
    """The lines of `sources`, in order, written to `parts`, each about an equal share."""
    share = sum(path.stat().st_size for path in sources) / len(parts)
    targets = iter(parts)
    target = next(targets).open("wb")
    written = 0.0
    for source in sources:
        with source.open("rb") as lines:
            for line in lines:
                if written >= share and target.name != str(parts[-1]):
                    target.close()
                    target, written = next(targets).open("wb"), 0.0
                target.write(line)
                written += len(line)
    target.close()


def prepare_distinct_landing(workdir: Path, snapshots: BenchLanding) -> BenchLanding:
    """The distinct-dossier shape of the month(s) of `snapshots`: every snapshot line becomes
    a dossier of its own (its MaHoSo gets the line's export day and position as a suffix, so
    the agency prefix stays), fee lists are left out, one file per export day. Lines that
    are not JSON are dropped by DuckDB's reader; records without MaHoSo keep it missing."""
    def write_days(days: list[Path], dossiers: Path) -> tuple[int, int]:
        return sum(_write_distinct_day(day, dossiers / day.name) for day in days), len(days)

    return _rewritten_landing(workdir, snapshots, "distinct", write_days)


def prepare_province_files_landing(workdir: Path, snapshots: BenchLanding) -> BenchLanding:
    """The month(s) of `snapshots` as each province's portal drops its own daily export: every
    export day's lines go, unchanged and in order, to one file per province named by its code
    (`H01.jsonl`, taken from the agency code that opens the MaHoSo or names the handling
    agency); a line that names neither goes to `other.jsonl`. A year of it is some 20 000
    files of a few records each."""
    def write_days(days: list[Path], dossiers: Path) -> tuple[int, int]:
        return (snapshots.snapshots,
                sum(_write_province_day(day, dossiers / day.name) for day in days))

    return _rewritten_landing(workdir, snapshots, "by_province", write_days)


def _rewritten_landing(workdir: Path, snapshots: BenchLanding, layout: str,
                       write_days: Callable[[list[Path], Path], tuple[int, int]]
                       ) -> BenchLanding:
    """A landing with the reference files of `snapshots`' landing and its exports rewritten by
    `write_days` (from the export days, the held-back one included, into the new dossier
    folder; it returns the snapshot lines and files written), made once and reused."""
    folder = workdir / f"{snapshots.landing.parent.name}_{layout}"
    marker = folder / MARKER
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(snapshots.landing, folder / "landing",
                        ignore=shutil.ignore_patterns(DOSSIER_DIR))
        days = sorted((snapshots.landing / DOSSIER_DIR).iterdir())
        if snapshots.held_day.exists():
            days = sorted([*days, snapshots.held_day], key=lambda day: day.name)
        lines, files = write_days(days, folder / "landing" / DOSSIER_DIR)
        marker.write_text(json.dumps({"scale": snapshots.scale, "snapshots": lines,
                                      "files": files}), encoding="utf-8")
    facts = json.loads(marker.read_text(encoding="utf-8"))
    held = folder / "held_back" / snapshots.held_day.name
    held.parent.mkdir(exist_ok=True)
    return BenchLanding(folder / "landing", held, snapshots.first, snapshots.last,
                        facts["scale"], facts["snapshots"], facts["files"])


def _write_province_day(day: Path, target: Path) -> int:
    """One export day in one file per province under `target`; returns the files written."""
    lines_of: dict[str, list[bytes]] = {}
    for path in sorted(day.iterdir()):
        with path.open("rb") as lines:
            for line in lines:
                found = _PROVINCE_CODE.search(line)
                lines_of.setdefault(found[1].decode() if found else "other", []).append(line)
    target.mkdir(parents=True)
    for province, lines_of_province in lines_of.items():
        (target / f"{province}.jsonl").write_bytes(b"".join(lines_of_province))
    return len(lines_of)


def _write_distinct_day(day: Path, target: Path) -> int:
    """One export day of the distinct shape (`target`/export.jsonl) from the snapshot
    shape's files of `day`; returns its lines. Values are kept as the JSON they were."""
    target.mkdir(parents=True)
    columns = ", ".join(f"{field}: 'JSON'" for field in DISTINCT_FIELDS)
    kept = ", ".join(field for field in DISTINCT_FIELDS if field != "MaHoSo")
    with duckdb.connect() as con:
        con.execute(f"""
            COPY (
                SELECT to_json((MaHoSo ->> '$') || '-' || $day || '-' || line_rank) AS MaHoSo,
                       {kept}
                FROM (SELECT *, row_number() OVER () AS line_rank
                      FROM read_json($paths, format = 'newline_delimited', records = true,
                                     ignore_errors = true, columns = {{{columns}}}))
                ORDER BY line_rank
            ) TO {quote_literal(str(target / "export.jsonl"))} (FORMAT json)
            """, {"paths": [str(path) for path in sorted(day.iterdir())],
                  "day": day.name.replace("-", "")})
        return con.execute("SELECT count(*) FROM read_json($path, format = 'newline_delimited', "
                           "columns = {MaHoSo: 'JSON'})",
                           {"path": str(target / "export.jsonl")}).fetchone()[0]


def _held_name(folder: Path) -> str:
    """The day already held back by an interrupted run, if any ('' if none)."""
    held = folder / "held_back"
    names = [p.name for p in held.iterdir()] if held.exists() else []
    return max(names, default="")


def describe(landing: BenchLanding) -> dict[str, object]:
    return {key: str(value) if isinstance(value, Path) else value
            for key, value in asdict(landing).items()}
