"""Peak resident memory of this process and every process it started, and of the processes it
started alone (a pipeline run in a new process, without the benchmark's own memory), sampled
in a thread."""

from __future__ import annotations

import threading
import time
from types import TracebackType

import psutil

SAMPLE_SECONDS = 0.2


def descendants_rss(process: psutil.Process) -> int:
    """Resident bytes of a process's descendants (children that vanish count as 0)."""
    total = 0
    for child in process.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


class MemorySampler:
    """Samples the process tree's RSS every SAMPLE_SECONDS while in use as a context manager;
    `peak(start, end)` is the highest sample between two time.time() stamps, `started_peak`
    the highest of the started processes alone."""

    def __init__(self) -> None:
        # time, this process and its descendants, its descendants alone
        self.samples: list[tuple[float, int, int]] = []
        self._process = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = descendants_rss(self._process)
            self.samples.append((time.time(), self._process.memory_info().rss + started, started))
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float, end: float) -> int:
        return max((tree for _, tree, _ in self._between(start, end)), default=0)

    def started_peak(self, start: float, end: float) -> int:
        return max((started for _, _, started in self._between(start, end)), default=0)

    def _between(self, start: float, end: float) -> list[tuple[float, int, int]]:
        # the sample just before `start` stands for the stage's first instants
        return [sample for sample in self.samples if start - SAMPLE_SECONDS <= sample[0] <= end]
