"""Fidelity corpus: write the four owned sheets into copies of real Excel/LibreOffice workbooks.

Every entry other than the allowed bookkeeping parts must come out byte-identical, calamine must
read back the values written, and the password-protected file must be refused untouched.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from writer_support import (
    SHEET_NAMES,
    expected_readback,
    part,
    raw_entries,
    read_sheet,
    sample_sheets,
)

from rules_engine.models import WorkbookError
from rules_engine.workbook.writer import write_owned_sheets

CORPUS = Path(__file__).parent / "data" / "real-workbooks"
FILES = sorted(p.name for p in CORPUS.iterdir() if p.suffix in {".xlsx", ".xlsm"})
REFUSED = {"calamine_pass_protected.xlsx": "password-protected"}
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

#: The only parts a write that adds the four sheets may change, and why.
WHY_CHANGED = {
    "xl/workbook.xml": "four <sheet> entries appended; calcPr fullCalcOnLoad set",
    "xl/_rels/workbook.xml.rels": "one relationship per new sheet part",
    "[Content_Types].xml": "one Override per new sheet part",
    "xl/styles.xml": "an xf for a number format the file did not have yet",
    "xl/calcChain.xml": "removed: lists cells on a sheetId a new sheet now has",
}
#: Files whose calcChain lists a sheetId that one of the new sheets receives (a stale entry):
#: the chain is removed with its override so Excel rebuilds it.
REMOVED = {"excelize_CalcChain.xlsx": ("xl/calcChain.xml",)}
MUST_CHANGE = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"}


def _loads_in_openpyxl(path: Path) -> bool:
    try:
        openpyxl.load_workbook(path)
    except Exception:  # openpyxl fails on some real files (pivots, odd part names) by itself
        return False
    return True


def _cell_xfs(styles: bytes) -> tuple[list[bytes], str | None]:
    root = etree.fromstring(styles)
    cell_xfs = root.find(f"{{{MAIN}}}cellXfs")
    assert cell_xfs is not None
    return [etree.tostring(xf) for xf in cell_xfs], cell_xfs.get("count")


@pytest.mark.parametrize("name", FILES)
def test_corpus_file(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    shutil.copyfile(CORPUS / name, path)
    os.chmod(path, 0o644)
    original = path.read_bytes()

    if name in REFUSED:
        with pytest.raises(WorkbookError, match=REFUSED[name]) as caught:
            write_owned_sheets(path, sample_sheets())
        assert name in str(caught.value)
        assert path.read_bytes() == original
        assert os.listdir(tmp_path) == [name]
        return

    opened_before = _loads_in_openpyxl(path)
    before = raw_entries(path)
    report = write_owned_sheets(path, sample_sheets())
    after = raw_entries(path)

    changed = {entry for entry in before if before[entry] != after.get(entry)}
    print(f"\n{name}: " + "; ".join(f"{e} ({WHY_CHANGED.get(e, '?')})" for e in sorted(changed)))
    assert changed <= set(WHY_CHANGED), changed - set(WHY_CHANGED)
    assert changed >= MUST_CHANGE
    assert set(report.replaced) | set(report.removed) == changed
    assert report.removed == REMOVED.get(name, ())
    assert not set(report.removed) & set(after)
    for entry in set(before) - changed:
        assert after[entry] == before[entry], entry
    if "xl/styles.xml" in changed:
        old_xfs, _ = _cell_xfs(before["xl/styles.xml"].content)
        new_xfs, count = _cell_xfs(after["xl/styles.xml"].content)
        assert new_xfs[: len(old_xfs)] == old_xfs  # existing styles untouched, only appended
        assert len(new_xfs) > len(old_xfs)
        assert count == str(len(new_xfs))
    assert list(after)[: len(before) - len(report.removed)] == [
        e for e in before if e not in report.removed
    ]
    assert list(after)[len(before) - len(report.removed) :] == list(report.added)

    for sheet in SHEET_NAMES:
        assert read_sheet(path, sheet) == expected_readback(sheet)
    assert _loads_in_openpyxl(path) == opened_before

    first = after
    write_owned_sheets(path, sample_sheets())
    second = raw_entries(path)
    assert second.keys() == first.keys()
    assert {e for e in first if first[e] != second[e]} <= set(report.added)
    assert part(path, "xl/workbook.xml") == first["xl/workbook.xml"].content
