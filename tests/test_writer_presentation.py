"""The file writer shows what SheetCells asks for: bold, wrapped and aligned cells, number formats,
TRUE/FALSE booleans, frozen panes, print setup and titles, colour scales.

Everything is read back with openpyxl (an independent reader of the same XML) or from the raw
parts; LibreOffice prints one workbook, as the check that a real spreadsheet honours the print
setup. Repeated writes must leave styles.xml and workbook.xml as they were, and nothing of the
user's (defined names, styles, conditional formats) may change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from libreoffice_support import convert, make_profile
from lxml import etree
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Font
from openpyxl.styles.colors import Color
from openpyxl.workbook.defined_name import DefinedName
from rich_workbooks import SHEET_ORDER
from test_libreoffice import require_pdftocairo, require_soffice
from writer_support import make_workbook, part, raw_entries, read_sheet, rezip

from rules_engine.contract import OWNED_MARKER
from rules_engine.models import CellRange, CellValue, FormatRun, SheetCells, StyleRun, WorkbookError
from rules_engine.workbook.sheetxml import render_sheet
from rules_engine.workbook.writer import write_owned_sheets

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
TITLE = f"{OWNED_MARKER}: Hedge"
HEADER = ("Layer", "Share", "Cost", "Price", "Expiry", "Liquid", "Why")
LONG = "The VIX term structure is in backwardation and the book's spike loss is over budget. " * 3


def hedge_sheet(**presentation: Any) -> SheetCells:
    """A Hedge sheet as the layout makes it: title, header in row 4, a table from row 5 with a
    percent, dollar, money, date, boolean and long-text column, and whatever presentation fields
    are given."""
    rows: tuple[tuple[CellValue, ...], ...] = (
        (TITLE,),
        (),
        (),
        HEADER,
        ("1", 0.25, 1234.0, 1.25, dt.date(2024, 2, 14), True, LONG),
        ("2", -0.125, -50.0, 0.05, dt.date(2024, 3, 20), False, "short"),
        ("3", 0.0, 0.0, 12.5, dt.date(2024, 4, 17), True, LONG),
    )
    formats = (
        FormatRun(1, 4, 6, "percent"),
        FormatRun(2, 4, 6, "dollars"),
        FormatRun(3, 4, 6, "money"),
        FormatRun(4, 4, 6, "date"),
    )
    return dataclasses.replace(SheetCells("Hedge", rows, formats, {6: 60.0}), **presentation)


def presented() -> SheetCells:
    """The Hedge sheet with every presentation field of the file writer set."""
    return hedge_sheet(
        styles=(
            StyleRun(CellRange(0, 0, 0, 0), bold=True),
            StyleRun(CellRange(3, 0, 3, 6), bold=True),
            StyleRun(CellRange(3, 1, 3, 5), align="right"),
            StyleRun(CellRange(4, 6, 6, 6), wrap=True),
        ),
        freeze=(4, 0),
        print_titles=(3, 3),
        color_scales=(CellRange(4, 1, 6, 3),),
    )


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return make_workbook(tmp_path / "book.xlsx")


def sheet_xml(path: Path, name: str) -> etree._Element:
    """The worksheet part of sheet `name`, parsed."""
    workbook = etree.fromstring(part(path, "xl/workbook.xml"))
    rels = etree.fromstring(part(path, "xl/_rels/workbook.xml.rels"))
    [sheet] = [s for s in workbook.iter(f"{{{MAIN}}}sheet") if s.get("name") == name]
    rid = sheet.get(f"{{{REL}}}id")
    target = next(r.get("Target") or "" for r in rels if r.get("Id") == rid)
    member = target[1:] if target.startswith("/") else f"xl/{target}"
    return etree.fromstring(part(path, member))


def defined_names(path: Path) -> list[tuple[str | None, str | None, str | None]]:
    """(name, localSheetId, formula) of every defined name in workbook.xml, in order."""
    root = etree.fromstring(part(path, "xl/workbook.xml"))
    return [
        (n.get("name"), n.get("localSheetId"), n.text) for n in root.iter(f"{{{MAIN}}}definedName")
    ]


def styles_root(path: Path) -> etree._Element:
    return etree.fromstring(part(path, "xl/styles.xml"))


def children(root: etree._Element, tag: str) -> list[etree._Element]:
    found = root.find(f"{{{MAIN}}}{tag}")
    return [] if found is None else list(found)


def test_every_presentation_field_reads_back_in_openpyxl(book: Path) -> None:
    write_owned_sheets(book, [presented()])
    sheet = openpyxl.load_workbook(book)["Hedge"]
    assert sheet["A1"].font.b and not sheet["A2"].font.b
    for col in "ABCDEFG":
        assert sheet[f"{col}4"].font.b, col
        assert not sheet[f"{col}5"].font.b, col
    assert [sheet[f"{c}4"].alignment.horizontal for c in "ABCDEFG"] == [
        None,
        *["right"] * 5,
        None,
    ]
    assert [sheet[f"G{r}"].alignment.wrap_text for r in (4, 5, 6, 7)] == [None, True, True, True]
    assert not sheet["F5"].alignment.wrap_text
    formats = {c: sheet[f"{c}5"].number_format for c in "ABCDEFG"}
    assert formats == {
        "A": "General",
        "B": "0.0%",
        "C": "#,##0",
        "D": "#,##0.00",
        "E": "mm-dd-yy",  # Excel's built-in 14, m/d/yyyy in an en-US Excel
        "F": "General",
        "G": "General",
    }
    assert sheet.freeze_panes == "A5"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.print_title_rows == "$4:$4"
    [scale] = list(sheet.conditional_formatting)
    assert str(scale.sqref) == "B5:D7"
    [rule] = scale.rules
    assert rule.type == "colorScale"
    assert [(v.type, v.val) for v in rule.colorScale.cfvo] == [
        ("min", None),
        ("num", 0.0),
        ("max", None),
    ]
    assert [c.rgb for c in rule.colorScale.color] == ["FFF8696B", "FFFFFFFF", "FF63BE7B"]


def test_booleans_read_back_as_true_and_false_never_as_one_and_zero(book: Path) -> None:
    write_owned_sheets(book, [presented()])
    column = [openpyxl.load_workbook(book)["Hedge"][f"F{r}"] for r in (5, 6, 7)]
    assert [(type(c.value), c.value, c.data_type) for c in column] == [
        (bool, True, "b"),
        (bool, False, "b"),
        (bool, True, "b"),
    ]
    assert [row[5] for row in read_sheet(book, "Hedge")[4:]] == [True, False, True]
    cells = sheet_xml(book, "Hedge").iterfind(f".//{{{MAIN}}}c")
    assert {c.get("t") for c in cells if c.get("r", "").startswith("F")} == {"inlineStr", "b"}


@pytest.mark.parametrize(
    ("freeze", "corner", "pane", "split"),
    [
        ((4, 0), "A5", "bottomLeft", {"ySplit": "4"}),
        ((0, 2), "C1", "topRight", {"xSplit": "2"}),
        ((4, 3), "D5", "bottomRight", {"xSplit": "3", "ySplit": "4"}),
    ],
)
def test_frozen_panes_keep_rows_above_and_columns_left_in_view(
    book: Path, freeze: tuple[int, int], corner: str, pane: str, split: dict[str, str]
) -> None:
    write_owned_sheets(book, [hedge_sheet(freeze=freeze)])
    assert openpyxl.load_workbook(book)["Hedge"].freeze_panes == corner
    found = sheet_xml(book, "Hedge").find(f".//{{{MAIN}}}pane")
    assert found is not None
    assert dict(found.attrib) == {
        **split,
        "topLeftCell": corner,
        "activePane": pane,
        "state": "frozen",
    }
    selection = sheet_xml(book, "Hedge").find(f".//{{{MAIN}}}selection")
    assert selection is not None and selection.get("pane") == pane


@pytest.mark.parametrize("freeze", [None, (0, 0)])
def test_no_frozen_pane_means_no_sheet_view(book: Path, freeze: tuple[int, int] | None) -> None:
    write_owned_sheets(book, [hedge_sheet(freeze=freeze)])
    assert sheet_xml(book, "Hedge").find(f"{{{MAIN}}}sheetViews") is None
    assert openpyxl.load_workbook(book)["Hedge"].freeze_panes is None


def test_every_owned_sheet_prints_landscape_one_page_wide(book: Path) -> None:
    """Print setup needs no field: a bare sheet gets it too."""
    write_owned_sheets(book, [SheetCells("Run", ((f"{OWNED_MARKER}: Run",),))])
    sheet = openpyxl.load_workbook(book)["Run"]
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.print_title_rows is None
    assert not list(sheet.conditional_formatting)


def test_worksheet_elements_follow_the_schema_order_with_the_drawing_last() -> None:
    """Excel refuses a worksheet whose children are out of CT_Worksheet's order."""
    xml = render_sheet(presented(), lambda style: 1, date1904=False, drawing="rId7")
    tags = [etree.QName(child).localname for child in etree.fromstring(xml)]
    assert tags == [
        "sheetPr",
        "dimension",
        "sheetViews",
        "cols",
        "sheetData",
        "conditionalFormatting",
        "pageMargins",
        "pageSetup",
        "drawing",
    ]
    assert tags == sorted(tags, key=SHEET_ORDER.index)
    drawing = etree.fromstring(xml).find(f"{{{MAIN}}}drawing")
    assert drawing is not None and drawing.get(f"{{{REL}}}id") == "rId7"
    plain = render_sheet(presented(), lambda style: 1, date1904=False)
    assert b"<drawing" not in plain


def test_colour_scales_each_get_their_own_priority(book: Path) -> None:
    grids = (CellRange(4, 1, 6, 3), CellRange(4, 2, 4, 2), CellRange(10, 0, 12, 1))
    write_owned_sheets(book, [hedge_sheet(color_scales=grids)])
    found = sheet_xml(book, "Hedge").findall(f"{{{MAIN}}}conditionalFormatting")
    assert [f.get("sqref") for f in found] == ["B5:D7", "C5", "A11:B13"]
    rules = [f.find(f"{{{MAIN}}}cfRule") for f in found]
    assert [r.get("priority") for r in rules if r is not None] == ["1", "2", "3"]


def test_style_runs_add_up_and_dates_keep_their_date_format(book: Path) -> None:
    """A later run adds bold and wrap to earlier ones and its alignment replaces theirs; a date
    cell keeps its date format under them; a run past the sheet's edge is cut off."""
    sheet = hedge_sheet(
        styles=(
            StyleRun(CellRange(4, 0, 4, 6), bold=True, align="left"),
            StyleRun(CellRange(4, 4, 6, 4), wrap=True, align="center"),
            StyleRun(CellRange(5, 0, 5, 16_000), bold=True),
            StyleRun(CellRange(9, 0, 10_000, 3), bold=True),
        )
    )
    write_owned_sheets(book, [sheet])
    loaded = openpyxl.load_workbook(book)["Hedge"]
    expiry = loaded["E5"]
    assert (expiry.font.b, expiry.alignment.wrap_text, expiry.alignment.horizontal) == (
        True,
        True,
        "center",
    )
    assert expiry.number_format == "mm-dd-yy" and expiry.value == dt.datetime(2024, 2, 14)
    assert (loaded["A5"].font.b, loaded["A5"].alignment.horizontal) == (True, "left")
    assert (loaded["E6"].font.b, loaded["E6"].alignment.horizontal) == (True, "center")
    assert loaded["B6"].font.b and loaded["B6"].number_format == "0.0%"
    assert not loaded["E7"].font.b and loaded["E7"].alignment.wrap_text
    assert loaded.max_row == 7 and loaded.max_column == 7


def test_a_second_write_leaves_styles_and_workbook_byte_identical(book: Path) -> None:
    write_owned_sheets(book, [presented()])
    first = raw_entries(book)
    report = write_owned_sheets(book, [presented()])
    second = raw_entries(book)
    assert report.replaced == ("xl/worksheets/sheet4.xml",)
    assert second == first
    write_owned_sheets(book, [presented(), SheetCells("Signals", ((TITLE,),))])
    styles = styles_root(book)
    fonts, formats = children(styles, "fonts"), children(styles, "numFmts")
    assert sum(f.find(f"{{{MAIN}}}b") is not None for f in fonts) == 1
    assert [f.get("formatCode") for f in formats].count("0.0%") == 1
    assert [n for n, _, _ in defined_names(book)].count("_xlnm.Print_Titles") == 1


def test_styles_are_only_appended_and_identical_xfs_fonts_formats_reused(tmp_path: Path) -> None:
    """A user's cell that already looks like the header (default font made bold, right-aligned,
    wrapped) and a user's 0.0% format are what the engine's cells use; nothing is changed."""
    path = tmp_path / "styled.xlsx"
    workbook = openpyxl.Workbook()
    user = workbook.active
    assert user is not None
    user.title = "Notes"
    bold = Font(name="Calibri", family=2, sz=11, scheme="minor", color=Color(theme=1), b=True)
    user["A1"] = "my header"
    user["A1"].font = bold
    user["A1"].alignment = Alignment(horizontal="right", wrap_text=True)
    user["A2"] = 0.5
    user["A2"].number_format = "0.0%"
    workbook.save(path)
    before = styles_root(path)
    header_xf = int(sheet_xml(path, "Notes").find(f".//{{{MAIN}}}c[@r='A1']").get("s", "0"))
    styles = raw_entries(path)["xl/styles.xml"]

    sheet = SheetCells(
        "Hedge",
        ((TITLE,), ("Share",), (0.25,)),
        formats=(FormatRun(0, 2, 2, "percent"),),
        styles=(StyleRun(CellRange(1, 0, 1, 0), bold=True, wrap=True, align="right"),),
    )
    write_owned_sheets(path, [sheet])
    assert raw_entries(path)["xl/styles.xml"] == styles
    cells = {c.get("r"): c.get("s") for c in sheet_xml(path, "Hedge").iter(f"{{{MAIN}}}c")}
    assert cells["A2"] == str(header_xf)
    assert openpyxl.load_workbook(path)["Hedge"]["A3"].number_format == "0.0%"
    assert etree.tostring(styles_root(path)) == etree.tostring(before)


def test_a_custom_format_gets_the_next_free_id_and_numfmts_is_created_first(
    tmp_path: Path,
) -> None:
    made = tmp_path / "made.xlsx"
    openpyxl.Workbook().save(made)
    plain = tmp_path / "plain.xlsx"
    styles = part(made, "xl/styles.xml").replace(b'<numFmts count="0"/>', b"")
    rezip(made, plain, replace={"xl/styles.xml": styles})
    assert styles_root(plain).find(f"{{{MAIN}}}numFmts") is None
    sheet = SheetCells("Hedge", ((TITLE,), (0.25,)), formats=(FormatRun(0, 1, 1, "percent"),))
    write_owned_sheets(plain, [sheet])
    root = styles_root(plain)
    assert etree.QName(root[0]).localname == "numFmts"
    assert [(f.get("numFmtId"), f.get("formatCode")) for f in root[0]] == [("164", "0.0%")]
    assert root[0].get("count") == "1"

    crowded = tmp_path / "crowded.xlsx"
    workbook = openpyxl.Workbook()
    user = workbook.active
    assert user is not None
    user["A1"], user["A2"] = 1.5, 2.5
    user["A1"].number_format, user["A2"].number_format = "0.000", "0.0000"
    workbook.save(crowded)
    moved = part(crowded, "xl/styles.xml").replace(b'numFmtId="165"', b'numFmtId="200"')
    rezip(crowded, tmp_path / "moved.xlsx", replace={"xl/styles.xml": moved})
    write_owned_sheets(tmp_path / "moved.xlsx", [sheet])
    declared = {
        f.get("formatCode"): f.get("numFmtId")
        for f in children(styles_root(tmp_path / "moved.xlsx"), "numFmts")
    }
    assert declared == {"0.000": "164", "0.0000": "200", "0.0%": "201"}
    loaded = openpyxl.load_workbook(tmp_path / "moved.xlsx")
    assert loaded["Sheet"]["A2"].number_format == "0.0000"
    assert loaded["Hedge"]["A2"].number_format == "0.0%"


def test_the_bold_font_is_the_workbooks_default_font_made_bold(tmp_path: Path) -> None:
    """The user's choice of default font (here Arial 9) carries over to the engine's bold."""
    path = make_workbook(tmp_path / "arial.xlsx")
    styles = part(path, "xl/styles.xml")
    fonts = re.search(rb"<font>.*?</font>", styles)
    assert fonts is not None
    arial = b'<font><name val="Arial"/><family val="2"/><sz val="9"/></font>'
    rezip(path, tmp_path / "a.xlsx", replace={"xl/styles.xml": styles.replace(fonts[0], arial)})
    write_owned_sheets(tmp_path / "a.xlsx", [presented()])
    title = openpyxl.load_workbook(tmp_path / "a.xlsx")["Hedge"]["A1"].font
    assert (title.name, title.sz, title.b) == ("Arial", 9, True)
    assert len(children(styles_root(tmp_path / "a.xlsx"), "fonts")) == 2


def test_print_titles_name_each_sheet_by_its_position_and_are_replaced(book: Path) -> None:
    """New owned sheets go after the user's, so the user's sheet positions never shift."""
    sheets = [presented(), SheetCells("It's", ((TITLE,),), print_titles=(0, 1))]
    write_owned_sheets(book, sheets)
    # Positions, Market, Notes are the user's (0-2); Hedge and It's are appended (3, 4)
    assert defined_names(book) == [
        ("_xlnm.Print_Titles", "3", "'Hedge'!$4:$4"),
        ("_xlnm.Print_Titles", "4", "'It''s'!$1:$2"),
    ]
    loaded = openpyxl.load_workbook(book)
    assert loaded["It's"].print_title_rows == "$1:$2"

    write_owned_sheets(book, [hedge_sheet(print_titles=(4, 5)), sheets[1]])
    assert defined_names(book) == [
        ("_xlnm.Print_Titles", "4", "'It''s'!$1:$2"),
        ("_xlnm.Print_Titles", "3", "'Hedge'!$5:$6"),
    ]
    write_owned_sheets(book, [hedge_sheet(), SheetCells("It's", ((TITLE,),))])
    root = etree.fromstring(part(book, "xl/workbook.xml"))
    assert root.find(f"{{{MAIN}}}definedNames") is None


def test_the_users_defined_names_and_conditional_formats_are_untouched(tmp_path: Path) -> None:
    path = tmp_path / "names.xlsx"
    workbook = openpyxl.load_workbook(make_workbook(path))
    notes = workbook["Notes"]
    notes.print_title_rows = "1:2"
    scale = ColorScaleRule(
        start_type="min", start_color="FF0000", end_type="max", end_color="00FF00"
    )
    notes.conditional_formatting.add("A1:A9", scale)
    notes.defined_names["Limit"] = DefinedName("Limit", attr_text="Notes!$A$2")
    workbook.defined_names["Spot"] = DefinedName("Spot", attr_text="Market!$B$2")
    hedge = workbook.create_sheet("Hedge")
    hedge["A1"] = TITLE
    hedge.print_title_rows = "1:1"  # as an earlier recompute could have left it
    workbook.save(path)
    before = defined_names(path)
    user_sheet = raw_entries(path)["xl/worksheets/sheet3.xml"]

    write_owned_sheets(path, [presented(), SheetCells("Risk", ((TITLE,),), print_titles=(3, 3))])
    after = defined_names(path)
    assert [n for n in after if n[1] != "3" and n[1] != "4"] == [n for n in before if n[1] != "3"]
    assert ("_xlnm.Print_Titles", "2", "'Notes'!$1:$2") in after  # the user's, on their sheet
    assert [n for n in after if n[1] in {"3", "4"}] == [
        ("_xlnm.Print_Titles", "3", "'Hedge'!$4:$4"),
        ("_xlnm.Print_Titles", "4", "'Risk'!$4:$4"),
    ]
    assert raw_entries(path)["xl/worksheets/sheet3.xml"] == user_sheet  # its colour scale too
    assert b"colorScale" in user_sheet.content
    loaded = openpyxl.load_workbook(path)
    assert loaded["Notes"].print_title_rows == "$1:$2"
    assert loaded.sheetnames.index("Risk") == 4


def test_nothing_of_an_earlier_presentation_survives_a_plain_rewrite(book: Path) -> None:
    """The xfs an earlier write added (bold, wrapped, centred) stay in styles.xml, but plain
    cells never pick one of them up again."""
    header = StyleRun(CellRange(3, 0, 3, 6), bold=True)
    table = StyleRun(CellRange(4, 0, 6, 6), wrap=True, align="center")
    write_owned_sheets(book, [dataclasses.replace(presented(), styles=(header, table))])
    write_owned_sheets(book, [hedge_sheet()])
    root = sheet_xml(book, "Hedge")
    for tag in ("sheetViews", "conditionalFormatting", "drawing"):
        assert root.find(f"{{{MAIN}}}{tag}") is None, tag
    assert root.find(f"{{{MAIN}}}pageSetup") is not None
    assert defined_names(book) == []
    loaded = openpyxl.load_workbook(book)["Hedge"]
    for row in loaded.iter_rows(min_row=1, max_row=7):
        for cell in row:
            shown = (cell.font.b, cell.alignment.wrap_text, cell.alignment.horizontal)
            assert shown == (False, None, None), cell.coordinate
    assert [loaded[f"{c}5"].number_format for c in "BCDE"] == [
        "0.0%",
        "#,##0",
        "#,##0.00",
        "mm-dd-yy",
    ]


@pytest.mark.parametrize(
    ("presentation", "words"),
    [
        ({"freeze": (1_048_576, 0)}, "cannot freeze"),
        ({"color_scales": (CellRange(0, 0, 0, 16_384),)}, "outside Excel's grid"),
        ({"print_titles": (3, 1_048_576)}, "print titles"),
    ],
)
def test_presentation_outside_the_grid_is_refused_untouched(
    book: Path, presentation: dict[str, object], words: str
) -> None:
    before = book.read_bytes()
    with pytest.raises(WorkbookError, match=words):
        write_owned_sheets(book, [hedge_sheet(**presentation)])
    assert book.read_bytes() == before


def test_libreoffice_prints_landscape_one_page_wide_with_the_header_on_every_page(
    tmp_path: Path,
) -> None:
    """150 rows of 30 columns: several pages tall, each landscape, each with every column (fit
    to one page wide) and the header row repeated at its top."""
    require_soffice()
    require_pdftocairo()  # poppler, which also brings pdfinfo and pdftotext
    path = make_workbook(tmp_path / "print.xlsx")
    header = tuple(f"Col{c:02d}" for c in range(30))
    body = tuple(tuple(float(r * 30 + c) for c in range(30)) for r in range(150))
    sheet = SheetCells(
        "Hedge",
        ((TITLE,), (), (), header, *body),
        styles=(StyleRun(CellRange(3, 0, 3, 29), bold=True),),
        freeze=(4, 0),
        print_titles=(3, 3),
        color_scales=(CellRange(4, 0, 153, 29),),
    )
    write_owned_sheets(path, [sheet])
    convert(path, "pdf", tmp_path / "pdf", make_profile(tmp_path / "profile"))
    pdf = tmp_path / "pdf" / "print.pdf"
    pages = re.search(r"Pages:\s+(\d+)", _run("pdfinfo", str(pdf)))
    assert pages is not None
    texts = [_run("pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-") for n in _pages(pages)]
    hedge = [n for n, text in enumerate(texts, start=1) if "Col00" in text]
    assert len(hedge) >= 2, "the Hedge sheet should print on several pages"
    assert TITLE in texts[hedge[0] - 1]
    for n in hedge:
        assert "Col29" in texts[n - 1], f"page {n} is not one page wide"
        info = _run("pdfinfo", "-f", str(n), "-l", str(n), str(pdf))
        size = re.search(r"size:\s+([\d.]+) x ([\d.]+)", info)
        assert size is not None and float(size[1]) > float(size[2]), f"page {n} is portrait"
    for n in hedge[1:]:
        assert texts[n - 1].lstrip().startswith("Col00"), f"page {n} lacks the header row"


def _pages(found: re.Match[str]) -> range:
    return range(1, 1 + int(found[1]))


def _run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def test_rows_of_wrapped_text_get_their_heights_and_others_stay_automatic(book: Path) -> None:
    sheet = dataclasses.replace(presented(), heights={4: 45.0, 6: 409.0})
    write_owned_sheets(book, [sheet])
    hedge = openpyxl.load_workbook(book)["Hedge"]
    assert hedge.row_dimensions[5].height == 45.0 and hedge.row_dimensions[5].customHeight
    assert hedge.row_dimensions[7].height == 409.0  # Excel's tallest row
    assert hedge.row_dimensions[6].height is None  # no height: Excel's default
    for wrong in (-1.0, 0.0, 409.5):
        with pytest.raises(WorkbookError, match=f"row 5 height {wrong} is not in"):
            write_owned_sheets(book, [dataclasses.replace(sheet, heights={4: wrong})])
