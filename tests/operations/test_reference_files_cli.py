"""Reference files edited by hand in a provincial office, run as users run the pipeline:
`dvctt materialize` in a new process on a persistent DAGSTER_HOME. The registry re-saved from
Excel in Windows-1258 with dd/mm/yyyy dates, one agency's province left empty and another's
code repeated with a trailing space; a target whose decision reference holds an unquoted
comma; a catalogue copy named services_latest.csv. The run completes, names each problem
with its file and line, sets the agency's dossiers aside as unknown_agency and changes no
figure of any other agency."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import openpyxl
import pytest
from office_files import windows_1258

FIRST, LAST = "2022-01", "2022-02"
RUN_TIMEOUT_SECONDS = 1200
DECISION_WITH_COMMA = "Quyết định số 2785/QĐ-UBND, ngày 30/12/2021, của UBND tỉnh"


def dvctt_materialize(env: dict[str, str], status: int = 0) -> str:
    """The command's output, once it ended with `status`."""
    run = subprocess.run(
        [str(Path(sys.executable).parent / "dvctt"), "materialize", "--from", FIRST,
         "--to", LAST], env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS)
    assert run.returncode == status, run.stderr[-3000:]
    return run.stdout + run.stderr


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def monthly(warehouse: Path, table: str, *key: str) -> dict[tuple, dict]:
    """The month rows of a marts table by (key..., month), every column by name."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute(f"SELECT * FROM {table} WHERE period_type = 'month'")
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    return {(*(row[column] for column in key), row["period_start"]): row for row in rows}


def unknown_agency_dossiers(warehouse: Path) -> set[str]:
    return {ma_ho_so for (ma_ho_so,) in query(
        warehouse, "SELECT ma_ho_so FROM quarantine.dossiers WHERE reason = 'unknown_agency'")}


def busiest_agency(warehouse: Path) -> tuple[str, str]:
    """The agency with the most dossiers in the two months, in a province with others."""
    return query(warehouse, """
        SELECT agency_code, province_code FROM marts.agency_period_rates
        WHERE period_type = 'month' AND source = 'dossiers'
          AND province_code IN (SELECT province_code FROM marts.agency_period_rates
                                GROUP BY ALL HAVING count(DISTINCT agency_code) > 1)
        GROUP BY ALL ORDER BY sum(received) DESC, agency_code LIMIT 1""")[0]


def as_excel_saves_it(landing: Path, rejected: str, repeated: str) -> tuple[int, int]:
    """agencies.csv opened in Excel and saved on a Vietnamese Windows, after two edits:
    `rejected`'s province emptied, `repeated`'s row copied to the end with a trailing space
    after its code. Returns the line of the rejected agency and the rows of the file."""
    path = landing / "reference" / "agencies.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    header = rows[0]
    column = {name: header.index(name) for name in header}
    for row in rows[1:]:
        for date_column in ("valid_from", "valid_to"):
            if row[column[date_column]]:  # Excel shows and saves dates as dd/mm/yyyy
                year, month, day = row[column[date_column]].split("-")
                row[column[date_column]] = f"{day}/{month}/{year}"
        if row[column["agency_code"]] == rejected:
            row[column["province_code"]] = ""
            rejected_line = rows.index(row) + 1
    copy = next(row for row in rows if row[column["agency_code"]] == repeated)
    rows.append([f"{repeated} ", *copy[1:]])
    text = io.StringIO()
    csv.writer(text, delimiter=";", lineterminator="\r\n").writerows(rows)
    path.write_bytes(windows_1258(text.getvalue()))
    return rejected_line, len(rows) - 1


def with_unquoted_comma(landing: Path) -> int:
    """The first target's decision reference retyped in a text editor; returns its line."""
    path = landing / "targets" / "targets_2022.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(",")
    lines[1] = ",".join([*cells[:7], DECISION_WITH_COMMA])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 2


@pytest.fixture
def pipeline(
    tmp_path: Path, sample_landing: Path, dagster_home: Path
) -> tuple[dict[str, str], Path, Path]:
    landing = tmp_path / "landing"
    shutil.copytree(sample_landing, landing)
    warehouse = tmp_path / "warehouse.duckdb"
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), "DVCTT_LANDING_DIR": str(landing),
           "DVCTT_WAREHOUSE": str(warehouse),
           "DVCTT_SERVING": str(tmp_path / "serving" / "dvctt.duckdb")}
    return env, landing, warehouse


@pytest.mark.slow
def test_hand_edited_reference_files_are_named_line_by_line_and_change_no_other_figure(
    pipeline,
):
    env, landing, warehouse = pipeline
    dvctt_materialize(env)
    agencies_before = monthly(warehouse, "marts.agency_period_rates", "agency_code")
    provinces_before = monthly(warehouse, "marts.province_period_rates", "province_code",
                            "geography")
    rejected, province = busiest_agency(warehouse)
    its_dossiers = unknown_agency_dossiers(warehouse) | {ma_ho_so for (ma_ho_so,) in query(
        warehouse, f"SELECT ma_ho_so FROM staging.dossiers WHERE agency_code = '{rejected}'")}
    repeated = next(code for code, _ in sorted(agencies_before) if code != rejected)

    rejected_line, registry_rows = as_excel_saves_it(landing, rejected, repeated)
    target_line = with_unquoted_comma(landing)
    catalog = landing / "catalog"
    shutil.copy(catalog / "services_2022-01-01.csv", catalog / "services_latest.csv")
    output = dvctt_materialize(env)

    assert "Traceback" not in output
    assert (f"reference/agencies.csv loaded, rows set aside: line {rejected_line} "
            f"(agency_code {rejected}): missing_province_code") in output
    assert ("catalog/services_latest.csv failed: catalog/services_latest.csv: name it "
            "services_<YYYY-MM-DD>.csv") in output

    quality = {row[0]: row[1:] for row in query(warehouse, """
        SELECT relative_path, kind, status, rows_read, rows_loaded, rows_quarantined,
               quarantined_by_reason
        FROM marts.data_quality WHERE kind NOT IN ('dossiers', 'reports')""")}
    assert quality["reference/agencies.csv"] == (
        "agencies", "loaded", registry_rows, registry_rows - 2, 2,
        "duplicate_agency_code: 1, missing_province_code: 1")
    assert quality["catalog/services_latest.csv"][:2] == ("service_catalog", "failed")
    assert quality["catalog/services_2022-01-01.csv"][1] == "loaded"
    assert quality["targets/targets_2022.csv"][1] == "loaded"
    assert quality["targets/targets_2022.csv"][4] == 0
    assert query(warehouse, "SELECT decision_ref FROM core.targets "
                            f"WHERE row_no = {target_line}") == [(DECISION_WITH_COMMA,)]

    # the rejected agency's dossiers are set aside, never counted in a nameless province
    lost = {month: row["received"] for (code, month), row in agencies_before.items()
            if code == rejected}
    assert unknown_agency_dossiers(warehouse) == its_dossiers
    agencies_after = monthly(warehouse, "marts.agency_period_rates", "agency_code")
    assert agencies_after == {key: row for key, row in agencies_before.items()
                              if key[0] != rejected}
    provinces_after = monthly(warehouse, "marts.province_period_rates", "province_code",
                            "geography")
    assert set(provinces_after) == set(provinces_before)
    # the agency's province as it was, and the province it is part of since July 2025
    (merged_into,) = query(warehouse, "SELECT new_province_code FROM core.province_mapping_2025 "
                                      f"WHERE old_province_code = '{province}'")[0]
    affected = {(province, "as_was"), (merged_into, "current")}
    assert {key: row for key, row in provinces_after.items() if key[:2] not in affected} == {
        key: row for key, row in provinces_before.items() if key[:2] not in affected}
    assert {key: provinces_before[key]["received"] - row["received"]
            for key, row in provinces_after.items() if key[:2] in affected} == {
        key: lost.get(key[2], 0) for key in provinces_after if key[:2] in affected}


@pytest.mark.slow
def test_a_registry_saved_as_a_workbook_stops_the_run_saying_what_to_fix(pipeline):
    env, landing, warehouse = pipeline
    path = landing / "reference" / "agencies.csv"
    workbook = openpyxl.Workbook()  # Excel's "Save As" keeping the name, not the type
    for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"))):
        workbook.active.append(row)
    workbook.save(path)

    output = dvctt_materialize(env, status=1)
    assert ("reference/agencies.csv is an Excel workbook, not CSV text: save it from Excel "
            "as 'CSV UTF-8 (Comma delimited)'") in output
    # the command's own last words name the step and repeat what to fix
    assert ("it failed in:\n  reference_tables: reference/agencies.csv is an Excel workbook"
            in output)
    assert "Traceback (most recent call last)" not in output
    assert "UnicodeDecodeError" not in output
    assert not warehouse.exists() or query(warehouse, "SELECT count(*) FROM core.agencies") == [
        (0,)]
