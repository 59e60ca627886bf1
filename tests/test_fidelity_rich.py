"""Fidelity corpus: write the four owned sheets of a real engine run into copies of real Excel and
LibreOffice workbooks and of generated rich workbooks, and prove nothing else was touched.

For each file: every part other than the allowed bookkeeping parts keeps its compressed bytes, local
header and CRC; each changed part is listed with the reason it changed, and the reason is checked
(only sheet entries appended, only cell formats appended, calcChain removed only when it listed a
target sheet); the user's features (charts, drawings, pictures, VML, buttons, comments, tables,
VBA, pivots, defined names, sparklines) are present and identical; python-calamine reads back the
written cells exactly; openpyxl still loads the file; a second write changes nothing. The
password-protected file must be refused untouched with a message that says why. Each test prints
(with `-s`) and puts into its assertion messages a table of what it checked.
"""

from __future__ import annotations

import copy
import os
import posixpath
import re
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from rich_workbooks import HEDGE_FORMULA, RICH_WORKBOOKS, Feature, build_rich_workbook
from writer_support import (
    INJECTED_GROUP,
    RawEntry,
    engine_sheets,
    expected_cells,
    raw_entries,
    read_cells,
)

from rules_engine.contract import NUMBER_FORMATS
from rules_engine.models import SheetCells, WorkbookError
from rules_engine.workbook.writer import write_owned_sheets

CORPUS = Path(__file__).parent / "data" / "real-workbooks"
REAL_WORKBOOKS = sorted(p.name for p in CORPUS.iterdir() if p.suffix in {".xlsx", ".xlsm"})
#: Files that must be refused, and the words the message must contain.
REFUSED = {"calamine_pass_protected.xlsx": ("password", "encrypted", "remove the password")}

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
CALC_CHAIN_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain"
CALC_CHAIN_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"
STYLES_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"

#: Parts recognised as a user's feature in any workbook: (label, test on the part name).
FEATURE_PATTERNS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("chart", lambda n: n.startswith("xl/charts/")),
    ("drawing", lambda n: n.startswith("xl/drawings/") and n.endswith(".xml")),
    ("VML", lambda n: n.endswith(".vml")),
    ("picture", lambda n: n.startswith("xl/media/")),
    ("comments", lambda n: posixpath.basename(n).startswith("comment")),
    ("table", lambda n: n.startswith("xl/tables/")),
    ("form control", lambda n: n.startswith("xl/ctrlProps/")),
    ("pivot", lambda n: "pivot" in n.lower()),
    ("rich data", lambda n: "richdata" in n.lower()),
    ("VBA", lambda n: n.endswith("vbaProject.bin")),
)

CASES = [pytest.param(name, "real", id=name) for name in REAL_WORKBOOKS] + [
    pytest.param(name, "rich", id=name) for name in RICH_WORKBOOKS
]


@pytest.fixture(scope="module")
def sheets() -> list[SheetCells]:
    return engine_sheets()


@dataclass(repr=False)
class Checks:
    """What one file's test verified, rendered as a table for -s and for assertion messages."""

    name: str
    rows: list[tuple[str, str]] = field(default_factory=list)

    def add(self, what: str, result: str) -> None:
        self.rows.append((what, result))

    def __repr__(self) -> str:
        width = max((len(what) for what, _ in self.rows), default=0)
        lines = [f"{self.name}:"] + [f"  {what:<{width}}  {result}" for what, result in self.rows]
        return "\n".join(lines)


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_write_into_corpus_file(
    name: str, kind: str, sheets: list[SheetCells], tmp_path: Path
) -> None:
    checks = Checks(name)
    features: tuple[Feature, ...] = ()
    if kind == "rich":
        features = build_rich_workbook(name, tmp_path).features
    else:
        shutil.copyfile(CORPUS / name, tmp_path / name)
    path = tmp_path / name
    os.chmod(path, 0o644)
    try:
        if name in REFUSED:
            _check_refused(path, sheets, REFUSED[name], checks)
        else:
            _check_written(path, sheets, features, checks)
    finally:
        print(f"\n{checks!r}")


def _check_refused(
    path: Path, sheets: list[SheetCells], words: tuple[str, ...], checks: Checks
) -> None:
    original = path.read_bytes()
    with pytest.raises(WorkbookError) as caught:
        write_owned_sheets(path, sheets)
    message = str(caught.value)
    checks.add("refused", message)
    assert path.name in message, checks
    for word in words:
        assert word in message, checks
    assert path.read_bytes() == original, checks
    assert os.listdir(path.parent) == [path.name], checks
    checks.add("file and folder", "untouched, no temp file left")


def _check_written(
    path: Path, sheets: list[SheetCells], features: tuple[Feature, ...], checks: Checks
) -> None:
    before = raw_entries(path)
    original = _Package(before)
    opened_before = _openpyxl_loads(path)
    report = write_owned_sheets(path, sheets)
    after = raw_entries(path)
    written = _Package(after)

    changed = {part for part in before if before[part] != after.get(part)}
    reasons = _reasons(original, written, changed, sheets)
    for part in sorted(changed):
        checks.add(f"changed {part}", reasons.get(part, "NOT ALLOWED"))
    for part in report.added:
        checks.add(f"added {part}", "an owned sheet, or its drawing or chart")
    assert changed <= reasons.keys(), checks
    assert set(report.replaced) | set(report.removed) == changed, checks

    unchanged = [part for part in before if part not in changed]
    assert all(after[part] == before[part] for part in unchanged), checks
    kept = [part for part in before if part not in report.removed]
    assert list(after) == kept + list(report.added), checks  # same order, new parts last
    checks.add("other parts", f"{len(unchanged)} byte-identical (compressed bytes, header, CRC)")

    _check_features(before, after, features, checks)
    _check_defined_names(original, written, {s.name.casefold() for s in sheets}, checks)
    for sheet in sheets:
        assert read_cells(path, sheet.name) == expected_cells(sheet), checks
    checks.add("calamine read-back", "all four sheets, every cell with its type")
    _check_quote_prefix(written, sheets, checks)

    assert _openpyxl_loads(path) == opened_before, checks
    checks.add("openpyxl loads", "yes" if opened_before else "no, nor did it before the write")
    if features:
        _check_user_formula(path, sheets, checks)

    write_owned_sheets(path, sheets)
    assert raw_entries(path) == after, checks
    checks.add("second write", "byte-identical result")


@pytest.mark.parametrize("name", list(RICH_WORKBOOKS))
def test_rich_workbook_is_reproducible_and_complete(name: str, tmp_path: Path) -> None:
    """Same bytes on every run, and every feature openpyxl cannot write is really in the file."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    book = build_rich_workbook(name, tmp_path / "a")
    assert book.path.read_bytes() == build_rich_workbook(name, tmp_path / "b").path.read_bytes()
    entries = raw_entries(book.path)
    for feature in book.features:
        assert any(feature.evidence in entries[p].content for p in feature.parts), feature.name
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = openpyxl.load_workbook(book.path)
    seen = {str(w.message) for w in caught}  # openpyxl names the extensions it cannot keep
    assert any("Sparkline Group extension" in m for m in seen), seen
    assert any("Conditional Formatting extension" in m for m in seen), seen
    assert loaded["Dashboard"]["B1"].value == HEDGE_FORMULA
    assert "LayerOneContracts" in loaded.defined_names
    assert ("VBA project" in {f.name for f in book.features}) == name.endswith(".xlsm")


# --- why each part changed ---------------------------------------------------------------------


def _reasons(
    original: _Package, written: _Package, changed: set[str], sheets: list[SheetCells]
) -> dict[str, str]:
    """The reason for each part that may change; each reason is verified before it is given."""
    reasons: dict[str, str] = {}
    targets = {s.name.casefold() for s in sheets}
    for title, (sheet_id, part) in original.sheets.items():
        if title.casefold() in targets:
            reasons[part] = f"owned sheet {title} (sheetId {sheet_id}) rewritten"
    book = original.workbook
    if book in changed:
        reasons[book] = _workbook_reason(original, written, targets)
    rels = original.rels_of(book)
    if rels in changed:
        reasons[rels] = _rels_reason(original, written)
    if "[Content_Types].xml" in changed:
        reasons["[Content_Types].xml"] = _content_types_reason(original, written)
    styles = original.related(STYLES_REL)
    if styles in changed:
        reasons[styles] = _styles_reason(original, written, styles)
    chain = original.related(CALC_CHAIN_REL) or original.typed(CALC_CHAIN_TYPE)
    if chain in changed:
        reasons[chain] = _calc_chain_reason(original, written, chain, targets)
    return reasons


def _workbook_reason(original: _Package, written: _Package, targets: set[str]) -> str:
    old, new = original.xml(original.workbook), written.xml(written.workbook)
    _without_engine_titles(old, targets)
    titles = _without_engine_titles(new, targets)
    old_sheets, new_sheets = _child(old, "sheets"), _child(new, "sheets")
    added = [etree.tostring(s) for s in new_sheets][len(old_sheets) :]
    assert [etree.tostring(s) for s in new_sheets][: len(old_sheets)] == [
        etree.tostring(s) for s in old_sheets
    ]
    calc = _child(new, "calcPr")
    assert calc.get("fullCalcOnLoad") == "1"
    assert new.nsmap == old.nsmap
    for root in (old, new):
        for tag in ("sheets", "calcPr"):
            found = root.find(f"{{{MAIN}}}{tag}")
            if found is not None:
                root.remove(found)
    assert etree.tostring(old) == etree.tostring(new), "workbook.xml changed beyond the sheet list"
    return (
        f"{len(added)} <sheet> entries appended; calcPr fullCalcOnLoad=1; "
        f"print titles of owned sheets: {', '.join(titles) or 'none'}"
    )


def _without_engine_titles(root: etree._Element, targets: set[str]) -> list[str]:
    """Take the print titles the engine gives its own sheets out of a workbook root (and the
    definedNames element, if nothing else is in it); each must name rows of its own sheet."""
    tabs = [sheet.get("name") or "" for sheet in _child(root, "sheets")]
    owned = {str(i): name for i, name in enumerate(tabs) if name.casefold() in targets}
    names = root.find(f"{{{MAIN}}}definedNames")
    titles: list[str] = []
    for name in [] if names is None else list(names):
        sheet = owned.get(name.get("localSheetId") or "")
        if name.get("name") == "_xlnm.Print_Titles" and sheet is not None:
            quoted = re.escape(sheet.replace("'", "''"))
            assert re.fullmatch(rf"'{quoted}'!\$\d+:\$\d+", name.text or ""), name.text
            titles.append(name.text or "")
            names.remove(name)
    if names is not None and len(names) == 0:
        root.remove(names)
    return titles


def _rels_reason(original: _Package, written: _Package) -> str:
    old = {
        r.get("Id"): etree.tostring(r) for r in original.xml(original.rels_of(original.workbook))
    }
    new = {r.get("Id"): etree.tostring(r) for r in written.xml(written.rels_of(written.workbook))}
    removed = old.keys() - new.keys()
    assert all(new[rid] == old[rid] for rid in old.keys() & new.keys())
    assert all(b"calcChain" in old[rid] for rid in removed)
    added = len(new.keys() - old.keys())
    return f"{added} sheet relationships added, {len(removed)} calcChain removed"


def _content_types_reason(original: _Package, written: _Package) -> str:
    old = [etree.tostring(e) for e in original.xml("[Content_Types].xml")]
    new = [etree.tostring(e) for e in written.xml("[Content_Types].xml")]
    removed = [e for e in old if e not in new]
    added = [e for e in new if e not in old]
    assert all(b"calcChain" in e for e in removed)
    engine_types = (b"worksheet+xml", b"drawing+xml", b"drawingml.chart+xml")
    assert all(any(kind in e for kind in engine_types) for e in added)
    return f"{len(added)} sheet, drawing, chart Overrides added, {len(removed)} calcChain removed"


def _styles_reason(original: _Package, written: _Package, styles: str) -> str:
    """Only cellXfs may grow, by xfs that the written cells use; besides, the engine's custom
    number formats and its bold font (the default font 0 made bold) may be appended."""
    old, new = original.xml(styles), written.xml(styles)
    fonts = _appended(old, new, "fonts")
    bold = copy.deepcopy(_child(old, "fonts")[0])
    bold.insert(0, etree.Element(f"{{{MAIN}}}b"))
    assert all(_canonical(font) == _canonical(bold) for font in fonts), "not font 0 made bold"
    engine_codes = {code for number, code in NUMBER_FORMATS.values() if number is None}
    formats = _appended(old, new, "numFmts")
    assert all(int(f.get("numFmtId", "0")) > 163 for f in formats)
    assert all(f.get("formatCode") in engine_codes for f in formats)
    bold_ids = {str(len(_child(old, "fonts")) + i) for i in range(len(fonts))}
    old_xfs, new_xfs = list(_child(old, "cellXfs")), list(_child(new, "cellXfs"))
    assert [etree.tostring(x) for x in new_xfs[: len(old_xfs)]] == [
        etree.tostring(x) for x in old_xfs
    ]
    assert _child(new, "cellXfs").get("count") == str(len(new_xfs))
    appended = new_xfs[len(old_xfs) :]
    assert appended, "styles.xml changed without an xf being added"
    used = set().union(*(written.sheet_styles(title) for title in written.sheets))
    described = []
    for index, xf in enumerate(appended, start=len(old_xfs)):
        assert index in used, f"xf {index} was added but no written cell uses it"
        assert all(xf.get(k) == "0" for k in ("fillId", "borderId"))
        assert xf.get("fontId") in {"0", *bold_ids}
        assert all(c.tag == f"{{{MAIN}}}alignment" for c in xf) and len(xf) <= 1
        assert all(set(c.attrib) <= {"horizontal", "vertical", "wrapText"} for c in xf)
        quote = " quotePrefix" if xf.get("quotePrefix") == "1" else ""
        bold_font = " bold" if xf.get("fontId") in bold_ids else ""
        aligned = "".join(f" {k}={v}" for c in xf for k, v in c.attrib.items())
        described.append(f"numFmt {xf.get('numFmtId')}{quote}{bold_font}{aligned}")
    for root in (old, new):
        for tag in ("cellXfs", "fonts", "numFmts"):
            found = root.find(f"{{{MAIN}}}{tag}")
            if found is not None:
                root.remove(found)
    assert etree.tostring(old) == etree.tostring(new), "styles.xml changed beyond appending"
    return (
        f"{len(formats)} number formats, {len(fonts)} bold font appended; xfs appended for "
        "styles the file lacked: " + ", ".join(described)
    )


def _canonical(element: etree._Element) -> bytes:
    """An element's XML without the namespace declarations it merely inherits."""
    return etree.tostring(element, method="c14n", exclusive=True)


def _appended(old: etree._Element, new: etree._Element, tag: str) -> list[etree._Element]:
    """The children of `tag` that `new` has after all of `old`'s, which are kept unchanged; the
    count attribute, if any, counts them all."""
    old_list, new_list = old.find(f"{{{MAIN}}}{tag}"), new.find(f"{{{MAIN}}}{tag}")
    before = [] if old_list is None else list(old_list)
    after = [] if new_list is None else list(new_list)
    assert [etree.tostring(e) for e in after[: len(before)]] == [etree.tostring(e) for e in before]
    if new_list is not None and new_list.get("count") is not None:
        assert new_list.get("count") == str(len(after)), tag
    return after[len(before) :]


def _calc_chain_reason(original: _Package, written: _Package, chain: str, targets: set[str]) -> str:
    assert chain not in written.parts, "calcChain may only change by being removed"
    ids = {
        sheet_id for title, (sheet_id, _) in written.sheets.items() if title.casefold() in targets
    }
    listed: set[int] = set()
    current = 0
    for cell in original.xml(chain):
        current = int(cell.get("i", current))
        listed.add(current)
    assert listed & ids, "calcChain was removed although it lists no target sheet"
    return f"removed: lists cells on sheetId {sorted(listed & ids)}, now an owned sheet"


# --- features, names, styles, formulas ---------------------------------------------------------


def _check_features(
    before: dict[str, RawEntry],
    after: dict[str, RawEntry],
    features: tuple[Feature, ...],
    checks: Checks,
) -> None:
    for label, matches in FEATURE_PATTERNS:
        parts = [p for p in before if matches(p)]
        if parts:
            assert all(after.get(p) == before[p] for p in parts), checks
            checks.add(f"feature: {label}", f"{len(parts)} part(s) present and identical")
    for feature in features:
        assert all(after.get(p) == before[p] for p in feature.parts), checks
        assert any(feature.evidence in after[p].content for p in feature.parts), checks
        checks.add(f"feature: {feature.name}", "in " + ", ".join(feature.parts) + ", identical")


def _check_defined_names(
    original: _Package, written: _Package, targets: set[str], checks: Checks
) -> None:
    """The user's defined names are all kept identical; the engine's print titles aside."""
    old_root, new_root = original.xml(original.workbook), written.xml(written.workbook)
    _without_engine_titles(old_root, targets)
    _without_engine_titles(new_root, targets)
    old = old_root.find(f"{{{MAIN}}}definedNames")
    new = new_root.find(f"{{{MAIN}}}definedNames")
    assert (old is None) == (new is None), checks
    if old is not None and new is not None:
        assert etree.tostring(new) == etree.tostring(old), checks
        checks.add("defined names", f"{len(old)} identical")


def _check_quote_prefix(written: _Package, sheets: list[SheetCells], checks: Checks) -> None:
    """The engine's formula-like text is in quote-prefixed cells with no formula element."""
    risk = next(s for s in sheets if s.name == "Risk")
    cells = [
        f"{chr(65 + c)}{r + 1}"
        for r, row in enumerate(risk.rows)
        for c, v in enumerate(row)
        if v == INJECTED_GROUP
    ]
    styles = written.xml(written.related(STYLES_REL))
    xfs = list(_child(styles, "cellXfs"))
    root = written.xml(written.sheets["Risk"][1])
    assert root.find(f".//{{{MAIN}}}f") is None, checks
    for ref in cells:
        cell = root.find(f".//{{{MAIN}}}c[@r='{ref}']")
        assert cell is not None, checks
        assert xfs[int(cell.get("s", "0"))].get("quotePrefix") == "1", checks
    checks.add("formula-like text", f"{len(cells)} Risk cells quote-prefixed, no <f>")


def _check_user_formula(path: Path, sheets: list[SheetCells], checks: Checks) -> None:
    hedge = next(s for s in sheets if s.name == "Hedge")
    assert hedge.rows[3][5] == "Contracts", checks
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns it would drop the x14 extensions
        book = openpyxl.load_workbook(path)
    assert book["Dashboard"]["B1"].value == HEDGE_FORMULA, checks
    assert book["Hedge"]["F5"].value == hedge.rows[4][5], checks
    checks.add("user formula", f"Dashboard!B1 {HEDGE_FORMULA} kept; Hedge!F5 = {hedge.rows[4][5]}")


def _openpyxl_loads(path: Path) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            openpyxl.load_workbook(path)
    except Exception:  # openpyxl fails on some real files (pivots, odd part names) by itself
        return False
    return True


def _child(root: etree._Element, tag: str) -> etree._Element:
    found = root.find(f"{{{MAIN}}}{tag}")
    assert found is not None, tag
    return found


class _Package:
    """The package structure of a written or original file, read independently of the writer."""

    def __init__(self, entries: dict[str, RawEntry]) -> None:
        self.parts = {name: entry.content for name, entry in entries.items()}
        office = next(
            r for r in self.xml("_rels/.rels") if (r.get("Type") or "").endswith("/officeDocument")
        )
        self.workbook = _resolve("", office.get("Target") or "")
        by_id = {r.get("Id"): r for r in self.xml(self.rels_of(self.workbook))}
        self.sheets: dict[str, tuple[int, str]] = {}
        for sheet in _child(self.xml(self.workbook), "sheets"):
            rel = by_id[sheet.get(f"{{{REL}}}id")]
            part = _resolve(posixpath.dirname(self.workbook), rel.get("Target") or "")
            self.sheets[sheet.get("name") or ""] = (int(sheet.get("sheetId") or 0), part)

    def xml(self, part: str) -> etree._Element:
        return etree.fromstring(self.parts[part])

    @staticmethod
    def rels_of(part: str) -> str:
        folder, base = posixpath.split(part)
        return posixpath.join(folder, "_rels", base + ".rels")

    def related(self, rel_type: str) -> str:
        """The workbook's part of this relationship type ('' if none)."""
        for rel in self.xml(self.rels_of(self.workbook)):
            if rel.get("Type") == rel_type:
                return _resolve(posixpath.dirname(self.workbook), rel.get("Target") or "")
        return ""

    def typed(self, content_type: str) -> str:
        """The part with this content-type override ('' if none): some writers omit the rel."""
        for override in self.xml("[Content_Types].xml").iter(f"{{{CT}}}Override"):
            if override.get("ContentType") == content_type:
                return (override.get("PartName") or "").lstrip("/")
        return ""

    def sheet_styles(self, title: str) -> set[int]:
        root = self.xml(self.sheets[title][1])
        return {int(c.get("s", "0")) for c in root.iter(f"{{{MAIN}}}c")}


def _resolve(folder: str, target: str) -> str:
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    return posixpath.normpath(posixpath.join(folder, target))
