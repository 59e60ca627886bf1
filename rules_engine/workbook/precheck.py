"""What python-calamine may be given: every input sheet checked in its XML before it is read.

Each input sheet's part is found through the workbook's relationships, inflated and scanned
(`sheetscan`). Stray values far outside the table and numbers that are no date in date-formatted
cells are blanked in a copy of the sheet's XML, spliced into an in-memory copy of the package,
and calamine reads that copy; each blanked cell becomes an error at its address, so the rest of
the workbook is still checked in the same run. A sheet too large even without strays is not read
at all. The file's own bytes, and the hash taken of them, stay exactly what was read.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rules_engine.contract import MARKET, MARKET_FIELDS, header_key
from rules_engine.models import Issue, WorkbookError
from rules_engine.workbook import extent
from rules_engine.workbook.cells import RawCell, address, is_blank, to_text
from rules_engine.workbook.datestyles import Kind, style_kinds
from rules_engine.workbook.inputs import input_sheet_names
from rules_engine.workbook.packageparts import SHARED_STRINGS_REL, STYLES_REL, Package
from rules_engine.workbook.sheetscan import OddDate, SheetScan, blank_cells, scan_sheet
from rules_engine.workbook.zipsplice import ZipArchive, open_archive, splice

#: Largest input sheet XML inflated for reading (bytes). A million cells take about 40 MB of XML;
#: a part four times that is not a table alvh can use, and inflating it alone would cost its size.
MAX_SHEET_XML_BYTES = 128 << 20
_FIRST_DAY = {False: "1900-01-01", True: "1904-01-01"}
_MARKET_LABELS = {
    header_key(name): spec.label for spec in MARKET_FIELDS for name in (spec.field, spec.label)
}


@dataclass(frozen=True)
class SheetCheck:
    """One input sheet before reading: its part, the errors found in its XML, the odd dates
    (reported once the header row is known), and whether calamine must not read it at all."""

    part: str
    issues: tuple[Issue, ...] = ()
    odd_dates: tuple[OddDate, ...] = ()
    unreadable: bool = False


@dataclass(frozen=True)
class Checked:
    """The bytes calamine reads (the file's own, or a copy with cells blanked), the file's own
    archive and the parts calamine reads on opening it (to name a damaged one), and what was
    found per input sheet."""

    data: bytes
    archive: ZipArchive
    sheets: Mapping[str, SheetCheck]
    date1904: bool
    opened_parts: tuple[str, ...]


def check_package(data: bytes) -> Checked:
    """Scan every input sheet of the package in `data`; WorkbookError names a damaged part."""
    archive = open_archive(data)
    package = Package(archive)
    parts = {info.name: info.part for info in package.sheets()}
    styles = package.related(STYLES_REL)
    kinds = {} if styles is None else style_kinds(package.xml(styles).root)
    sheets: dict[str, SheetCheck] = {}
    blanked: dict[str, bytes] = {}
    for name in input_sheet_names(parts):
        part = parts[name]
        if part is None:
            raise WorkbookError(f"sheet {name!r} has no part in the file; the file is damaged")
        xml = _sheet_xml(archive, name, part)
        scan = scan_sheet(xml, kinds, package.date1904, extent.MAX_SHEET_CELLS)
        sheets[name], starts = _judge(name, part, scan)
        if starts:
            blanked[part] = blank_cells(xml, starts)
    opened = tuple(p for p in (package.related(SHARED_STRINGS_REL), styles) if p is not None)
    return Checked(
        _spliced(archive, blanked) if blanked else data,
        archive,
        sheets,
        package.date1904,
        (*opened, package.workbook_name, package.rels.name),
    )


def _sheet_xml(archive: ZipArchive, name: str, part: str) -> bytes:
    entry = archive.find(part)
    if entry is None:
        raise WorkbookError(f"part {part} of sheet {name!r} is missing; the file is damaged")
    if entry.size > MAX_SHEET_XML_BYTES:
        raise WorkbookError(
            f"sheet {name!r} is {entry.size / 2**20:,.0f} MiB of XML; alvh reads input sheets "
            f"up to {MAX_SHEET_XML_BYTES / 2**20:,.0f} MiB: delete what the table does not use"
        )
    return archive.read(entry)


def _judge(name: str, part: str, scan: SheetScan | None) -> tuple[SheetCheck, list[int]]:
    """The sheet's check, and where the cells to blank start in its XML."""
    if scan is None or (whole := extent.extent_of(scan.rows, scan.cols)) is None:
        return SheetCheck(part), []
    strays = extent.strays(scan.rows, scan.cols)
    if strays is None:
        issue = extent.too_large_issue(name, whole, None, "this sheet's values span")
        return SheetCheck(part, (issue,), unreadable=True), []
    issues = tuple(extent.stray_issue(name, scan.rows[i], scan.cols[i], whole) for i in strays)
    gone = {scan.starts[i] for i in strays}
    odd = tuple(date for date in scan.odd_dates if date.start not in gone)
    return SheetCheck(part, issues, odd), sorted(gone | {date.start for date in odd})


def _spliced(archive: ZipArchive, replace: Mapping[str, bytes]) -> bytes:
    out = io.BytesIO()
    splice(archive, out, replace=replace, add=(), remove=frozenset(), level=1)  # read at once
    return out.getvalue()


def odd_date_issues(
    sheet: str,
    odd_dates: Sequence[OddDate],
    rows: Sequence[Sequence[RawCell]],
    start: tuple[int, int] | None,
    date1904: bool,
) -> tuple[Issue, ...]:
    """One error per odd date, at its cell and named by its column as the table parser names
    columns, when the grid shows it."""
    return tuple(
        Issue(
            "error",
            _odd_date_message(date.text, date.kind, date1904),
            sheet,
            address(date.row, date.col),
            _column_label(sheet, rows, start, date.row, date.col),
            source="reader",
        )
        for date in odd_dates
    )


def _odd_date_message(text: str, kind: Kind, date1904: bool) -> str:
    if kind == "duration":
        return (
            f"{text} in a duration-formatted cell is longer than any duration Excel can show "
            "(up to 9999-12-31 in days): enter a real duration"
        )
    return (
        f"{text} in a date-formatted cell is outside the dates Excel can show "
        f"({_FIRST_DAY[date1904]} to 9999-12-31): enter a real date"
    )


def _column_label(
    sheet: str,
    rows: Sequence[Sequence[RawCell]],
    start: tuple[int, int] | None,
    row: int,
    col: int,
) -> str | None:
    """The header of the cell's column (the header row is the first non-blank row, as the table
    parser takes it); on the Market sheet the Field of the cell's row, as Market errors say."""
    if start is None:
        return None
    header_at = next((i for i, line in enumerate(rows) if not all(map(is_blank, line))), None)
    if header_at is None or row <= start[0] + header_at:
        return None
    header = rows[header_at]
    keys = [header_key(to_text(raw)) for raw in header]
    if sheet.strip().casefold() == MARKET.casefold() and "field" in keys:
        i, field_at = row - start[0], keys.index("field")
        line = rows[i] if 0 <= i < len(rows) else ()
        text = to_text(line[field_at]) if field_at < len(line) else ""
        return _MARKET_LABELS.get(header_key(text), text) or None
    j = col - start[1]  # the blanked cell itself may lie outside the grid calamine returned
    return (to_text(header[j]) or None) if 0 <= j < len(header) else None
