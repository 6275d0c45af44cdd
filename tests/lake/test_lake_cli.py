"""The commands that read what was published, pointed at a DuckLake before it has any."""

from __future__ import annotations

from dvctt_pipeline.cli import main


def point_at_lake(monkeypatch, catalog: str, files: str) -> None:
    monkeypatch.setenv("DVCTT_WAREHOUSE", f"ducklake:{catalog}")
    monkeypatch.setenv("DVCTT_DATA_PATH", files)


def test_report_on_a_lake_no_run_has_published_says_what_to_run(
    postgres, tmp_path, monkeypatch, capsys
):
    point_at_lake(monkeypatch, f"postgres:{postgres.create_database('lake_unpublished')}",
                  str(tmp_path / "files"))
    assert main(["report", "--month", "2022-04", "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert "has no publication yet" in error
    assert "dvctt materialize --from 2022-04 --to 2022-04" in error
    assert "dbname=" not in error  # the catalog's connection string may hold a password
    assert not (tmp_path / "out").exists()


def test_the_demo_on_a_lake_says_it_needs_the_embedded_file(tmp_path, monkeypatch, capsys):
    point_at_lake(monkeypatch, "postgres:dbname=nowhere", str(tmp_path / "files"))
    monkeypatch.setenv("DVCTT_LANDING_DIR", str(tmp_path / "landing"))
    assert main(["demo"]) == 2
    error = capsys.readouterr().err
    assert "unset DVCTT_WAREHOUSE" in error and "dvctt report --month 2022-04" in error
    assert not (tmp_path / "landing").exists()  # refused before writing the sample
