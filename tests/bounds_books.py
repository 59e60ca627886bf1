"""Copies of the example workbook with one part or one cell changed, for the reader-bounds tests.

Changes are spliced into the zip (zipsplice), so a copy differs from the example in exactly the
changed part: no openpyxl round trip rewrites anything else.
"""

from __future__ import annotations

import io
import multiprocessing
import re
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from lxml import etree

from rules_engine.models import InputError, Issue
from rules_engine.workbook.packageparts import Package
from rules_engine.workbook.reader import read_workbook
from rules_engine.workbook.sheetxml import MAIN_NS
from rules_engine.workbook.zipsplice import open_archive, splice

EXAMPLE = Path(__file__).parents[1] / "workbooks" / "example.xlsx"
_REF = re.compile(r"([A-Z]+)(\d+)")


def sheet_part(path: Path, sheet: str) -> str:
    """The zip name of a sheet's worksheet part."""
    package = Package(open_archive(path.read_bytes()))
    part = next(info.part for info in package.sheets() if info.name == sheet)
    assert part is not None
    return part


def with_part(source: Path, target: Path, part: str, change: Callable[[bytes], bytes]) -> Path:
    """Copy `source` to `target` with one part's bytes replaced by `change(old bytes)`."""
    archive = open_archive(source.read_bytes())
    entry = archive.find(part)
    assert entry is not None, part
    out = io.BytesIO()
    new = change(archive.read(entry))
    splice(archive, out, replace={entry.name: new}, add=(), remove=frozenset())
    target.write_bytes(out.getvalue())
    return target


def with_cell(
    source: Path, target: Path, sheet: str, ref: str, number: str, style: str | None = None
) -> Path:
    """Copy `source` with cell `ref` of `sheet` holding the number text `number`, with its style
    kept or set to the cellXfs index `style`."""
    part = sheet_part(source, sheet)
    return with_part(source, target, part, lambda xml: _set(xml, ref, number, style))


def _set(xml: bytes, ref: str, number: str, style: str | None) -> bytes:
    root = etree.fromstring(xml)
    data = root.find(f"{{{MAIN_NS}}}sheetData")
    assert data is not None
    found = _REF.fullmatch(ref)
    assert found is not None, ref
    digits = found.group(2)
    row = next((r for r in data if r.get("r") == digits), None)
    if row is None:
        row = etree.Element(f"{{{MAIN_NS}}}row", r=digits)
        later = [r for r in data if int(r.get("r", "0")) > int(digits)]
        if later:
            later[0].addprevious(row)
        else:
            data.append(row)
    cell = next((c for c in row if c.get("r") == ref), None)
    if cell is None:
        cell = etree.SubElement(row, f"{{{MAIN_NS}}}c", r=ref)
    for child in list(cell):
        cell.remove(child)
    cell.set("t", "n")
    if style is not None:
        cell.set("s", style)
    etree.SubElement(cell, f"{{{MAIN_NS}}}v").text = number
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def run_measured(args: list[str], timeout: float = 120) -> tuple[int, str, int]:
    """Run a command in a fresh Python parent; return its exit code, its stderr and its peak
    resident memory in bytes (ru_maxrss of that child alone, not of anything run before)."""
    probe = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stderr.write(done.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.exit(done.returncode)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=timeout
    )
    units = 1 if sys.platform == "darwin" else 1024  # macOS reports bytes, Linux KiB
    return done.returncode, done.stderr, int(done.stdout.split()[-1]) * units


def errors_in_child(path: Path) -> list[Issue]:
    """The errors `read_workbook` reports for `path`, read in a forked child process: a reader
    that let calamine allocate a far cell's grid would abort that child, not the test run."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        return pool.submit(_errors, path).result(timeout=120)


def _errors(path: Path) -> list[Issue]:
    try:
        read_workbook(path)
    except InputError as exc:
        return [issue for issue in exc.issues if issue.severity == "error"]
    return []
