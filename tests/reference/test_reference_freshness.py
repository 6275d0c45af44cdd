"""A reference table is loaded again only when its files (or the code that loads them)
changed since Dagster last recorded it, or when the warehouse lacks it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from dvctt_pipeline.defs.assets import reference_tables
from dvctt_pipeline.defs.resources import Warehouse

AGENCIES = dg.AssetKey(["core", "agencies"])
HEADER = ("agency_code,agency_name,admin_level,province_code,district_code,commune_code,"
          "valid_from,valid_to,aliases\n")
JUSTICE = "000.00.12.H17,Sở Tư pháp tỉnh Hòa Bình,province,17,,,,,\n"
HEALTH = "000.00.05.H17,Sở Y tế tỉnh Hòa Bình,province,17,,,,,\n"


class Reference:
    """The agencies table materialized again and again in one Dagster instance."""

    def __init__(self, tmp_path: Path, instance: dg.DagsterInstance) -> None:
        self.instance, self.tmp_path = instance, tmp_path
        self.landing = tmp_path / "landing"
        self.agencies = self.landing / "reference" / "agencies.csv"
        self.agencies.parent.mkdir(parents=True)
        self.agencies.write_text(HEADER + JUSTICE, encoding="utf-8")
        self.database = tmp_path / "warehouse.duckdb"

    def materialize(self) -> dg.ExecuteInProcessResult:
        warehouse = Warehouse(database=str(self.database), landing_dir=str(self.landing),
                              serving_path=str(self.tmp_path / "serving.duckdb"))
        return dg.materialize([reference_tables], selection=[AGENCIES], instance=self.instance,
                              resources={"warehouse": warehouse}, raise_on_error=False)

    def reloads(self) -> bool:
        result = self.materialize()
        assert result.success
        (event,) = result.get_asset_materialization_events()
        return event.materialization.metadata["reloaded"].value


def data_version(instance: dg.DagsterInstance) -> str:
    """The data version Dagster recorded with the agencies' last materialization."""
    event = instance.get_latest_materialization_event(AGENCIES)
    return event.asset_materialization.tags["dagster/data_version"]


@pytest.fixture
def reference(tmp_path: Path) -> Iterator[Reference]:
    with dg.DagsterInstance.ephemeral() as instance:
        yield Reference(tmp_path, instance)


def test_unchanged_files_are_not_loaded_again(reference):
    assert reference.reloads()
    assert not reference.reloads()


def test_a_touched_but_identical_file_is_not_loaded_again(reference):
    assert reference.reloads()
    stat = reference.agencies.stat()
    os.utime(reference.agencies, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert not reference.reloads()


def test_a_changed_file_loads_again_with_a_new_data_version(reference):
    assert reference.reloads()
    first = data_version(reference.instance)
    reference.agencies.write_text(HEADER + JUSTICE + HEALTH, encoding="utf-8")
    assert reference.reloads()
    assert data_version(reference.instance) != first


def test_a_new_warehouse_loads_again(reference):
    assert reference.reloads()
    for path in reference.tmp_path.glob("warehouse.duckdb*"):  # the file and its WAL
        path.unlink()
    assert reference.reloads()


def test_a_failed_load_is_tried_again(reference):
    reference.agencies.write_text("agency_name\nSở Tư pháp\n", encoding="utf-8")
    assert not reference.materialize().success
    reference.agencies.write_text(HEADER + JUSTICE, encoding="utf-8")
    assert reference.reloads()
