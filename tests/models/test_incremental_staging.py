"""staging.dossiers recomputes only the dossiers of newly loaded files, and gives the rows a
full recomputation would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from dvctt_pipeline.ingest import dossiers
from dvctt_pipeline.ingest.dossiers import PIECE_BYTES_ENV, ingest_dossier_exports
from dvctt_pipeline.ingest.readers import judged_pieces
from dvctt_pipeline.models.sql_models import ModelSchemaChanged, Window, load_models, run_model
from dvctt_pipeline.reference.names import name_key
from dvctt_pipeline.warehouse import connect

JANUARY = Window(date(2022, 1, 1), date(2022, 2, 1))
STAGING = next(model for model in load_models() if model.table == "staging.dossiers")
COLUMNS = "ma_ho_so, agency_code, trang_thai, received_month, source_file_id, snapshots"


def snapshot(ma_ho_so: str, received: str = "20220105080000", status: int = 4) -> dict:
    return {"MaHoSo": ma_ho_so, "MaDonViXuLy": "A1", "MaTTHC": "1.001", "KenhThucHien": 2,
            "NgayTiepNhan": received, "NgayHenTra": "20220220170000", "TrangThaiHoSo": status}


def land(landing: Path, day: str, records: list[dict]) -> None:
    path = landing / "dossiers" / day / "dvcqg.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


@pytest.fixture
def con(tmp_path: Path):
    with connect(tmp_path / "warehouse.duckdb") as connection:
        connection.create_function("name_key", name_key, [str], str)
        connection.execute("INSERT INTO core.agencies VALUES ('A1', 'Sở Tư pháp', 'province', "
                           "'17', NULL, NULL, '2015-01-01', NULL, [])")
        yield connection


def stage_january(con, landing: Path) -> list[tuple]:
    ingest_dossier_exports(con, landing)
    run_model(con, STAGING, JANUARY, {})
    return con.execute(f"SELECT {COLUMNS} FROM staging.dossiers ORDER BY 1").fetchall()


def restaged_from_scratch(con) -> list[tuple]:
    con.execute("DELETE FROM meta.incremental_state")
    run_model(con, STAGING, JANUARY, {})
    return con.execute(f"SELECT {COLUMNS} FROM staging.dossiers ORDER BY 1").fetchall()


def after_file_ids(con) -> set[int]:
    return {row[0] for row in con.execute(
        "SELECT last_file_id FROM meta.incremental_state WHERE table_name = 'staging.dossiers'"
    ).fetchall()}


def test_a_new_export_restages_only_its_dossiers_with_the_full_result(tmp_path, con):
    land(tmp_path, "2022-01-05", [snapshot("X"), snapshot("Y"), snapshot("W")])
    stage_january(con, tmp_path)
    assert after_file_ids(con) == {1}
    # X finishes, Y's reception date is corrected into February, Z is new
    land(tmp_path, "2022-01-06", [snapshot("X", status=9), snapshot("Y", "20220203080000"),
                                  snapshot("Z")])
    incremental = stage_january(con, tmp_path)
    assert incremental == [
        ("W", "A1", 4, date(2022, 1, 1), 1, 1),
        ("X", "A1", 9, date(2022, 1, 1), 2, 2),
        ("Z", "A1", 4, date(2022, 1, 1), 2, 1),
    ]
    assert after_file_ids(con) == {2}
    assert restaged_from_scratch(con) == incremental


def test_a_dossier_corrected_into_the_month_is_ranked_on_its_snapshots_of_other_months(
    tmp_path, con
):
    """V was first received in February, then its reception date was corrected into January:
    January stages it from its latest snapshot, counting the February one too, whether the
    month is computed from the new file only or whole."""
    land(tmp_path, "2022-01-05", [snapshot("W")])
    land(tmp_path, "2022-02-03", [snapshot("V", "20220203080000")])
    stage_january(con, tmp_path)
    land(tmp_path, "2022-02-04", [snapshot("V", "20220131080000", status=9)])
    incremental = stage_january(con, tmp_path)
    assert incremental == [
        ("V", "A1", 9, date(2022, 1, 1), 3, 2),
        ("W", "A1", 4, date(2022, 1, 1), 1, 1),
    ]
    assert restaged_from_scratch(con) == incremental


def test_a_file_stored_piece_by_piece_is_staged_only_once_loaded(tmp_path, con, monkeypatch):
    land(tmp_path, "2022-01-05", [snapshot("X"), snapshot("W")])
    before = stage_january(con, tmp_path)
    # a national dump: X finished, twenty new dossiers; its pieces are committed one by one
    land(tmp_path, "2022-01-06", [snapshot("X", status=9)]
         + [snapshot(f"N{number:02}") for number in range(20)])
    monkeypatch.setenv(PIECE_BYTES_ENV, "600")
    mid_load = []

    def staging_between_pieces(*args: object) -> Iterator[None]:
        for number, step in enumerate(judged_pieces(*args)):
            if number == 2:  # two pieces stored: staged now, as another run might
                run_model(con, STAGING, JANUARY, {})
                mid_load.append((
                    con.execute(f"SELECT {COLUMNS} FROM staging.dossiers ORDER BY 1").fetchall(),
                    con.execute("SELECT f.status, count(*) FROM raw.dossier_snapshots "
                                "JOIN meta.source_files AS f USING (file_id) "
                                "WHERE file_id = 2 GROUP BY ALL").fetchall()))
            yield step

    monkeypatch.setattr(dossiers, "judged_pieces", staging_between_pieces)
    after = stage_january(con, tmp_path)
    (staged, stored), = mid_load
    assert stored and stored[0][0] == "loading" and 0 < stored[0][1] < 21
    assert staged == before
    assert len(after) == 22 and after[-1] == ("X", "A1", 9, date(2022, 1, 1), 2, 2)
    assert restaged_from_scratch(con) == after


def test_a_superseded_export_makes_the_month_recomputed(tmp_path, con):
    land(tmp_path, "2022-01-05", [snapshot("X"), snapshot("W")])
    stage_january(con, tmp_path)
    # the export is sent again without W: W's only snapshot is gone
    land(tmp_path, "2022-01-05", [snapshot("X")])
    assert [row[0] for row in stage_january(con, tmp_path)] == ["X"]


def test_a_changed_agency_registry_makes_the_month_recomputed(tmp_path, con):
    land(tmp_path, "2022-01-05", [snapshot("X")])
    assert stage_january(con, tmp_path)[0][1] == "A1"
    con.execute("DELETE FROM core.agencies")
    assert stage_january(con, tmp_path)[0][1] is None  # now an unknown agency


def test_a_table_whose_columns_changed_fails_until_a_full_refresh_fills_it_whole(
    tmp_path, con
):
    land(tmp_path, "2022-01-05", [snapshot("X"), snapshot("W")])
    stage_january(con, tmp_path)
    # the table an older release wrote, without a column the model now has
    con.execute("ALTER TABLE staging.dossiers DROP COLUMN snapshots")
    land(tmp_path, "2022-01-06", [snapshot("X", status=9)])
    with pytest.raises(ModelSchemaChanged, match="dvctt/full_refresh=true"):
        stage_january(con, tmp_path)
    run_model(con, STAGING, JANUARY, {}, full_refresh=True)
    assert [row[0] for row in con.execute(
        "SELECT ma_ho_so FROM staging.dossiers ORDER BY 1").fetchall()] == ["W", "X"]
