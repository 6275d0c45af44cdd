"""The lake benchmark's CPU count includes the processes a command's children start, as the
run worker is started by the code server and not by `dvctt` itself."""

from __future__ import annotations

import os
import sys

from benchmarks.lake import run_counting_cpu

BURN = "import time\nend = time.process_time() + 1.5\nwhile time.process_time() < end: pass"


def test_cpu_of_a_grandchild_is_counted(tmp_path):
    # the child only waits; its own child burns 1.5 s of CPU
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {BURN!r}])"
    seconds = run_counting_cpu([sys.executable, "-c", child], dict(os.environ),
                               tmp_path / "log")
    assert 1.2 <= seconds <= 4.0, seconds
