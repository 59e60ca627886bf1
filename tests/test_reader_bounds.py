"""Inputs that must not fool the reader: special files, huge files, far cells, impossible dates,
damaged parts. Each is refused or reported with its place, quickly, in bounded memory, and
without a traceback or a Rust panic message on the terminal."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import pytest
from bounds_books import (
    EXAMPLE,
    errors_in_child,
    run_measured,
    sheet_part,
    with_cell,
    with_part,
)
from click.testing import CliRunner, Result
from live_standin import Book
from lxml import etree
from python_calamine import CalamineWorkbook

from rules_engine.cli import main
from rules_engine.contract import SHEET_COLUMNS
from rules_engine.models import InputError, Issue, WorkbookError
from rules_engine.workbook import reader
from rules_engine.workbook.datestyles import style_kinds
from rules_engine.workbook.extent import MAX_SHEET_CELLS, extent_of
from rules_engine.workbook.live import read_book
from rules_engine.workbook.packageparts import STYLES_REL, Package
from rules_engine.workbook.reader import read_workbook
from rules_engine.workbook.sheetparse import Problems, parse_table
from rules_engine.workbook.sheetscan import scan_sheet
from rules_engine.workbook.sheetxml import MAIN_NS
from rules_engine.workbook.zipsplice import open_archive

CLI = [sys.executable, "-c", "from rules_engine.cli import main; main()"]
#: The acceptance limit for a recompute of the example with one far cell.
PEAK_LIMIT = 300 * 2**20
NOISE = ("Traceback", "panicked", "RUST_BACKTRACE", "stack backtrace")


def errors_of(path: Path) -> list[Issue]:
    with pytest.raises(InputError) as info:
        read_workbook(path)
    return [issue for issue in info.value.issues if issue.severity == "error"]


def read_error(path: Path) -> str:
    with pytest.raises(WorkbookError) as info:
        read_workbook(path)
    return str(info.value)


# --- only regular files, and not too big ------------------------------------------------------


def _in_thread(call: Callable[[], object], timeout: float = 10) -> BaseException | None:
    """Run `call` in a thread; fail (instead of hanging) if it does not return in time."""
    caught: list[BaseException] = []

    def target() -> None:
        try:
            call()
        except BaseException as exc:  # handed to the test thread
            caught.append(exc)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        pytest.fail(f"still blocked after {timeout:g} s")
    return caught[0] if caught else None


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "book.xlsx"
    os.mkfifo(path)
    yield path
    # a reader still blocked in open() gets EOF instead of hanging the test run
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return
    os.close(fd)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
@pytest.mark.parametrize("via_symlink", [False, True])
def test_a_fifo_is_refused_at_once_with_exit_2(
    fifo: Path, tmp_path: Path, via_symlink: bool
) -> None:
    path = fifo
    if via_symlink:
        path = tmp_path / "link.xlsx"
        path.symlink_to(fifo)
    results: list[Result] = []
    caught = _in_thread(lambda: results.append(CliRunner().invoke(main, ["recompute", str(path)])))
    assert caught is None and len(results) == 1
    assert results[0].exit_code == 2, results[0].output
    assert str(path) in results[0].output and "named pipe" in results[0].output


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="no /dev/null here")
def test_a_device_or_a_link_to_one_is_refused_with_exit_2(tmp_path: Path) -> None:
    link = tmp_path / "null.xlsx"
    link.symlink_to("/dev/null")
    for path in (Path("/dev/null"), link):
        result = CliRunner().invoke(main, ["recompute", str(path)])
        assert result.exit_code == 2, result.output
        assert "device" in result.output and "Traceback" not in result.output


def test_a_file_above_the_size_cap_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "book.xlsx"
    shutil.copy(EXAMPLE, path)
    monkeypatch.setattr(reader, "MAX_WORKBOOK_BYTES", 10_000)
    monkeypatch.setattr(reader.os, "open", _never_opened)
    message = read_error(path)
    size = f"{path.stat().st_size / 1024:,.0f} KiB"
    assert str(path) in message and size in message and "up to 10 KiB" in message


def _never_opened(*args: object) -> int:
    raise AssertionError(f"opened {args}")


# --- far cells ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "extent"),
    [
        ("XFD1048576", "16,384 columns x 1,048,576 rows"),
        ("ALL100000", "1,000 columns x 100,000 rows"),
    ],
)
def test_a_far_value_is_an_error_at_its_cell(tmp_path: Path, ref: str, extent: str) -> None:
    path = with_cell(EXAMPLE, tmp_path / "far.xlsx", "History", ref, "1")
    (issue,) = errors_in_child(path)
    assert (issue.sheet, issue.cell, issue.source) == ("History", ref, "reader")
    assert extent in issue.message and "clear" in issue.message


def test_far_values_on_several_sheets_are_each_reported(tmp_path: Path) -> None:
    path = with_cell(EXAMPLE, tmp_path / "a.xlsx", "History", "XFD1", "1")
    path = with_cell(path, tmp_path / "b.xlsx", "History", "A1048576", "2")
    path = with_cell(path, tmp_path / "c.xlsx", "Positions", "ZZ900000", "3")
    found = {(i.sheet, i.cell) for i in errors_in_child(path)}
    assert found == {("History", "XFD1"), ("History", "A1048576"), ("Positions", "ZZ900000")}


def test_the_rest_of_a_sheet_with_a_far_value_is_still_checked(tmp_path: Path) -> None:
    path = with_cell(EXAMPLE, tmp_path / "far.xlsx", "History", "XFD1048576", "1")
    path = with_cell(path, tmp_path / "both.xlsx", "History", "A10", "0.5")  # noon, not a date
    found = {(i.sheet, i.cell) for i in errors_in_child(path)}
    assert found == {("History", "XFD1048576"), ("History", "A10")}


def test_a_sheet_too_large_even_without_its_outliers_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rules_engine.workbook import extent

    history = CalamineWorkbook.from_path(str(EXAMPLE)).get_sheet_by_name("History")
    monkeypatch.setattr(extent, "MAX_SHEET_CELLS", 1_000)
    issues = [i for i in errors_of(EXAMPLE) if i.sheet == "History"]
    span = f"{history.width} columns x {history.height:,} rows"
    assert history.width * history.height > 1_000
    assert any(span in i.message and "at most 1,000 cells" in i.message for i in issues)


@pytest.mark.parametrize("ref", ["XFD1048576", "ALL100000"])
def test_recompute_with_a_far_value_stays_in_bounded_memory(tmp_path: Path, ref: str) -> None:
    path = with_cell(EXAMPLE, tmp_path / "far.xlsx", "History", ref, "1")
    code, stderr, peak = run_measured([*CLI, "recompute", str(path)])
    assert code == 1, stderr
    assert f"History!{ref}" in stderr
    assert not any(word in stderr for word in NOISE), stderr
    assert peak < PEAK_LIMIT, f"peak {peak / 2**20:.0f} MiB"


def test_the_live_adapter_checks_the_used_range_before_reading_it() -> None:
    book = Book.load(EXAMPLE)
    book.sheets["History"].cells[(1_048_575, 16_383)] = 1.0
    with pytest.raises(InputError) as info:
        read_book(book)
    far = [i for i in info.value.issues if i.cell == "XFD1048576"]
    assert len(far) == 1 and far[0].sheet == "History"
    assert "16,384 columns x 1,048,576 rows" in far[0].message
    reads = [call.detail for call in book.recorder.ops("get_value")]
    assert reads and not any(str(detail).startswith("History!") for detail in reads)


# --- dates outside Excel's range ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("sheet", "ref", "column"),
    [("History", "A3", "Date"), ("Market", "B2", "As Of"), ("Positions", "D2", "Expiry")],
)
@pytest.mark.parametrize("number", ["-1e15", "-1", "2958466", "NaN"])
def test_a_date_cell_outside_excels_range_is_an_error_at_its_cell(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], sheet: str, ref: str, column: str,
    number: str,
) -> None:  # fmt: skip
    path = with_cell(EXAMPLE, tmp_path / "date.xlsx", sheet, ref, number)
    issues = [i for i in errors_of(path) if i.cell == ref]
    assert issues and (issues[0].sheet, issues[0].column) == (sheet, column)
    assert "9999-12-31" in issues[0].message
    assert not any(word in capfd.readouterr().err for word in NOISE)


def test_an_impossible_date_below_the_table_is_named_by_its_column(tmp_path: Path) -> None:
    path = with_cell(EXAMPLE, tmp_path / "date.xlsx", "History", "A600", "-1e15", style="1")
    (issue,) = errors_of(path)
    assert (issue.sheet, issue.cell, issue.column) == ("History", "A600", "Date")


def test_impossible_dates_and_other_errors_are_reported_in_one_run(tmp_path: Path) -> None:
    path = with_cell(EXAMPLE, tmp_path / "a.xlsx", "History", "A3", "-1e15")
    path = with_cell(path, tmp_path / "b.xlsx", "Positions", "E2", "-2700")
    found = {(i.sheet, i.cell) for i in errors_of(path)}
    assert {("History", "A3"), ("Positions", "E2")} <= found


def test_recompute_with_an_impossible_date_exits_1_without_noise(tmp_path: Path) -> None:
    path = with_cell(EXAMPLE, tmp_path / "a.xlsx", "History", "A3", "-1e15")
    path = with_cell(path, tmp_path / "b.xlsx", "Market", "B2", "-1e15")
    code, stderr, _ = run_measured([*CLI, "recompute", str(path)])
    assert code == 1, stderr
    assert "History!A3" in stderr and "Market!B2" in stderr
    assert not any(word in stderr for word in NOISE), stderr


def test_a_reader_panic_no_cell_explains_is_an_unreadable_sheet(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rules_engine.workbook import datestyles

    monkeypatch.setattr(datestyles, "BUILTIN_KINDS", {})  # the pre-check no longer sees dates
    path = with_cell(EXAMPLE, tmp_path / "date.xlsx", "History", "A3", "-1e15")
    message = read_error(path)
    assert "History" in message and sheet_part(path, "History") in message
    assert not any(word in capfd.readouterr().err for word in NOISE)


# --- damaged parts ---------------------------------------------------------------------------


@pytest.mark.parametrize("part", ["xl/styles.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"])
def test_a_damaged_bookkeeping_part_is_named(tmp_path: Path, part: str) -> None:
    path = with_part(EXAMPLE, tmp_path / "bad.xlsx", part, lambda xml: xml[:-40])
    result = CliRunner().invoke(main, ["recompute", str(path)])
    assert result.exit_code == 2, result.output
    assert f"part {part} is not valid XML" in result.output
    assert "Cannot detect file format" not in result.output


def test_damaged_shared_strings_are_named(tmp_path: Path) -> None:
    source = Path(__file__).parent / "data" / "real-workbooks" / "excelize_SharedStrings.xlsx"
    path = with_part(source, tmp_path / "bad.xlsx", "xl/sharedStrings.xml", lambda xml: xml[:-30])
    assert "part xl/sharedStrings.xml is not valid XML" in read_error(path)


def test_a_damaged_input_sheet_is_named_with_its_part(tmp_path: Path) -> None:
    part = sheet_part(EXAMPLE, "History")
    path = with_part(EXAMPLE, tmp_path / "bad.xlsx", part, lambda xml: xml[:-300])
    message = read_error(path)
    assert f"part {part} (sheet History) is not valid XML" in message


# --- the header row --------------------------------------------------------------------------


def test_a_missing_header_lists_the_headers_found() -> None:
    problems = Problems()
    grid = [["", "", "", ""], ["Date", "", " SPX ", 1.0]]
    assert parse_table("History", grid, (0, 0), SHEET_COLUMNS["History"], problems) is None
    (issue,) = problems.errors
    assert issue.message == "no 'SPX Close' column in the header row (row 2); found: Date, SPX, 1"


# --- the scan places cells as calamine does ----------------------------------------------------

_SHEETS = {
    "references": '<row r="2"><c r="B2"><v>1</v></c><c r="D5"><v>2</v></c></row>',
    "implicit cells": '<row r="3"><c><v>1</v></c><c/><c s="1"/><c><v>2</v></c></row>',
    "implicit rows": '<row><c><v>1</v></c></row><row/><row><c r="B1"><v>2</v></c><c><v>3</v></c>'
    "</row>",
    "mixed": '<row r="5"><c r="C5"><v>1</v></c><c><v>2</v></c></row><row><c><v>3</v></c></row>',
    "formula without value": '<row r="1"><c r="A1"><v>1</v></c><c r="XFD1048576"><f>1+1</f></c>'
    "</row>",
    "strings": '<row r="1"><c r="C1" t="inlineStr"><is><t>x</t></is></c><c r="D7" t="str"><v></v>'
    '</c><c r="E9"><v></v></c></row>',
}


def _worksheet(rows: str, prefix: str = "") -> bytes:
    p = f"{prefix}:" if prefix else ""
    xmlns = f"xmlns{':' + prefix if prefix else ''}"
    if prefix:
        rows = rows.replace("<", f"<{p}").replace(f"<{p}/", f"</{p}")
    return (
        f'<{p}worksheet {xmlns}="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<{p}sheetData>{rows}</{p}sheetData></{p}worksheet>"
    ).encode()


@pytest.mark.parametrize("prefix", ["", "x"])
@pytest.mark.parametrize("case", sorted(_SHEETS))
def test_the_scan_finds_the_span_calamine_reads(tmp_path: Path, case: str, prefix: str) -> None:
    xml = _worksheet(_SHEETS[case], prefix)
    part = sheet_part(EXAMPLE, "History")
    path = with_part(EXAMPLE, tmp_path / "book.xlsx", part, lambda _: xml)
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("History")
    scan = scan_sheet(xml, {}, False, budget=0)
    assert scan is not None
    whole = extent_of(scan.rows, scan.cols)
    assert whole is not None
    assert ((whole.top, whole.left), (whole.bottom, whole.right)) == (sheet.start, sheet.end)


def test_a_far_value_without_a_reference_is_found(tmp_path: Path) -> None:
    rows = '<row r="1"><c t="inlineStr"><is><t>Date</t></is></c></row><row r="1048576"><c/>'
    rows += "<c><v>1</v></c></row>"
    path = with_part(
        EXAMPLE, tmp_path / "far.xlsx", sheet_part(EXAMPLE, "History"), lambda _: _worksheet(rows)
    )
    assert ("History", "B1048576") in {(i.sheet, i.cell) for i in errors_in_child(path)}


def test_the_example_needs_no_cell_by_cell_walk() -> None:
    archive = open_archive(EXAMPLE.read_bytes())
    package = Package(archive)
    for info in package.sheets():
        entry = archive.find(info.part or "")
        assert entry is not None
        assert scan_sheet(archive.read(entry), {1: "date"}, False, MAX_SHEET_CELLS) is None


# --- date styles as calamine sees them ----------------------------------------------------------

FORMATS = [
    "General", "0.00%", "#,##0.00", "mm-dd-yy", "d-mmm-yy", "h:mm AM/PM", "[h]:mm:ss", "mm:ss",
    "yyyy-mm-dd", "DD/MM/YY", "H:MM:SS;@", '#,##0\\ [$\\u20bd-46D]', 'm"M"d"D";@', "[h]", "[ss]",
    '"$"#,##0_);[Red]("$"#,##0)', "0_ ;[Red]\\-0\\ ", "\\Y000000", '#,##0.0####" YMD"',
    "[Blue]\\+[h]:mm;[Red]\\-[h]:mm;[Green][h]:mm", "[>=100][Magenta].00", "ha/p\\\\m",
    "[$-409]mmmm d, yyyy", '0.0" days"', "0.0 d",
]  # fmt: skip


def test_date_styles_are_the_ones_calamine_converts(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for i, code in enumerate(FORMATS, start=1):
        sheet.cell(row=i, column=1, value=43126.5).number_format = code
    path = tmp_path / "formats.xlsx"
    book.save(path)
    archive = open_archive(path.read_bytes())
    package = Package(archive)
    kinds = style_kinds(package.xml(package.related(STYLES_REL) or "").root)
    entry = archive.find(package.sheets()[0].part or "")
    assert entry is not None
    cells = etree.fromstring(archive.read(entry)).iter(f"{{{MAIN_NS}}}c")
    styles = [int(c.get("s", "0")) for c in cells]
    expected = {code: kinds.get(s) for code, s in zip(FORMATS, styles, strict=True)}
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert {code: _kind(row[0]) for code, row in zip(FORMATS, rows, strict=True)} == expected


def _kind(value: object) -> str | None:
    """What calamine made of a number: a date (or time), a duration, or still a number."""
    if isinstance(value, dt.timedelta):
        return "duration"
    return None if isinstance(value, float) else "date"
