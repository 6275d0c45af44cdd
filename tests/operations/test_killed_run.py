"""A run killed with SIGKILL in the middle of a write breaks nothing: the warehouse stays
readable, the serving file stays at its previous version, and the next run gets the figures
right (and says which published figures late data changed)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dvctt_pipeline.ingest.changes import fingerprint, landing_changes
from dvctt_pipeline.ingest.landing import dossier_exports

LAST_EXPORT_DAY = "2022-02-28"
LATE_EXPORT = "dossiers/2022-03-01/late_status_updates.jsonl"
FEBRUARY = "period_type=month, period_start=2022-02-01, period_end=2022-02-28"
KILL_WAIT_SECONDS = 600


def january_and_february(sample_landing: Path, landing: Path) -> None:
    """The sample landing folder as it was on 28 February 2022."""
    shutil.copytree(sample_landing, landing)
    for folder in (landing / "dossiers").iterdir():
        if folder.name > LAST_EXPORT_DAY:
            shutil.rmtree(folder)


def unfinished_january_dossiers(folders, count: int) -> list[dict]:
    """The latest export lines of dossiers received in January and still in progress."""
    rows = folders.query(
        """
        SELECT f.relative_path, d.source_line_no FROM staging.dossiers AS d
        JOIN meta.source_files AS f ON f.file_id = d.source_file_id
        WHERE d.received_month = DATE '2022-01-01' AND d.quarantine_reason IS NULL
          AND d.ngay_ket_thuc_xu_ly IS NULL AND d.trang_thai IN (2, 4)
        ORDER BY d.ma_ho_so LIMIT $count
        """,
        {"count": count},
    )
    lines = []
    for relative_path, line_no in rows:
        text = (folders.landing / relative_path).read_text(encoding="utf-8").splitlines()
        lines.append(json.loads(text[line_no - 1]))
    assert len(lines) == count
    return lines


def land_late_completions(folders, records: list[dict]) -> None:
    """A March export that reports them finished on 20 February."""
    path = folders.landing / LATE_EXPORT
    path.parent.mkdir(parents=True)
    finished = [{**record, "TrangThaiHoSo": 9, "NgayKetThucXuLy": "20220220100000"}
                for record in records]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in finished),
                    encoding="utf-8")


def national_february(database: Path) -> int:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(
            "SELECT finished FROM marts.national_period_rates "
            "WHERE period_type = 'month' AND period_start = DATE '2022-02-01'"
        ).fetchone()[0]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def kill_materialize_when(ready: Callable[[], bool], moment: str) -> None:
    """Start `dvctt materialize` for January–February and SIGKILL it once ready() holds."""
    run = subprocess.Popen(
        [str(Path(sys.executable).parent / "dvctt"), "materialize", "--from", "2022-01",
         "--to", "2022-02"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + KILL_WAIT_SECONDS
    while run.poll() is None and time.monotonic() < deadline and not ready():
        time.sleep(0.005)
    if run.poll() is not None:
        pytest.fail(f"the run ended before it was {moment}")
    os.kill(run.pid, signal.SIGKILL)
    assert run.wait(timeout=60) == -signal.SIGKILL


def wal_is_growing(warehouse: Path) -> Callable[[], bool]:
    """True while a transaction of some size is being written to the warehouse."""
    wal = warehouse.with_name(f"{warehouse.name}.wal")
    return lambda: wal.exists() and wal.stat().st_size > 256 * 1024


def serving_being_built(serving: Path) -> Callable[[], bool]:
    return lambda: any(serving.parent.glob(f".{serving.name}.*.building"))


@pytest.mark.slow
def test_killed_runs_leave_everything_readable_and_the_next_run_gets_it_right(
    folders, materialize, sample_landing
):
    january_and_february(sample_landing, folders.landing)
    materialize("2022-01", "2022-02")
    published = national_february(folders.serving)
    published_file = sha256(folders.serving)
    seen = {f.relative_path: fingerprint(f) for f in dossier_exports(folders.landing)}

    late = unfinished_january_dossiers(folders, count=5)
    land_late_completions(folders, late)
    # received in January, finished in February: both months need a refresh
    assert landing_changes(folders.landing, seen).months == {date(2022, 1, 1),
                                                             date(2022, 2, 1)}

    for ready, moment in (
        (wal_is_growing(folders.warehouse), "writing the warehouse"),
        (serving_being_built(folders.serving), "building the serving file"),
    ):
        kill_materialize_when(ready, moment)
        assert sha256(folders.serving) == published_file, moment
        assert national_february(folders.serving) == published
        # readable: a reader replays or ignores what the killed writer left half-done
        assert folders.query("SELECT count(*) FROM raw.dossier_snapshots")[0][0] > 0

    materialize("2022-01", "2022-02")
    assert national_february(folders.serving) == published + len(late)
    assert not list(folders.serving.parent.rglob(".*.building*"))
    with duckdb.connect(str(folders.serving), read_only=True) as con:
        restated = con.execute(
            "SELECT old_value, new_value FROM meta.restatements WHERE table_name = "
            "'marts.national_period_rates' AND row_key = $key AND column_name = 'finished'",
            {"key": FEBRUARY},
        ).fetchall()
    assert restated == [(published, published + len(late))]
