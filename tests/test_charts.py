"""Native charts in the owned sheets of the file: the DrawingML the engine writes, the package
parts that carry it, and what LibreOffice draws from it.

The chart XML is checked against the ECMA-376 element order Excel enforces (a misplaced element
makes Excel "repair" the file by dropping the chart), its references and caches against the cells.
The package tests write real workbooks and read them back with the standard library's zipfile
and openpyxl: every chart part is linked and typed, a second write changes nothing, fewer charts
leave no orphans, and a user's own charts (one reads the Hedge sheet) stay byte for byte.
"""

from __future__ import annotations

import math
import posixpath
import re
import subprocess
import warnings
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from libreoffice_support import convert, make_profile
from lxml import etree
from openpyxl.chart import LineChart, Reference
from rich_workbooks import Feature, build_rich_workbook
from test_libreoffice import require_pdftocairo, require_soffice

from rules_engine.contract import OWNED_MARKER
from rules_engine.models import CellRange, CellValue, Chart, ChartSeries, FormatRun, SheetCells
from rules_engine.workbook.chartxml import (
    A_NS,
    C_NS,
    EMU_PER_PIXEL,
    SERIES_COLORS,
    XDR_NS,
    chart_part,
    drawing_part,
    range_ref,
)
from rules_engine.workbook.drawings import (
    CHART_REL,
    CHART_TYPE,
    DRAWING_REL,
    DRAWING_TYPE,
    replace_drawing,
)
from rules_engine.workbook.packageparts import Package
from rules_engine.workbook.writer import write_owned_sheets
from rules_engine.workbook.zipsplice import open_archive

REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

#: Child order of each complex type the charts use (ECMA-376 Part 1, dml-chart.xsd and
#: dml-spreadsheetDrawing.xsd); a child missing from its list is not allowed there at all.
SCHEMA_ORDER: dict[str, tuple[str, ...]] = {
    "chartSpace": (
        "date1904", "lang", "roundedCorners", "AlternateContent", "style", "clrMapOvr",
        "pivotSource", "protection", "chart", "spPr", "txPr", "externalData", "printSettings",
        "userShapes", "extLst",
    ),
    "chart": (
        "title", "autoTitleDeleted", "pivotFmts", "view3D", "floor", "sideWall", "backWall",
        "plotArea", "legend", "plotVisOnly", "dispBlanksAs", "showDLblsOverMax", "extLst",
    ),
    "title": ("tx", "layout", "overlay", "spPr", "txPr", "extLst"),
    "plotArea": ("layout", "scatterChart", "valAx", "dTable", "spPr", "extLst"),
    "scatterChart": ("scatterStyle", "varyColors", "ser", "dLbls", "axId", "extLst"),
    "ser": (
        "idx", "order", "tx", "spPr", "marker", "dPt", "dLbls", "trendline", "errBars", "xVal",
        "yVal", "smooth", "extLst",
    ),
    "marker": ("symbol", "size", "spPr", "extLst"),
    "ln": (
        "noFill", "solidFill", "gradFill", "pattFill", "prstDash", "custDash", "round", "bevel",
        "miter", "headEnd", "tailEnd", "extLst",
    ),
    "numRef": ("f", "numCache", "extLst"),
    "numCache": ("formatCode", "ptCount", "pt", "extLst"),
    "valAx": (
        "axId", "scaling", "delete", "axPos", "majorGridlines", "minorGridlines", "title",
        "numFmt", "majorTickMark", "minorTickMark", "tickLblPos", "spPr", "txPr", "crossAx",
        "crosses", "crossBetween", "majorUnit", "minorUnit", "dispUnits", "extLst",
    ),
    "scaling": ("logBase", "orientation", "max", "min", "extLst"),
    "legend": ("legendPos", "legendEntry", "layout", "overlay", "spPr", "txPr", "extLst"),
    "oneCellAnchor": ("from", "ext", "graphicFrame", "clientData"),
    "from": ("col", "colOff", "row", "rowOff"),
    "graphicFrame": ("nvGraphicFramePr", "xfrm", "graphic"),
    "nvGraphicFramePr": ("cNvPr", "cNvGraphicFramePr"),
}  # fmt: skip


# --- sheets with charts ------------------------------------------------------------------------


def curve_sheet(
    name: str, *, charts: int = 1, scale: float = 1.0, percent_x: bool = False
) -> SheetCells:
    """An owned sheet with a title, a header row and a P&L table (x in column A, three y
    columns), and `charts` charts of it side by side below the title."""
    xs = [k / 50 for k in range(-5, 6)] if percent_x else [float(k) for k in range(0, 45, 5)]
    rows: list[tuple[CellValue, ...]] = [
        (f"{OWNED_MARKER} - {name}",),
        (),
        ("Move", "Unhedged ($)", "Held ($)", "Layers ($)"),
    ]
    for x in xs:
        rows.append((x, -1000.0 * scale * x * x, -600.0 * scale * x * x, 250.0 * scale * x))
    last = len(rows) - 1
    series = tuple(
        ChartSeries(label, CellRange(3, 0, last, 0), CellRange(3, k, last, k))
        for k, label in ((1, "Unhedged book"), (2, "With held hedges"), (3, "With new layers"))
    )
    made = tuple(
        Chart(f"{name} chart {i + 1}", "Move axis", "Dollars axis", series, anchor=(2, 6 + 11 * i))
        for i in range(charts)
    )
    formats = [FormatRun(1, 3, last, "dollars"), FormatRun(2, 3, last, "dollars")]
    if percent_x:
        formats.append(FormatRun(0, 3, last, "percent"))
    return SheetCells(name, tuple(rows), formats=tuple(formats), charts=made)


def make_book(path: Path, *, user_chart: bool = False) -> Path:
    """A user workbook with a Dashboard sheet and the owned Hedge and Risk sheets (as `alvh
    init` leaves them); with `user_chart`, the Dashboard has a chart reading Hedge!B4:B12."""
    book = openpyxl.Workbook()
    dashboard = book.active
    assert dashboard is not None
    dashboard.title = "Dashboard"
    dashboard["A1"] = "=Hedge!B4"
    for name in ("Hedge", "Risk"):
        book.create_sheet(name)["A1"] = f"{OWNED_MARKER} - {name}"
    if user_chart:
        chart = LineChart()
        chart.title = "My view of the Hedge sheet"
        chart.add_data(Reference(book["Hedge"], min_col=2, min_row=4, max_row=12))
        dashboard.add_chart(chart, "C3")
    book.save(path)
    return path


# --- reading the package back, independently of the writer -----------------------------------


class Book:
    """A written package read with zipfile: parts, relationships and content types."""

    def __init__(self, parts: dict[str, bytes]) -> None:
        self.parts = parts

    @classmethod
    def read(cls, path: Path) -> Book:
        with zipfile.ZipFile(path) as archive:
            return cls({name: archive.read(name) for name in archive.namelist()})

    def xml(self, name: str) -> etree._Element:
        return etree.fromstring(self.parts[name])

    def rels(self, part: str) -> list[tuple[str, str, str]]:
        """(Id, Type, resolved target) of each relationship of `part`."""
        folder, base = posixpath.split(part)
        name = posixpath.join(folder, "_rels", base + ".rels")
        if name not in self.parts:
            return []
        return [
            (r.get("Id") or "", r.get("Type") or "", resolve(part, r.get("Target") or ""))
            for r in self.xml(name)
        ]

    def sheet_part(self, title: str) -> str:
        workbook = self.xml("xl/workbook.xml")
        ids = {rid: target for rid, _, target in self.rels("xl/workbook.xml")}
        sheet = next(s for s in workbook.iter(f"{{{MAIN}}}sheet") if s.get("name") == title)
        return ids[sheet.get(f"{{{REL}}}id") or ""]

    def drawing_of(self, title: str) -> str | None:
        """The drawing the sheet's <drawing r:id> names, checked against its relationships."""
        part = self.sheet_part(title)
        element = self.xml(part).find(f"{{{MAIN}}}drawing")
        links = [(rid, target) for rid, kind, target in self.rels(part) if kind == DRAWING_REL]
        if element is None:
            assert links == [], f"{title} has drawing relationships but no <drawing>"
            return None
        rid = element.get(f"{{{REL}}}id")
        assert [r for r, _ in links] == [rid], f"{title}: <drawing r:id={rid}> vs {links}"
        return links[0][1]

    def charts_of(self, drawing: str) -> list[str]:
        """The chart parts a drawing shows, in the order of its graphic frames."""
        ids = {rid: target for rid, kind, target in self.rels(drawing) if kind == CHART_REL}
        frames = self.xml(drawing).iter(f"{{{C_NS}}}chart")
        return [ids[frame.get(f"{{{REL}}}id") or ""] for frame in frames]

    def content_type(self, part: str) -> str | None:
        types = self.xml("[Content_Types].xml")
        for override in types.iter(f"{{{CT}}}Override"):
            if (override.get("PartName") or "").lstrip("/").casefold() == part.casefold():
                return override.get("ContentType")
        extension = part.rsplit(".", 1)[-1].casefold()
        for default in types.iter(f"{{{CT}}}Default"):
            if (default.get("Extension") or "").casefold() == extension:
                return default.get("ContentType")
        return None

    def drawing_parts(self) -> list[str]:
        """Every chart and drawing part (relationship parts and legacy VML aside)."""
        return sorted(
            name
            for name in self.parts
            if name.startswith(("xl/charts/", "xl/drawings/"))
            and "/_rels/" not in name
            and name.endswith(".xml")
        )

    def check_no_orphans(self) -> None:
        """Every chart and drawing part is some part's relationship target, every relationship
        part belongs to a part, every relationship target and type override exists."""
        targets: set[str] = set()
        for name in self.parts:
            if name.endswith(".rels"):
                folder, base = posixpath.split(name)
                source = posixpath.join(posixpath.dirname(folder), base[: -len(".rels")])
                assert source == "" or source in self.parts, f"{name} belongs to no part"
                for _, _, target in self.rels(source):
                    assert target in self.parts, f"{name} points at missing {target}"
                    targets.add(target)
        orphans = [name for name in self.drawing_parts() if name not in targets]
        assert orphans == [], f"parts no relationship points at: {orphans}"
        for override in self.xml("[Content_Types].xml").iter(f"{{{CT}}}Override"):
            assert (override.get("PartName") or "").lstrip("/") in self.parts, override.attrib


def resolve(source: str, target: str) -> str:
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def local(element: etree._Element) -> str:
    return etree.QName(element).localname


def check_schema_order(root: etree._Element) -> int:
    """Assert every element of SCHEMA_ORDER has only allowed children in schema order; returns
    how many elements were checked."""
    checked = 0
    for element in root.iter():
        order = SCHEMA_ORDER.get(local(element))
        if order is None or etree.QName(element).namespace not in (C_NS, XDR_NS, A_NS):
            continue
        names = [local(child) for child in element]
        assert all(name in order for name in names), (local(element), names)
        positions = [order.index(name) for name in names]
        assert positions == sorted(positions), (local(element), names)
        checked += 1
    return checked


# --- the chart part ----------------------------------------------------------------------------


def test_range_refs_quote_the_sheet_name_and_double_its_apostrophes() -> None:
    assert range_ref("Hedge", CellRange(4, 0, 11, 0)) == "'Hedge'!$A$5:$A$12"
    assert range_ref("Bob's Risk", CellRange(1, 27, 1, 27)) == "'Bob''s Risk'!$AB$2"
    assert range_ref("Risk", CellRange(0, 1, 0, 3)) == "'Risk'!$B$1:$D$1"


@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=31))
def test_any_sheet_name_reads_back_from_its_reference(name: str) -> None:
    quoted, cells = range_ref(name, CellRange(2, 3, 9, 3)).rsplit("!", 1)
    assert quoted[0] == quoted[-1] == "'" and quoted[1:-1].replace("''", "'") == name
    assert "'" not in quoted[1:-1].replace("''", "")
    assert cells == "$D$3:$D$10"


def test_chart_part_follows_the_schema_order_excel_enforces() -> None:
    root = etree.fromstring(chart_part(curve_sheet("Hedge").charts[0], curve_sheet("Hedge")))
    assert root.tag == f"{{{C_NS}}}chartSpace"
    # chartSpace, chart, title x3, plotArea, scatterChart, ser x3 (each with a line, a marker,
    # two numRefs and two numCaches), two valAx with a scaling each, legend
    assert check_schema_order(root) == 1 + 1 + 3 + 1 + 1 + 3 * 7 + 2 * 2 + 1
    plot = root.find(f"{{{C_NS}}}chart/{{{C_NS}}}plotArea")
    assert plot is not None
    assert [local(e) for e in plot] == ["layout", "scatterChart", "valAx", "valAx"]
    ids = [e.get("val") for e in plot.iter(f"{{{C_NS}}}axId")]  # scatterChart's, then each axis'
    x_axis, y_axis = plot.findall(f"{{{C_NS}}}valAx")
    assert ids[:2] == ids[2:] and len(set(ids)) == 2, ids
    assert _val(x_axis, "crossAx") == ids[1] and _val(y_axis, "crossAx") == ids[0]
    assert root.find(f"{{{C_NS}}}roundedCorners").get("val") == "0"  # type: ignore[union-attr]


def test_series_are_straight_lines_without_markers_reading_the_sheet() -> None:
    sheet = curve_sheet("Risk")
    root = etree.fromstring(chart_part(sheet.charts[0], sheet))
    scatter = root.find(f".//{{{C_NS}}}scatterChart")
    assert scatter is not None and _val(scatter, "scatterStyle") == "lineMarker"
    series = scatter.findall(f"{{{C_NS}}}ser")
    assert [s.findtext(f"{{{C_NS}}}tx/{{{C_NS}}}v") for s in series] == [
        "Unhedged book",
        "With held hedges",
        "With new layers",
    ]
    lines = [s.find(f"{{{C_NS}}}spPr/{{{A_NS}}}ln") for s in series]
    colours = [line.find(f".//{{{A_NS}}}srgbClr").get("val") for line in lines]  # type: ignore[union-attr]
    assert colours == list(SERIES_COLORS[:3])
    # coincident curves stay visible whichever series a viewer draws on top: each line wider
    # than the later ones, all but the last dashed
    widths = [int(line.get("w") or 0) for line in lines]  # type: ignore[union-attr]
    assert widths[0] > widths[1] > widths[2] >= 12700
    dashes = [line.find(f"{{{A_NS}}}prstDash").get("val") for line in lines]  # type: ignore[union-attr]
    assert dashes == ["dash", "dash", "solid"]
    for index, ser in enumerate(series):
        assert _val(ser, "idx") == _val(ser, "order") == str(index)
        assert ser.find(f"{{{C_NS}}}marker/{{{C_NS}}}symbol").get("val") == "none"  # type: ignore[union-attr]
        assert _val(ser, "smooth") == "0"
        assert ser.findtext(f"{{{C_NS}}}xVal/{{{C_NS}}}numRef/{{{C_NS}}}f") == "'Risk'!$A$4:$A$12"
    assert series[2].findtext(f"{{{C_NS}}}yVal/{{{C_NS}}}numRef/{{{C_NS}}}f") == (
        "'Risk'!$D$4:$D$12"
    )


def test_caches_hold_exactly_the_numbers_in_the_cells_and_gaps_elsewhere() -> None:
    rows: tuple[tuple[CellValue, ...], ...] = (
        (f"{OWNED_MARKER} - Risk",),
        ("x", "y"),
        (1.0, 0.1 + 0.2),
        (2, None),
        (3.5, "n/a"),
        (4.0, math.nan),
        (5.0, True),
        (6.0, -1e-7),
    )
    series = ChartSeries("P&L <net>", CellRange(2, 0, 8, 0), CellRange(2, 1, 8, 1))
    chart = Chart("t", "x", "y", (series,), anchor=(0, 3))
    sheet = SheetCells("Risk", rows, charts=(chart,))
    root = etree.fromstring(chart_part(chart, sheet))
    caches = root.findall(f".//{{{C_NS}}}numCache")
    assert len(caches) == 2
    for cache, column in zip(caches, (0, 1), strict=True):
        assert _val(cache, "ptCount") == "7"  # rows 3..9; row 9 is past the sheet's end
        points = {
            int(pt.get("idx") or -1): float(pt.findtext(f"{{{C_NS}}}v") or "")
            for pt in cache.findall(f"{{{C_NS}}}pt")
        }
        expected = {
            r - 2: float(row[column])  # type: ignore[arg-type]
            for r, row in enumerate(rows)
            if r >= 2
            and isinstance(row[column], int | float)
            and not isinstance(row[column], bool)
            and math.isfinite(row[column])  # type: ignore[arg-type]
        }
        assert points == expected
    assert root.findtext(f".//{{{C_NS}}}tx/{{{C_NS}}}v") == "P&L <net>"


def test_titles_axes_number_formats_and_legend() -> None:
    sheet = curve_sheet("Risk", percent_x=True)
    root = etree.fromstring(chart_part(sheet.charts[0], sheet))
    chart = root.find(f"{{{C_NS}}}chart")
    assert chart is not None
    assert _title(chart) == "Risk chart 1"
    x_axis, y_axis = chart.findall(f"{{{C_NS}}}plotArea/{{{C_NS}}}valAx")
    assert (_val(x_axis, "axPos"), _title(x_axis)) == ("b", "Move axis")
    assert (_val(y_axis, "axPos"), _title(y_axis)) == ("l", "Dollars axis")
    assert _num_fmt(y_axis) == ("#,##0", "0")
    assert _num_fmt(x_axis) == ("0.0%", "1")  # the x cells' own format, linked to them
    assert root.findtext(f".//{{{C_NS}}}xVal//{{{C_NS}}}formatCode") == "0.0%"
    assert root.findtext(f".//{{{C_NS}}}yVal//{{{C_NS}}}formatCode") == "#,##0"
    rotated = y_axis.find(f".//{{{A_NS}}}bodyPr")
    assert rotated is not None and rotated.get("rot") == "-5400000"
    for axis in (x_axis, y_axis):
        assert (_val(axis, "crosses"), _val(axis, "tickLblPos")) == ("autoZero", "low")
        assert _val(axis, "delete") == "0"
    legend = chart.find(f"{{{C_NS}}}legend")
    assert legend is not None and _val(legend, "legendPos") == "b"


def test_text_is_escaped_and_cleaned_of_characters_xml_cannot_hold() -> None:
    sheet = curve_sheet("Hedge")
    chart = Chart("A & B <c>\x01", "x\x0b", "y", sheet.charts[0].series, anchor=(1, 1))
    root = etree.fromstring(chart_part(chart, sheet))
    assert _title(root.find(f"{{{C_NS}}}chart")) == "A & B <c>"  # type: ignore[arg-type]
    drawing = etree.fromstring(drawing_part((chart,), ("rId1",)))
    assert drawing.find(f".//{{{XDR_NS}}}cNvPr").get("descr") == "A & B <c>"  # type: ignore[union-attr]


def test_chart_part_refuses_series_that_are_no_line() -> None:
    sheet = curve_sheet("Hedge")
    square = ChartSeries("s", CellRange(3, 0, 5, 1), CellRange(3, 2, 5, 2))
    uneven = ChartSeries("s", CellRange(3, 0, 5, 0), CellRange(3, 2, 6, 2))
    for series in (square, uneven):
        with pytest.raises(ValueError, match="series 's'"):
            chart_part(Chart("t", "x", "y", (series,), anchor=(0, 0)), sheet)


def test_drawing_places_each_chart_at_its_cell_with_its_size_in_emu() -> None:
    first, second = curve_sheet("Risk", charts=2).charts
    second = Chart(second.title, "x", "y", second.series, anchor=(30, 2), width=401, height=123)
    root = etree.fromstring(drawing_part((first, second), ("rId1", "rId7")))
    assert root.tag == f"{{{XDR_NS}}}wsDr"
    # oneCellAnchor, from, graphicFrame, nvGraphicFramePr and the (empty) c:chart of each chart
    assert check_schema_order(root) == 2 * 5
    anchors = root.findall(f"{{{XDR_NS}}}oneCellAnchor")
    placed = [
        (
            int(a.findtext(f"{{{XDR_NS}}}from/{{{XDR_NS}}}row") or -1),
            int(a.findtext(f"{{{XDR_NS}}}from/{{{XDR_NS}}}col") or -1),
            a.find(f"{{{XDR_NS}}}ext").get("cx"),  # type: ignore[union-attr]
            a.find(f"{{{XDR_NS}}}ext").get("cy"),  # type: ignore[union-attr]
            a.find(f".//{{{C_NS}}}chart").get(f"{{{REL}}}id"),  # type: ignore[union-attr]
        )
        for a in anchors
    ]
    assert placed == [
        (2, 6, str(640 * EMU_PER_PIXEL), str(320 * EMU_PER_PIXEL), "rId1"),
        (30, 2, str(401 * 9525), str(123 * 9525), "rId7"),
    ]
    ids = [e.get("id") for e in root.iter(f"{{{XDR_NS}}}cNvPr")]
    assert len(set(ids)) == 2 and "0" not in ids
    for data in root.iter(f"{{{A_NS}}}graphicData"):
        assert data.get("uri") == C_NS
    with pytest.raises(ValueError, match="2 charts but 1"):
        drawing_part((first, second), ("rId1",))


# --- the package -------------------------------------------------------------------------------


def test_each_owned_sheet_gets_a_drawing_linking_its_charts(tmp_path: Path) -> None:
    path = make_book(tmp_path / "book.xlsx")
    write_owned_sheets(path, [curve_sheet("Hedge"), curve_sheet("Risk", charts=2, percent_x=True)])
    book = Book.read(path)
    for title, count in (("Hedge", 1), ("Risk", 2)):
        drawing = book.drawing_of(title)
        assert drawing is not None and book.content_type(drawing) == DRAWING_TYPE
        charts = book.charts_of(drawing)
        assert len(charts) == len(set(charts)) == count
        for chart in charts:
            assert book.content_type(chart) == CHART_TYPE
            assert b"<c:scatterChart>" in book.parts[chart]
    assert book.drawing_of("Dashboard") is None
    assert book.content_type("xl/worksheets/_rels/sheet2.xml.rels") is not None
    book.check_no_orphans()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = openpyxl.load_workbook(path)
    titles = {
        ws.title: [c.title.tx.rich.p[0].r[0].t for c in ws._charts]  # type: ignore[attr-defined]
        for ws in loaded.worksheets
    }
    assert titles == {
        "Dashboard": [],
        "Hedge": ["Hedge chart 1"],
        "Risk": ["Risk chart 1", "Risk chart 2"],
    }


def test_a_second_write_changes_nothing_and_a_changed_one_replaces_in_place(
    tmp_path: Path,
) -> None:
    path = make_book(tmp_path / "book.xlsx")
    sheets = [curve_sheet("Hedge"), curve_sheet("Risk", charts=2)]
    write_owned_sheets(path, sheets)
    first, written = Book.read(path).parts, path.read_bytes()
    report = write_owned_sheets(path, sheets)
    assert path.read_bytes() == written
    assert (report.added, report.removed) == ((), ())
    assert set(report.replaced) == {"xl/worksheets/sheet2.xml", "xl/worksheets/sheet3.xml"}
    package = Package(open_archive(path.read_bytes()))
    for sheet in sheets:
        replace_drawing(package, Book.read(path).sheet_part(sheet.name), sheet)
    assert package.changed_parts() == ({}, {}) and package.removed == []  # nothing to rewrite

    write_owned_sheets(
        path, [curve_sheet("Hedge", scale=2.0), curve_sheet("Risk", charts=2, scale=2.0)]
    )
    again = Book.read(path)
    assert again.drawing_parts() == Book(first).drawing_parts()
    changed = [name for name in again.drawing_parts() if again.parts[name] != first[name]]
    assert changed == ["xl/charts/chart1.xml", "xl/charts/chart2.xml", "xl/charts/chart3.xml"]
    assert again.parts["[Content_Types].xml"] == first["[Content_Types].xml"]
    again.check_no_orphans()


def test_fewer_charts_and_then_none_leave_no_orphans(tmp_path: Path) -> None:
    path = make_book(tmp_path / "book.xlsx")
    write_owned_sheets(path, [curve_sheet("Hedge"), curve_sheet("Risk", charts=3)])
    assert len(Book.read(path).drawing_parts()) == 2 + 4
    write_owned_sheets(path, [curve_sheet("Hedge"), curve_sheet("Risk", charts=1)])
    book = Book.read(path)
    book.check_no_orphans()
    assert len(book.drawing_parts()) == 2 + 2
    assert len(book.charts_of(book.drawing_of("Risk") or "")) == 1

    bare = SheetCells("Risk", curve_sheet("Risk").rows)
    write_owned_sheets(path, [curve_sheet("Hedge"), bare])
    book = Book.read(path)
    book.check_no_orphans()
    assert book.drawing_of("Risk") is None
    assert "xl/worksheets/_rels/sheet3.xml.rels" not in book.parts  # it held only the drawing
    assert len(book.drawing_parts()) == 2
    assert b"drawingml.chart" in book.parts["[Content_Types].xml"]  # Hedge's chart is still typed
    assert book.parts["[Content_Types].xml"].count(b"drawingml.chart+xml") == 1


def test_parts_excel_hangs_on_the_engines_charts_go_with_them(tmp_path: Path) -> None:
    """Excel saves a chart with style and colour parts related from it; the next write keeps
    the chart's name but drops those parts, their relationships and their type overrides."""
    path = make_book(tmp_path / "book.xlsx")
    write_owned_sheets(path, [curve_sheet("Hedge"), curve_sheet("Risk")])
    styles = {"xl/charts/style1.xml": "chartstyle", "xl/charts/colors1.xml": "chartcolorstyle"}
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="http://schemas.microsoft.com/office/2011/relationships/'
        f'{kind}" Target="{posixpath.basename(name)}"/>'
        for i, (name, kind) in enumerate(styles.items(), start=1)
    )
    types = (
        Book.read(path)
        .parts["[Content_Types].xml"]
        .replace(
            b"</Types>",
            "".join(
                f'<Override PartName="/{name}" ContentType="application/vnd.ms-office.{kind}+xml"/>'
                for name, kind in styles.items()
            ).encode()
            + b"</Types>",
        )
    )
    _replace_part(
        path,
        "xl/charts/_rels/chart1.xml.rels",
        f'<Relationships xmlns="{PKG_REL}">{rels}</Relationships>'.encode(),
        add={"[Content_Types].xml": types} | {name: b"<cs/>" for name in styles},
    )
    write_owned_sheets(path, [curve_sheet("Hedge"), curve_sheet("Risk")])
    book = Book.read(path)
    assert book.charts_of(book.drawing_of("Hedge") or "") == ["xl/charts/chart1.xml"]
    gone = [*styles, "xl/charts/_rels/chart1.xml.rels"]
    assert [name for name in gone if name in book.parts] == []
    assert b"ms-office.chart" not in book.parts["[Content_Types].xml"]
    book.check_no_orphans()


def test_a_users_chart_reading_the_hedge_sheet_stays_byte_for_byte(tmp_path: Path) -> None:
    path = make_book(tmp_path / "book.xlsx", user_chart=True)
    before = Book.read(path)
    users = [n for n in before.parts if n.startswith(("xl/charts/", "xl/drawings/"))]
    assert len(users) == 3 and b"'Hedge'!$B$4:$B$12" in before.parts["xl/charts/chart1.xml"]
    for _ in range(2):
        write_owned_sheets(path, [curve_sheet("Hedge"), curve_sheet("Risk")])
        after = Book.read(path)
        assert {n: after.parts[n] for n in users} == {n: before.parts[n] for n in users}
        assert after.drawing_of("Dashboard") == "xl/drawings/drawing1.xml"
        assert after.charts_of("xl/drawings/drawing1.xml") == ["xl/charts/chart1.xml"]
        assert len(after.drawing_parts()) == 2 + 4
        after.check_no_orphans()
    engine = [after.drawing_of("Hedge"), after.drawing_of("Risk")]
    assert engine == ["xl/drawings/drawing2.xml", "xl/drawings/drawing3.xml"]


def test_a_chart_another_drawing_still_shows_is_not_removed(tmp_path: Path) -> None:
    """A Hedge drawing whose relationship names the user's chart (shared, as no tool makes but
    a package allows): the drawing goes, the user's chart stays and Hedge gets a chart of its
    own."""
    path = make_book(tmp_path / "book.xlsx", user_chart=True)
    write_owned_sheets(path, [curve_sheet("Hedge"), curve_sheet("Risk")])
    rels = "xl/drawings/_rels/drawing2.xml.rels"
    shared = Book.read(path).parts[rels].replace(b"../charts/chart2.xml", b"../charts/chart1.xml")
    _replace_part(path, rels, shared)
    user_chart = Book.read(path).parts["xl/charts/chart1.xml"]
    write_owned_sheets(path, [curve_sheet("Hedge"), curve_sheet("Risk")])
    book = Book.read(path)
    assert book.parts["xl/charts/chart1.xml"] == user_chart
    assert book.charts_of("xl/drawings/drawing1.xml") == ["xl/charts/chart1.xml"]
    hedge = book.charts_of(book.drawing_of("Hedge") or "")
    assert len(hedge) == 1 and hedge[0] not in {"xl/charts/chart1.xml", "xl/charts/chart2.xml"}
    assert "xl/charts/chart2.xml" in book.parts  # an orphan already; not the engine's to judge


def test_other_relationships_of_an_owned_sheet_are_kept(tmp_path: Path) -> None:
    """Printer settings (a binary part) related from the Hedge sheet stay, with their id."""
    path = make_book(tmp_path / "book.xlsx")
    settings = "xl/printerSettings/printerSettings1.bin"
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{PKG_REL}">'
        f'<Relationship Id="rId3" Type="{REL}/printerSettings" '
        'Target="../printerSettings/printerSettings1.bin"/></Relationships>'
    ).encode()
    _replace_part(path, "xl/worksheets/_rels/sheet2.xml.rels", rels, add={settings: b"\x00\xff"})
    for _ in range(2):
        write_owned_sheets(path, [curve_sheet("Hedge"), curve_sheet("Risk")])
        book = Book.read(path)
        links = book.rels("xl/worksheets/sheet2.xml")
        assert links[0] == ("rId3", f"{REL}/printerSettings", settings)
        assert [(rid, kind) for rid, kind, _ in links[1:]] == [("rId4", DRAWING_REL)]
        assert book.drawing_of("Hedge") is not None and book.parts[settings] == b"\x00\xff"
    write_owned_sheets(path, [SheetCells("Hedge", curve_sheet("Hedge").rows), curve_sheet("Risk")])
    assert Book.read(path).rels("xl/worksheets/sheet2.xml") == [
        ("rId3", f"{REL}/printerSettings", settings)
    ]


def test_a_new_owned_sheet_gets_its_relationships_part(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"] = "user"
    path = tmp_path / "book.xlsx"
    book.save(path)
    write_owned_sheets(path, [curve_sheet("Hedge", charts=2)])
    written = Book.read(path)
    drawing = written.drawing_of("Hedge")
    assert drawing == "xl/drawings/drawing1.xml"
    assert written.charts_of(drawing) == ["xl/charts/chart1.xml", "xl/charts/chart2.xml"]
    written.check_no_orphans()


def test_the_rich_workbook_keeps_every_feature(tmp_path: Path) -> None:
    rich = build_rich_workbook("rich_features.xlsx", tmp_path)
    before = Book.read(rich.path)
    users = {n: c for n, c in before.parts.items() if n.startswith(("xl/charts/", "xl/drawings/"))}
    write_owned_sheets(rich.path, [curve_sheet("Hedge"), curve_sheet("Risk", charts=2)])
    after = Book.read(rich.path)
    assert {n: after.parts[n] for n in users} == users
    feature: Feature
    for feature in rich.features:
        if not any(
            p in feature.parts for p in (after.sheet_part("Hedge"), after.sheet_part("Risk"))
        ):
            assert all(after.parts[p] == before.parts[p] for p in feature.parts), feature.name
    assert len(after.charts_of(after.drawing_of("Risk") or "")) == 2
    after.check_no_orphans()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl names the x14 extensions it cannot keep
        openpyxl.load_workbook(rich.path)


# --- LibreOffice -------------------------------------------------------------------------------


def test_libreoffice_draws_the_charts(tmp_path: Path) -> None:
    """One conversion to PDF: the chart titles, axis titles and legend entries are drawn as
    text, and each series colour is drawn as a line (the cells hold no colour)."""
    require_soffice()
    require_pdftocairo()
    path = make_book(tmp_path / "charts.xlsx")
    write_owned_sheets(path, [curve_sheet("Hedge"), curve_sheet("Risk", percent_x=True)])
    convert(path, "pdf", tmp_path / "pdf", make_profile(tmp_path / "profile"))
    pdf = tmp_path / "pdf" / "charts.pdf"
    text = " ".join(_run("pdftotext", "-layout", str(pdf), "-").split())
    for words in (
        "Hedge chart 1",
        "Risk chart 1",
        "Move axis",
        "Dollars axis",
        "Unhedged book",
        "With held hedges",
        "With new layers",
    ):
        assert words in text, words
    _run("pdftoppm", "-r", "40", str(pdf), str(tmp_path / "page"))
    pages = sorted(tmp_path.glob("page*.ppm"))
    assert pages
    for colour in SERIES_COLORS[:3]:
        drawn = sum(_pixels_near(page, colour) for page in pages)
        assert drawn > 100, f"series colour {colour}: {drawn} pixels"


# --- helpers -----------------------------------------------------------------------------------


def _val(parent: etree._Element, tag: str) -> str | None:
    found = parent.find(f"{{{C_NS}}}{tag}")
    return None if found is None else found.get("val")


def _title(parent: etree._Element) -> str:
    return "".join(parent.find(f"{{{C_NS}}}title").itertext())  # type: ignore[union-attr]


def _num_fmt(axis: etree._Element) -> tuple[str | None, str | None]:
    fmt = axis.find(f"{{{C_NS}}}numFmt")
    assert fmt is not None
    return fmt.get("formatCode"), fmt.get("sourceLinked")


def _replace_part(
    path: Path, name: str, content: bytes, add: dict[str, bytes] | None = None
) -> None:
    """Rewrite the zip with part `name` set to `content` (added if absent) plus `add`."""
    parts = Book.read(path).parts | {name: content} | (add or {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, data in parts.items():
            archive.writestr(part, data)


def _run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def _pixels_near(ppm: Path, colour: str, tolerance: int = 40) -> int:
    """How many pixels of a binary PPM (P6) are within `tolerance` of `colour` on each channel."""
    data = ppm.read_bytes()
    header = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", data)
    assert header is not None
    pixels = np.frombuffer(data, dtype=np.uint8, offset=header.end()).reshape(-1, 3)
    target = np.frombuffer(bytes.fromhex(colour), dtype=np.uint8).astype(int)
    return int((np.abs(pixels.astype(int) - target) <= tolerance).all(axis=1).sum())
