"""Read a workbook file into `Inputs` with python-calamine (the file adapter's read side).

The file's bytes are read once: they are hashed (so a later write can refuse when the file changed
in between) and parsed from memory, so the hash always describes exactly what was read. This module
only turns the file into sheet grids; `inputs.read_inputs` does the parsing both adapters share.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import python_calamine as calamine

from rules_engine.models import InputError, Inputs, Issue, WorkbookError
from rules_engine.workbook.guards import check_container
from rules_engine.workbook.inputs import SheetGrid, input_sheet_names, read_inputs
from rules_engine.workbook.zipsplice import open_archive


@dataclass(frozen=True)
class WorkbookRead:
    """What was read, the sha256 of the exact bytes it came from, and the sheets the file has."""

    inputs: Inputs
    sha256: str
    sheet_names: tuple[str, ...]


class FileInputError(InputError):
    """Bad inputs in a file, with the sha256 of the bytes that were read: a Run sheet listing the
    errors must not be written over a file that changed after it was read."""

    def __init__(self, issues: list[Issue], sha256: str) -> None:
        super().__init__(issues)
        self.sha256 = sha256


def read_workbook(path: Path) -> WorkbookRead:
    """Read `path`; raise WorkbookError for an unusable file, FileInputError for bad inputs."""
    data = _load(path)
    digest = hashlib.sha256(data).hexdigest()
    book = _open(path, data)
    names = tuple(book.sheet_names)
    grids = {name: _grid(path, book, name) for name in input_sheet_names(names)}
    try:
        inputs = read_inputs(grids)
    except InputError as exc:
        raise FileInputError(exc.issues, digest) from None
    return WorkbookRead(inputs, digest, names)


def _load(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise WorkbookError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise WorkbookError(f"{path}: is a folder, not a workbook file") from None
    except OSError as exc:
        raise WorkbookError(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def _open(path: Path, data: bytes) -> calamine.CalamineWorkbook:
    """Check the container before calamine parses it: encrypted, legacy, oversized files fail."""
    try:
        check_container(data)
        open_archive(data)
    except WorkbookError as exc:
        raise WorkbookError(f"{path}: {exc}") from None
    try:
        return calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (calamine.CalamineError, ValueError, OSError) as exc:
        raise WorkbookError(f"{path}: cannot be read as a workbook ({exc})") from exc


def _grid(path: Path, book: calamine.CalamineWorkbook, name: str) -> SheetGrid:
    """One sheet's used range as calamine returns it (already in the grid's value types)."""
    try:
        sheet = book.get_sheet_by_name(name)
        return SheetGrid(sheet.to_python(), sheet.start)
    except (calamine.CalamineError, ValueError) as exc:
        raise WorkbookError(f"{path}: sheet {name!r} cannot be read ({exc})") from exc
