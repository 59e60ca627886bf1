"""Shared by the CLI-level tests: reading owned-sheet tables back, editing test workbooks, and
running the installed `alvh` command in a process of its own."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
from python_calamine import CalamineWorkbook

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "workbooks" / "example.xlsx"
TEST_PLUGINS = Path(__file__).parent / "plugins"
ALVH = Path(sys.executable).with_name("alvh")


def cells(path: Path, sheet: str) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


def table(path: Path, sheet: str, title: str) -> list[dict]:
    """The rows of the titled table on an owned sheet, as dicts keyed by header."""
    rows = cells(path, sheet)
    start = next(i for i, r in enumerate(rows) if r and r[0] == title)
    header = rows[start + 1]
    out = []
    for r in rows[start + 2 :]:
        if not any(v not in ("", None) for v in r):
            break
        out.append(dict(zip(header, r, strict=False)))
    return out


def header_letters(ws) -> dict[str, str]:
    return {str(c.value): c.column_letter for c in ws[1] if c.value is not None}


def edit(path: Path, change) -> None:
    """Change an input sheet of a test workbook (openpyxl is fine for our own fixtures)."""
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)


def set_cell(sheet: str, header: str, row: int, value):
    def change(wb):
        ws = wb[sheet]
        ws[f"{header_letters(ws)[header]}{row}"] = value

    return change


def set_row(sheet: str, name: str, value):
    """Set the value beside `name` on a two-column sheet (Settings, Market); a Settings row that
    is not there yet is added."""

    def change(wb):
        ws = wb[sheet]
        for row in ws.iter_rows(min_row=2):
            if row[0].value == name:
                row[1].value = value
                return
        if sheet != "Settings":
            raise KeyError(f"{sheet} has no row {name!r}")
        ws.append([name, value, ""])

    return change


def set_setting(name: str, value):
    return set_row("Settings", name, value)


def set_market(field: str, value):
    return set_row("Market", field, value)


def run_alvh(*args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    """`alvh ARGS` in its own process (for exits, threads and signals a test process must not
    suffer), with third-party entry points off as in every test."""
    environment = {**os.environ, "ALVH_NO_ENTRY_POINTS": "1", **env}
    return subprocess.run(
        [str(ALVH), *args], capture_output=True, text=True, timeout=timeout, env=environment
    )


def sheet_part(path: Path, sheet: str) -> str:
    """The zip part holding `sheet`, from workbook.xml and its relationships."""
    with zipfile.ZipFile(path) as z:
        book = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet [^>]*name="{re.escape(sheet)}"[^>]*r:id="(rId\d+)"', book)
    assert rid is not None, sheet
    target = re.search(rf'<Relationship [^>]*Id="{rid.group(1)}"[^>]*/>', rels)
    assert target is not None
    found = re.search(r'Target="([^"]+)"', target.group(0))
    assert found is not None
    name = found.group(1).lstrip("/")
    return name if name.startswith("xl/") else f"xl/{name}"


def set_raw_cell(path: Path, sheet: str, ref: str, raw: str) -> None:
    """Put `<v>raw</v>` into an existing cell, keeping its style: how a damaged or hostile file
    can hold `inf`, `nan` or `1e309`, which no spreadsheet program writes."""
    part = sheet_part(path, sheet)
    source = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(source)) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == part:
                text, count = re.subn(
                    rf'<c r="{ref}"([^>]*?)(?:/>|>.*?</c>)',
                    lambda m: f'<c r="{ref}"{_TYPE.sub("", m.group(1))}><v>{raw}</v></c>',
                    data.decode(),
                    count=1,
                )
                assert count == 1, f"no cell {ref} on {sheet}"
                data = text.encode()
            zout.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)


_TYPE = re.compile(r' t="[^"]*"')
