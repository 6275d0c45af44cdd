"""Reference tables are loaded again only when one of their files changed."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from dvctt_pipeline.reference.freshness import load_when_changed
from dvctt_pipeline.warehouse import ensure_base_tables


@pytest.fixture
def con():
    with duckdb.connect() as connection:
        ensure_base_tables(connection)
        yield connection


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    for relative in ("reference/agencies.csv", "catalog/services_2022-01-01.csv"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("header\n", encoding="utf-8")
    return tmp_path


def loads(con, landing: Path) -> bool:
    return load_when_changed(con, "agencies", landing, lambda: "loaded") is not None


def test_unchanged_files_are_not_loaded_again(con, landing):
    assert loads(con, landing)
    assert not loads(con, landing)


@pytest.mark.parametrize("change", ["rewritten", "added", "removed"])
def test_a_changed_reference_file_loads_again(con, landing, change):
    assert loads(con, landing)
    catalogue = landing / "catalog" / "services_2022-01-01.csv"
    if change == "rewritten":
        stat = catalogue.stat()
        os.utime(catalogue, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    elif change == "added":
        (landing / "catalog" / "services_2022-07-01.csv").write_text("header\n", encoding="utf-8")
    else:
        catalogue.unlink()
    assert loads(con, landing)


def test_a_failed_load_is_tried_again(con, landing):
    def failing() -> None:
        raise ValueError("agencies.csv lacks the columns agency_code")

    with pytest.raises(ValueError):
        load_when_changed(con, "agencies", landing, failing)
    assert loads(con, landing)
