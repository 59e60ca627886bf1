"""Read a workbook file into `Inputs` with python-calamine (the file adapter's read side).

Only a regular file up to `MAX_WORKBOOK_BYTES` is read, and its bytes are read once: they are
hashed (so a later write can refuse when the file changed in between) and parsed from memory, so
the hash always describes exactly what was read. calamine never sees an input sheet before
`precheck` has scanned it: a stray far cell would make it allocate gigabytes and abort, an
impossible date would make it panic. What calamine still fails on (`calaminecall`) becomes a
WorkbookError naming the sheet or the damaged part. This module only turns the file into sheet
grids; `inputs.read_inputs` does the parsing both adapters share, `logbook` reads the Log.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import python_calamine as calamine

from rules_engine.logbook import LoggedInputError, log_sheet_name, read_with_log
from rules_engine.models import Inputs, Issue, LoggedLayer, WorkbookError
from rules_engine.workbook import extent
from rules_engine.workbook.calaminecall import CalamineFailed, guarded
from rules_engine.workbook.cells import RawCell
from rules_engine.workbook.damage import damaged_part, xml_problem
from rules_engine.workbook.guards import check_container
from rules_engine.workbook.inputs import SheetGrid, input_sheet_names
from rules_engine.workbook.packageparts import Package
from rules_engine.workbook.precheck import (
    MAX_SHEET_XML_BYTES,
    Checked,
    check_package,
    odd_date_issues,
)
from rules_engine.workbook.sheetscan import scan_sheet

#: Largest workbook file alvh reads (bytes). Real workbooks with years of daily history are a few
#: MiB; the cap is checked before a byte is read, so a huge or endless file costs nothing.
MAX_WORKBOOK_BYTES = 256 << 20

_KINDS = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFSOCK: "a socket",
}


@dataclass(frozen=True)
class WorkbookRead:
    """What was read, the sha256 of the exact bytes it came from, and the sheets the file has."""

    inputs: Inputs
    sha256: str
    sheet_names: tuple[str, ...]


class FileInputError(LoggedInputError):
    """Bad inputs in a file, with the sha256 of the bytes that were read (a Run sheet listing the
    errors must not be written over a file that changed after it was read) and the Log's rows."""

    def __init__(self, issues: list[Issue], sha256: str, log: tuple[LoggedLayer, ...]) -> None:
        super().__init__(issues, log)
        self.sha256 = sha256


def read_workbook(path: Path) -> WorkbookRead:
    """Read `path`; raise WorkbookError for an unusable file, FileInputError for bad inputs."""
    data = _load(path)
    digest = hashlib.sha256(data).hexdigest()
    try:
        check_container(data)
        checked = check_package(data)
    except WorkbookError as exc:
        raise WorkbookError(f"{path}: {exc}") from None
    book = _open(path, checked)
    names = tuple(book.sheet_names)
    grids = {name: _grid(path, book, name, checked) for name in input_sheet_names(names)}
    log = log_sheet_name(names)
    try:
        inputs = read_with_log(grids, None if log is None else _log_grid(book, log, checked))
    except LoggedInputError as exc:
        raise FileInputError(exc.issues, digest, exc.log) from None
    return WorkbookRead(inputs, digest, names)


def _load(path: Path) -> bytes:
    """The file's bytes, once it is known to be a regular file within the size cap.

    A FIFO would block the read forever and a device could stream without end, so the kind of
    file is checked before opening (following symlinks), and again on the open descriptor, which
    is opened without blocking, in case the path was swapped in between.
    """
    try:
        _check_kind(path, os.stat(path))
        handle = os.open(
            path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        )
    except FileNotFoundError:
        raise WorkbookError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise WorkbookError(f"{path}: is a folder, not a workbook file") from None
    except OSError as exc:
        raise WorkbookError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    with os.fdopen(handle, "rb") as file:
        try:
            _check_kind(path, os.fstat(file.fileno()))
            data = file.read(MAX_WORKBOOK_BYTES + 1)
        except OSError as exc:
            raise WorkbookError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    _check_size(path, len(data))
    return data


def _check_kind(path: Path, info: os.stat_result) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise WorkbookError(f"{path}: is a folder, not a workbook file")
    if not stat.S_ISREG(info.st_mode):
        kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
        link = " points to" if path.is_symlink() else " is"
        raise WorkbookError(
            f"{path}:{link} {kind}, not a workbook file: give the path of a saved .xlsx or .xlsm"
        )
    _check_size(path, info.st_size)


def _check_size(path: Path, size: int) -> None:
    if size > MAX_WORKBOOK_BYTES:
        raise WorkbookError(
            f"{path}: is {_size(size)}; alvh reads workbooks up to {_size(MAX_WORKBOOK_BYTES)} "
            "(delete old history or move it to another workbook)"
        )


def _size(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB" if n >= 2**20 else f"{n / 2**10:,.0f} KiB"


def _open(path: Path, checked: Checked) -> calamine.CalamineWorkbook:
    """Open the checked bytes; when calamine cannot, find and name the damaged part."""
    try:
        return guarded(lambda: calamine.CalamineWorkbook.from_filelike(io.BytesIO(checked.data)))
    except CalamineFailed as failed:
        problem = damaged_part(checked.archive, checked.opened_parts)
        raise WorkbookError(
            f"{path}: {problem or f'cannot be read as a workbook ({failed})'}"
        ) from None


def _grid(path: Path, book: calamine.CalamineWorkbook, name: str, checked: Checked) -> SheetGrid:
    """One sheet's used range as calamine returns it, with the errors found before reading."""
    check = checked.sheets.get(name)
    if check is None:  # calamine lists a sheet the workbook's own sheet list does not
        raise WorkbookError(f"{path}: sheet {name!r} has no part in the file; it is damaged")
    if check.unreadable:
        return SheetGrid([], None, check.issues)
    try:
        rows, start = guarded(lambda: _read_sheet(book, name))
    except CalamineFailed as failed:
        raise WorkbookError(
            f"{path}: {_sheet_failure(name, check.part, checked, failed)}"
        ) from None
    dates = odd_date_issues(name, check.odd_dates, rows, start, checked.date1904)
    return SheetGrid(rows, start, check.issues + dates)


def _log_grid(book: calamine.CalamineWorkbook, name: str, checked: Checked) -> SheetGrid:
    """The Log sheet's used range. precheck scans only the input sheets, so the Log's XML is
    scanned here before calamine may read it: a Log spanning more cells than any sheet may (a
    value typed far away), or one calamine fails on, is not read, and a warning says so. The Log
    is alvh's own memory; losing it must not stop a recompute."""
    part = next((s.part for s in Package(checked.archive).sheets() if s.name == name), None)
    entry = None if part is None else checked.archive.find(part)
    if entry is None or entry.size > MAX_SHEET_XML_BYTES:
        return _unread_log(name, f"its part is missing or over {MAX_SHEET_XML_BYTES:,} bytes")
    scan = scan_sheet(checked.archive.read(entry), {}, checked.date1904, extent.MAX_SHEET_CELLS)
    whole = None if scan is None else extent.extent_of(scan.rows, scan.cols)
    if whole is not None and whole.cells > extent.MAX_SHEET_CELLS:
        return SheetGrid([], None, (extent.too_large_issue(name, whole, None, "its values span"),))
    try:
        rows, start = guarded(lambda: _read_sheet(book, name))
    except CalamineFailed as failed:
        return _unread_log(name, f"the reader library failed on it ({failed})")
    return SheetGrid(rows, start)


def _unread_log(name: str, why: str) -> SheetGrid:
    return SheetGrid([], None, (Issue("warning", why, name, source="reader"),))


def _read_sheet(
    book: calamine.CalamineWorkbook, name: str
) -> tuple[Sequence[Sequence[RawCell]], tuple[int, int] | None]:
    sheet = book.get_sheet_by_name(name)
    return sheet.to_python(), sheet.start


def _sheet_failure(name: str, part: str, checked: Checked, failed: CalamineFailed) -> str:
    """Why a sheet could not be read: its part's XML error if it has one, else calamine's."""
    entry = checked.archive.find(part)
    if entry is not None:
        try:
            problem = xml_problem(f"{entry.name} (sheet {name})", checked.archive.read(entry))
        except WorkbookError as exc:
            problem = str(exc)
        if problem is not None:
            return problem
    return f"sheet {name!r} (part {part}) cannot be read ({failed})"
