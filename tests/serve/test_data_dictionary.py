"""The data dictionary beside the serving file and inside the Parquet copies: every marts
column, its type, its unit and its bilingual description, as an analyst opens them in Excel,
pandas or DuckDB."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from dvctt_pipeline.models.sql_models import ModelDefinitionError, load_models
from dvctt_pipeline.serve.dictionary import write_described_parquet
from dvctt_pipeline.serve.publish import parquet_dir

# Units an analyst would check first: what a rate, a count, a rank or a gap is measured in.
FRACTION = "fraction 0–1 (format as %)"
KNOWN_UNITS = {
    "marts.national_period_rates": {"online_share_all": FRACTION},
    "marts.province_period_rates": {"received": "count", "dvctt_offered": "count",
                                    "period_end": "date"},
    "marts.province_rankings": {"value": FRACTION, "rank": "rank (1 = highest)",
                                "geography": "text", "is_top5": "true/false"},
    "marts.target_compliance": {"target_min": FRACTION, "gap_pp": "percentage points",
                                "year": "year"},
    "marts.data_quality": {"loaded_at": "timestamp"},
}


@pytest.fixture(scope="module")
def serving(sample_run) -> Path:
    return sample_run.folders.serving


def served_columns(serving: Path) -> dict[tuple[str, str], tuple[str, str]]:
    with duckdb.connect(str(serving), read_only=True) as con:
        rows = con.execute(
            "SELECT 'marts.' || table_name, column_name, data_type, comment FROM duckdb_columns()"
            " WHERE schema_name = 'marts'").fetchall()
    return {(table, column): (data_type, comment) for table, column, data_type, comment in rows}


def dictionary_rows(serving: Path) -> list[dict[str, str]]:
    with (serving.parent / "data_dictionary.csv").open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_the_dictionary_lists_every_marts_column_with_its_type_and_description(serving):
    rows = dictionary_rows(serving)
    served = served_columns(serving)
    assert {(row["table"], row["column"]) for row in rows} == set(served)
    assert len(rows) == len(served)
    for row in rows:
        data_type, comment = served[(row["table"], row["column"])]
        assert row["type"] == data_type
        # the served comment is "Vietnamese / English"
        assert f"{row['description_vi']} / {row['description_en']}" == comment
        assert row["description_vi"] and row["description_en"], row


def test_every_marts_column_has_a_unit_and_the_known_ones_are_right(serving):
    units = {(row["table"], row["column"]): row["unit"] for row in dictionary_rows(serving)}
    undeclared = sorted(key for key, unit in units.items() if unit.startswith("not declared"))
    assert not undeclared, f"declare these numbers' units in their model's header: {undeclared}"
    assert {table: {column: units.get((table, column)) for column in known}
            for table, known in KNOWN_UNITS.items()} == KNOWN_UNITS


def test_the_dictionary_opens_in_excel_as_utf8(serving):
    raw = (serving.parent / "data_dictionary.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the byte-order mark to read UTF-8"
    assert "Tỷ lệ hồ sơ trực tuyến".encode() in raw


def test_each_parquet_file_carries_its_descriptions(serving):
    served = served_columns(serving)
    files = sorted(parquet_dir(serving).glob("*.parquet"))
    assert {f"marts.{file.stem}" for file in files} == {table for table, _ in served}
    for file in files:
        schema = pq.read_schema(file)
        table = f"marts.{file.stem}"
        assert schema.metadata[b"dvctt.table"].decode() == table
        assert schema.metadata[b"dvctt.description"].decode().count(" / ") == 1
        columns = json.loads(schema.metadata[b"dvctt.columns"])
        assert [c["column"] for c in columns] == schema.names
        for field in schema:
            assert field.metadata[b"description"].decode() == served[(table, field.name)][1]
    rates = parquet_dir(serving) / "province_rankings.parquet"
    # another reader: DuckDB shows the file's key-value metadata too
    kv = dict(duckdb.sql(f"SELECT decode(key), decode(value) FROM parquet_kv_metadata('{rates}')")
              .fetchall())
    value = next(c for c in json.loads(kv["dvctt.columns"]) if c["column"] == "value")
    assert value == {
        "table": "marts.province_rankings", "column": "value", "type": "DOUBLE",
        "unit": "fraction 0–1 (format as %)", "description_vi": "Giá trị chỉ số",
        "description_en": "Value of the metric"}
    assert duckdb.sql(f"SELECT count(*) FROM '{rates}'").fetchone()[0] > 0


def test_a_header_with_an_unknown_unit_is_refused(tmp_path):
    folder = tmp_path / "sql" / "marts"
    folder.mkdir(parents=True)
    (folder / "shares.sql").write_text(
        "/*\ntable: marts.shares\ndescription: Tỷ lệ / Shares\nreplace: all\n"
        "units:\n  per_mille: [share]\ncolumns:\n  share: \"Tỷ lệ / Share\"\n*/\n"
        "SELECT 0.5 AS share", "utf-8")
    with pytest.raises(ModelDefinitionError, match="units: 'per_mille' is not one of"):
        load_models(folder.parent)


def test_a_parquet_file_made_on_a_machine_in_vietnam_is_the_file_made_anywhere(tmp_path):
    """A moment's column is labelled UTC whatever the machine's time zone, and its values are
    the same instants, written across several row groups."""
    files = {}
    for zone in ("UTC", "Asia/Ho_Chi_Minh"):
        with duckdb.connect() as con:
            con.execute(f"SET TimeZone = '{zone}'")
            con.execute("CREATE TABLE loads AS SELECT i, TIMESTAMPTZ '2022-03-31 23:30:00+00' "
                        "+ to_minutes(i) AS loaded_at FROM range(300000) AS t(i)")
            files[zone] = tmp_path / f"{zone.replace('/', '_')}.parquet"
            write_described_parquet(con, "loads", files[zone], "Lần nạp / Loads", [])
    tables = {zone: pq.read_table(path) for zone, path in files.items()}
    assert tables["Asia/Ho_Chi_Minh"].equals(tables["UTC"])
    assert str(tables["UTC"].schema.field("loaded_at").type) == "timestamp[us, tz=UTC]"
    assert pq.ParquetFile(files["UTC"]).metadata.num_row_groups == 3
    first = tables["UTC"].column("loaded_at")[0].as_py()
    assert first.isoformat() == "2022-03-31T23:30:00+00:00"
