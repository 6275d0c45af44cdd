"""Peak resident memory of this process and every process it started, sampled in a thread."""

from __future__ import annotations

import threading
import time
from types import TracebackType

import psutil

SAMPLE_SECONDS = 0.2


def tree_rss(process: psutil.Process) -> int:
    """Resident bytes of a process and its descendants (children that vanish count as 0)."""
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


class MemorySampler:
    """Samples the process tree's RSS every SAMPLE_SECONDS while in use as a context manager;
    `peak(start, end)` is the highest sample between two time.time() stamps."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, int]] = []
        self._process = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), tree_rss(self._process)))
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float, end: float) -> int:
        # the sample just before `start` stands for the stage's first instants
        inside = [rss for at, rss in self.samples if start - SAMPLE_SECONDS <= at <= end]
        return max(inside, default=0)
