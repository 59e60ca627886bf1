"""Rich workbooks for the fidelity corpus: everything a trader may have built, made reproducibly.

openpyxl builds the base: the input and owned sheets, a chart, comments, data validation, a colour
scale, a classic data bar, defined names, an Excel table and a formula that reads `Hedge!F5`. The
features openpyxl cannot write are hand-written parts injected into the package with their
relationships and content types, one function each: a picture and a text box, sparklines, the
Excel 2010 data-bar extension, a form-control button (VML + ctrlProp), a calculation chain and,
for the .xlsm, a VBA project. Every zip entry gets a fixed timestamp and the document properties
a fixed date, so the same call always produces the same bytes.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from lxml import etree
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.formatting.rule import ColorScaleRule, DataBarRule
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo

from rules_engine.contract import OWNED_MARKER, OWNED_SHEETS

VBA_SOURCE = Path(__file__).parent / "data" / "real-workbooks" / "calamine_vba.xlsm"

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XM = "http://schemas.microsoft.com/office/excel/2006/main"
XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"

#: The user formula that must keep reading layer 1's contracts after every recompute.
HEDGE_FORMULA = "=Hedge!F5"
BUTTON_MACRO = "[0]!Recompute"
_DATA_BAR_ID = "{8F7A2C31-5B0E-4D52-9C1A-3E6F0B7D4A21}"
_FIXED_TIME = (2024, 1, 2, 3, 4, 6)
_FIXED_CORE = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties xmlns:cp='
    b'"http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc='
    b'"http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi='
    b'"http://www.w3.org/2001/XMLSchema-instance"><dc:creator>alvh tests</dc:creator>'
    b'<dcterms:created xsi:type="dcterms:W3CDTF">2024-01-02T03:04:05Z</dcterms:created>'
    b'<dcterms:modified xsi:type="dcterms:W3CDTF">2024-01-02T03:04:05Z</dcterms:modified>'
    b"</cp:coreProperties>"
)
#: Worksheet children in schema order (CT_Worksheet); injected elements go in their place.
SHEET_ORDER = (
    "sheetPr",
    "dimension",
    "sheetViews",
    "sheetFormatPr",
    "cols",
    "sheetData",
    "sheetCalcPr",
    "sheetProtection",
    "protectedRanges",
    "scenarios",
    "autoFilter",
    "sortState",
    "dataConsolidate",
    "customSheetViews",
    "mergeCells",
    "phoneticPr",
    "conditionalFormatting",
    "dataValidations",
    "hyperlinks",
    "printOptions",
    "pageMargins",
    "pageSetup",
    "headerFooter",
    "rowBreaks",
    "colBreaks",
    "customProperties",
    "cellWatches",
    "ignoredErrors",
    "smartTags",
    "drawing",
    "legacyDrawing",
    "legacyDrawingHF",
    "drawingHF",
    "picture",
    "oleObjects",
    "controls",
    "webPublishItems",
    "tableParts",
    "extLst",
)


@dataclass(frozen=True)
class Feature:
    """Something the user built, the parts that carry it, and text proving it is in them."""

    name: str
    parts: tuple[str, ...]
    evidence: bytes


@dataclass(frozen=True)
class RichBook:
    path: Path
    features: tuple[Feature, ...]


#: Each rich workbook and the owned sheets it already has: the .xlsx has all four (as `alvh init`
#: leaves them), the .xlsm with its VBA project has only Hedge, so the other three get added.
RICH_WORKBOOKS: dict[str, tuple[str, ...]] = {
    "rich_features.xlsx": OWNED_SHEETS,
    "rich_features_vba.xlsm": ("Hedge",),
}


def build_rich_workbook(name: str, folder: Path) -> RichBook:
    """Write the rich workbook `name` (a key of RICH_WORKBOOKS) into `folder`."""
    return _build(folder / name, owned=RICH_WORKBOOKS[name], vba=name.endswith(".xlsm"))


def _build(path: Path, *, owned: tuple[str, ...], vba: bool) -> RichBook:
    package = _Package(_base(owned))
    features = [
        *_openpyxl_features(package),
        _picture_and_text_box(package),
        _sparklines(package),
        _x14_data_bar(package),
        _button(package),
        _calc_chain(package),
    ]
    if vba:
        features.append(_vba_project(package))
    package.parts["docProps/core.xml"] = _FIXED_CORE
    package.save(path)
    return RichBook(path, tuple(features))


# --- the base, made by openpyxl ----------------------------------------------------------------


def _base(owned: tuple[str, ...]) -> bytes:
    book = openpyxl.Workbook()
    data = book.active
    assert data is not None
    data.title = "Data"
    data.append(["Date", "SPX", "VIX", "Cost", "Status"])
    for day, spx, vix, cost in [(2, 2800, 11.1, 120), (3, 2820, 11.5, 80), (4, 2790, 13.0, -40)]:
        data.append([f"2018-01-0{day}", spx, vix, cost, "ACTIVE"])
    table = Table(displayName="Book", ref="A1:E4")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    data.add_table(table)
    status = DataValidation(type="list", formula1='"ACTIVE,STANDBY"', allow_blank=True)
    status.add("E2:E4")
    data.add_data_validation(status)
    data.conditional_formatting.add(
        "C2:C4", ColorScaleRule(start_type="min", start_color="FFF8696B", end_type="max")
    )
    data.conditional_formatting.add(
        "D2:D4", DataBarRule(start_type="min", end_type="max", color="FF638EC6")
    )

    dashboard = book.create_sheet("Dashboard")
    dashboard["A1"] = "Layer 1 contracts"
    dashboard["B1"] = HEDGE_FORMULA
    dashboard["A2"] = "SPX average"
    dashboard["B2"] = "=AVERAGE(Data!B2:B4)"
    dashboard["A1"].comment = Comment("Reads the Hedge sheet that alvh rewrites", "trader")
    chart = BarChart()
    chart.title = "VIX"
    chart.add_data(Reference(data, min_col=3, min_row=1, max_row=4), titles_from_data=True)
    dashboard.add_chart(chart, "D2")
    book.create_sheet("Controls")["A1"] = "Press the button to recompute"

    for name in owned:
        sheet = book.create_sheet(name)
        sheet["A1"] = f"{OWNED_MARKER} - {name}: rewritten by `alvh recompute`; edits here are lost"
        sheet["F5"] = 0
    book.defined_names["LayerOneContracts"] = DefinedName(
        "LayerOneContracts", attr_text="Hedge!$F$5"
    )
    book.defined_names["BookData"] = DefinedName("BookData", attr_text="Data!$A$1:$E$4")
    dashboard.defined_names["Threshold"] = DefinedName("Threshold", attr_text="Dashboard!$B$2")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _openpyxl_features(package: _Package) -> list[Feature]:
    data, dashboard = package.sheet_part("Data"), package.sheet_part("Dashboard")
    dashboard_rels = package.related_parts(dashboard)
    comments = next(p for p in dashboard_rels if "comments" in p and p.endswith(".xml"))
    comment_vml = next(p for p in dashboard_rels if p.endswith(".vml"))
    drawing = next(p for p in dashboard_rels if "/drawings/" in p and p.endswith(".xml"))
    chart = next(p for p in package.related_parts(drawing) if "/charts/" in p)
    table = next(p for p in package.related_parts(data) if "/tables/" in p)
    workbook = package.parts["xl/workbook.xml"]
    assert b"LayerOneContracts" in workbook and b"Threshold" in workbook
    return [
        Feature("chart", (chart, drawing), b"<barChart>"),
        Feature("comments", (comments, comment_vml), b"Reads the Hedge sheet"),
        Feature("Excel table", (table,), b'displayName="Book"'),
        Feature("data validation", (data,), b"<dataValidation "),
        Feature("conditional formats", (data,), b'type="colorScale"'),
        Feature("formula reading Hedge!F5", (dashboard,), HEDGE_FORMULA[1:].encode()),
    ]


# --- hand-written parts ------------------------------------------------------------------------


def _picture_and_text_box(package: _Package) -> Feature:
    sheet = package.sheet_part("Controls")
    image = package.free_name("xl/media/image{}.png")
    drawing = package.free_name("xl/drawings/drawing{}.xml")
    package.add(image, _png(), default=("png", "image/png"))
    image_rid = package.relate(drawing, REL_TYPE + "image", image)
    content = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<xdr:wsDr xmlns:xdr="{XDR}" xmlns:a="{A}" xmlns:r="{REL}">'
        f'{_anchor(0, 2, 2, 8)}<xdr:pic><xdr:nvPicPr><xdr:cNvPr id="2" name="Logo"/>'
        '<xdr:cNvPicPr><a:picLocks noChangeAspect="1"/></xdr:cNvPicPr></xdr:nvPicPr>'
        f'<xdr:blipFill><a:blip r:embed="{image_rid}"/><a:stretch><a:fillRect/></a:stretch>'
        '</xdr:blipFill><xdr:spPr><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr>'
        "</xdr:pic><xdr:clientData/></xdr:twoCellAnchor>"
        f'{_anchor(3, 2, 7, 6)}<xdr:sp macro="" textlink=""><xdr:nvSpPr><xdr:cNvPr id="3" '
        'name="TextBox 2"/><xdr:cNvSpPr txBox="1"/></xdr:nvSpPr><xdr:spPr><a:prstGeom prst="rect">'
        "<a:avLst/></a:prstGeom></xdr:spPr><xdr:txBody><a:bodyPr/><a:lstStyle/><a:p><a:r>"
        "<a:t>Hedge layers refresh when you press Recompute</a:t></a:r></a:p></xdr:txBody>"
        "</xdr:sp><xdr:clientData/></xdr:twoCellAnchor></xdr:wsDr>"
    ).encode()
    package.add(
        drawing, content, content_type="application/vnd.openxmlformats-officedocument.drawing+xml"
    )
    rid = package.relate(sheet, REL_TYPE + "drawing", drawing)
    package.edit_sheet(sheet, lambda root: _place(root, _element("drawing", {f"{{{REL}}}id": rid})))
    return Feature("picture and text box", (drawing, image, sheet), b'txBox="1"')


def _anchor(col: int, row: int, to_col: int, to_row: int) -> str:
    def marker(tag: str, c: int, r: int) -> str:
        return (
            f"<xdr:{tag}><xdr:col>{c}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{r}</xdr:row>"
            f"<xdr:rowOff>0</xdr:rowOff></xdr:{tag}>"
        )

    start, end = marker("from", col, row), marker("to", to_col, to_row)
    return f'<xdr:twoCellAnchor editAs="oneCell">{start}{end}'


def _png() -> bytes:
    """A 2x2 RGB PNG, built from its chunks (Pillow is not needed)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    pixels = b"\x00\xff\x00\x00\x00\x80\xff" * 2
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


def _sparklines(package: _Package) -> Feature:
    sheet = package.sheet_part("Dashboard")
    ext = (
        f'<ext xmlns="{MAIN}" xmlns:x14="{X14}" uri="{{05C60535-1F16-4fd2-B633-F4F36F0B64E0}}">'
        f'<x14:sparklineGroups xmlns:xm="{XM}"><x14:sparklineGroup displayEmptyCellsAs="gap">'
        '<x14:colorSeries rgb="FF376092"/><x14:colorNegative rgb="FFD00000"/><x14:sparklines>'
        "<x14:sparkline><xm:f>Data!B2:B4</xm:f><xm:sqref>C1</xm:sqref></x14:sparkline>"
        "<x14:sparkline><xm:f>Data!C2:C4</xm:f><xm:sqref>C2</xm:sqref></x14:sparkline>"
        "</x14:sparklines></x14:sparklineGroup></x14:sparklineGroups></ext>"
    )
    package.edit_sheet(sheet, lambda root: _add_ext(root, ext))
    return Feature("sparklines (x14 extension)", (sheet,), b"<x14:sparklineGroups")


def _x14_data_bar(package: _Package) -> Feature:
    sheet = package.sheet_part("Data")
    ext = (
        f'<ext xmlns="{MAIN}" xmlns:x14="{X14}" uri="{{78C0D931-6437-407d-A8EE-F0AAD7539E65}}">'
        f'<x14:conditionalFormattings><x14:conditionalFormatting xmlns:xm="{XM}">'
        f'<x14:cfRule type="dataBar" id="{_DATA_BAR_ID}"><x14:dataBar minLength="0" '
        'maxLength="100" gradient="0" negativeBarColorSameAsPositive="0"><x14:cfvo type="autoMin"/>'
        '<x14:cfvo type="autoMax"/><x14:negativeFillColor rgb="FFFF0000"/>'
        '<x14:axisColor rgb="FF000000"/></x14:dataBar></x14:cfRule><xm:sqref>D2:D4</xm:sqref>'
        "</x14:conditionalFormatting></x14:conditionalFormattings></ext>"
    )

    def link(root: etree._Element) -> None:
        rule = root.find(f".//{{{MAIN}}}cfRule[@type='dataBar']")
        assert rule is not None
        rule.append(
            etree.fromstring(
                f'<extLst xmlns="{MAIN}"><ext xmlns:x14="{X14}" '
                f'uri="{{B025F937-C7B1-47D3-B67F-A62EFF666E3E}}"><x14:id>{_DATA_BAR_ID}</x14:id>'
                "</ext></extLst>"
            )
        )
        _add_ext(root, ext)

    package.edit_sheet(sheet, link)
    return Feature("data bar (x14 extension)", (sheet,), b"<x14:dataBar ")


def _button(package: _Package) -> Feature:
    """A form-control button that runs a macro: legacy VML shape plus its ctrlProp part."""
    sheet = package.sheet_part("Controls")
    vml = package.free_name("xl/drawings/vmlDrawing{}.vml")
    ctrl = package.free_name("xl/ctrlProps/ctrlProp{}.xml")
    package.add(
        vml,
        _button_vml(),
        default=("vml", "application/vnd.openxmlformats-officedocument.vmlDrawing"),
    )
    package.add(
        ctrl,
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<formControlPr xmlns="{X14}" '
        'objectType="Button" lockText="1"/>'.encode(),
        content_type="application/vnd.ms-excel.controlproperties+xml",
    )
    vml_rid = package.relate(sheet, REL_TYPE + "vmlDrawing", vml)
    ctrl_rid = package.relate(sheet, REL_TYPE + "ctrlProp", ctrl)
    cell = "<xdr:col>{}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{}</xdr:row><xdr:rowOff>0"
    cell += "</xdr:rowOff>"
    controls = (
        f'<mc:AlternateContent xmlns:mc="{MC}" xmlns="{MAIN}" xmlns:r="{REL}" xmlns:xdr="{XDR}">'
        '<mc:Choice Requires="x14"><controls><mc:AlternateContent><mc:Choice Requires="x14">'
        f'<control shapeId="1025" r:id="{ctrl_rid}" name="Button 1"><controlPr defaultSize="0" '
        f'print="0" autoFill="0" autoPict="0" macro="{BUTTON_MACRO}"><anchor moveWithCells="1" '
        f'sizeWithCells="1"><from>{cell.format(1, 9)}</from><to>{cell.format(3, 11)}</to></anchor>'
        "</controlPr></control></mc:Choice></mc:AlternateContent></controls></mc:Choice>"
        "</mc:AlternateContent>"
    )

    def place(root: etree._Element) -> None:
        _place(root, _element("legacyDrawing", {f"{{{REL}}}id": vml_rid}))
        _place(root, etree.fromstring(controls), tag="controls")

    package.edit_sheet(sheet, place)
    return Feature("form-control button", (vml, ctrl, sheet), BUTTON_MACRO.encode())


def _button_vml() -> bytes:
    return (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:'
        'office" xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit">'
        '<o:idmap v:ext="edit" data="1"/></o:shapelayout><v:shapetype id="_x0000_t201" '
        'coordsize="21600,21600" o:spt="201" path="m,l,21600r21600,l21600,xe"><v:stroke '
        'joinstyle="miter"/><v:path shadowok="f" o:extrusionok="f" strokeok="f" fillok="f" '
        'o:connecttype="rect"/><o:lock v:ext="edit" shapetype="t"/></v:shapetype><v:shape '
        'id="_x0000_s1025" type="#_x0000_t201" style="position:absolute;margin-left:48pt;'
        'margin-top:135pt;width:96pt;height:30pt;z-index:1" o:button="t" fillcolor="buttonFace '
        '[67]" strokecolor="windowText [64]" o:insetmode="auto"><v:fill color2="buttonFace [67]" '
        'o:detectmouseclick="t"/><o:lock v:ext="edit" rotation="t"/><v:textbox '
        'style="mso-direction-alt:auto" o:singleclick="f"><div style="text-align:center">'
        '<font face="Calibri" size="220" color="#000000">Recompute</font></div></v:textbox>'
        '<x:ClientData ObjectType="Button"><x:Anchor>1, 0, 9, 0, 3, 0, 11, 0</x:Anchor>'
        "<x:PrintObject>False</x:PrintObject><x:AutoFill>False</x:AutoFill><x:FmlaMacro>"
        f"{BUTTON_MACRO}</x:FmlaMacro><x:TextHAlign>Center</x:TextHAlign><x:TextVAlign>Center"
        "</x:TextVAlign></x:ClientData></v:shape></xml>"
    ).encode()


def _calc_chain(package: _Package) -> Feature:
    """The chain Excel keeps for the Dashboard formulas (it lists no owned sheet, so it stays)."""
    sheet_id = package.sheet_id("Dashboard")
    chain = "xl/calcChain.xml"
    assert chain not in package.parts
    package.add(
        chain,
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<calcChain xmlns="{MAIN}">'
        f'<c r="B1" i="{sheet_id}"/><c r="B2"/></calcChain>'.encode(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml",
    )
    package.relate("xl/workbook.xml", REL_TYPE + "calcChain", chain)
    return Feature("calculation chain", (chain,), b'<c r="B1"')


def _vba_project(package: _Package) -> Feature:
    with zipfile.ZipFile(VBA_SOURCE) as source:
        project = source.read("xl/vbaProject.bin")
    package.add(
        "xl/vbaProject.bin", project, default=("bin", "application/vnd.ms-office.vbaProject")
    )
    package.relate(
        "xl/workbook.xml",
        "http://schemas.microsoft.com/office/2006/relationships/vbaProject",
        "xl/vbaProject.bin",
    )
    types = etree.fromstring(package.parts["[Content_Types].xml"])
    override = types.find(f"{{{CT}}}Override[@PartName='/xl/workbook.xml']")
    assert override is not None
    override.set("ContentType", "application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    package.parts["[Content_Types].xml"] = _serialize(types)
    return Feature("VBA project", ("xl/vbaProject.bin",), project[:8])


# --- the package being edited ------------------------------------------------------------------


class _Package:
    """The zip's parts in order, with just enough OPC bookkeeping to add parts correctly."""

    def __init__(self, content: bytes) -> None:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            self.parts = {info.filename: archive.read(info) for info in archive.infolist()}

    def free_name(self, pattern: str) -> str:
        n = 1
        while pattern.format(n) in self.parts:
            n += 1
        return pattern.format(n)

    def add(
        self,
        name: str,
        content: bytes,
        *,
        content_type: str | None = None,
        default: tuple[str, str] | None = None,
    ) -> None:
        self.parts[name] = content
        types = etree.fromstring(self.parts["[Content_Types].xml"])
        if content_type is not None:
            _sub(types, f"{{{CT}}}Override", PartName="/" + name, ContentType=content_type)
        if (
            default is not None
            and types.find(f"{{{CT}}}Default[@Extension='{default[0]}']") is None
        ):
            _sub(types, f"{{{CT}}}Default", Extension=default[0], ContentType=default[1])
        self.parts["[Content_Types].xml"] = _serialize(types)

    def relate(self, source: str, rel_type: str, target: str) -> str:
        """Add a relationship from `source` to the part `target`; returns its id."""
        folder, base = posixpath.split(source)
        rels_name = posixpath.join(folder, "_rels", base + ".rels")
        rels = etree.fromstring(
            self.parts.get(rels_name, f'<Relationships xmlns="{PKG_REL}"/>'.encode())
        )
        taken = {int(m.group(1)) for r in rels if (m := re.fullmatch(r"rId(\d+)", r.get("Id", "")))}
        rid = f"rId{max(taken, default=0) + 1}"
        relative = posixpath.relpath(target, folder)
        _sub(rels, f"{{{PKG_REL}}}Relationship", Id=rid, Type=rel_type, Target=relative)
        self.parts[rels_name] = _serialize(rels)
        return rid

    def related_parts(self, source: str) -> list[str]:
        folder, base = posixpath.split(source)
        rels = etree.fromstring(self.parts[posixpath.join(folder, "_rels", base + ".rels")])
        return [_resolve(folder, r.get("Target", "")) for r in rels]

    def sheet_part(self, title: str) -> str:
        workbook = etree.fromstring(self.parts["xl/workbook.xml"])
        sheet = workbook.find(f"{{{MAIN}}}sheets/{{{MAIN}}}sheet[@name='{title}']")
        assert sheet is not None, title
        rels = etree.fromstring(self.parts["xl/_rels/workbook.xml.rels"])
        rel = rels.find(f"{{{PKG_REL}}}Relationship[@Id='{sheet.get(f'{{{REL}}}id')}']")
        assert rel is not None
        return _resolve("xl", rel.get("Target", ""))

    def sheet_id(self, title: str) -> int:
        workbook = etree.fromstring(self.parts["xl/workbook.xml"])
        sheet = workbook.find(f"{{{MAIN}}}sheets/{{{MAIN}}}sheet[@name='{title}']")
        assert sheet is not None, title
        return int(sheet.get("sheetId", "0"))

    def edit_sheet(self, part: str, edit: Callable[[etree._Element], None]) -> None:
        root = etree.fromstring(self.parts[part])
        edit(root)
        self.parts[part] = _serialize(root)

    def save(self, path: Path) -> None:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in self.parts.items():
                archive.writestr(zipfile.ZipInfo(name, _FIXED_TIME), content, zipfile.ZIP_DEFLATED)


def _resolve(folder: str, target: str) -> str:
    """Zip name of a relationship target (openpyxl writes absolute ones, Excel relative ones)."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(folder, target))


def _element(tag: str, attributes: dict[str, str]) -> etree._Element:
    element = etree.Element(f"{{{MAIN}}}{tag}", nsmap={"r": REL})
    for key, value in attributes.items():
        element.set(key, value)
    return element


def _place(root: etree._Element, element: etree._Element, tag: str | None = None) -> None:
    """Insert a worksheet child after every sibling that the schema puts before it."""
    rank = SHEET_ORDER.index(tag or etree.QName(element).localname)
    before = [
        child
        for child in root
        if etree.QName(child).localname in SHEET_ORDER
        and SHEET_ORDER.index(etree.QName(child).localname) <= rank
    ]
    if before:
        before[-1].addnext(element)
    else:
        root.insert(0, element)


def _add_ext(root: etree._Element, ext: str) -> None:
    ext_list = root.find(f"{{{MAIN}}}extLst")
    if ext_list is None:
        ext_list = etree.Element(f"{{{MAIN}}}extLst")
        _place(root, ext_list)
    ext_list.append(etree.fromstring(ext))


def _sub(parent: etree._Element, tag: str, **attributes: str) -> None:
    element = etree.SubElement(parent, tag)
    for key, value in attributes.items():
        element.set(key, value)


def _serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
