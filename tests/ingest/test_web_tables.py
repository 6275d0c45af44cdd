"""A web page read as Excel shows it (ingest.web_tables), cell by cell."""

from __future__ import annotations

from pathlib import Path

from dvctt_pipeline.ingest.cell_grid import MAX_SPAN, Merge
from dvctt_pipeline.ingest.web_tables import read_page


def test_cells_text_and_spans_are_placed_as_excel_shows_them(tmp_path: Path):
    page = tmp_path / "bao-cao.xls"
    page.write_text(
        "<html><head><title>Báo cáo</title><style>td {}</style></head><body>\n"
        "<div>TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT\n    THỦ TỤC HÀNH CHÍNH</div>\n"
        "<table>\n<tr><th rowspan=2>STT<th rowspan=2>Tên cơ quan,<br/>\n  đơn vị"
        "<th colspan=2>Số hồ sơ\n<tr><th>Tổng số<th>Trực&nbsp;tuyến\n"
        "<tr><td>1<td>Sở Tư pháp<td>1.565<td>&nbsp;</table>\n<p>Ngày 05 tháng 4</p>",
        encoding="utf-8")
    sheet = read_page(page)
    assert sheet.name == "bao-cao"
    assert sheet.values == {
        (1, 1): "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH",
        (2, 1): "STT", (2, 2): "Tên cơ quan,\nđơn vị", (2, 3): "Số hồ sơ",
        (3, 3): "Tổng số", (3, 4): "Trực tuyến",
        (4, 1): "1", (4, 2): "Sở Tư pháp", (4, 3): "1.565",
        (5, 1): "Ngày 05 tháng 4",
    }
    assert sheet.merged == [Merge(2, 1, 3, 1), Merge(2, 2, 3, 2), Merge(2, 3, 2, 4)]


def test_a_span_past_any_form_is_cut_to_max_span(tmp_path: Path):
    """A page saying a cell spans a million rows (a broken page) holds MAX_SPAN of them."""
    page = tmp_path / "hong.xls"
    page.write_text('<table><tr><td rowspan="1000000" colspan="-3">x<td>1</table>',
                    encoding="utf-8")
    sheet = read_page(page)
    assert sheet.merged == [Merge(1, 1, MAX_SPAN, 1)]
    assert sheet.values == {(1, 1): "x", (1, 2): "1"}
