"""Reasons to refuse a write, checked before anything is written.

Each check raises `WorkbookError` with the reason in words a trader can act on; the writer adds
the file name. Nothing here modifies anything.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast
from xml.sax.saxutils import quoteattr

from lxml import etree

from rules_engine.contract import OWNED_MARKER
from rules_engine.models import SheetCells, WorkbookError
from rules_engine.workbook.filelock import real_path
from rules_engine.workbook.packageparts import is_true, parse_xml, pull_parser, q
from rules_engine.workbook.sheetscan import closing_sheet_data
from rules_engine.workbook.sheetxml import MAIN_NS

OLE2_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_SIGNATURE = b"PK\x03\x04"
#: The stream an encrypted OOXML package keeps inside its OLE2 container (MS-OFFCRYPTO).
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_FORBIDDEN_IN_SHEET_NAMES = frozenset("[]:*?/\\")
_MAX_SHEET_NAME = 31
_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
#: Symlinks followed when looking for lock files (the system's own limit is 40).
_MAX_LINKS = 40
#: How much of an old owned sheet is fed to the parser at a time while looking for A1.
_CHUNK = 1 << 14
_WORKSHEET = q(MAIN_NS, "worksheet")
_SHEET_DATA = q(MAIN_NS, "sheetData")
_ROW = q(MAIN_NS, "row")
_PROTECTION = q(MAIN_NS, "sheetProtection")
_DECLARATION = re.compile(rb"<\?xml[^>]*\?>")


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks (remember it at read time, compare at write time)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_sheets(sheets: Sequence[SheetCells]) -> None:
    """Target sheets must have legal, distinct names and carry the marker in A1.

    Without the marker the next recompute would refuse to overwrite the sheet written now.
    """
    seen: set[str] = set()
    for sheet in sheets:
        name = sheet.name
        if not name or len(name) > _MAX_SHEET_NAME:
            raise WorkbookError(f"sheet name {name!r} must have 1 to 31 characters")
        if _FORBIDDEN_IN_SHEET_NAMES & set(name) or name.startswith("'") or name.endswith("'"):
            raise WorkbookError(f"sheet name {name!r} contains characters Excel does not allow")
        if name.casefold() in seen:
            raise WorkbookError(f"sheet {name!r} is given twice")
        seen.add(name.casefold())
        first = sheet.rows[0][0] if sheet.rows and sheet.rows[0] else None
        if not (isinstance(first, str) and first.startswith(OWNED_MARKER)):
            raise WorkbookError(f"sheet {name!r} must start with {OWNED_MARKER!r} in cell A1")


def check_target_file(path: Path) -> Path:
    """The file exists, is a kind alvh writes, may be written, and no spreadsheet program holds
    it open; returns the real file to replace (symlinks resolved: the link stays a link).

    Excel and LibreOffice name their lock files after the name they opened, so a workbook opened
    through a symlink leaves the lock beside the link, and one opened directly beside the target:
    both places are checked, and every link in between.
    """
    real = real_path(path)
    if not real.exists():
        raise WorkbookError("the file does not exist")
    if not real.is_file():
        raise WorkbookError("it is not a file")
    if ".xlsb" in (path.suffix.lower(), real.suffix.lower()):
        raise WorkbookError("it is a binary workbook (.xlsb); save it as .xlsx or .xlsm")
    if not real.stat().st_mode & _WRITE_BITS:
        raise WorkbookError(
            "it is read-only (no write permission); clear the read-only flag and try again"
        )
    if not os.access(real, os.W_OK):
        raise WorkbookError("you do not have permission to write it")
    for name in _aliases(Path(path), real):
        _check_locks(name.parent, name.name)
    return real


def _aliases(path: Path, real: Path) -> list[Path]:
    """Every name the workbook goes by: as given, each symlink on the way, the real file."""
    names = [Path(os.path.abspath(path))]
    for _ in range(_MAX_LINKS):
        if not names[-1].is_symlink():
            break
        names.append(Path(os.path.abspath(names[-1].parent / os.readlink(names[-1]))))
    names.append(real)
    return list(dict.fromkeys(names))


def _check_locks(folder: Path, name: str) -> None:
    excel = [f"~${name}"] + ([f"~${name[2:]}"] if len(name) > 2 else [])
    for lock_name in excel:
        lock = folder / lock_name
        if _present(lock):
            raise WorkbookError(
                f"it is open in Excel{_owner(lock, excel=True)} (lock file {lock_name} beside it); "
                "close it in Excel and try again, or delete the lock file if Excel is not running"
            )
    lock = folder / f".~lock.{name}#"
    if _present(lock):
        raise WorkbookError(
            f"it is open in LibreOffice{_owner(lock, excel=False)} (lock file {lock.name} beside "
            "it); close it and try again, or delete the lock file if LibreOffice is not running"
        )


def _present(lock: Path) -> bool:
    """Whether a lock file exists; one whose name is too long to exist cannot be there."""
    try:
        os.lstat(lock)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            return False
        raise
    return True


def _owner(lock: Path, *, excel: bool) -> str:
    """' by NAME' from a lock file, or '' when it cannot be read (it is only a courtesy)."""
    try:
        raw = lock.read_bytes()[:512]
    except OSError:
        return ""
    if excel:
        owner = raw[1 : 1 + raw[0]].decode("latin-1") if raw else ""
    else:
        owner = raw.decode("utf-8", errors="replace").split(",")[0]
    owner = "".join(ch for ch in owner if ch.isprintable()).strip()
    return f" by {owner}" if owner else ""


def check_container(data: bytes) -> None:
    """The bytes are a zip package, not an encrypted/legacy OLE2 file or something else.

    Shared by the reader and the writer, so both refuse the same files with the same words.
    """
    if data.startswith(OLE2_SIGNATURE):
        if ENCRYPTED_STREAM in data:
            raise WorkbookError(
                "the workbook is encrypted (password-protected); open it in Excel, remove the "
                "password (File > Info > Protect Workbook) and save it, then try again"
            )
        raise WorkbookError(
            "this is an old-format .xls (OLE2) file; open it in Excel and save it as .xlsx"
        )
    if not data:
        raise WorkbookError("the file is empty")
    if not data.startswith(ZIP_SIGNATURE):
        raise WorkbookError("the file is not an Excel workbook (.xlsx or .xlsm)")


def check_owned_sheet(
    name: str, content: bytes, shared_string: Callable[[int], str | None]
) -> None:
    """An existing target sheet must carry alvh's marker in A1 and must not be protected.

    The sheet is about to be replaced, so only what these two facts need is parsed: the start,
    up to its first cell, and what follows `</sheetData>`, where the schema puts
    `<sheetProtection>`; a big old sheet's rows are never parsed.
    """
    head = _head(name, content)
    if head.tag != _WORKSHEET:
        raise WorkbookError(f"a sheet named '{name}' exists but is not a worksheet; rename it")
    text = a1_text(head, shared_string)
    if text is None or not text.startswith(OWNED_MARKER):
        raise WorkbookError(
            f"a sheet named '{name}' exists but was not made by alvh; rename it or delete it"
        )
    protection = head.find(_PROTECTION)
    if protection is None:
        protection = _tail(name, content, head).find(_PROTECTION)
    if protection is not None and is_true(protection.get("sheet")):
        raise WorkbookError(
            f"sheet '{name}' is protected; unprotect it (Review > Unprotect Sheet) and try again"
        )


def _head(name: str, content: bytes) -> etree._Element:
    """The worksheet element with everything up to its first cell (or first row, or the end of
    an empty sheetData): enough to know A1."""
    parser = pull_parser()
    root: etree._Element | None = None
    try:
        for at in range(0, len(content), _CHUNK):
            parser.feed(content[at : at + _CHUNK])
            for event, item in parser.read_events():
                element = cast(etree._Element, item)  # start and end events carry elements
                if root is None:
                    root = element
                    if root.getroottree().docinfo.internalDTD is not None:
                        raise WorkbookError(f"part {name} contains a DTD, which workbooks never do")
                    if root.tag != _WORKSHEET:
                        return root
                elif event == "end" and _first_cell_known(element, root):
                    return root
        parser.close()
    except etree.XMLSyntaxError as exc:
        raise WorkbookError(f"part {name} is not valid XML ({exc})") from exc
    if root is None:
        raise WorkbookError(f"part {name} is not valid XML (it is empty)")
    return root


def _first_cell_known(element: etree._Element, root: etree._Element) -> bool:
    """`element` just ended and was sheetData, its first row, or that row's first cell."""
    if element.tag == _SHEET_DATA:
        return True
    parent = element.getparent()
    if element.tag == _ROW:
        return parent is not None and parent.tag == _SHEET_DATA and parent.getparent() is root
    return parent is not None and parent.tag == _ROW and _first_cell_known(parent, root)


def _tail(name: str, content: bytes, head: etree._Element) -> etree._Element:
    """The worksheet element with only what follows `</sheetData>`.

    The tail is parsed under a copy of the root's start tag (its namespaces); if the
    `</sheetData>` found is not the real one (it sat in a comment or CDATA section), the tail
    does not parse, and the whole part is parsed instead.
    """
    closing = closing_sheet_data(content)
    if closing is not None:
        end = closing.end()
        declaration = _DECLARATION.match(content)
        tag = f"{head.prefix}:worksheet" if head.prefix else "worksheet"
        namespaces = "".join(
            f" xmlns{':' + prefix if prefix else ''}={quoteattr(uri)}"
            for prefix, uri in head.nsmap.items()
        )
        document = b"".join(
            [
                declaration.group(0) if declaration else b"",
                f"<{tag}{namespaces}>".encode(),
                content[end:],
            ]
        )
        with contextlib.suppress(WorkbookError):
            return parse_xml(name, document).getroot()
    return parse_xml(name, content).getroot()


def a1_text(worksheet: etree._Element, shared_string: Callable[[int], str | None]) -> str | None:
    """The text in cell A1 (inline, shared or formula string), or None if A1 holds no text."""
    row = worksheet.find(f"{q(MAIN_NS, 'sheetData')}/{q(MAIN_NS, 'row')}")
    if row is None or row.get("r", "1") != "1":
        return None
    cell = row.find(q(MAIN_NS, "c"))
    if cell is None or cell.get("r", "A1").replace("$", "").upper() != "A1":
        return None
    kind = cell.get("t")
    if kind == "inlineStr":
        inline = cell.find(q(MAIN_NS, "is"))
        return None if inline is None else rich_text(inline)
    value = cell.findtext(q(MAIN_NS, "v"))
    if value is None:
        return None
    if kind == "str":
        return value
    if kind == "s" and value.strip().isdigit():
        return shared_string(int(value))
    return None


def rich_text(element: etree._Element) -> str:
    """Visible text of an `<si>` or `<is>`: its `<t>` runs, without phonetic guides."""
    return "".join(
        t.text or ""
        for t in element.iter(q(MAIN_NS, "t"))
        if (parent := t.getparent()) is None or parent.tag != q(MAIN_NS, "rPh")
    )
