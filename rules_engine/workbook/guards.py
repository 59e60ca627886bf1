"""Reasons to refuse a write, checked before anything is written.

Each check raises `WorkbookError` with the reason in words a trader can act on; the writer adds
the file name. Nothing here modifies anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

from lxml import etree

from rules_engine.contract import OWNED_MARKER
from rules_engine.models import SheetCells, WorkbookError
from rules_engine.workbook.packageparts import is_true, parse_xml, q
from rules_engine.workbook.sheetxml import MAIN_NS

OLE2_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_SIGNATURE = b"PK\x03\x04"
#: The stream an encrypted OOXML package keeps inside its OLE2 container (MS-OFFCRYPTO).
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_FORBIDDEN_IN_SHEET_NAMES = frozenset("[]:*?/\\")
_MAX_SHEET_NAME = 31


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


def check_target_file(path: Path) -> None:
    """The file exists, is a kind alvh writes, and no spreadsheet program holds it open."""
    if not path.exists():
        raise WorkbookError("the file does not exist")
    if not path.is_file():
        raise WorkbookError("it is not a file")
    if path.suffix.lower() == ".xlsb":
        raise WorkbookError("it is a binary workbook (.xlsb); save it as .xlsx or .xlsm")
    folders = {path.parent, path.resolve().parent}
    for folder in sorted(folders):
        _check_locks(folder, path.name)


def _check_locks(folder: Path, name: str) -> None:
    excel = [f"~${name}"] + ([f"~${name[2:]}"] if len(name) > 2 else [])
    for lock_name in excel:
        lock = folder / lock_name
        if lock.exists():
            raise WorkbookError(
                f"it is open in Excel{_owner(lock, excel=True)} (lock file {lock_name} beside it); "
                "close it in Excel and try again, or delete the lock file if Excel is not running"
            )
    lock = folder / f".~lock.{name}#"
    if lock.exists():
        raise WorkbookError(
            f"it is open in LibreOffice{_owner(lock, excel=False)} (lock file {lock.name} beside "
            "it); close it and try again, or delete the lock file if LibreOffice is not running"
        )


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
    """An existing target sheet must carry alvh's marker in A1 and must not be protected."""
    root = parse_xml(name, content).getroot()
    if root.tag != q(MAIN_NS, "worksheet"):
        raise WorkbookError(f"a sheet named '{name}' exists but is not a worksheet; rename it")
    text = a1_text(root, shared_string)
    if text is None or not text.startswith(OWNED_MARKER):
        raise WorkbookError(
            f"a sheet named '{name}' exists but was not made by alvh; rename it or delete it"
        )
    protection = root.find(q(MAIN_NS, "sheetProtection"))
    if protection is not None and is_true(protection.get("sheet")):
        raise WorkbookError(
            f"sheet '{name}' is protected; unprotect it (Review > Unprotect Sheet) and try again"
        )


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
