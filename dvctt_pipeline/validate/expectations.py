"""Great Expectations 1.x on bounded data: the suites behind the Dagster asset checks.

Where the validation runs, and why: GX 1.x SQL datasources fail on DuckDB (an IndexError in
resolve_metric_bundle), and a national month (~10 million dossier snapshots) must never be
loaded into pandas. So each check first aggregates in DuckDB, where the data is, to a
bounded frame (one row per month, per agency-month or per report total cell), and GX
validates that frame with its pandas datasource in an ephemeral context (nothing written to
disk). GX is imported when a check runs, so loading the Dagster definitions stays fast.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pandas as pd

# no usage statistics are sent from a pipeline that handles public-administration data
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@dataclass(frozen=True)
class SuiteOutcome:
    success: bool
    # the rows of the validated frame that break at least one expectation, with the names of
    # the expectations they break
    failures: pd.DataFrame
    expectations: int


ExpectationFactory = Callable[[Any], Sequence[Any]]

# Importing GX imports every expectation it ships, and one of them (the KL divergence, which no
# suite here uses) imports Altair and SciPy's statistics: about 2 of the import's 5-7 CPU
# seconds, paid by every run that validates (benchmarks/RESULTS.md). They are imported lazily:
# each is loaded in full the first time anything reads from it.
GX_UNUSED_IMPORTS = ("altair", "scipy.stats")


def import_gx() -> ModuleType:
    """`great_expectations`, imported without loading GX_UNUSED_IMPORTS."""
    with imported_lazily(GX_UNUSED_IMPORTS):
        import great_expectations

    return great_expectations


class _LazyFinder(importlib.abc.MetaPathFinder):
    """Finds the named modules as the other finders would, with a loader that defers running
    their code until an attribute is read (importlib.util.LazyLoader)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = frozenset(names)

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.names:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = importlib.util.LazyLoader(spec.loader)
        return spec


@contextmanager
def imported_lazily(names: Sequence[str]) -> Iterator[None]:
    """Modules of `names` not yet imported are imported lazily inside the block."""
    finder = _LazyFinder(names)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def validate_frame(
    name: str, frame: pd.DataFrame, expectations: ExpectationFactory
) -> SuiteOutcome:
    """Validate a bounded frame against the suite `expectations(gx.expectations)` builds."""
    gx = import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas(name)
        .add_dataframe_asset(name)
        .add_batch_definition_whole_dataframe(name)
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = gx.ExpectationSuite(name, expectations=list(expectations(gx.expectations)))
    result = batch.validate(suite, result_format="COMPLETE")
    broken: dict[int, list[str]] = {}
    for expectation in result.results:
        for index in expectation.result.get("unexpected_index_list") or []:
            broken.setdefault(index, []).append(expectation.expectation_config.type)
    failures = frame.loc[list(broken)].assign(
        broken=[", ".join(t.removeprefix("expect_") for t in types) for types in broken.values()]
    )
    return SuiteOutcome(bool(result.success), failures, len(suite.expectations))
