"""The serving file and its Parquet copies are swapped in whole: readers that hold the old
version keep reading it, new readers see the new one, and a failed publication changes
nothing."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dvctt_pipeline.models.sql_models import Window
from dvctt_pipeline.serve import dictionary, publish
from dvctt_pipeline.serve.publish import parquet_dir, publish_serving_file
from dvctt_pipeline.warehouse import ensure_base_tables


@pytest.fixture
def warehouse(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_base_tables(con)
    con.execute("CREATE TABLE marts.national_period_rates AS "
                "SELECT DATE '2022-03-01' AS period_start, 100 AS received")
    con.execute("COMMENT ON TABLE marts.national_period_rates IS 'Tỷ lệ toàn quốc / National'")
    con.execute("COMMENT ON COLUMN marts.national_period_rates.received IS "
                "'Hồ sơ tiếp nhận / Dossiers received'")
    con.execute("CREATE TABLE staging.not_for_bi AS SELECT 1 AS x")
    yield con
    con.close()


def received(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT received FROM marts.national_period_rates").fetchone()[0]


def received_by_another_process(serving: Path) -> int:
    code = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
        "print(con.execute('SELECT received FROM marts.national_period_rates').fetchone()[0])"
    )
    result = subprocess.run([sys.executable, "-c", code, str(serving)], capture_output=True,
                            text=True, check=True, timeout=60)
    return int(result.stdout)


def set_received(warehouse: duckdb.DuckDBPyConnection, value: int) -> None:
    warehouse.execute("UPDATE marts.national_period_rates SET received = $v", {"v": value})


def test_marts_and_restatements_are_served_with_their_comments(warehouse, tmp_path):
    serving = tmp_path / "serving" / "dvctt.duckdb"
    rows = publish_serving_file(warehouse, serving)
    assert rows == {"marts.national_period_rates": 1, "meta.restatements": 0}
    with duckdb.connect(str(serving), read_only=True) as reader:
        tables = reader.execute(
            "SELECT schema_name || '.' || table_name, comment FROM duckdb_tables() ORDER BY 1"
        ).fetchall()
        assert [name for name, _ in tables] == ["marts.national_period_rates",
                                                "meta.restatements"]
        assert all(comment for _, comment in tables)
        assert reader.execute(
            "SELECT comment FROM duckdb_columns() WHERE column_name = 'received'"
        ).fetchone() == ("Hồ sơ tiếp nhận / Dossiers received",)


def test_each_marts_table_is_also_a_parquet_file(warehouse, tmp_path):
    serving = tmp_path / "serving" / "dvctt.duckdb"
    publish_serving_file(warehouse, serving)
    parquet = parquet_dir(serving) / "national_period_rates.parquet"
    assert sorted(p.name for p in parquet_dir(serving).iterdir()) == [parquet.name]
    assert duckdb.sql(f"SELECT period_start::VARCHAR, received FROM '{parquet}'").fetchall() == [
        ("2022-03-01", 100)
    ]


def test_a_reader_holding_the_old_file_keeps_reading_it(warehouse, tmp_path):
    serving = tmp_path / "dvctt.duckdb"
    publish_serving_file(warehouse, serving)
    with duckdb.connect(str(serving), read_only=True) as holder:
        set_received(warehouse, 103)
        publish_serving_file(warehouse, serving)
        assert received(holder) == 100
        # another process (DuckDB shares one instance per file within a process)
        assert received_by_another_process(serving) == 103
    parquet = parquet_dir(serving) / "national_period_rates.parquet"
    assert duckdb.sql(f"SELECT received FROM '{parquet}'").fetchone() == (103,)


def test_a_failed_publication_leaves_the_previous_version_and_no_debris(
    warehouse, tmp_path, monkeypatch
):
    serving = tmp_path / "dvctt.duckdb"
    publish_serving_file(warehouse, serving)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    set_received(warehouse, 103)

    def disk_full(con: object, table: str, path: Path, *args: object) -> None:
        path.write_bytes(b"PAR1 half a file")
        raise OSError("No space left on device")

    monkeypatch.setattr(dictionary, "write_described_parquet", disk_full)
    with pytest.raises(OSError, match="No space"):
        publish_serving_file(warehouse, serving)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    with duckdb.connect(str(serving), read_only=True) as reader:
        assert received(reader) == 100


def test_leftovers_of_a_killed_publication_are_removed_next_time(warehouse, tmp_path):
    serving = tmp_path / "dvctt.duckdb"
    parquet_dir(serving).mkdir()
    leftovers = [tmp_path / ".dvctt.duckdb.0a1b.building",
                 tmp_path / ".dvctt.duckdb.0a1b.building.wal",
                 parquet_dir(serving) / ".national_period_rates.parquet.0a1b.building"]
    for leftover in leftovers:
        leftover.write_bytes(b"half")
    publish_serving_file(warehouse, serving)
    assert not any(leftover.exists() for leftover in leftovers)


def test_a_table_dropped_from_marts_no_longer_has_a_parquet_file(warehouse, tmp_path):
    serving = tmp_path / "dvctt.duckdb"
    warehouse.execute("CREATE TABLE marts.retired AS SELECT 1 AS x")
    publish_serving_file(warehouse, serving)
    warehouse.execute("DROP TABLE marts.retired")
    publish_serving_file(warehouse, serving)
    assert [p.name for p in parquet_dir(serving).iterdir()] == ["national_period_rates.parquet"]


def add_restatement(warehouse: duckdb.DuckDBPyConnection, run_id: str | None, old: float) -> None:
    warehouse.execute(
        "INSERT INTO meta.restatements (table_name, row_key, column_name, old_value, "
        "new_value, run_id, restated_at) VALUES ('marts.national_period_rates', "
        "'period_start=2022-03-01', 'received', $old, 100, $run, current_timestamp)",
        {"old": old, "run": run_id})


def served_restatements(serving: Path) -> list[tuple]:
    with duckdb.connect(str(serving), read_only=True) as reader:
        return reader.execute("SELECT run_id, old_value FROM meta.restatements "
                              "ORDER BY run_id, old_value").fetchall()


def test_only_the_changed_tables_are_written_again(warehouse, tmp_path):
    serving = tmp_path / "dvctt.duckdb"
    warehouse.execute("CREATE TABLE marts.province_latest AS SELECT 'H58' AS province_code")
    publish_serving_file(warehouse, serving)
    unchanged = parquet_dir(serving) / "province_latest.parquet"
    changed = parquet_dir(serving) / "national_period_rates.parquet"
    before = {path: path.stat().st_ino for path in (unchanged, changed)}
    set_received(warehouse, 103)
    publish_serving_file(warehouse, serving)
    assert unchanged.stat().st_ino == before[unchanged]
    assert changed.stat().st_ino != before[changed]
    assert received_by_another_process(serving) == 103
    with duckdb.connect(str(serving), read_only=True) as reader:
        assert reader.execute("SELECT * FROM marts.province_latest").fetchall() == [("H58",)]


def test_restatements_of_new_runs_are_added_and_a_hand_edit_is_copied_whole(warehouse, tmp_path):
    serving = tmp_path / "dvctt.duckdb"
    add_restatement(warehouse, "run-a", 90)
    add_restatement(warehouse, None, 80)
    publish_serving_file(warehouse, serving)
    add_restatement(warehouse, "run-b", 95)
    rows = publish_serving_file(warehouse, serving)
    assert rows["meta.restatements"] == 3
    assert served_restatements(serving) == [("run-a", 90), ("run-b", 95), (None, 80)]
    # an analyst removes a row by hand: the served table follows, though no run was added
    warehouse.execute("DELETE FROM meta.restatements WHERE run_id = 'run-a'")
    publish_serving_file(warehouse, serving)
    assert served_restatements(serving) == [("run-b", 95), (None, 80)]


def test_a_damaged_serving_file_is_published_anew(warehouse, tmp_path):
    serving = tmp_path / "dvctt.duckdb"
    publish_serving_file(warehouse, serving)
    serving.write_bytes(b"not a database")
    publish_serving_file(warehouse, serving)
    assert received_by_another_process(serving) == 100
    assert not list(tmp_path.glob(f".*{publish._TEMPORARY_SUFFIX}*"))


APRIL = Window(date(2022, 4, 1), date(2022, 5, 1))


def national_rates(warehouse: duckdb.DuckDBPyConnection, received_by_month: dict[str, int]
                   ) -> None:
    """marts.national_period_rates with the columns its model's window reads."""
    warehouse.execute(
        "CREATE OR REPLACE TABLE marts.national_period_rates AS "
        "SELECT month AS period_start, last_day(month) AS period_end, received "
        "FROM (SELECT unnest($months::DATE[]) AS month, unnest($received::INTEGER[]) AS received)",
        {"months": list(received_by_month), "received": list(received_by_month.values())})


def served_by_month(serving: Path) -> dict[str, int]:
    with duckdb.connect(str(serving), read_only=True) as reader:
        return dict(reader.execute(
            "SELECT strftime(period_start, '%Y-%m'), received "
            "FROM marts.national_period_rates ORDER BY 1").fetchall())


def test_a_run_s_months_are_written_again_and_rows_changed_elsewhere_are_not_lost(
    warehouse, tmp_path
):
    serving = tmp_path / "dvctt.duckdb"
    national_rates(warehouse, {"2022-03-01": 100, "2022-04-01": 200})
    publish_serving_file(warehouse, serving)
    warehouse.execute("UPDATE marts.national_period_rates SET received = 210 "
                      "WHERE period_start = DATE '2022-04-01'")
    publish_serving_file(warehouse, serving, window=APRIL)
    assert served_by_month(serving) == {"2022-03": 100, "2022-04": 210}

    # March changed too, by a run that did not publish: the run of April publishes it
    warehouse.execute("UPDATE marts.national_period_rates SET received = received + 5")
    publish_serving_file(warehouse, serving, window=APRIL)
    assert served_by_month(serving) == {"2022-03": 105, "2022-04": 215}
    parquet = parquet_dir(serving) / "national_period_rates.parquet"
    assert duckdb.sql(f"SELECT sum(received) FROM '{parquet}'").fetchone() == (320,)


def test_a_table_without_its_model_s_window_columns_is_published_whole(warehouse, tmp_path):
    serving = tmp_path / "dvctt.duckdb"
    publish_serving_file(warehouse, serving)
    set_received(warehouse, 103)  # the table has no period_end
    publish_serving_file(warehouse, serving, window=APRIL)
    assert received_by_another_process(serving) == 103
