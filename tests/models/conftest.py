"""A small warehouse filled by hand, on which every SQL model runs through the real runner.

Tests describe their fixture in the terms of the report (an agency, so many dossiers of a
procedure in a month, so many of them online, a catalogue snapshot, a target, a report row)
and read the marts back; the expected figures are computed by hand in each test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import count

import duckdb
import pytest

from dvctt_pipeline.models.sql_models import Window, load_models, run_model
from dvctt_pipeline.months import next_month
from dvctt_pipeline.reference.geography import load_admin_units
from dvctt_pipeline.reference.names import name_key
from dvctt_pipeline.warehouse import ensure_base_tables

LEGACY_VALIDITY = (date(2015, 1, 1), date(2025, 6, 30))
VALIDITY_2025 = (date(2025, 7, 1), None)


def _month(text: str) -> date:
    year, month = map(int, text.split("-"))
    return date(year, month, 1)


@dataclass
class HandMadeWarehouse:
    con: duckdb.DuckDBPyConnection
    _ids: Iterator[int] = field(default_factory=lambda: count(1))

    def agency(self, code: str, level: str, province: str,
               validity: tuple[date, date | None] = LEGACY_VALIDITY) -> str:
        self.con.execute(
            "INSERT INTO core.agencies VALUES (?, ?, ?, ?, NULL, NULL, ?, ?, [])",
            [code, f"Đơn vị {code}", level, province, *validity],
        )
        return code

    def dossiers(self, agency: str, procedure: str, month: str, received: int, *,
                 online: int = 0, on_time: int = 0, late: int = 0, with_fee: int = 0,
                 paid_online: int = 0) -> None:
        """`received` dossiers received on the 5th: the first `online` of them online, the
        first `on_time` finished on the 10th (due the 20th), the next `late` on the 25th,
        the first `with_fee` with a fee, of which the first `paid_online` paid online."""
        first = _month(month)
        rows = []
        for position in range(received):
            finished_day = 10 if position < on_time else 25 if position < on_time + late else None
            rows.append((
                next(self._ids), first, f"{agency}-{procedure}-{month}-{position}", agency,
                procedure, 2 if position < online else 1,
                datetime(first.year, first.month, 5, 8), datetime(first.year, first.month, 20, 17),
                datetime(first.year, first.month, finished_day, 9) if finished_day else None,
                9 if finished_day else 4,
                1 if position < paid_online else 0,
                10_000 if position < with_fee else 0,
            ))
        self.con.executemany(
            """INSERT INTO raw.dossier_snapshots (line_no, export_date, ma_ho_so, ma_don_vi_xu_ly,
                   ma_tthc, kenh_thuc_hien, ngay_tiep_nhan, ngay_hen_tra, ngay_ket_thuc_xu_ly,
                   trang_thai, thanh_toan_truc_tuyen, fee_total, file_id, file_name,
                   kenh_was_empty, dossier_key)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 'hand.jsonl', false,
                       dossier_key(?))""",
            [(*row, row[2]) for row in rows],
        )

    def catalogue(self, effective: str, province: str, level: str,
                  procedures: dict[str, tuple[str, bool]]) -> None:
        """procedures: MaTTHC → (service_level, eligible for end-to-end service)."""
        self.con.executemany(
            "INSERT INTO core.service_catalog VALUES (?, ?, ?, ?, NULL, ?, ?, 'catalog', 2)",
            [(date.fromisoformat(effective), province, level, code, service_level, eligible)
             for code, (service_level, eligible) in procedures.items()],
        )

    def target(self, year: int, province: str, level: str, metric: str, target_min: float,
               target_stretch: float | None = None, agency: str | None = None) -> None:
        self.con.execute(
            "INSERT INTO core.targets VALUES (?, ?, ?, ?, ?, ?, ?, 'QĐ', 'targets', 2)",
            [year, province, level, agency, metric, target_min, target_stretch],
        )

    def report_row(self, agency: str, month: str, *, online: int, in_person: int,
                   carried_over: int = 0, finished: int = 0, early: int = 0,
                   on_time: int = 0) -> None:
        self.con.execute(
            """INSERT INTO raw.report_rows (file_id, relative_path, row_no, report_month,
                   agency_name_in_report, received_total, received_carried_over, received_online,
                   received_in_person, finished, finished_early, finished_on_time)
               VALUES (1, 'reports/bieu06.xlsx', 7, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [_month(month), agency, carried_over + online + in_person, carried_over, online,
             in_person, finished, early, on_time],
        )

    def run(self, first: str, last: str, min_dossiers: int = 3) -> None:
        """Every SQL model for the months [first, last], in dependency order."""
        window = Window(_month(first), next_month(_month(last)))
        for model in load_models():
            run_model(self.con, model, window, {"min_dossiers": min_dossiers})

    def rows(self, sql: str, params: dict | None = None) -> list[dict]:
        cursor = self.con.execute(sql, params or {})
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@contextmanager
def hand_made_warehouse() -> Iterator[HandMadeWarehouse]:
    """An empty warehouse in memory."""
    with duckdb.connect() as con:
        ensure_base_tables(con)
        con.create_function("name_key", name_key, [str], str)
        load_admin_units(con)
        # the one export every hand-made snapshot comes from, loaded as the ingest leaves it
        con.execute("INSERT INTO meta.source_files (file_id, relative_path, kind, export_date, "
                    "status) VALUES (1, 'dossiers/2021-01-01/hand.jsonl', 'dossiers', "
                    "DATE '2021-01-01', 'loaded')")
        yield HandMadeWarehouse(con)


@pytest.fixture
def warehouse() -> Iterator[HandMadeWarehouse]:
    with hand_made_warehouse() as made:
        yield made


@pytest.fixture(scope="module")
def new_module_warehouse() -> Iterator[Callable[[], HandMadeWarehouse]]:
    """Opens empty warehouses that last as long as the module: for a module-scoped fixture
    whose tests only read what it built, so that the models run once, not once a test."""
    with ExitStack() as warehouses:
        yield lambda: warehouses.enter_context(hand_made_warehouse())
