"""A worker process that imports Great Expectations while a run loads and stages its new
snapshots.

Importing GX takes 2–3 s of CPU besides Dagster and pandas (≈ 4 s before the modules only an
unused expectation needs were left out, validate/expectations.py; the worker's start adds
its own imports), which the first check whose rows changed paid inside the SQL models' step,
with nothing else running, while a daily run keeps only about one of the two cores busy.
When the dossier ingest is about to read enough new exports that the checks will validate
seconds later, it starts one spawned worker that imports GX meanwhile, and the checks
validate there. A run with nothing new, or with exports too small to hide the import
behind, starts none and validates in this process.
"""

import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import dagster as dg
import pandas as pd
from pydantic import PrivateAttr

from dvctt_pipeline.ingest.landing import LandingFile
from dvctt_pipeline.validate import expectations
from dvctt_pipeline.validate.expectations import SuiteOutcome, validate_frame
from dvctt_pipeline.validate.quality_checks import QUALITY_CHECKS, QualityCheck

# A day of national exports (≈ 400 000 snapshots, ≈ 250 MB of JSON lines, on a month of 10
# million) reaches its first validation 6-7 s after the ingest starts, on two cores, and the
# worker needs ≈ 5 s of one core to start and import GX: started before the load, the checks
# waited 2.7 s for it, against 3.6 s when it started after the load (the import competes with
# the load for the cores). From 80 MB of new exports (a third of that day) on it is started; a
# smaller load would wait for the whole import anyway and pay a process start, and a test
# session, which runs many small runs, would pay the import at every run instead of once.
MIN_TEXT_BYTES_FOR_WORKER = 80_000_000


def import_gx() -> None:
    """The worker's first task: the import is the bulk of a first validation (the context and
    the suite then take a fraction of a second)."""
    expectations.import_gx()


def validate_check(name: str, frame: pd.DataFrame) -> SuiteOutcome:
    """In the worker: the named check's suite on its frame. A check is sent by name, as its
    expectations are built by lambdas, which do not pickle."""
    check = next(check for check in QUALITY_CHECKS if check.name == name)
    return validate_frame(check.name, frame, check.expectations)


class GxWorker(dg.ConfigurableResource):
    """Where the run's checks validate: its GX worker, once started, else this process. The
    in-process executor builds the resource once per run, so the worker the ingest step starts
    serves the SQL models' step, which lets it go when its checks are done; Dagster's teardown
    at the end of the run, failed or not, waits until it has stopped."""

    _pool: ProcessPoolExecutor | None = PrivateAttr(default=None)
    _stopping: threading.Thread | None = PrivateAttr(default=None)

    def start_for(self, exports: Sequence[LandingFile]) -> None:
        """Start the worker if the exports about to be read are large enough to hide the
        import behind (their text: a gzipped file counts as it expands)."""
        if (self._pool is not None
                or sum(export.text_bytes for export in exports) < MIN_TEXT_BYTES_FOR_WORKER):
            return
        # spawn, not fork: the parent holds DuckDB's and Dagster's threads
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        # the pool starts its process with the first task, so the import is that task
        self._pool.submit(import_gx)

    def validate(self, check: QualityCheck, frame: pd.DataFrame) -> SuiteOutcome:
        """The check's suite on its frame, in the worker if the run started one."""
        if self._pool is None:
            return validate_frame(check.name, frame, check.expectations)
        return self._pool.submit(validate_check, check.name, frame).result()

    def let_go(self) -> None:
        """Stop the worker without waiting for it: no check validates after this. A process
        that imported GX takes about a second to exit, which the run's last steps hide; a
        later validation would run in this process."""
        if self._pool is not None:
            # the pool's own shutdown, in a thread: it waits for the task under way (at worst
            # the import) and for the process to exit
            self._stopping = threading.Thread(
                target=self._pool.shutdown, kwargs={"cancel_futures": True},
                name="gx-worker-stop")
            self._stopping.start()
            self._pool = None

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self.let_go()
        if self._stopping is not None:
            # no process outlives the run
            self._stopping.join()
            self._stopping = None
