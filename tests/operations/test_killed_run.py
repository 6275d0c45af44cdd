"""Runs that die, and runs that are stopped, as users meet them: `dvctt materialize` in new
processes on a persistent Dagster instance (DAGSTER_HOME with the bundled dagster.yaml).

A run killed in the middle of a write breaks nothing: the warehouse stays readable, the
serving file stays at its previous version, and the killed run does not keep its slot of the
warehouse pool: the next `dvctt materialize` marks it failed, names it, and completes the work
(and says which published figures late data changed). A command waiting for the pool says for
which run, and SIGTERM ends it within seconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import sqlalchemy
from dagster._daemon.monitoring.run_monitoring import monitor_started_run

from dvctt_pipeline.cli import materialize_months
from dvctt_pipeline.defs.partitions import WAREHOUSE_POOL
from dvctt_pipeline.ingest.changes import fingerprint, landing_changes
from dvctt_pipeline.ingest.dossiers import PIECE_BYTES_ENV
from dvctt_pipeline.ingest.landing import dossier_exports
from dvctt_pipeline.run_launcher import run_worker

REPO = Path(__file__).resolve().parents[2]
DVCTT = str(Path(sys.executable).parent / "dvctt")
LAST_EXPORT_DAY = "2022-02-28"
LATE_EXPORT = "dossiers/2022-03-01/late_status_updates.jsonl"
FEBRUARY = "period_type=month, period_start=2022-02-01, period_end=2022-02-28"
RUN_SECONDS = 900
# what "within seconds" allows on two shared cores: the grace period the run gets to stop
# (launch.STOP_GRACE_SECONDS, 5 s) and the command's own exit
STOP_SECONDS = 20
HOLD_LOCK = """
import sqlite3, sys, time
database = sqlite3.connect(sys.argv[1], isolation_level=None)
database.execute("PRAGMA locking_mode=EXCLUSIVE")
try:
    database.execute("BEGIN EXCLUSIVE")
except sqlite3.OperationalError:  # the frozen writer holds it already
    pass
print("locked", flush=True)
time.sleep(3600)
"""
LAUNCHED = re.compile(r"dvctt: run ([0-9a-f-]{36}) of refresh_months")


@dataclass(frozen=True)
class Home:
    """A persistent Dagster instance and the pipeline's folders, as `make demo` sets them."""

    root: Path
    env: dict[str, str]
    started: list[subprocess.Popen] = field(default_factory=list)

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def serving(self) -> Path:
        return self.root / "serving" / "dvctt.duckdb"

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(self.env["DAGSTER_HOME"])

    def start(self, log_name: str) -> Command:
        """`dvctt materialize --from 2022-01 --to 2022-02` in a session of its own."""
        log = self.root / log_name
        with log.open("w") as output:
            process = subprocess.Popen(
                [DVCTT, "materialize", "--from", "2022-01", "--to", "2022-02"], env=self.env,
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.started.append(process)
        return Command(process, log)

    def lock(self, database: Path) -> Command:
        """A process holding a SQLite database's lock, as its writer does while it writes."""
        log = self.root / f"{database.stem}.lock.log"
        with log.open("w") as output:
            process = subprocess.Popen(
                [sys.executable, "-c", HOLD_LOCK, str(database)],
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.started.append(process)
        locker = Command(process, log)
        locker.wait_for(lambda: "locked" in locker.output(), "locking the database")
        return locker

    def materialize(self, log_name: str) -> str:
        command = self.start(log_name)
        assert command.process.wait(timeout=RUN_SECONDS) == 0, command.output()
        return command.output()

    def query(self, sql: str, params: dict | None = None) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql, params or {}).fetchall()


@dataclass(frozen=True)
class Command:
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text()

    def run_id(self) -> str | None:
        launched = LAUNCHED.search(self.output())
        return launched[1] if launched else None

    def wait_for(self, ready: Callable[[], bool], moment: str) -> None:
        deadline = time.monotonic() + RUN_SECONDS
        while self.process.poll() is None and time.monotonic() < deadline and not ready():
            time.sleep(0.005)
        if self.process.poll() is not None or not ready():
            pytest.fail(f"the command ended or timed out before {moment}:\n{self.output()}")

    def kill_all(self) -> None:
        """SIGKILL the command, its code server and the run worker (all in the command's
        process group), as a machine that runs out of memory or a closed session does."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=60)


@pytest.fixture
def home(tmp_path: Path, sample_landing: Path) -> Iterator[Home]:
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", dagster_home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home),
           "DVCTT_LANDING_DIR": str(tmp_path / "landing"),
           "DVCTT_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
           "DVCTT_SERVING": str(tmp_path / "serving" / "dvctt.duckdb")}
    env.pop("DVCTT_REPORTS_DIR", None)
    paths = Home(tmp_path, env)
    january_and_february(sample_landing, paths.landing)
    yield paths
    for process in paths.started:  # nothing of a failed test keeps running
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def january_and_february(sample_landing: Path, landing: Path) -> None:
    """The sample landing folder as it was on 28 February 2022."""
    shutil.copytree(sample_landing, landing)
    for folder in (landing / "dossiers").iterdir():
        if folder.name > LAST_EXPORT_DAY:
            shutil.rmtree(folder)


def unfinished_january_dossiers(home: Home, count: int) -> list[dict]:
    """The latest export lines of dossiers received in January and still in progress."""
    rows = home.query(
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
        text = (home.landing / relative_path).read_text(encoding="utf-8").splitlines()
        lines.append(json.loads(text[line_no - 1]))
    assert len(lines) == count
    return lines


def land_late_completions(home: Home, records: list[dict]) -> None:
    """A March export that reports them finished on 20 February."""
    path = home.landing / LATE_EXPORT
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


def wal_is_growing(warehouse: Path) -> Callable[[], bool]:
    """True while a transaction of some size is being written to the warehouse (the ingest)."""
    wal = warehouse.with_name(f"{warehouse.name}.wal")
    return lambda: wal.exists() and wal.stat().st_size > 256 * 1024


def serving_being_built(serving: Path) -> Callable[[], bool]:
    return lambda: any(serving.parent.glob(f".{serving.name}.*.building"))


def pool_slot_holders(instance: dg.DagsterInstance) -> set[str]:
    info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
    return {slot.run_id for slot in info.claimed_slots}


def freeze_between_instance_commits(instance: dg.DagsterInstance, pid: int) -> None:
    """SIGSTOP the run worker, at a moment it is not committing to the instance's database:
    frozen in the middle of a commit it would lock every reader of that SQLite database out, a
    state apart from the one this test sets up (its event log frozen mid-write, below)."""
    for _ in range(20):
        os.kill(pid, signal.SIGSTOP)
        try:
            pool_slot_holders(instance)
            return
        except sqlalchemy.exc.OperationalError:  # "database is locked": let the commit end
            os.kill(pid, signal.SIGCONT)
            time.sleep(0.05)
    pytest.fail("the run worker was committing to the instance's database each time it stopped")


def event_log(instance: dg.DagsterInstance, run_id: str) -> Path:
    return Path(instance.event_log_storage.path_for_shard(run_id))


def status_of(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRunStatus:
    run = instance.get_run_by_id(run_id)
    assert run is not None, run_id
    return run.status


def assert_untouched_and_readable(home: Home, published_file: str, published: int) -> None:
    assert sha256(home.serving) == published_file
    assert national_february(home.serving) == published
    # readable: a reader replays or ignores what the killed writer left half-done
    assert home.query("SELECT count(*) FROM raw.dossier_snapshots")[0][0] > 0


@pytest.mark.slow
def test_killed_and_stopped_runs_free_the_warehouse_and_the_next_run_gets_it_right(
    home, monkeypatch
):
    # January and February as published before the late data came (in this process, on an
    # ephemeral instance: the setting, not what is tested)
    for variable in ("DVCTT_LANDING_DIR", "DVCTT_WAREHOUSE", "DVCTT_SERVING"):
        monkeypatch.setenv(variable, home.env[variable])
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert materialize_months("2022-01", "2022-02").success
    published = national_february(home.serving)
    published_file = sha256(home.serving)
    seen = {f.relative_path: fingerprint(f) for f in dossier_exports(home.landing)}
    late = unfinished_january_dossiers(home, count=5)
    land_late_completions(home, late)
    # received in January, finished in February: both months need a refresh
    assert landing_changes(home.landing, seen).months == {date(2022, 1, 1), date(2022, 2, 1)}

    with home.instance() as instance:
        # 1. a run frozen during the ingest, holding the warehouse pool's slot
        ingesting = home.start("ingesting.log")
        ingesting.wait_for(wal_is_growing(home.warehouse), "writing the warehouse")
        ingesting_run = ingesting.run_id()
        freeze_between_instance_commits(instance, run_worker(instance, ingesting_run).pid)
        assert pool_slot_holders(instance) == {ingesting_run}
        # frozen in the middle of writing an event, as it may be: its event log stays locked
        frozen_mid_write = home.lock(event_log(instance, ingesting_run))

        # 2. the next command waits for it, says so, and SIGTERM ends it within seconds
        waiting = home.start("waiting.log")
        waiting.wait_for(lambda: "waiting for the" in waiting.output(), "waiting on the pool")
        assert (f"waiting for the {WAREHOUSE_POOL} pool, held by run {ingesting_run}"
                in waiting.output())
        stop_requested = time.monotonic()
        waiting.process.send_signal(signal.SIGTERM)
        assert waiting.process.wait(timeout=STOP_SECONDS) == 128 + signal.SIGTERM
        assert time.monotonic() - stop_requested < STOP_SECONDS
        assert "run the same command again to finish" in waiting.output()
        assert status_of(instance, waiting.run_id()) == dg.DagsterRunStatus.CANCELED

        # the frozen run dies with its command: it still says STARTED and holds the slot
        ingesting.kill_all()
        frozen_mid_write.kill_all()
        assert status_of(instance, ingesting_run) == dg.DagsterRunStatus.STARTED
        assert pool_slot_holders(instance) == {ingesting_run}
        assert_untouched_and_readable(home, published_file, published)

        # 3. a run killed while it builds the serving file; its command first frees the
        # warehouse from the dead ingest run
        publishing = home.start("publishing.log")
        publishing.wait_for(serving_being_built(home.serving), "building the serving file")
        publishing.kill_all()
        assert f"Run {ingesting_run} (months 2022-01 … 2022-02" in publishing.output()
        assert status_of(instance, ingesting_run) == dg.DagsterRunStatus.FAILURE
        assert_untouched_and_readable(home, published_file, published)

        # the daemon's run monitoring, given the same dead run, marks it failed too
        (record,) = instance.get_run_records(
            dg.RunsFilter(run_ids=[publishing.run_id()]))
        assert record.dagster_run.status == dg.DagsterRunStatus.STARTED
        monitor_started_run(instance, None, record, logging.getLogger("run_monitoring"))
        assert status_of(instance, publishing.run_id()) == dg.DagsterRunStatus.FAILURE

        # 4. the next command gives back the slots the dead run kept and completes the work
        home.materialize("last.log")
        assert pool_slot_holders(instance) == set()
        (last,) = instance.get_runs(limit=1)
        assert last.status == dg.DagsterRunStatus.SUCCESS
        # a run of the workspace's code location (GraphQL's repositoryOrigin), with the
        # tags of a UI backfill of the range
        origin = last.remote_job_origin.repository_origin
        assert (origin.code_location_origin.location_name, last.job_name) == (
            "dvctt_pipeline", "refresh_months")
        assert (last.tags["dagster/asset_partition_range_start"],
                last.tags["dagster/asset_partition_range_end"]) == ("2022-01-01", "2022-02-01")

    assert national_february(home.serving) == published + len(late)
    assert not list(home.serving.parent.rglob(".*.building*"))
    with duckdb.connect(str(home.serving), read_only=True) as con:
        restated = con.execute(
            "SELECT old_value, new_value FROM meta.restatements WHERE table_name = "
            "'marts.national_period_rates' AND row_key = $key AND column_name = 'finished'",
            {"key": FEBRUARY},
        ).fetchall()
    assert restated == [(published, published + len(late))]


def one_national_dump(landing: Path) -> tuple[str, int]:
    """The landing's dossier exports as the national portal's dump of them: one file, dated
    the last day, its lines in the order the daily files gave them. Its path and lines."""
    daily = sorted((landing / "dossiers").glob("*/*.jsonl"))
    lines = b"".join(path.read_bytes() for path in daily)
    shutil.rmtree(landing / "dossiers")
    dump = landing / "dossiers" / LAST_EXPORT_DAY / "dvcqg_national.jsonl"
    dump.parent.mkdir(parents=True)
    dump.write_bytes(lines)
    return dump.relative_to(landing).as_posix(), lines.count(b"\n")


@pytest.mark.slow
def test_a_run_killed_half_way_through_a_file_in_pieces_loads_it_whole_next_time(home):
    dump, lines = one_national_dump(home.landing)
    # hundreds of pieces of a few lines, each committed on its own while the file is
    # `loading`: the kill comes while the warehouse's log grows, some way into the file
    home.env[PIECE_BYTES_ENV] = "8192"

    loading = home.start("loading.log")
    loading.wait_for(wal_is_growing(home.warehouse), "storing the dump's first pieces")
    loading.kill_all()
    (file_id, stored), = home.query(
        "SELECT file_id, count(snapshot.file_id) FROM meta.source_files "
        "LEFT JOIN raw.dossier_snapshots AS snapshot USING (file_id) "
        "WHERE status = 'loading' AND relative_path = $path GROUP BY ALL", {"path": dump})
    assert 0 < stored < lines  # killed half-way: some pieces stored, not the file

    home.materialize("again.log")
    (registered,) = home.query(
        "SELECT relative_path, status, rows_read, rows_loaded + rows_quarantined, rows_loaded "
        "FROM meta.source_files WHERE kind = 'dossiers'")
    assert registered[:4] == (dump, "loaded", lines, lines)
    # each line once: the half-way load's rows are gone, not doubled
    loaded = registered[4]
    assert home.query("SELECT count(*), count(DISTINCT line_no), min(file_id) > $killed "
                      "FROM raw.dossier_snapshots", {"killed": file_id}) == [(loaded, loaded, True)]
    assert national_february(home.serving) > 0
