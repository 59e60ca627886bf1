"""DrawingML for the engine's charts: one chart part per `Chart`, one drawing part per sheet.

A chart is an x-y scatter with straight lines and no markers, whose series read the sheet's own
cells. Each reference carries a cache of the values the engine writes into those cells, because
viewers that never recalculate (LibreOffice's default, file previewers) draw the cache. Element
order follows the ECMA-376 schema (CT_ChartSpace, CT_PlotArea, CT_ScatterSer, CT_ValAx), which
Excel enforces: a misplaced element makes it "repair" the workbook by deleting the chart.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

from lxml import etree

from rules_engine.contract import NUMBER_FORMATS, column_letter
from rules_engine.models import CellRange, CellValue, Chart, ChartSeries, SheetCells
from rules_engine.workbook.sheetxml import REL_NS, clean_text

C_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
XDR_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
#: DrawingML lengths are English Metric Units: 914,400 per inch, 96 pixels per inch.
EMU_PER_PIXEL = 9525
#: Line colours of series 1, 2, ... (cycled): blue, orange, green, grey, gold, purple.
SERIES_COLORS = ("2F5597", "ED7D31", "548235", "7F7F7F", "BF9000", "7030A0")
#: The y axis shows whole dollars.
Y_AXIS_FORMAT = "#,##0"
#: Line widths (12,700 EMU per point): the last series 2 pt, each earlier one 0.75 pt wider.
THINNEST_LINE_EMU = 25400
LINE_STEP_EMU = 9525
#: The ids of the x and y axes inside every chart part (any two distinct unsigned integers).
X_AXIS_ID, Y_AXIS_ID = "500000001", "500000002"
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_GENERAL = "General"


def range_ref(sheet_name: str, cells: CellRange) -> str:
    """An absolute reference such as `'Hedge'!$A$5:$A$12`: the sheet name always quoted (its
    apostrophes doubled), a single cell without the colon."""
    quoted = "'" + sheet_name.replace("'", "''") + "'"
    first = f"${column_letter(cells.first_col)}${cells.first_row + 1}"
    last = f"${column_letter(cells.last_col)}${cells.last_row + 1}"
    return f"{quoted}!{first}" if first == last else f"{quoted}!{first}:{last}"


def chart_part(chart: Chart, sheet: SheetCells) -> bytes:
    """The chart part (`c:chartSpace`) for `chart`, whose series read cells of `sheet`."""
    for series in chart.series:
        _check_series(series)
    root = etree.Element(_c("chartSpace"), nsmap={"c": C_NS, "a": A_NS, "r": REL_NS})
    _val(root, "roundedCorners", "0")
    body = _sub(root, "chart")
    _title(body, chart.title, size=1400)
    _val(body, "autoTitleDeleted", "0")
    plot = _sub(body, "plotArea")
    _sub(plot, "layout")
    scatter = _sub(plot, "scatterChart")
    _val(scatter, "scatterStyle", "lineMarker")
    _val(scatter, "varyColors", "0")
    for index, series in enumerate(chart.series):
        _series(scatter, index, len(chart.series), series, sheet)
    _val(scatter, "axId", X_AXIS_ID)
    _val(scatter, "axId", Y_AXIS_ID)
    x_format = _format_code(sheet, chart.series[0].x) if chart.series else _GENERAL
    _axis(plot, X_AXIS_ID, Y_AXIS_ID, "b", chart.x_title, x_format, linked=True)
    _axis(plot, Y_AXIS_ID, X_AXIS_ID, "l", chart.y_title, Y_AXIS_FORMAT, linked=False)
    legend = _sub(body, "legend")
    _val(legend, "legendPos", "b")
    _val(legend, "overlay", "0")
    _val(body, "plotVisOnly", "1")
    _val(body, "dispBlanksAs", "gap")
    return _DECLARATION + etree.tostring(root, encoding="UTF-8")


def drawing_part(charts: Sequence[Chart], chart_ids: Sequence[str]) -> bytes:
    """The drawing part (`xdr:wsDr`) placing each chart at its anchor cell with its pixel size;
    `chart_ids[i]` is the relationship id of chart i's part in the drawing's relationships."""
    if len(charts) != len(chart_ids):
        raise ValueError(f"{len(charts)} charts but {len(chart_ids)} relationship ids")
    root = etree.Element(_x("wsDr"), nsmap={"xdr": XDR_NS, "a": A_NS})
    for index, (chart, rid) in enumerate(zip(charts, chart_ids, strict=True)):
        row, col = chart.anchor
        if row < 0 or col < 0 or chart.width <= 0 or chart.height <= 0:
            raise ValueError(f"chart {chart.title!r}: anchor {chart.anchor} or size is invalid")
        anchor = etree.SubElement(root, _x("oneCellAnchor"))
        start = etree.SubElement(anchor, _x("from"))
        for tag, value in (("col", col), ("colOff", 0), ("row", row), ("rowOff", 0)):
            etree.SubElement(start, _x(tag)).text = str(value)
        etree.SubElement(
            anchor,
            _x("ext"),
            cx=str(chart.width * EMU_PER_PIXEL),
            cy=str(chart.height * EMU_PER_PIXEL),
        )
        frame = etree.SubElement(anchor, _x("graphicFrame"), macro="")
        names = etree.SubElement(frame, _x("nvGraphicFramePr"))
        etree.SubElement(
            names,
            _x("cNvPr"),
            id=str(index + 2),
            name=f"Chart {index + 1}",
            descr=clean_text(chart.title),
        )
        etree.SubElement(names, _x("cNvGraphicFramePr"))
        place = etree.SubElement(frame, _x("xfrm"))
        etree.SubElement(place, _a("off"), x="0", y="0")
        etree.SubElement(place, _a("ext"), cx="0", cy="0")
        graphic = etree.SubElement(etree.SubElement(frame, _a("graphic")), _a("graphicData"))
        graphic.set("uri", C_NS)
        reference = etree.SubElement(graphic, _c("chart"), nsmap={"c": C_NS, "r": REL_NS})
        reference.set(f"{{{REL_NS}}}id", rid)
        etree.SubElement(anchor, _x("clientData"))
    return _DECLARATION + etree.tostring(root, encoding="UTF-8")


def _check_series(series: ChartSeries) -> None:
    for name, cells in (("x", series.x), ("y", series.y)):
        if cells.first_row != cells.last_row and cells.first_col != cells.last_col:
            raise ValueError(f"series {series.name!r}: its {name} cells are not one row or column")
    if _count(series.x) != _count(series.y):
        raise ValueError(
            f"series {series.name!r}: {_count(series.x)} x cells but {_count(series.y)} y cells"
        )


def _series(
    scatter: etree._Element, index: int, count: int, series: ChartSeries, sheet: SheetCells
) -> None:
    """One `c:ser` in CT_ScatterSer order: idx, order, tx, spPr, marker, xVal, yVal, smooth.

    Curves often coincide (with no hedge held, "with existing hedges" is "unhedged"), and
    viewers stack them differently (LibreOffice draws the first series on top, Excel the last).
    So that every line stays visible either way, each is wider than the ones after it and all
    but the last are dashed: a later line shows inside an earlier one, an earlier one through
    the gaps and beside a later one."""
    ser = _sub(scatter, "ser")
    _val(ser, "idx", str(index))
    _val(ser, "order", str(index))
    _sub(_sub(ser, "tx"), "v").text = clean_text(series.name)
    width = THINNEST_LINE_EMU + LINE_STEP_EMU * (count - 1 - index)
    line = etree.SubElement(_sub(ser, "spPr"), _a("ln"), w=str(width), cap="rnd")
    fill = etree.SubElement(line, _a("solidFill"))
    etree.SubElement(fill, _a("srgbClr"), val=SERIES_COLORS[index % len(SERIES_COLORS)])
    etree.SubElement(line, _a("prstDash"), val="dash" if index < count - 1 else "solid")
    etree.SubElement(line, _a("round"))
    _val(_sub(ser, "marker"), "symbol", "none")
    _number_ref(_sub(ser, "xVal"), sheet, series.x)
    _number_ref(_sub(ser, "yVal"), sheet, series.y)
    _val(ser, "smooth", "0")


def _number_ref(parent: etree._Element, sheet: SheetCells, cells: CellRange) -> None:
    """`c:numRef`: the cells' reference and a cache of the numbers the engine writes there
    (text, blank, boolean and non-finite cells are gaps: a `pt` is left out)."""
    ref = _sub(parent, "numRef")
    _sub(ref, "f").text = range_ref(sheet.name, cells)
    cache = _sub(ref, "numCache")
    _sub(cache, "formatCode").text = _format_code(sheet, cells)
    _val(cache, "ptCount", str(_count(cells)))
    for index, (r, c) in enumerate(_cells(cells)):
        row = sheet.rows[r] if r < len(sheet.rows) else ()
        text = _number_text(row[c] if c < len(row) else None)
        if text is not None:
            point = _sub(cache, "pt", idx=str(index))
            _sub(point, "v").text = text


def _axis(
    plot: etree._Element,
    axis_id: str,
    cross_id: str,
    position: str,
    title: str,
    number_format: str,
    *,
    linked: bool,
) -> None:
    """A `c:valAx` in CT_ValAx order. Each axis crosses the other at its zero (the x axis is the
    break-even line, the y axis marks no move) with its labels at the low edge of the plot,
    outside the lines; the y axis (position l) has horizontal gridlines and a title rotated to
    read bottom-up."""
    axis = _sub(plot, "valAx")
    _val(axis, "axId", axis_id)
    _val(_sub(axis, "scaling"), "orientation", "minMax")
    _val(axis, "delete", "0")
    _val(axis, "axPos", position)
    vertical = position == "l"
    if vertical:
        _sub(axis, "majorGridlines")
    _title(axis, title, size=1000, rotated=vertical)
    _sub(axis, "numFmt", formatCode=number_format, sourceLinked="1" if linked else "0")
    _val(axis, "majorTickMark", "out")
    _val(axis, "minorTickMark", "none")
    _val(axis, "tickLblPos", "low")
    _val(axis, "crossAx", cross_id)
    _val(axis, "crosses", "autoZero")
    _val(axis, "crossBetween", "midCat")


def _title(parent: etree._Element, text: str, *, size: int, rotated: bool = False) -> None:
    """A `c:title` with rich text (CT_Title: tx, then overlay), bold at `size` hundredths of a
    point."""
    title = _sub(parent, "title")
    rich = _sub(_sub(title, "tx"), "rich")
    body = etree.SubElement(rich, _a("bodyPr"))
    if rotated:
        body.set("rot", "-5400000")
        body.set("vert", "horz")
    etree.SubElement(rich, _a("lstStyle"))
    paragraph = etree.SubElement(rich, _a("p"))
    etree.SubElement(etree.SubElement(paragraph, _a("pPr")), _a("defRPr"), sz=str(size), b="1")
    run = etree.SubElement(paragraph, _a("r"))
    etree.SubElement(run, _a("rPr"), lang="en-US", sz=str(size), b="1")
    etree.SubElement(run, _a("t")).text = clean_text(text)
    _val(title, "overlay", "0")


def _format_code(sheet: SheetCells, cells: CellRange) -> str:
    """The number format of the range's first cell (the last format run covering it wins)."""
    for run in reversed(sheet.formats):
        if run.column == cells.first_col and run.first <= cells.first_row <= run.last:
            return NUMBER_FORMATS[run.kind][1] if run.kind in NUMBER_FORMATS else _GENERAL
    return _GENERAL


def _number_text(value: CellValue) -> str | None:
    """A cached point's value: the double the cell holds, as the shortest exact text."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return float.__repr__(number) if math.isfinite(number) else None


def _cells(cells: CellRange) -> list[tuple[int, int]]:
    return [
        (r, c)
        for r in range(cells.first_row, cells.last_row + 1)
        for c in range(cells.first_col, cells.last_col + 1)
    ]


def _count(cells: CellRange) -> int:
    return (cells.last_row - cells.first_row + 1) * (cells.last_col - cells.first_col + 1)


def _sub(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
    return etree.SubElement(parent, _c(tag), attributes)


def _val(parent: etree._Element, tag: str, value: str) -> etree._Element:
    return etree.SubElement(parent, _c(tag), val=value)


def _c(tag: str) -> str:
    return f"{{{C_NS}}}{tag}"


def _a(tag: str) -> str:
    return f"{{{A_NS}}}{tag}"


def _x(tag: str) -> str:
    return f"{{{XDR_NS}}}{tag}"
