"""An XML Spreadsheet 2003 read cell by cell (ingest.spreadsheet_xml)."""

from __future__ import annotations

from pathlib import Path

from dvctt_pipeline.ingest.cell_grid import MAX_SPAN, Merge
from dvctt_pipeline.ingest.spreadsheet_xml import read_spreadsheet_xml

WORKBOOK = """<?xml version="1.0"?>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"
 xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">
<Worksheet ss:Name="Biểu 06"><Table>
<Row><Cell ss:MergeDown="1"><Data ss:Type="String">STT</Data></Cell>
<Cell ss:MergeAcross="1"><Data ss:Type="String">Số hồ sơ</Data></Cell>
<Cell ss:MergeDown="5000000"><Data ss:Type="String">Ghi chú</Data></Cell></Row>
<Row><Cell><Data ss:Type="String">Tổng số</Data></Cell>
<Cell><Data ss:Type="Number">1565</Data></Cell></Row>
<Row ss:Index="5"><Cell ss:Index="2"><Data ss:Type="Number">57.5</Data></Cell></Row>
</Table></Worksheet></Workbook>
"""


def test_cells_follow_merges_and_indexes_and_a_broken_span_is_cut(tmp_path: Path):
    """A cell without ss:Index follows the one before, past the columns a cell above merges
    down into; a merge of five million rows holds MAX_SPAN."""
    path = tmp_path / "bieu06.xml"
    path.write_text(WORKBOOK, encoding="utf-8")
    (sheet,) = read_spreadsheet_xml(path)
    assert (sheet.name, sheet.hidden) == ("Biểu 06", False)
    assert sheet.values == {(1, 1): "STT", (1, 2): "Số hồ sơ", (1, 4): "Ghi chú",
                            (2, 2): "Tổng số", (2, 3): 1565, (5, 2): 57.5}
    assert sheet.merged == [Merge(1, 1, 2, 1), Merge(1, 2, 1, 3), Merge(1, 4, MAX_SPAN, 4)]
