"""The warehouse resource: paths from the environment and one way to open the warehouse, a
DuckDB file or a DuckLake (DVCTT_WAREHOUSE=ducklake:postgres:...)."""


import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from dvctt_pipeline.defs.gx_worker import GxWorker
from dvctt_pipeline.reference.names import name_key
from dvctt_pipeline.settings import (
    DEFAULT_LOCK_WAIT_SECONDS,
    LOCK_WAIT_ENV,
    MIN_DOSSIERS_TO_RANK,
    Lake,
    lake_from_env,
    lock_wait_seconds_from_env,
    memory_limit_from_env,
    paths_from_env,
)
from dvctt_pipeline.warehouse import attach_lake, ensure_base_tables

IN_MEMORY = ":memory:"
# DuckDB's refusal when another process holds the file; the program and PID follow
_LOCK_CONFLICT = "Conflicting lock is held in "
_LONGEST_PAUSE_SECONDS = 5.0


class Warehouse(DuckDBResource):
    """The working DuckDB file, the landing folder it loads from and the file BI reads; or a
    DuckLake (`lake_catalog`, `lake_data_path`), attached to an in-memory DuckDB, which BI
    reads itself (no serving file)."""

    landing_dir: str
    serving_path: str
    min_dossiers: int = MIN_DOSSIERS_TO_RANK
    lake_catalog: str = ""
    lake_data_path: str = ""
    lock_wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS
    # the in-process executor builds the resource once per run: how long its first step
    # waited for a warehouse another process held
    _held_for: float | None = PrivateAttr(default=None)

    @property
    def lake(self) -> Lake | None:
        return Lake(self.lake_catalog, self.lake_data_path) if self.lake_catalog else None

    @property
    def location(self) -> Path:
        """The warehouse file, or the folder of the lake's Parquet files (the reports are
        written beside it)."""
        return Path(self.lake_data_path) if self.lake_catalog else Path(self.database)

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir)

    @property
    def serving(self) -> Path:
        return Path(self.serving_path)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection with the schemas in place and the SQL models' helper functions."""
        if not self.lake_catalog:
            self._make_folder()
        con = self._open()
        try:
            # a run's output goes to its log and the command's console: no progress bars
            con.execute("SET enable_progress_bar = false")
            if self.lake:
                attach_lake(con, self.lake)
            ensure_base_tables(con)
            con.create_function("name_key", name_key, [str], str)
            yield con
        finally:
            con.close()

    def _open(self) -> duckdb.DuckDBPyConnection:
        """The warehouse, waiting up to `lock_wait_seconds` while another process holds it; a
        later step of a run whose earlier step found it held tries once, and says so."""
        waited = 0.0
        wait = self.lock_wait_seconds if self._held_for is None else 0.0
        pause = 0.1
        while True:
            try:
                return duckdb.connect(self.database, config=self.connection_config)
            except duckdb.IOException as error:
                if _LOCK_CONFLICT not in str(error):
                    raise
                if waited >= wait:
                    earlier = self._held_for
                    if earlier is None:
                        self._held_for = waited
                    raise dg.Failure(_held_message(self.database, str(error), waited, earlier)
                                     ) from None
            pause = min(pause * 2, _LONGEST_PAUSE_SECONDS, wait - waited)
            time.sleep(pause)
            waited += pause

    def _make_folder(self) -> None:
        folder = Path(self.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise dg.Failure(
                f"The warehouse {self.database} cannot be opened: {folder}, or a folder above "
                "it, is a file. Move that file away, or set DVCTT_WAREHOUSE to a path in a "
                "folder.") from None

    def model_settings(self) -> dict[str, object]:
        """Values the SQL models may take as parameters besides the window."""
        return {"min_dossiers": self.min_dossiers}


def _held_message(database: str, error: str, waited: float, earlier: float | None) -> str:
    """What a step says when another process holds the warehouse: who holds it, how long
    this step (or, `earlier`, the run's first step) waited, and what to do."""
    holder = error.split(_LOCK_CONFLICT, 1)[1].split(". See also", 1)[0].rstrip(".")
    how_long = (f"waited {waited:.0f} s" if earlier is None
                else f"an earlier step of this run waited {earlier:.0f} s for it")
    return (f"The warehouse {database} is open in another process, {holder}, which holds "
            f"DuckDB's one writer's lock ({how_long}). Close the warehouse there (BI tools read "
            f"the serving file, not the warehouse), then run again; {LOCK_WAIT_ENV} sets how "
            "long a step waits.")


def warehouse_from_env() -> Warehouse:
    paths, lake = paths_from_env(), lake_from_env()
    config = {"memory_limit": memory_limit_from_env()}
    if lake and lake.is_local:
        # spill beside the lake's files, as the embedded file spills to <warehouse>.tmp/
        # (an in-memory DuckDB would spill to the worker's current folder)
        config["temp_directory"] = f"{Path(lake.data_path).resolve()}.tmp"
    return Warehouse(
        database=IN_MEMORY if lake else str(paths.warehouse),
        connection_config=config,
        lock_wait_seconds=lock_wait_seconds_from_env(),
        landing_dir=str(paths.landing),
        serving_path=str(paths.serving),
        lake_catalog=lake.catalog if lake else "",
        lake_data_path=lake.data_path if lake else "",
    )


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"warehouse": warehouse_from_env(), "gx_worker": GxWorker()})
