"""Whether a SQL model's months are computed again, from Dagster's record of them."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from conftest import ONE_AGENCY, land_export

from dvctt_pipeline.cli import materialize_months
from dvctt_pipeline.defs import model_versions
from dvctt_pipeline.defs.assets import SQL_MODELS
from dvctt_pipeline.defs.keys import table_key


def recomputed(result: dg.ExecuteInProcessResult) -> set[str]:
    return {event.asset_key.to_user_string()
            for event in result.get_asset_materialization_events()
            if (value := event.event_specific_data.materialization.metadata.get("recomputed"))
            and value.value}


def test_a_model_whose_parent_the_run_computed_is_computed_without_reading_its_record(
    folders, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A day more of March: the staged dossiers are computed again, and so is every model
    that reads them, whose recorded versions are then not read."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    (folders.landing / "reference").mkdir(parents=True)
    (folders.landing / "reference" / "agencies.csv").write_text(ONE_AGENCY, encoding="utf-8")
    land_export(folders, "2022-03-02", dossiers=3)
    assert materialize_months("2022-03", "2022-03").success
    land_export(folders, "2022-03-03", dossiers=2)
    read: list[str] = []
    recorded_months = model_versions.recorded_months

    def spied(instance: dg.DagsterInstance, key: dg.AssetKey, partitions: list[str]) -> object:
        read.append(key.to_user_string())
        return recorded_months(instance, key, partitions)

    monkeypatch.setattr(model_versions, "recorded_months", spied)

    day_more = materialize_months("2022-03", "2022-03")

    assert day_more.success
    computed = recomputed(day_more)
    assert {"staging/dossiers", "core/agency_procedure_month", "marts/province_rankings"} \
        <= computed
    models = {model.table for model in SQL_MODELS}
    after_a_computed_parent = {
        table_key(model.table).to_user_string() for model in SQL_MODELS
        if any(table_key(table).to_user_string() in computed
               for table in model.depends_on & models)}
    assert "core/agency_procedure_month" in after_a_computed_parent
    assert not after_a_computed_parent & set(read)
    # the others are asked: the staged dossiers read no model
    assert "staging/dossiers" in read
