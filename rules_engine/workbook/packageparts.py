"""The workbook's bookkeeping parts, edited with lxml so nothing else in them changes.

Covers the package relationships, `[Content_Types].xml`, the workbook part (sheet list, protection,
date system, the print titles of owned sheets, calcPr), its relationships, `styles.xml` (cell
formats, with the custom number formats and the bold font they need) and the calculation chain.
lxml keeps the original namespace declarations, which `mc:Ignorable` depends on; a part is
serialized again only when something in it was actually changed, and nothing the user made in it
is ever changed: styles are only appended, defined names other than the engine's are left alone.
"""

from __future__ import annotations

import copy
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple
from urllib.parse import unquote

from lxml import etree

from rules_engine.models import WorkbookError
from rules_engine.workbook.sheetxml import MAIN_NS, MAX_ROWS, REL_NS, CellStyle
from rules_engine.workbook.zipsplice import ZipArchive

PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
STRICT_MAIN_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
_REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
WORKSHEET_REL = _REL_TYPE + "worksheet"
STYLES_REL = _REL_TYPE + "styles"
SHARED_STRINGS_REL = _REL_TYPE + "sharedStrings"
CALC_CHAIN_REL = _REL_TYPE + "calcChain"
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CALC_CHAIN_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"
STYLES_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CONTENT_TYPES = "[Content_Types].xml"

_DECLARATION = re.compile(rb"<\?xml[^>]*\?>\s*")
_EXCEL_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_TRUE = frozenset({"1", "true"})
#: Elements of CT_Workbook that come before definedNames and calcPr (each is inserted after the
#: last of these present).
_BEFORE_DEFINED_NAMES = ("sheets", "functionGroups", "externalReferences")
_BEFORE_CALC_PR = (*_BEFORE_DEFINED_NAMES, "definedNames")
#: The built-in defined name of the rows repeated at the top of each printed page of a sheet.
PRINT_TITLES = "_xlnm.Print_Titles"
#: Custom number formats take ids above the built-in ones (0-163).
_LAST_BUILTIN_FORMAT = 163
_MINIMAL_STYLES = (
    f'<styleSheet xmlns="{MAIN_NS}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/>'
    '</font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill>'
    '<patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/>'
    '<right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def q(ns: str, tag: str) -> str:
    """Clark notation `{ns}tag`, the way lxml names elements and attributes."""
    return f"{{{ns}}}{tag}"


def is_true(value: str | None) -> bool:
    """xsd:boolean as SpreadsheetML writes it."""
    return value is not None and value.strip().lower() in _TRUE


def parse_xml(name: str, content: bytes) -> etree._ElementTree:
    """Parse a part without network access, entity expansion or DTDs (none belong in OOXML)."""
    try:
        tree = etree.ElementTree(etree.fromstring(content, _PARSER))
    except etree.XMLSyntaxError as exc:
        raise WorkbookError(f"part {name} is not valid XML ({exc})") from exc
    if tree.docinfo.internalDTD is not None:
        raise WorkbookError(f"part {name} contains a DTD, which workbooks never do")
    return tree


def pull_parser() -> etree.XMLPullParser:
    """An incremental parser with `parse_xml`'s settings, for reading only the start of a part."""
    return etree.XMLPullParser(
        events=("start", "end"), resolve_entities=False, no_network=True, load_dtd=False
    )


def related_path(source: str, target: str) -> str:
    """Zip name of a relationship target, resolved against its source part's folder."""
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target)).lstrip("/")


def rels_path(part: str) -> str:
    """Where the relationships of `part` live: `xl/workbook.xml` -> `xl/_rels/workbook.xml.rels`."""
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def declaration(content: bytes) -> bytes:
    """The part's own UTF-8 XML declaration (reused verbatim on write), or Excel's usual one."""
    found = _DECLARATION.match(content)
    if found and (b"encoding" not in found.group(0) or b"utf-8" in found.group(0).lower()):
        return found.group(0)
    return _EXCEL_DECLARATION


@dataclass
class XmlPart:
    """A parsed part, the declaration it came with, and whether this write changed it."""

    name: str
    tree: etree._ElementTree
    prolog: bytes = b""
    new: bool = False
    changed: bool = False

    @property
    def root(self) -> etree._Element:
        return self.tree.getroot()

    def serialize(self) -> bytes:
        body = etree.tostring(self.tree, xml_declaration=False, encoding="UTF-8")
        return (self.prolog or _EXCEL_DECLARATION) + body


@dataclass(frozen=True)
class SheetInfo:
    """One `<sheet>` of the workbook with its relationship resolved."""

    name: str
    sheet_id: int
    rel_type: str
    part: str | None


class Package:
    """The workbook's bookkeeping parts: loaded lazily, edited in memory, written if changed."""

    def __init__(self, archive: ZipArchive) -> None:
        self.archive = archive
        self._parts: dict[str, XmlPart] = {}
        self._xf_of: dict[CellStyle, int] = {}
        self._format_of: dict[str, int] = {}
        self._bold_font: int | None = None
        self.removed: list[str] = []
        self.content_types = self.xml(CONTENT_TYPES)
        package_rels = self.xml("_rels/.rels")
        office = [
            rel
            for rel in package_rels.root.iter(q(PKG_REL_NS, "Relationship"))
            if (rel.get("Type") or "").endswith("/officeDocument")
        ]
        if not office:
            raise WorkbookError("it has no workbook part (is it really an Excel workbook?)")
        self.workbook_name = self.existing(related_path("", office[0].get("Target") or ""))
        if self.workbook_name.lower().endswith(".bin"):
            raise WorkbookError("it is a binary workbook (.xlsb); save it as .xlsx or .xlsm")
        self.workbook = self.xml(self.workbook_name)
        if self.workbook.root.tag == q(STRICT_MAIN_NS, "workbook"):
            raise WorkbookError(
                "it is saved as 'Strict Open XML'; save it as an ordinary Excel workbook"
            )
        if self.workbook.root.tag != q(MAIN_NS, "workbook"):
            raise WorkbookError(f"its workbook part {self.workbook_name} is not a workbook")
        self.rels = self.xml(rels_path(self.workbook_name))

    def existing(self, path: str) -> str:
        """The zip entry name for `path` (case-insensitive, percent-decoding as a fallback)."""
        entry = self.archive.find(path) or self.archive.find(unquote(path))
        if entry is None:
            raise WorkbookError(f"part {path} is missing; the file is damaged")
        return entry.name

    def xml(self, path: str) -> XmlPart:
        """The parsed part at `path`, parsed once."""
        name = self.existing(path)
        if name not in self._parts:
            entry = self.archive.find(name)
            assert entry is not None
            content = self.archive.read(entry)
            self._parts[name] = XmlPart(name, parse_xml(name, content), declaration(content))
        return self._parts[name]

    def _relationships(self) -> list[etree._Element]:
        return list(self.rels.root.iter(q(PKG_REL_NS, "Relationship")))

    def _target(self, rel: etree._Element) -> str | None:
        if rel.get("TargetMode") == "External":
            return None
        path = related_path(self.workbook_name, rel.get("Target") or "")
        entry = self.archive.find(path) or self.archive.find(unquote(path))
        return None if entry is None else entry.name

    def related(self, rel_type: str) -> str | None:
        """Zip name of the workbook's first part related by `rel_type` (None if absent)."""
        for rel in self._relationships():
            if rel.get("Type") == rel_type:
                return self._target(rel)
        return None

    def sheets(self) -> list[SheetInfo]:
        """The workbook's sheets in tab order."""
        by_id = {rel.get("Id"): rel for rel in self._relationships()}
        found: list[SheetInfo] = []
        for sheet in self.workbook.root.iter(q(MAIN_NS, "sheet")):
            rel = by_id.get(sheet.get(q(REL_NS, "id")))
            found.append(
                SheetInfo(
                    name=sheet.get("name") or "",
                    sheet_id=int(sheet.get("sheetId") or 0),
                    rel_type="" if rel is None else rel.get("Type") or "",
                    part=None if rel is None else self._target(rel),
                )
            )
        return found

    @property
    def date1904(self) -> bool:
        pr = self.workbook.root.find(q(MAIN_NS, "workbookPr"))
        return pr is not None and is_true(pr.get("date1904"))

    @property
    def structure_locked(self) -> bool:
        protection = self.workbook.root.find(q(MAIN_NS, "workbookProtection"))
        return protection is not None and is_true(protection.get("lockStructure"))

    def add_sheet(self, name: str) -> tuple[str, int]:
        """Register a new worksheet part; returns its zip name and sheetId."""
        taken = {e.name.casefold() for e in self.archive.entries}
        taken |= {p.casefold().lstrip("/") for p in self._override_names()}
        folder = posixpath.dirname(self.workbook_name)
        n = 1
        while posixpath.join(folder, f"worksheets/sheet{n}.xml").casefold() in taken:
            n += 1
        part = posixpath.join(folder, f"worksheets/sheet{n}.xml")
        sheets = self.workbook.root.find(q(MAIN_NS, "sheets"))
        if sheets is None:
            raise WorkbookError(f"its workbook part {self.workbook_name} has no sheet list")
        sheet_id = 1 + max((int(s.get("sheetId") or 0) for s in sheets), default=0)
        rid = self._add_relationship(WORKSHEET_REL, f"worksheets/sheet{n}.xml")
        element = etree.SubElement(sheets, q(MAIN_NS, "sheet"))
        element.set("name", name)
        element.set("sheetId", str(sheet_id))
        element.set(q(REL_NS, "id"), rid)
        self.workbook.changed = True
        self.add_override(part, WORKSHEET_TYPE)
        return part, sheet_id

    def _add_relationship(self, rel_type: str, target: str) -> str:
        numbers = [
            int(m.group(1))
            for rel in self._relationships()
            if (m := re.fullmatch(r"rId(\d+)", rel.get("Id") or ""))
        ]
        taken = {rel.get("Id") for rel in self._relationships()}
        rid = f"rId{1 + max(numbers, default=0)}"
        while rid in taken:
            rid += "a"
        rel = etree.SubElement(self.rels.root, q(PKG_REL_NS, "Relationship"))
        rel.set("Id", rid)
        rel.set("Type", rel_type)
        rel.set("Target", target)
        self.rels.changed = True
        return rid

    def _override_names(self) -> list[str]:
        return [o.get("PartName") or "" for o in self.content_types.root.iter(q(CT_NS, "Override"))]

    def _typed_part(self, content_type: str) -> str | None:
        """A part found through its content-type override alone (some writers omit the rel)."""
        for override in self.content_types.root.iter(q(CT_NS, "Override")):
            if override.get("ContentType") == content_type:
                entry = self.archive.find((override.get("PartName") or "").lstrip("/"))
                if entry is not None:
                    return entry.name
        return None

    @property
    def parts(self) -> Mapping[str, XmlPart]:
        """The XML parts this write has parsed or created, by name."""
        return MappingProxyType(self._parts)

    def add_part(self, part: XmlPart) -> None:
        """Keep a part this write creates (it is written with the changed parts)."""
        self._parts[part.name] = part

    def add_override(self, part: str, content_type: str) -> None:
        """Declare a part's content type."""
        override = etree.SubElement(self.content_types.root, q(CT_NS, "Override"))
        override.set("PartName", "/" + part)
        override.set("ContentType", content_type)
        self.content_types.changed = True

    def remove_part(self, part: str) -> None:
        """Drop a part with its workbook relationship and content-type override."""
        for rel in self._relationships():
            if self._target(rel) == part:
                self._detach(rel)
                self.rels.changed = True
        for override in self.content_types.root.iter(q(CT_NS, "Override")):
            if (override.get("PartName") or "").lstrip("/").casefold() == part.casefold():
                self._detach(override)
                self.content_types.changed = True
        self.removed.append(part)

    @staticmethod
    def _detach(element: etree._Element) -> None:
        parent = element.getparent()
        if parent is not None:
            parent.remove(element)

    def _workbook_child(self, tag: str, after: tuple[str, ...]) -> etree._Element:
        """The workbook's `tag` element, created after the last of `after` if it has none."""
        root = self.workbook.root
        found = root.find(q(MAIN_NS, tag))
        if found is None:
            before = {q(MAIN_NS, name) for name in after}
            anchors = [child for child in root if child.tag in before]
            found = etree.Element(q(MAIN_NS, tag))
            if anchors:
                anchors[-1].addnext(found)
            else:
                root.append(found)
            self.workbook.changed = True
        return found

    def set_print_titles(self, position: int, sheet: str, rows: tuple[int, int] | None) -> None:
        """Make rows `rows` (0-based, first and last) of the sheet at tab `position` (0-based,
        the defined name's localSheetId) repeat at the top of each printed page; None for none.

        The sheet is engine-owned, so its print titles are the engine's: any earlier ones are
        replaced. The workbook changes only when the titles do; other defined names never."""
        wanted = None if rows is None else _print_titles_formula(sheet, rows)
        names = self.workbook.root.find(q(MAIN_NS, "definedNames"))
        current = [] if names is None else _print_titles_of(names, position)
        if [name.text for name in current] == ([] if wanted is None else [wanted]):
            return
        for name in current:
            self._detach(name)
        if wanted is not None:
            names = self._workbook_child("definedNames", _BEFORE_DEFINED_NAMES)
            name = etree.SubElement(names, q(MAIN_NS, "definedName"))
            name.set("name", PRINT_TITLES)
            name.set("localSheetId", str(position))
            name.text = wanted
        elif names is not None and len(names) == 0:
            self._detach(names)
        self.workbook.changed = True

    def ensure_full_calc_on_load(self) -> None:
        """Make Excel recalculate on open, so formulas reading our sheets are up to date."""
        calc = self._workbook_child("calcPr", _BEFORE_CALC_PR)
        if not is_true(calc.get("fullCalcOnLoad")):
            calc.set("fullCalcOnLoad", "1")
            self.workbook.changed = True

    def calc_chain_lists(self, sheet_ids: set[int]) -> str | None:
        """The calcChain part if it lists a cell on one of these sheets (else None)."""
        part = self.related(CALC_CHAIN_REL) or self._typed_part(CALC_CHAIN_TYPE)
        if part is None:
            return None
        current: int | None = None
        for cell in self.xml(part).root.iter(q(MAIN_NS, "c")):
            index = cell.get("i")
            current = int(index) if index is not None else current
            if current is None or current in sheet_ids:
                return part
        return None

    def style_index(self, style: CellStyle) -> int:
        """cellXfs index of a cell style: an existing xf that shows exactly it, else a new one.

        Existing xfs, fonts and number formats are never changed (user cells use them): a bold
        font and custom number formats are appended when first needed, and found again on every
        later write, so styles.xml stops changing once the engine's styles are in it."""
        found = self._xf_of.get(style)
        if found is not None:
            return found
        stylesheet = self._styles()
        cell_xfs = stylesheet.root.find(q(MAIN_NS, "cellXfs"))
        if cell_xfs is None or len(cell_xfs) == 0:
            raise WorkbookError(
                f"its styles part {stylesheet.name} has no cell formats; re-save it"
            )
        wanted = _Xf(
            number_format=self._number_format(style),
            font=self._bold_font_id() if style.bold else 0,
            quote_prefix=style.quote_prefix,
            alignment=_alignment(style),
        )
        xfs = list(cell_xfs)
        match = next((i for i, xf in enumerate(xfs) if _plain_xf(xf, wanted)), None)
        if match is None:
            _append_xf(stylesheet.root, cell_xfs, wanted)
            match = len(xfs)
            cell_xfs.set("count", str(len(xfs) + 1))
            stylesheet.changed = True
        self._xf_of[style] = match
        return match

    def _number_format(self, style: CellStyle) -> int:
        """The numFmtId of a style: its built-in id, or the id the workbook declares its custom
        format code under (declared now, above every id in use, if the workbook has none)."""
        code = style.format_code
        if not code:
            return style.format_id
        found = self._format_of.get(code)
        if found is not None:
            return found
        stylesheet = self._styles()
        formats = stylesheet.root.find(q(MAIN_NS, "numFmts"))
        declared = {} if formats is None else _declared_formats(formats)
        found = next((n for n, known in declared.items() if known == code), None)
        if found is None:
            found = 1 + max((*declared, _LAST_BUILTIN_FORMAT))
            if formats is None:
                formats = etree.Element(q(MAIN_NS, "numFmts"))
                stylesheet.root.insert(0, formats)  # numFmts is the first child of styleSheet
            fmt = etree.SubElement(formats, q(MAIN_NS, "numFmt"))
            fmt.set("numFmtId", str(found))
            fmt.set("formatCode", code)
            formats.set("count", str(len(formats.findall(q(MAIN_NS, "numFmt")))))
            stylesheet.changed = True
        self._format_of[code] = found
        return found

    def _bold_font_id(self) -> int:
        """fontId of the workbook's default font (font 0: the user's theme font and size) made
        bold: an existing font equal to it, or a copy of font 0 with `<b/>` added to the fonts."""
        if self._bold_font is not None:
            return self._bold_font
        stylesheet = self._styles()
        fonts = stylesheet.root.find(q(MAIN_NS, "fonts"))
        faces = [] if fonts is None else fonts.findall(q(MAIN_NS, "font"))
        if fonts is None or not faces:
            raise WorkbookError(f"its styles part {stylesheet.name} has no fonts; re-save it")
        bold = copy.deepcopy(faces[0])
        for b in bold.findall(q(MAIN_NS, "b")):
            bold.remove(b)
        bold.insert(0, etree.Element(q(MAIN_NS, "b")))
        key = _font_key(bold)
        found = next((i for i, face in enumerate(faces) if _font_key(face) == key), None)
        if found is None:
            bold.tail = faces[-1].tail
            faces[-1].addnext(bold)
            found = len(faces)
            fonts.set("count", str(found + 1))
            stylesheet.changed = True
        self._bold_font = found
        return found

    def _styles(self) -> XmlPart:
        part = self.related(STYLES_REL)
        if part is not None:
            return self.xml(part)
        folder = posixpath.dirname(self.workbook_name)
        name = posixpath.join(folder, "styles.xml")
        if self.archive.find(name) is not None:
            raise WorkbookError(f"part {name} exists but the workbook does not use it; re-save it")
        tree = parse_xml(name, _MINIMAL_STYLES.encode())
        self._parts[name] = XmlPart(name, tree, new=True, changed=True)
        self._add_relationship(STYLES_REL, "styles.xml")
        self.add_override(name, STYLES_TYPE)
        return self._parts[name]

    def changed_parts(self) -> tuple[dict[str, bytes], dict[str, bytes]]:
        """(replaced, added): serialized XML for every part this write changed or created."""
        replaced = {p.name: p.serialize() for p in self._parts.values() if p.changed and not p.new}
        added = {p.name: p.serialize() for p in self._parts.values() if p.new}
        return replaced, added


class _Xf(NamedTuple):
    """A cell style resolved against the workbook: numFmtId, fontId, quotePrefix and the
    attributes of the xf's `<alignment>` (empty for none)."""

    number_format: int
    font: int
    quote_prefix: bool
    alignment: tuple[tuple[str, str], ...]


def _alignment(style: CellStyle) -> tuple[tuple[str, str], ...]:
    """The `<alignment>` attributes a style needs, in the order they are written."""
    horizontal = () if style.align is None else (("horizontal", style.align),)
    vertical = (("vertical", "top"),) if style.top else ()
    return horizontal + vertical + ((("wrapText", "1"),) if style.wrap else ())


def _plain_xf(xf: etree._Element, wanted: _Xf) -> bool:
    """An xf that shows `wanted` and nothing else: its number format, font, quotePrefix and
    alignment, default fill and border, no protection or pivot button."""
    if not (
        xf.get("numFmtId", "0") == str(wanted.number_format)
        and xf.get("fontId", "0") == str(wanted.font)
        and all(xf.get(key, "0") == "0" for key in ("fillId", "borderId"))
        and is_true(xf.get("quotePrefix")) == wanted.quote_prefix
        and not is_true(xf.get("pivotButton"))
    ):
        return False
    applied = {
        "applyNumberFormat": wanted.number_format != 0,
        "applyFont": wanted.font != 0,
        "applyAlignment": bool(wanted.alignment),
    }
    if any(needed and _is_false(xf.get(key)) for key, needed in applied.items()):
        return False
    children = list(xf)
    if not wanted.alignment:
        return not children
    return (
        len(children) == 1
        and children[0].tag == q(MAIN_NS, "alignment")
        and sorted(children[0].attrib.items()) == sorted(wanted.alignment)
    )


def _is_false(value: str | None) -> bool:
    """An xsd:boolean attribute that is present and false (an absent applyX counts as true)."""
    return value is not None and value.strip().lower() in {"0", "false"}


def _append_xf(stylesheet: etree._Element, cell_xfs: etree._Element, wanted: _Xf) -> None:
    """A new cellXfs entry showing `wanted`, with the default fill and border."""
    xf = etree.SubElement(cell_xfs, q(MAIN_NS, "xf"))
    xf.set("numFmtId", str(wanted.number_format))
    xf.set("fontId", str(wanted.font))
    for key in ("fillId", "borderId"):
        xf.set(key, "0")
    if stylesheet.find(f"{q(MAIN_NS, 'cellStyleXfs')}/{q(MAIN_NS, 'xf')}") is not None:
        xf.set("xfId", "0")
    if wanted.quote_prefix:
        xf.set("quotePrefix", "1")
    if wanted.number_format != 0:
        xf.set("applyNumberFormat", "1")
    if wanted.font != 0:
        xf.set("applyFont", "1")
    if wanted.alignment:
        xf.set("applyAlignment", "1")
        alignment = etree.SubElement(xf, q(MAIN_NS, "alignment"))
        for key, value in wanted.alignment:
            alignment.set(key, value)


def _declared_formats(formats: etree._Element) -> dict[int, str]:
    """numFmtId -> formatCode of the workbook's custom number formats (unreadable ids skipped)."""
    declared: dict[int, str] = {}
    for fmt in formats.findall(q(MAIN_NS, "numFmt")):
        number = fmt.get("numFmtId") or ""
        if number.strip().isdigit():
            declared[int(number)] = fmt.get("formatCode") or ""
    return declared


def _font_key(font: etree._Element) -> list[tuple[str, list[tuple[str, str]]]]:
    """What a font looks like, whatever the order of its properties: (tag, attributes) of each,
    a false `<b val="0"/>` left out and a true one written as plain `<b/>`."""
    key = []
    for child in font:
        if not isinstance(child.tag, str):
            continue
        attributes = sorted((str(k), str(v)) for k, v in child.attrib.items())
        if child.tag == q(MAIN_NS, "b"):
            if not (child.get("val") is None or is_true(child.get("val"))):
                continue
            attributes = []
        key.append((child.tag, attributes))
    return sorted(key)


def _print_titles_of(names: etree._Element, position: int) -> list[etree._Element]:
    """The `_xlnm.Print_Titles` defined names of the sheet at tab `position`."""
    return [
        name
        for name in names.findall(q(MAIN_NS, "definedName"))
        if (name.get("name") or "").casefold() == PRINT_TITLES.casefold()
        and (name.get("localSheetId") or "").strip() == str(position)
    ]


def _print_titles_formula(sheet: str, rows: tuple[int, int]) -> str:
    """`'Hedge'!$4:$4` for 0-based rows (3, 3): the sheet name quoted, apostrophes doubled."""
    first, last = rows
    if not 0 <= first <= last < MAX_ROWS:
        raise WorkbookError(f"sheet {sheet}: rows {first}..{last} cannot be print titles")
    quoted = sheet.replace("'", "''")
    return f"'{quoted}'!${first + 1}:${last + 1}"
