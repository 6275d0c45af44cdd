"""A small sample landing folder of January to June 2022, generated once for the slow tests
that run the pipeline for real (the daemon, the webserver, a killed run)."""

from __future__ import annotations

from pathlib import Path

import pytest
from operations import servers

from dvctt_pipeline.sample.generator import generate_landing

SAMPLE_FIRST, SAMPLE_LAST = "2022-01", "2022-06"


@pytest.fixture(scope="session")
def sample_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Read-only: tests copy what they need (copies keep the files' modification times)."""
    landing = tmp_path_factory.mktemp("sample") / "landing"
    generate_landing(landing, SAMPLE_FIRST, SAMPLE_LAST, scale=0.03, seed=5)
    return landing


@pytest.fixture
def dagster_home(tmp_path: Path) -> Path:
    """A persistent Dagster instance set up as the project's dagster_home/ is."""
    return servers.dagster_home(tmp_path)
