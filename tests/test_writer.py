"""The surgical writer: only owned sheets and bookkeeping change; everything else is byte-identical.

Reference values are worked by hand (Excel serial numbers, cleaned text) or read back with
python-calamine and openpyxl, never taken from the writer itself.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import shutil
import struct
import tempfile
import zipfile
from pathlib import Path
from typing import Any
from xml.parsers import expat

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree
from openpyxl.chart import BarChart, Reference
from openpyxl.workbook.protection import WorkbookProtection
from writer_support import (
    SHEET_NAMES,
    entry_names,
    expected_readback,
    make_workbook,
    part,
    raw_entries,
    read_sheet,
    rezip,
    sample_sheet,
    sample_sheets,
)

from rules_engine.contract import OWNED_MARKER
from rules_engine.models import CellValue, FormatRun, SheetCells, WorkbookError
from rules_engine.workbook import guards, packageparts, writer, zipsplice
from rules_engine.workbook.packageparts import Package
from rules_engine.workbook.sheetxml import CellStyle, excel_serial, render_sheet
from rules_engine.workbook.writer import file_sha256, write_owned_sheets

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
ENCRYPTED = Path(__file__).parent / "data" / "real-workbooks" / "calamine_pass_protected.xlsx"
BOOKKEEPING = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"}


def owned(name: str, *rows: tuple[CellValue, ...]) -> SheetCells:
    """An owned sheet whose first row is the marker, followed by `rows`."""
    return SheetCells(name, ((f"{OWNED_MARKER}: {name}",), *rows))


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return make_workbook(tmp_path / "book.xlsx")


def assert_refused(path: Path, sheets: list[SheetCells], *words: str, **kwargs: str) -> str:
    """The write raises WorkbookError naming the file and these words; the file is untouched."""
    before = path.read_bytes() if path.exists() else None
    listing = sorted(os.listdir(path.parent))
    with pytest.raises(WorkbookError) as caught:
        write_owned_sheets(path, sheets, **kwargs)
    message = str(caught.value)
    assert path.name in message
    for word in words:
        assert word.lower() in message.lower(), message
    if before is not None:
        assert path.read_bytes() == before
    assert sorted(os.listdir(path.parent)) == listing
    return message


# --- fidelity -------------------------------------------------------------------------------


def test_only_owned_sheets_and_bookkeeping_change(book: Path) -> None:
    before = raw_entries(book)
    report = write_owned_sheets(book, sample_sheets())
    after = raw_entries(book)

    changed = {name for name in before if before[name] != after.get(name)}
    # openpyxl's styles.xml has no plain date/percent/money/integer xf: one had to be added.
    assert changed == BOOKKEEPING | {"xl/styles.xml"}
    assert set(report.replaced) == changed
    assert report.removed == ()
    added = [name for name in after if name not in before]
    assert added == list(report.added)
    assert len(added) == 4
    assert all(re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name) for name in added)
    for name in set(before) - changed:
        assert after[name] == before[name], name  # compressed bytes, header, CRC, content
    # untouched entries keep their order, new parts come after them
    assert entry_names(book)[: len(before)] == list(before)


def test_values_read_back_exactly(book: Path) -> None:
    write_owned_sheets(book, sample_sheets())
    for name in SHEET_NAMES:
        assert read_sheet(book, name) == expected_readback(name)


def test_user_formula_sheet_and_inputs_still_read(book: Path) -> None:
    write_owned_sheets(book, sample_sheets())
    loaded = openpyxl.load_workbook(book)
    assert loaded.sheetnames == ["Positions", "Market", "Notes", *SHEET_NAMES]
    assert loaded["Notes"]["A1"].value == "=Hedge!B3"
    assert loaded["Positions"]["E2"].value == 4800
    hedge = loaded["Hedge"]
    assert hedge["B3"].value == dt.datetime(2024, 2, 14)
    assert hedge["B3"].number_format == "mm-dd-yy"  # built-in 14
    assert hedge["D3"].number_format == "0.0%"  # custom, declared in numFmts
    assert hedge["C3"].number_format == "#,##0.00"  # built-in 4
    assert hedge["C4"].number_format == "#,##0"  # built-in 3
    assert hedge.column_dimensions["A"].width == 18.5


def test_full_calc_on_load_set_and_calcchain_kept_when_not_listing_targets(book: Path) -> None:
    write_owned_sheets(book, sample_sheets())
    root = etree.fromstring(part(book, "xl/workbook.xml"))
    calc = root.find(f"{{{MAIN}}}calcPr")
    assert calc is not None and calc.get("fullCalcOnLoad") == "1"
    sheets = root.find(f"{{{MAIN}}}sheets")
    assert sheets is not None
    assert [s.get("name") for s in sheets] == ["Positions", "Market", "Notes", *SHEET_NAMES]
    assert [s.get("sheetId") for s in sheets] == ["1", "2", "3", "4", "5", "6", "7"]


def test_second_write_changes_only_the_sheet_parts(book: Path) -> None:
    write_owned_sheets(book, sample_sheets())
    first = raw_entries(book)
    changed = [sample_sheet(n) for n in SHEET_NAMES]
    changed[0] = SheetCells("Hedge", ((f"{OWNED_MARKER}: Hedge",), ("new", 1.5)))
    report = write_owned_sheets(book, changed)
    second = raw_entries(book)
    assert list(second) == list(first)
    differing = {name for name in first if first[name] != second[name]}
    assert differing == {report.replaced[0]}
    assert len(report.replaced) == 4 and report.added == () and report.removed == ()
    for name in BOOKKEEPING | {"xl/styles.xml"}:
        assert second[name] == first[name]
    assert read_sheet(book, "Hedge") == [[f"{OWNED_MARKER}: Hedge", ""], ["new", 1.5]]
    assert read_sheet(book, "Run") == expected_readback("Run")


def test_dates_in_the_1904_system(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "mac.xlsx", epoch_1904=True)
    sheet = owned("Hedge", ("d", dt.date(2024, 1, 1)), ("t", dt.datetime(2024, 1, 1, 12, 0)))
    report = write_owned_sheets(path, [sheet])
    xml = part(path, report.added[0]).decode()
    # 2024-01-01 is day 45292 in the 1900 system; the 1904 system starts 1462 days later.
    assert "<v>43830.0</v>" in xml
    assert "<v>43830.5</v>" in xml
    assert read_sheet(path, "Hedge")[1:] == [
        ["d", dt.date(2024, 1, 1)],
        ["t", dt.datetime(2024, 1, 1, 12, 0)],
    ]


@pytest.mark.parametrize(
    ("day", "serial"),
    [
        (dt.date(1900, 1, 1), 1),
        (dt.date(1900, 2, 28), 59),
        (dt.date(1900, 3, 1), 61),  # Excel's fictitious 1900-02-29 is 60
        (dt.date(2024, 1, 1), 45292),
        (dt.datetime(2024, 1, 1, 6, 0), 45292.25),
    ],
)
def test_excel_serial_1900(day: dt.date, serial: float) -> None:
    assert excel_serial(day, date1904=False) == serial


def test_excel_serial_1904() -> None:
    assert excel_serial(dt.date(1904, 1, 1), date1904=True) == 0
    assert excel_serial(dt.date(1904, 1, 2), date1904=True) == 1


def test_date_before_1900_is_refused_with_the_cell(book: Path) -> None:
    assert_refused(book, [owned("Hedge", (None, dt.date(1899, 12, 31)))], "Hedge!B2", "1900")


def _cell_xfs(path: Path) -> list[etree._Element]:
    cell_xfs = etree.fromstring(part(path, "xl/styles.xml")).find(f"{{{MAIN}}}cellXfs")
    assert cell_xfs is not None
    return list(cell_xfs)


def _cell_style(path: Path, sheet_part: str, ref: str) -> etree._Element:
    """The cellXfs entry that cell `ref` of `sheet_part` points to."""
    cell = etree.fromstring(part(path, sheet_part)).find(f".//{{{MAIN}}}c[@r='{ref}']")
    assert cell is not None
    return _cell_xfs(path)[int(cell.get("s", "0"))]


def test_formula_like_text_is_quote_prefixed_text(book: Path) -> None:
    texts = ["=1+1", "+A1", "@SUM(A1)", "-2+3", "=Notes!A2", "\tcmd", "\x00=hidden", "plain", " =x"]
    rows = [(t,) for t in texts] + [("-0.25",)]
    sheet = SheetCells(
        "Hedge", ((f"{OWNED_MARKER}: Hedge",), *rows), formats=(FormatRun(0, 10, 10, "percent"),)
    )
    report = write_owned_sheets(book, [sheet])
    xml = part(book, report.added[0])
    assert b"<f>" not in xml and b"<f " not in xml
    quoted = {f"A{r}" for r in (2, 3, 4, 5, 6, 7, 8, 11)}  # "\x00=hidden" is stored as "=hidden"
    for row in range(2, 12):
        xf = _cell_style(book, report.added[0], f"A{row}")
        assert (xf.get("quotePrefix") == "1") == (f"A{row}" in quoted), row
    assert int(_cell_style(book, report.added[0], "A11").get("numFmtId", "0")) > 163  # 0.0%
    stored = [t.replace("\x00", "") for t in texts] + ["-0.25"]
    assert [row[0] for row in read_sheet(book, "Hedge")[1:]] == stored
    loaded = openpyxl.load_workbook(book)["Hedge"]
    assert [loaded.cell(r, 1).value for r in range(2, 12)] == stored
    assert all(loaded.cell(r, 1).data_type == "s" for r in range(2, 12))
    assert [loaded.cell(r, 1).quotePrefix for r in (2, 9, 10)] == [True, False, False]

    styles = raw_entries(book)["xl/styles.xml"]
    write_owned_sheets(book, [sheet])
    assert raw_entries(book)["xl/styles.xml"] == styles  # the added xfs are found again


def test_existing_quote_prefix_xf_is_reused_without_touching_styles(tmp_path: Path) -> None:
    path = tmp_path / "quoted.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet["A1"] = "typed with an apostrophe"
    sheet["A1"].quotePrefix = True
    workbook.save(path)
    xfs = _cell_xfs(path)
    existing = next(i for i, xf in enumerate(xfs) if xf.get("quotePrefix") == "1")
    styles = raw_entries(path)["xl/styles.xml"]
    report = write_owned_sheets(path, [owned("Hedge", ("=SUM(A1:A3)",))])
    assert raw_entries(path)["xl/styles.xml"] == styles
    assert "xl/styles.xml" not in report.replaced
    cell = etree.fromstring(part(path, report.added[0])).find(f".//{{{MAIN}}}c[@r='A2']")
    assert cell is not None and cell.get("s") == str(existing)
    assert read_sheet(path, "Hedge")[1] == ["=SUM(A1:A3)"]


def test_escape_lookalikes_and_control_characters(book: Path) -> None:
    cells = ("_x0041_", "a\x00b\x01c\x1fd\x0be", "tab\there\nnew line\r\n", "  padded  ", "\ud800x")
    write_owned_sheets(book, [owned("Hedge", cells)])
    assert read_sheet(book, "Hedge")[1] == [
        "_x0041_",
        "abcde",
        "tab\there\nnew line\r\n",
        "  padded  ",
        "x",
    ]


def test_text_capped_at_excel_limit(book: Path) -> None:
    write_owned_sheets(book, [owned("Hedge", ("y" * 40_000,))])
    assert read_sheet(book, "Hedge")[1][0] == "y" * 32_767


def test_nan_and_infinity_become_empty_cells(book: Path) -> None:
    report = write_owned_sheets(book, [owned("Hedge", (1.0, math.nan, math.inf, -math.inf, 2))])
    assert read_sheet(book, "Hedge")[1] == [1.0, "", "", "", 2.0]
    assert b'r="B2"' not in part(book, report.added[0])


def _shared_string_book(tmp_path: Path, a1_index: int) -> Path:
    """A workbook whose sheet 'hedge' has A1 = shared string `a1_index` (openpyxl writes inline)."""
    plain = tmp_path / "plain.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Inputs"
    workbook.create_sheet("hedge")["B5"] = "stale"  # case differs: Excel sees the same name
    workbook.save(plain)
    sheet_xml = part(plain, "xl/worksheets/sheet2.xml").replace(
        b"<sheetData>",
        f'<sheetData><row r="1"><c r="A1" t="s"><v>{a1_index}</v></c></row>'.encode(),
    )
    strings = (
        f'<sst xmlns="{MAIN}" count="2" uniqueCount="2"><si><t>{OWNED_MARKER[:-1]}</t></si>'
        f"<si><r><t>{OWNED_MARKER[:6]}</t></r><r><t>{OWNED_MARKER[6:]} (old run)</t></r>"
        '<rPh sb="0" eb="1"><t>phonetic</t></rPh></si></sst>'
    ).encode()
    rels = part(plain, "xl/_rels/workbook.xml.rels").replace(
        b"</Relationships>",
        b'<Relationship Id="rId50" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/sharedStrings" Target="/xl/sharedStrings.xml"/></Relationships>',
    )
    path = tmp_path / "prior.xlsx"
    rezip(
        plain,
        path,
        replace={"xl/worksheets/sheet2.xml": sheet_xml, "xl/_rels/workbook.xml.rels": rels},
        add={"xl/sharedStrings.xml": strings},
    )
    return path


def test_existing_owned_sheet_with_shared_string_marker_is_replaced(tmp_path: Path) -> None:
    path = _shared_string_book(tmp_path, a1_index=1)
    assert read_sheet(path, "hedge")[0][0] == f"{OWNED_MARKER} (old run)"
    before = raw_entries(path)
    report = write_owned_sheets(path, [owned("Hedge", ("fresh",))])
    assert report.added == ()
    # openpyxl already set fullCalcOnLoad, so workbook.xml needs no change either
    assert report.replaced == ("xl/worksheets/sheet2.xml",)
    assert read_sheet(path, "hedge") == [[f"{OWNED_MARKER}: Hedge"], ["fresh"]]
    assert raw_entries(path)["xl/sharedStrings.xml"] == before["xl/sharedStrings.xml"]


def test_shared_string_without_the_marker_is_refused(tmp_path: Path) -> None:
    path = _shared_string_book(tmp_path, a1_index=0)
    assert_refused(path, [owned("Hedge")], "'hedge'", "not made by alvh")


def test_existing_owned_sheet_with_formula_string_marker(book: Path, tmp_path: Path) -> None:
    name = write_owned_sheets(book, [owned("Hedge", ("x",))]).added[0]
    xml = (
        f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="str">'
        f'<f>"{OWNED_MARKER}"</f><v>{OWNED_MARKER}</v></c></row></sheetData></worksheet>'
    ).encode()
    crafted = tmp_path / "str.xlsx"
    rezip(book, crafted, replace={name: xml})
    write_owned_sheets(crafted, [owned("Hedge", ("y",))])
    assert read_sheet(crafted, "Hedge")[1] == ["y"]


def test_calc_chain_listing_a_target_sheet_is_removed(book: Path, tmp_path: Path) -> None:
    write_owned_sheets(book, [owned("Hedge", ("x",))])
    hedge_id = 4  # Positions, Market, Notes, then Hedge
    chain = (
        f'<calcChain xmlns="{MAIN}"><c r="A1" i="3"/><c r="B2" i="{hedge_id}"/><c r="C2"/>'
        "</calcChain>"
    ).encode()
    rels = part(book, "xl/_rels/workbook.xml.rels").replace(
        b"</Relationships>",
        b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/calcChain" Target="calcChain.xml"/></Relationships>',
    )
    types = part(book, "[Content_Types].xml").replace(
        b"</Types>",
        b'<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.calcChain+xml"/></Types>',
    )
    crafted = tmp_path / "chain.xlsx"
    rezip(
        book,
        crafted,
        replace={"xl/_rels/workbook.xml.rels": rels, "[Content_Types].xml": types},
        add={"xl/calcChain.xml": chain},
    )
    report = write_owned_sheets(crafted, [owned("Hedge", ("y",))])
    assert report.removed == ("xl/calcChain.xml",)
    assert "xl/calcChain.xml" not in entry_names(crafted)
    assert b"calcChain" not in part(crafted, "xl/_rels/workbook.xml.rels")
    assert b"calcChain" not in part(crafted, "[Content_Types].xml")
    assert b"rId99" not in part(crafted, "xl/_rels/workbook.xml.rels")


def test_calc_chain_of_other_sheets_is_kept(book: Path, tmp_path: Path) -> None:
    write_owned_sheets(book, [owned("Hedge", ("x",))])
    chain = f'<calcChain xmlns="{MAIN}"><c r="A1" i="3"/><c r="A2"/></calcChain>'.encode()
    types = part(book, "[Content_Types].xml").replace(
        b"</Types>",
        b'<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.calcChain+xml"/></Types>',
    )
    crafted = tmp_path / "chain.xlsx"
    rezip(book, crafted, replace={"[Content_Types].xml": types}, add={"xl/calcChain.xml": chain})
    before = raw_entries(crafted)
    report = write_owned_sheets(crafted, [owned("Hedge", ("y",))])
    assert report.removed == ()
    assert raw_entries(crafted)["xl/calcChain.xml"] == before["xl/calcChain.xml"]


def test_workbook_part_found_through_package_relationships(book: Path, tmp_path: Path) -> None:
    """A workbook part that is not xl/workbook.xml: its rels and new sheets follow its folder."""
    moved = tmp_path / "moved.xlsx"
    with zipfile.ZipFile(book) as src:
        contents = {info.filename: src.read(info) for info in src.infolist()}
    renamed = {
        "xl/workbook.xml": "xl/main.xml",
        "xl/_rels/workbook.xml.rels": "xl/_rels/main.xml.rels",
    }
    contents["_rels/.rels"] = contents["_rels/.rels"].replace(b"xl/workbook.xml", b"/xl/main.xml")
    contents["[Content_Types].xml"] = contents["[Content_Types].xml"].replace(
        b"/xl/workbook.xml", b"/xl/main.xml"
    )
    with zipfile.ZipFile(moved, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, content in contents.items():
            dst.writestr(renamed.get(name, name), content)
    report = write_owned_sheets(moved, [owned("Hedge", ("x", 2))])
    assert set(report.replaced) == {"xl/main.xml", "xl/_rels/main.xml.rels", "[Content_Types].xml"}
    hedge = openpyxl.load_workbook(moved)["Hedge"]  # calamine assumes xl/workbook.xml
    assert [hedge["A2"].value, hedge["B2"].value] == ["x", 2]
    assert "xl/worksheets/sheet4.xml" in report.added


def test_permission_bits_are_kept(book: Path) -> None:
    os.chmod(book, 0o640)
    write_owned_sheets(book, sample_sheets())
    assert os.stat(book).st_mode & 0o777 == 0o640


def test_expected_hash_matching_allows_the_write(book: Path) -> None:
    report = write_owned_sheets(book, sample_sheets(), expected_sha256=file_sha256(book))
    assert len(report.added) == 4


def test_file_sha256_matches_a_known_digest(tmp_path: Path) -> None:
    path = tmp_path / "abc.bin"
    path.write_bytes(b"abc")
    # FIPS 180-2 test vector for "abc"
    expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert file_sha256(path) == expected


# --- refusals -------------------------------------------------------------------------------


def test_refuses_missing_file(tmp_path: Path) -> None:
    assert_refused(tmp_path / "nope.xlsx", sample_sheets(), "does not exist")


def test_refuses_non_zip(tmp_path: Path) -> None:
    path = tmp_path / "notes.xlsx"
    path.write_text("just some text, not a workbook")
    assert_refused(path, sample_sheets(), "not an Excel workbook")


def test_refuses_the_real_encrypted_workbook(tmp_path: Path) -> None:
    path = tmp_path / ENCRYPTED.name
    shutil.copyfile(ENCRYPTED, path)
    assert_refused(path, sample_sheets(), "password", "encrypted")


def test_refuses_xlsb(tmp_path: Path) -> None:
    path = tmp_path / "binary.xlsb"
    make_workbook(path)
    assert_refused(path, sample_sheets(), ".xlsb")


@pytest.mark.parametrize(
    ("lock", "program"),
    [
        ("~$book.xlsx", "Excel"),
        ("~$ok.xlsx", "Excel"),  # Excel's long-name variant: first two characters replaced
        (".~lock.book.xlsx#", "LibreOffice"),
    ],
)
def test_refuses_when_open_in_a_spreadsheet_program(book: Path, lock: str, program: str) -> None:
    (book.parent / lock).write_bytes(b"\x05alice" if program == "Excel" else b"bob,host,,")
    owner = "alice" if program == "Excel" else "bob"
    assert_refused(book, sample_sheets(), f"open in {program}", lock, owner)


def test_refuses_changed_hash(book: Path) -> None:
    stale = file_sha256(book)
    edited = openpyxl.load_workbook(book)
    edited["Notes"]["B1"] = "edited meanwhile"
    edited.save(book)
    assert file_sha256(book) != stale
    assert_refused(book, sample_sheets(), "changed since it was read", expected_sha256=stale)


def test_refuses_user_sheet_named_like_a_target(book: Path, tmp_path: Path) -> None:
    path = tmp_path / "user.xlsx"
    workbook = openpyxl.load_workbook(book)
    workbook.create_sheet("HEDGE")["A1"] = "my hedges"
    workbook.save(path)
    message = assert_refused(path, sample_sheets(), "'HEDGE'", "not made by alvh", "rename")
    assert "delete" in message


def test_refuses_user_sheet_with_empty_a1(tmp_path: Path) -> None:
    path = tmp_path / "user.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Run"
    sheet["B1"] = OWNED_MARKER  # marker in the wrong cell
    workbook.save(path)
    assert_refused(path, sample_sheets(), "'Run'", "not made by alvh")


def test_refuses_protected_target_sheet(tmp_path: Path) -> None:
    path = tmp_path / "protected.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Risk"
    sheet["A1"] = OWNED_MARKER
    sheet.protection.sheet = True
    workbook.save(path)
    assert_refused(path, sample_sheets(), "'Risk'", "protected")


def test_refuses_chartsheet_named_like_a_target(tmp_path: Path) -> None:
    path = tmp_path / "chart.xlsx"
    workbook = openpyxl.Workbook()
    data = workbook.active
    assert data is not None
    data.append([1])
    data.append([2])
    chart = BarChart()
    chart.add_data(Reference(data, min_col=1, min_row=1, max_row=2))
    workbook.create_chartsheet("Signals").add_chart(chart)
    workbook.save(path)
    assert_refused(path, sample_sheets(), "'Signals'", "chart sheet")


def test_refuses_adding_sheets_to_a_locked_structure(tmp_path: Path) -> None:
    path = tmp_path / "locked.xlsx"
    workbook = openpyxl.Workbook()
    workbook.security = WorkbookProtection(lockStructure=True)
    workbook.save(path)
    assert_refused(path, sample_sheets(), "structure is protected", "'Hedge'")


def test_locked_structure_is_fine_when_sheets_exist(tmp_path: Path) -> None:
    path = tmp_path / "locked.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Hedge"
    sheet["A1"] = OWNED_MARKER
    workbook.security = WorkbookProtection(lockStructure=True)
    workbook.save(path)
    write_owned_sheets(path, [owned("Hedge", ("ok",))])
    assert read_sheet(path, "Hedge")[1] == ["ok"]


def test_refuses_a_zip_bomb(book: Path, tmp_path: Path) -> None:
    zeros = bytes(1 << 20)
    path = tmp_path / "bomb.xlsx"
    rezip(book, path)
    with zipfile.ZipFile(path, "a") as archive:
        info = zipfile.ZipInfo("xl/media/huge.bin")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w") as handle:
            for _ in range(64):
                handle.write(zeros)
    assert path.stat().st_size < 200_000  # 64 MiB of zeros deflate to about 64 KB
    assert_refused(path, sample_sheets(), "zip bomb", "huge.bin")


def test_refuses_too_large_total_and_too_many_entries(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(zipsplice, "MAX_TOTAL_UNCOMPRESSED", 1000)
    assert_refused(book, sample_sheets(), "zip bomb", "expand")
    monkeypatch.undo()
    monkeypatch.setattr(zipsplice, "MAX_ENTRIES", 3)
    assert_refused(book, sample_sheets(), "parts", "zip bomb")


def test_zip_bomb_in_a_part_that_would_be_parsed_is_refused_before_parsing(
    book: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def parse(*args: object) -> None:
        raise AssertionError("the package was parsed before the size checks")

    monkeypatch.setattr(writer, "Package", parse)
    path = tmp_path / "bomb.xlsx"
    padded = part(book, "xl/workbook.xml") + b" " * (8 << 20)  # legal trailing whitespace
    rezip(book, path, replace={"xl/workbook.xml": padded})
    assert_refused(path, sample_sheets(), "xl/workbook.xml", "zip bomb")


def central_record(data: bytearray, book: Path, part: str) -> tuple[zipfile.ZipInfo, int]:
    """The part's ZipInfo and the offset of its central-directory record in `data`."""
    with zipfile.ZipFile(book) as archive:
        info = archive.getinfo(part)
    name = info.filename.encode()
    central = next(
        at
        for at in range(len(data))
        if data[at : at + 4] == b"PK\x01\x02" and data[at + 46 : at + 46 + len(name)] == name
    )
    return info, central


def test_part_larger_than_its_declared_size_is_refused(book: Path) -> None:
    """A central directory that understates a part's size cannot make the writer inflate more."""
    data = bytearray(book.read_bytes())
    info, central = central_record(data, book, "xl/workbook.xml")
    struct.pack_into("<I", data, central + 24, info.file_size // 2)
    struct.pack_into("<I", data, info.header_offset + 22, info.file_size // 2)
    book.write_bytes(bytes(data))
    assert_refused(book, sample_sheets(), "xl/workbook.xml", "longer than the archive says")


def _patch_eocd(path: Path, offset: int, value: int) -> None:
    data = bytearray(path.read_bytes())
    eocd = data.rfind(b"PK\x05\x06")
    struct.pack_into("<H", data, eocd + offset, value)
    path.write_bytes(bytes(data))


def test_refuses_zip64(book: Path) -> None:
    _patch_eocd(book, 10, 0xFFFF)  # total entry count saturated: the real count is in ZIP64
    assert_refused(book, sample_sheets(), "ZIP64")


def test_refuses_multi_disk_archives(book: Path) -> None:
    _patch_eocd(book, 4, 1)  # number of this disk
    assert_refused(book, sample_sheets(), "multi-part")


def test_refuses_a_sheet_without_the_marker(book: Path) -> None:
    assert_refused(book, [SheetCells("Hedge", (("no marker",),))], "A1", OWNED_MARKER)


def test_refuses_illegal_sheet_names(book: Path) -> None:
    assert_refused(book, [owned("Bad/Name")], "characters")
    assert_refused(book, [owned("Hedge"), owned("HEDGE")], "twice")


# --- crash safety ---------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["_verify", "os.replace", "splice"])
def test_crash_mid_write_leaves_original_intact(
    book: Path, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated crash")

    if target == "os.replace":
        monkeypatch.setattr(writer.os, "replace", boom)
    else:
        monkeypatch.setattr(writer, target, boom)
    before = book.read_bytes()
    listing = sorted(os.listdir(book.parent))
    with pytest.raises(RuntimeError, match="simulated crash"):
        write_owned_sheets(book, sample_sheets())
    assert book.read_bytes() == before
    assert sorted(os.listdir(book.parent)) == listing


def test_original_changed_during_the_write_is_not_overwritten(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_splice = writer.splice

    def splice_then_user_saves(*args: Any, **kwargs: Any) -> None:
        real_splice(*args, **kwargs)
        book.write_bytes(book.read_bytes() + b"\0")  # a save by someone else

    monkeypatch.setattr(writer, "splice", splice_then_user_saves)
    before = book.read_bytes() + b"\0"
    listing = sorted(os.listdir(book.parent))
    with pytest.raises(WorkbookError, match="changed while alvh was writing"):
        write_owned_sheets(book, sample_sheets())
    assert book.read_bytes() == before
    assert sorted(os.listdir(book.parent)) == listing


# --- property: arbitrary cells round-trip ---------------------------------------------------

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@pytest.fixture(scope="module")
def template_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_workbook(tmp_path_factory.mktemp("template") / "template.xlsx")


cell_values = st.one_of(
    st.text(max_size=60),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.booleans(),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(cell_values, min_size=1, max_size=12))
@example(["_x005F_", "_x0041_x", "=A1", " ", "", "\r"])
@example([1e-300, -0.0, 2**53, 5e-324, 1.7976931348623157e308])
def test_arbitrary_cells_round_trip(template_book: Path, values: list[CellValue]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "case.xlsx"
        shutil.copyfile(template_book, path)
        write_owned_sheets(path, [owned("Hedge", *[(v,) for v in values], ("end",))])
        read = [row[0] for row in read_sheet(path, "Hedge")[1:-1]]
    expected: list[object] = []
    for value in values:
        if isinstance(value, str):
            expected.append(_XML_ILLEGAL.sub("", value))
        elif isinstance(value, bool):
            expected.append(value)
        else:
            assert isinstance(value, int | float)
            expected.append(float(value))
    assert read == expected


def test_numpy_and_pandas_scalars(book: Path) -> None:
    row = (np.float64(0.1), np.int64(7), np.bool_(True), pd.NaT, pd.Timestamp("2024-01-02 09:30"))
    write_owned_sheets(book, [owned("Hedge", row, ("end",))])
    assert read_sheet(book, "Hedge")[1] == [0.1, 7.0, True, "", dt.datetime(2024, 1, 2, 9, 30)]


def test_workbook_namespaces_and_declaration_preserved(tmp_path: Path) -> None:
    path = tmp_path / "rich.xlsx"
    shutil.copyfile(ENCRYPTED.parent / "calamine_picture_richdata.xlsx", path)
    os.chmod(path, 0o644)
    old = part(path, "xl/workbook.xml")
    write_owned_sheets(path, sample_sheets())
    new = part(path, "xl/workbook.xml")
    old_root, new_root = etree.fromstring(old), etree.fromstring(new)
    assert new_root.nsmap == old_root.nsmap
    ignorable = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Ignorable"
    assert new_root.get(ignorable) == old_root.get(ignorable) == "x15 xr xr6 xr10 xr2"
    declaration = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    assert old.startswith(declaration) and new.startswith(declaration)
    # everything but the sheet list and calcPr is unchanged, element for element
    for tag in ("sheets", "calcPr"):
        for root in (old_root, new_root):
            found = root.find(f"{{{MAIN}}}{tag}")
            assert found is not None
            root.remove(found)
    assert etree.tostring(new_root) == etree.tostring(old_root)


# --- the write path at scale: only what is needed is parsed, inflated and computed ------------


def _old_hedge(book: Path, tmp_path: Path, body: str, *, root: str = "") -> Path:
    """A copy of `book` whose Hedge part (written by alvh before) is replaced by `body`, wrapped
    in a worksheet element (`root` overrides the start tag) with the marker in A1 first."""
    name = write_owned_sheets(book, [owned("Hedge", ("x",))]).added[0]
    start = root or f'<worksheet xmlns="{MAIN}">'
    end = "</x:worksheet>" if start.startswith("<x:") else "</worksheet>"
    prefix = "x:" if start.startswith("<x:") else ""
    marker = (
        f'<{prefix}row r="1"><{prefix}c r="A1" t="inlineStr"><{prefix}is><{prefix}t>'
        f"{OWNED_MARKER}</{prefix}t></{prefix}is></{prefix}c></{prefix}row>"
    )
    xml = '<?xml version="1.0" encoding="UTF-8"?>' + start + body.format(marker=marker) + end
    crafted = tmp_path / "old.xlsx"
    rezip(book, crafted, replace={name: xml.encode()})
    return crafted


def _rows(count: int, start: int = 2) -> str:
    return "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(start, count))


def test_rows_of_an_old_owned_sheet_past_its_start_are_never_parsed(
    book: Path, tmp_path: Path
) -> None:
    broken = '<row r="3000"><c r="A3000"><v>1</c></row>'  # not even well-formed
    body = "<sheetData>{marker}" + _rows(3000) + broken + "</sheetData>"
    assert len(body) > guards._CHUNK  # the parser never gets to see the broken row
    path = _old_hedge(book, tmp_path, body)
    write_owned_sheets(path, [owned("Hedge", ("fresh",))])
    assert read_sheet(path, "Hedge")[1] == ["fresh"]


@pytest.mark.parametrize(
    "body",
    [
        # after thousands of rows (more than one piece fed to the parser)
        "<sheetData>{marker}" + _rows(5000) + '</sheetData><sheetProtection sheet="1"/>',
        # before sheetData, against the schema's order
        '<sheetProtection sheet="true"/><sheetData>{marker}</sheetData>',
        # "</sheetData>" in a comment and in a CDATA section inside sheetData
        "<sheetData>{marker}<!-- </sheetData> -->"
        + _rows(10)
        + '</sheetData><sheetProtection sheet="1"/>',
        '<sheetData>{marker}<row r="2"><c r="A2" t="inlineStr"><is><t><![CDATA[</sheetData>]]>'
        '</t></is></c></row></sheetData><sheetCalcPr/><sheetProtection sheet="1"/>',
        # an empty sheetData has no closing tag
        '<sheetData/><sheetProtection sheet="1"/>',
    ],
    ids=["after-rows", "before-sheetData", "comment", "cdata", "empty-sheetData"],
)
def test_protection_of_an_old_owned_sheet_is_found_wherever_it_is(
    book: Path, tmp_path: Path, body: str
) -> None:
    path = _old_hedge(book, tmp_path, body)
    words = ("'Hedge'", "not made by alvh") if "<sheetData/>" in body else ("'Hedge'", "protected")
    assert_refused(path, [owned("Hedge")], *words)


@pytest.mark.parametrize("protection", ['<x:sheetProtection sheet="1"/>', ""])
def test_an_old_owned_sheet_with_a_prefixed_namespace(
    book: Path, tmp_path: Path, protection: str
) -> None:
    root = f'<x:worksheet xmlns:x="{MAIN}" xmlns:r="urn:r">'
    body = "<x:sheetData>{marker}" + _rows(50).replace("<", "<x:").replace("<x:/", "</x:")
    path = _old_hedge(book, tmp_path, body + "</x:sheetData>" + protection, root=root)
    if protection:
        assert_refused(path, [owned("Hedge")], "'Hedge'", "protected")
    else:
        write_owned_sheets(path, [owned("Hedge", ("fresh",))])
        assert read_sheet(path, "Hedge")[1] == ["fresh"]


def test_an_old_owned_sheet_with_a_dtd_is_refused(book: Path, tmp_path: Path) -> None:
    name = write_owned_sheets(book, [owned("Hedge", ("x",))]).added[0]
    xml = part(book, name).replace(
        b"<worksheet", b'<!DOCTYPE worksheet [<!ENTITY e "x">]><worksheet'
    )
    crafted = tmp_path / "dtd.xlsx"
    rezip(book, crafted, replace={name: xml})
    assert_refused(crafted, [owned("Hedge")], "DTD")


def test_verification_inflates_only_the_parts_just_written(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_owned_sheets(book, sample_sheets())
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def recording(self: zipfile.ZipFile, name: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(name if isinstance(name, str) else name.filename)
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", recording)
    changed = [sample_sheet(n) for n in SHEET_NAMES]
    changed[0] = owned("Hedge", ("new",))
    report = write_owned_sheets(book, changed)
    assert sorted(opened) == sorted(report.replaced + report.added)


def test_a_copied_part_with_a_bad_checksum_is_carried_over_untouched(
    book: Path, tmp_path: Path
) -> None:
    """Copied parts are compared byte for byte, not inflated: damage alvh did not cause (here a
    wrong CRC in the theme) neither stops the write nor is repaired."""
    data = bytearray(book.read_bytes())
    info, central = central_record(data, book, "xl/theme/theme1.xml")
    for at in (info.header_offset + 14, central + 16):
        struct.pack_into("<I", data, at, info.CRC ^ 0xFFFF)
    book.write_bytes(bytes(data))
    span = bytes(
        data[info.header_offset : info.header_offset + 30 + len(info.filename) + info.compress_size]
    )
    write_owned_sheets(book, sample_sheets())
    with zipfile.ZipFile(book) as archive:
        at = archive.getinfo("xl/theme/theme1.xml").header_offset
    assert book.read_bytes()[at : at + len(span)] == span


def _damage_after_splice(monkeypatch: pytest.MonkeyPatch, part_name: str | None) -> None:
    """Make the writer flip one byte of a part's data in its temp file right after writing it
    (`part_name` None: the first sheet part written anew)."""
    real_splice, real_create_temp = writer.splice, writer.create_temp
    temps: list[Path] = []

    def create_temp(workbook: Path) -> tuple[int, Path]:
        fd, temp = real_create_temp(workbook)
        temps.append(temp)
        return fd, temp

    def splice_then_damage(archive: Any, out: Any, **kwargs: Any) -> None:
        real_splice(archive, out, **kwargs)
        out.flush()
        with zipfile.ZipFile(temps[-1]) as written:
            target = part_name or next(n for n, _ in kwargs["add"] if "worksheets" in n)
            info = written.getinfo(target)
        data = temps[-1].read_bytes()
        name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
        at = info.header_offset + 30 + name_len + extra_len + info.compress_size // 2
        out.seek(at)
        out.write(bytes([data[at] ^ 0xFF]))
        out.seek(0, os.SEEK_END)

    monkeypatch.setattr(writer, "create_temp", create_temp)
    monkeypatch.setattr(writer, "splice", splice_then_damage)


@pytest.mark.parametrize(
    ("damaged", "words"),
    [("xl/theme/theme1.xml", "not copied intact"), (None, "verification")],
    ids=["copied part", "written part"],
)
def test_damage_in_the_written_file_is_caught_before_the_rename(
    book: Path, monkeypatch: pytest.MonkeyPatch, damaged: str | None, words: str
) -> None:
    _damage_after_splice(monkeypatch, damaged)
    assert_refused(book, sample_sheets(), words)


def test_a_bookkeeping_part_that_would_not_be_well_formed_is_never_written(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        Package, "changed_parts", lambda self: ({"xl/workbook.xml": b"<workbook>"}, {})
    )
    assert_refused(book, sample_sheets(), "would not be well-formed")


_CELL_VALUES = st.one_of(
    st.none(),
    st.text(),
    st.floats(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 1, 1)),
    st.datetimes(min_value=dt.datetime(1900, 1, 1)),
)


@given(
    rows=st.lists(st.lists(_CELL_VALUES, max_size=6).map(tuple), min_size=1, max_size=6),
    kinds=st.lists(st.sampled_from(["money", "percent", "integer", "date", "number"]), max_size=6),
)
@settings(max_examples=200, deadline=None)
def test_rendered_sheets_are_well_formed_xml_for_any_values(
    rows: list[tuple[Any, ...]], kinds: list[str]
) -> None:
    """What makes the writer's unchecked sheet XML safe: any text (control characters, markup,
    `_x0041_` look-alikes, formula triggers), any number and any date renders well-formed."""
    formats = tuple(FormatRun(c, 1, len(rows), kind) for c, kind in enumerate(kinds))
    sheet = SheetCells("Hedge", (("alvh output - Hedge",), *rows), formats, {0: 12.0})
    xml = render_sheet(sheet, lambda style: 1 + style.format_id, date1904=False)
    expat.ParserCreate(namespace_separator=" ").Parse(xml, True)


def test_each_cell_style_is_looked_up_once_per_write(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Styles are worked out while the sheets render, in one pass: the workbook's xfs are
    scanned once per distinct style, however many sheets and cells use it."""
    scans: list[CellStyle] = []
    real = packageparts._plain_xf

    def counting(xf: Any, style: CellStyle) -> bool:
        scans.append(style)
        return real(xf, style)

    monkeypatch.setattr(packageparts, "_plain_xf", counting)
    write_owned_sheets(book, sample_sheets())
    xfs = len(_cell_xfs(book))
    assert scans and all(scans.count(style) <= xfs for style in set(scans))


def test_numbers_text_and_dates_on_and_off_the_fast_paths(book: Path) -> None:
    day = dt.date(2024, 1, 2)
    row: tuple[Any, ...] = (
        2**53,
        -(2**53),
        2**53 + 1,  # beyond what a double holds exactly: written as the nearest double
        True,
        np.float64("nan"),
        np.str_("=x"),
        day,
        day,
        -0.0,
        1e-300,
    )
    report = write_owned_sheets(book, [owned("Hedge", row, ("end",))])
    xml = part(book, report.added[0]).decode()
    assert '<c r="A2"><v>9007199254740992</v></c>' in xml
    assert '<c r="B2"><v>-9007199254740992</v></c>' in xml
    assert '<c r="C2"><v>9007199254740992.0</v></c>' in xml
    assert 'r="E2"' not in xml
    assert xml.count("<v>45293.0</v>") == 2  # 2024-01-02 in the 1900 system, both cells
    assert read_sheet(book, "Hedge")[1] == [
        9007199254740992.0,
        -9007199254740992.0,
        9007199254740992.0,
        True,
        "",
        "=x",
        day,
        day,
        -0.0,
        1e-300,
    ]
    assert _cell_style(book, report.added[0], "F2").get("quotePrefix") == "1"
