"""The recomputed example as a user opens it: read back from the file `alvh recompute` wrote (as
`make demo` makes it), with openpyxl for the presentation and the zip for the chart parts."""

from __future__ import annotations

import posixpath
import shutil
import textwrap
import zipfile
from pathlib import Path

import openpyxl
import pytest
from cli_support import EXAMPLE
from click.testing import CliRunner
from lxml import etree

from rules_engine.cli import main

REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DRAWING_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing"
CHART_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart"
#: The layer table's text columns: each wraps, or is as wide as its longest text.
TEXT_COLUMNS = ("Layer", "Status", "Instrument", "Trigger", "Why", "Exit Rule")


def recompute(path: Path) -> None:
    result = CliRunner().invoke(main, ["recompute", str(path), "--quiet"])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "example.xlsx"
    shutil.copyfile(EXAMPLE, path)
    recompute(path)
    return path


@pytest.fixture(scope="module")
def book(demo: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(demo)


def test_headers_are_bold_and_panes_frozen_below_them(book: openpyxl.Workbook) -> None:
    hedge = book["Hedge"]
    assert hedge["A4"].value == "Layer" and hedge["F4"].value == "Contracts"
    assert all(cell.font.b for cell in hedge[4] if cell.value is not None)
    assert hedge["A3"].font.b and hedge["A2"].font.b  # the title and the answer line
    assert str(hedge["A2"].value).startswith("Now: Buy ")
    assert hedge.freeze_panes == "D5"
    for name in ("Signals", "Log"):
        assert book[name]["A4"].font.b, name
    assert book["Signals"].freeze_panes == "B5" and book["Log"].freeze_panes == "A5"


def test_every_text_column_of_the_layer_table_wraps_or_fits(book: openpyxl.Workbook) -> None:
    hedge = book["Hedge"]
    header = [c.value for c in hedge[4]]
    last = next(r for r in range(5, 40) if hedge.cell(r, 1).value == "All ACTIVE")
    for name in TEXT_COLUMNS:
        col = header.index(name) + 1
        letter = openpyxl.utils.get_column_letter(col)
        width = hedge.column_dimensions[letter].width
        for r in range(5, last):
            cell = hedge.cell(r, col)
            text = str(cell.value or "")
            if cell.alignment.wrap_text:
                lines = len(textwrap.wrap(text, int(width)))
                height = hedge.row_dimensions[r].height or 15.0
                assert height >= 15.0 * lines, (name, r, lines, height)
            else:
                assert len(text) <= width, (name, r, text, width)


def test_numbers_are_formatted_by_what_they_measure(book: openpyxl.Workbook) -> None:
    hedge = book["Hedge"]
    header = [c.value for c in hedge[4]]
    formats = {name: hedge.cell(5, header.index(name) + 1).number_format for name in header}
    assert formats["Price (VIX pts)"] == "#,##0.00"  # at the tick
    assert formats["Cost ($)"] == "#,##0"  # dollars without cents
    assert formats["Share of Loss Covered (VIX +6)"] == "0.0%"
    assert formats["Expiry"] == "mm-dd-yy"  # Excel's built-in date 14, shown in the user's locale
    signals = book["Signals"]
    columns = [c.value for c in signals[4]]
    triggered = [signals.cell(r, columns.index("Triggered") + 1).value for r in range(5, 19)]
    assert {type(v) for v in triggered} <= {bool, type(None)} and True in triggered
    rsi = next(r for r in range(5, 19) if signals.cell(r, 1).value == "rsi")
    value = signals.cell(rsi, columns.index("Value") + 1)
    assert isinstance(value.value, float) and value.number_format == "#,##0.00"  # not 86.6866103


def test_owned_sheets_print_landscape_one_page_wide_with_the_header_repeated(
    book: openpyxl.Workbook,
) -> None:
    for name in ("Hedge", "Signals", "Risk", "Run", "Log"):
        sheet = book[name]
        assert sheet.page_setup.orientation == "landscape", name
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, name
        assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0), name
    assert book["Hedge"].print_title_rows.replace("$", "") == "4:4"
    assert book["Signals"].print_title_rows.replace("$", "") == "4:4"


def test_the_scenario_grids_are_colour_scales(book: openpyxl.Workbook) -> None:
    rules = [
        (str(cf.sqref), rule.type)
        for cf in book["Risk"].conditional_formatting
        for rule in cf.rules
    ]
    assert len(rules) == 9 and {kind for _, kind in rules} == {"colorScale"}


def charts_of(path: Path) -> dict[str, list[str]]:
    """Owned sheet -> the chart parts its drawing links, found through the relationships."""
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        workbook = etree.fromstring(archive.read("xl/workbook.xml"))
        rels = _rels(archive, "xl/workbook.xml")
        out = {}
        for sheet in workbook.iter("{*}sheet"):
            rid = sheet.get(
                "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
            )
            part = rels[rid][1]
            drawings = [t for kind, t in _rels(archive, part).values() if kind == DRAWING_REL]
            charts = [
                t
                for drawing in drawings
                for kind, t in _rels(archive, drawing).values()
                if kind == CHART_REL
            ]
            assert all(c in names for c in charts)
            out[sheet.get("name")] = charts
        return out


def _target(folder: str, target: str) -> str:
    """A relationship's target as a part name: absolute from the package root, else relative."""
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join(folder, target))


def _rels(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    folder, name = posixpath.split(part)
    path = posixpath.join(folder, "_rels", f"{name}.rels")
    if path not in archive.namelist():
        return {}
    root = etree.fromstring(archive.read(path))
    return {
        rel.get("Id"): (rel.get("Type"), _target(folder, rel.get("Target")))
        for rel in root.iter(f"{{{REL_NS}}}Relationship")
    }


def test_each_chart_is_linked_and_a_second_recompute_replaces_it(
    demo: Path, tmp_path: Path
) -> None:
    charts = charts_of(demo)
    assert len(charts["Hedge"]) == 1 and len(charts["Risk"]) == 1
    assert not any(charts[name] for name in ("Signals", "Run", "Log", "Positions", "Market"))
    again = tmp_path / "again.xlsx"
    shutil.copyfile(demo, again)
    recompute(again)
    assert charts_of(again) == charts
    with zipfile.ZipFile(demo) as first, zipfile.ZipFile(again) as second:
        parts = sorted(n for n in first.namelist() if "chart" in n or "drawing" in n)
        assert parts == sorted(n for n in second.namelist() if "chart" in n or "drawing" in n)


def test_the_layer_rows_read_from_the_top(book: openpyxl.Workbook) -> None:
    hedge = book["Hedge"]
    assert {hedge.cell(5, c).alignment.vertical for c in range(1, 24)} == {"top"}
    assert hedge["A4"].alignment.vertical is None  # the header sits on its numbers, at the bottom
