"""A worker process that imports Great Expectations while a run stages its new snapshots.

Importing GX takes ≈ 6 s of CPU, which the first check whose rows changed paid inside the SQL
models' step, with nothing else running, while a daily run keeps only about one of the two
cores busy. When the dossier ingest loads enough snapshots that the checks will validate
after seconds of staging, it starts one spawned worker that imports GX meanwhile, and the
checks validate there. A run with nothing new, or with a load too small to hide the import
behind, starts none and validates in this process.
"""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import dagster as dg
import pandas as pd
from pydantic import PrivateAttr

from dvctt_pipeline.validate.expectations import SuiteOutcome, validate_frame
from dvctt_pipeline.validate.quality_checks import QUALITY_CHECKS, QualityCheck

# A day of national exports (≈ 400 000 snapshots on a month of 10 million) reaches its first
# validation ≈ 17 s after the ingest, on two cores: from half that load on, the worker has
# imported GX (≈ 8 s with its start) before a check needs it. A smaller load would wait for
# the import anyway and pay a process start, and a test session, which runs many small runs,
# would pay the import at every run instead of once.
MIN_SNAPSHOTS_FOR_WORKER = 200_000


def import_gx() -> None:
    """The worker's first task: the import is the bulk of a first validation (the context and
    the suite then take a fraction of a second)."""
    import great_expectations  # noqa: F401


def validate_check(name: str, frame: pd.DataFrame) -> SuiteOutcome:
    """In the worker: the named check's suite on its frame. A check is sent by name, as its
    expectations are built by lambdas, which do not pickle."""
    check = next(check for check in QUALITY_CHECKS if check.name == name)
    return validate_frame(check.name, frame, check.expectations)


class GxWorker(dg.ConfigurableResource):
    """Where the run's checks validate: its GX worker, once started, else this process. The
    in-process executor builds the resource once per run, so the worker the ingest step starts
    serves the SQL models' step, and Dagster's teardown at the end of the run, failed or not,
    stops it."""

    _pool: ProcessPoolExecutor | None = PrivateAttr(default=None)

    def start_for(self, loaded_snapshots: int) -> None:
        """Start the worker if the load is large enough to hide the import behind."""
        if self._pool is not None or loaded_snapshots < MIN_SNAPSHOTS_FOR_WORKER:
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

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._pool is not None:
            # waits for the task under way (at worst the import): no process outlives the run
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
