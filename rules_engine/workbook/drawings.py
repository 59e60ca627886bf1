"""The drawing and chart parts of an engine-owned sheet, replaced on every write.

An owned sheet is rewritten whole, so the drawing its relationships point at is the engine's:
it goes, with every part reachable from it (charts, their styles, pictures) that no other part
refers to, and the sheet's current charts take its place. Names are reused in order (the old
drawing's name, then its charts' names), so that writing the same charts again leaves every part
byte for byte as it was; fresh names are numbers no part of the package uses yet. A user's
drawings and charts, even ones that read an owned sheet's cells, are never touched: nothing is
removed that another part still refers to.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote

from lxml import etree

from rules_engine.models import SheetCells
from rules_engine.workbook.chartxml import chart_part, drawing_part
from rules_engine.workbook.packageparts import (
    CT_NS,
    PKG_REL_NS,
    Package,
    XmlPart,
    declaration,
    parse_xml,
    q,
    related_path,
    rels_path,
)

_REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
DRAWING_REL = _REL_TYPE + "drawing"
CHART_REL = _REL_TYPE + "chart"
DRAWING_TYPE = "application/vnd.openxmlformats-officedocument.drawing+xml"
CHART_TYPE = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
RELS_TYPE = "application/vnd.openxmlformats-package.relationships+xml"
_RELATIONSHIP = q(PKG_REL_NS, "Relationship")


def replace_drawing(package: Package, sheet_part: str, sheet: SheetCells) -> str | None:
    """Give the owned sheet at `sheet_part` a drawing holding `sheet.charts` (none: no drawing),
    replacing the one it had; returns the sheet's relationship id of the drawing, which the
    sheet XML references as `<drawing r:id="..."/>`, or None when there are no charts."""
    old = _drawing_rels(package, sheet_part)
    roots = [t for rel in old if (t := _target(package, sheet_part, rel)) is not None]
    doomed = _exclusive(package, sheet_part, roots)
    if not sheet.charts:
        _unlink(package, sheet_part)
        _remove(package, doomed)
        return None
    names = _Names(package)
    mine = {name.casefold() for name in doomed}
    drawing = next((r for r in roots[:1] if r.casefold() in mine), None)
    drawing = drawing or names.fresh("drawings/drawing{}.xml")
    reusable = [c for c in _chart_targets(package, drawing) if c.casefold() in mine]
    charts = [
        reusable[i] if i < len(reusable) else names.fresh("charts/chart{}.xml")
        for i in range(len(sheet.charts))
    ]
    kept = {name.casefold() for name in (drawing, rels_path(drawing), *charts)}
    _remove(package, [name for name in doomed if name.casefold() not in kept])
    ids = [f"rId{i + 1}" for i in range(len(charts))]
    for chart, name in zip(sheet.charts, charts, strict=True):
        _put(package, name, chart_part(chart, sheet), CHART_TYPE)
    _put(package, drawing, drawing_part(sheet.charts, ids), DRAWING_TYPE)
    links = [
        (rid, CHART_REL, _relative(drawing, name)) for rid, name in zip(ids, charts, strict=True)
    ]
    _put(package, rels_path(drawing), _relationships(links), None)
    return _link(package, sheet_part, drawing)


def _drawing_rels(package: Package, part: str) -> list[etree._Element]:
    rels = _lookup(package, rels_path(part))
    if rels is None:
        return []
    return [r for r in rels.root.iter(_RELATIONSHIP) if r.get("Type") == DRAWING_REL]


def _chart_targets(package: Package, drawing: str) -> list[str]:
    """The chart parts the drawing's relationships name, in their order (none for a new one)."""
    rels = _lookup(package, rels_path(drawing))
    if rels is None:
        return []
    found = [
        _target(package, drawing, rel)
        for rel in rels.root.iter(_RELATIONSHIP)
        if rel.get("Type") == CHART_REL
    ]
    return [name for name in found if name is not None]


def _exclusive(package: Package, sheet_part: str, roots: list[str]) -> list[str]:
    """`roots` and every part reachable from them that only the sheet or these parts refer to,
    followed by the relationship parts of all of them: what may go with the sheet's drawing."""
    if not roots:
        return []
    referrers = _referrers(package)
    doomed: dict[str, str] = {}
    while True:
        owners = {sheet_part.casefold(), *doomed}
        reachable = [*roots, *(t for part in doomed.values() for t in _targets(package, part))]
        found = {
            name.casefold(): name
            for name in reachable
            if name.casefold() not in doomed and referrers.get(name.casefold(), set()) <= owners
        }
        if not found:
            break
        doomed.update(found)
    rels = [rels_path(part) for part in doomed.values()]
    return [*doomed.values(), *(part for name in rels if (part := _existing(package, name)))]


def _referrers(package: Package) -> dict[str, set[str]]:
    """For each part a relationship points at (casefolded): the parts whose relationships do,
    over the package as this write leaves it so far."""
    removed = {name.casefold() for name in package.removed}
    names = [e.name for e in package.archive.entries if e.name.casefold() not in removed]
    names += [name for name, part in package.parts.items() if part.new]
    referrers: dict[str, set[str]] = {}
    for name in names:
        folder, base = posixpath.split(name)
        if posixpath.basename(folder) != "_rels" or not base.endswith(".rels"):
            continue
        source = posixpath.join(posixpath.dirname(folder), base[: -len(".rels")])
        for target in _targets(package, source):
            referrers.setdefault(target.casefold(), set()).add(source.casefold())
    return referrers


def _targets(package: Package, part: str) -> list[str]:
    """The existing parts that `part`'s relationships point at (external targets left out)."""
    rels = _lookup(package, rels_path(part))
    if rels is None:
        return []
    found = (_target(package, part, rel) for rel in rels.root.iter(_RELATIONSHIP))
    return [name for name in found if name is not None]


def _target(package: Package, source: str, rel: etree._Element) -> str | None:
    """The part a relationship of `source` points at, if the package has it (never external)."""
    if rel.get("TargetMode") == "External":
        return None
    path = related_path(source, rel.get("Target") or "")
    return _existing(package, path) or _existing(package, unquote(path))


def _link(package: Package, sheet_part: str, drawing: str) -> str:
    """The sheet's drawing relationship, pointed at `drawing`: the existing one (its id kept,
    any second one dropped) or a new one; other relationships of the sheet stay as they are."""
    name = rels_path(sheet_part)
    target = _relative(sheet_part, drawing)
    rels = _lookup(package, name)
    if rels is None:
        _put(package, name, _relationships([("rId1", DRAWING_REL, target)]), None)
        return "rId1"
    links = [r for r in rels.root.iter(_RELATIONSHIP) if r.get("Type") == DRAWING_REL]
    for extra in links[1:]:
        rels.root.remove(extra)
        rels.changed = True
    if not links:
        link = etree.SubElement(rels.root, _RELATIONSHIP, Id=_free_id(rels), Type=DRAWING_REL)
        links.append(link)
        rels.changed = True
    link = links[0]
    if _target(package, sheet_part, link) != drawing or link.get("TargetMode") is not None:
        link.set("Target", target)
        if "TargetMode" in link.attrib:
            del link.attrib["TargetMode"]
        rels.changed = True
    if not link.get("Id"):
        link.set("Id", _free_id(rels))
        rels.changed = True
    return link.get("Id") or ""


def _unlink(package: Package, sheet_part: str) -> None:
    """Drop the sheet's drawing relationships; a relationship part left empty goes too."""
    rels = _lookup(package, rels_path(sheet_part))
    links = _drawing_rels(package, sheet_part)
    if rels is None or not links:
        return
    if len(links) == len(list(rels.root.iter(_RELATIONSHIP))):
        _remove(package, [rels.name])
        return
    for link in links:
        rels.root.remove(link)
    rels.changed = True


def _free_id(rels: XmlPart) -> str:
    taken = {r.get("Id") for r in rels.root.iter(_RELATIONSHIP)}
    numbers = [int(m.group(1)) for rid in taken if rid and (m := re.fullmatch(r"rId(\d+)", rid))]
    rid = f"rId{1 + max(numbers, default=0)}"
    while rid in taken:
        rid += "a"
    return rid


def _relationships(links: list[tuple[str, str, str]]) -> bytes:
    root = etree.fromstring(f'<Relationships xmlns="{PKG_REL_NS}"/>')
    for rid, rel_type, target in links:
        etree.SubElement(root, _RELATIONSHIP, Id=rid, Type=rel_type, Target=target)
    return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + etree.tostring(
        root, encoding="UTF-8"
    )


def _relative(source: str, target: str) -> str:
    """`target` as a relationship of `source` names it: relative to the source's folder."""
    return posixpath.relpath(target, posixpath.dirname(source))


def _put(package: Package, name: str, content: bytes, content_type: str | None) -> None:
    """Make part `name` hold `content`: a new part, or an existing one rewritten only if its
    bytes differ (so an unchanged chart leaves the file byte-identical); `content_type` is
    its override (None: a relationship part, typed by the package's `rels` default)."""
    fresh = XmlPart(name, parse_xml(name, content), declaration(content), new=True, changed=True)
    existing = _lookup(package, name)
    if existing is None:
        package.add_part(fresh)
        if content_type is None:
            _ensure_rels_default(package)
    else:
        entry = package.archive.find(existing.name)
        old = None if entry is None else package.archive.read(entry)
        if old != fresh.serialize():
            existing.tree, existing.prolog, existing.changed = fresh.tree, fresh.prolog, True
    if content_type is not None:
        _ensure_override(package, name, content_type)


def _ensure_override(package: Package, name: str, content_type: str) -> None:
    for override in package.content_types.root.iter(q(CT_NS, "Override")):
        if (override.get("PartName") or "").lstrip("/").casefold() == name.casefold():
            if override.get("ContentType") != content_type:
                override.set("ContentType", content_type)
                package.content_types.changed = True
            return
    package.add_override(name, content_type)


def _ensure_rels_default(package: Package) -> None:
    """Relationship parts are typed by a `rels` Default, which nearly every package has."""
    for default in package.content_types.root.iter(q(CT_NS, "Default")):
        if (default.get("Extension") or "").casefold() == "rels":
            return
    element = etree.SubElement(package.content_types.root, q(CT_NS, "Default"))
    element.set("Extension", "rels")
    element.set("ContentType", RELS_TYPE)
    package.content_types.changed = True


def _lookup(package: Package, name: str) -> XmlPart | None:
    """The XML part `name` as this write leaves it so far: created, edited or as in the file
    (None when absent or removed)."""
    found = _existing(package, name)
    if found is None:
        return None
    return _made(package, found) or package.xml(found)


def _existing(package: Package, name: str) -> str | None:
    """The actual name of part `name` (OPC names ignore case) if this write leaves it in the
    package: created by this write, or in the file and not removed."""
    if _removed(package, name):
        return None
    made = _made(package, name)
    if made is not None:
        return made.name
    entry = package.archive.find(name)
    return None if entry is None else entry.name


def _made(package: Package, name: str) -> XmlPart | None:
    """A part this write created (`Package` keeps them with the parts it parsed)."""
    key = name.casefold()
    return next((p for n, p in package.parts.items() if p.new and n.casefold() == key), None)


def _removed(package: Package, name: str) -> bool:
    return name.casefold() in {n.casefold() for n in package.removed}


def _remove(package: Package, names: list[str]) -> None:
    for name in names:
        if not _removed(package, name):
            package.remove_part(name)


class _Names:
    """Fresh part names beside the workbook part: numbered, and used by no part of the
    package, no content-type override and no part created by this write."""

    def __init__(self, package: Package) -> None:
        self._folder = posixpath.dirname(package.workbook_name)
        self._taken = {e.name.casefold() for e in package.archive.entries}
        self._taken |= {name.casefold() for name in package.parts}
        self._taken |= {
            (o.get("PartName") or "").lstrip("/").casefold()
            for o in package.content_types.root.iter(q(CT_NS, "Override"))
        }

    def fresh(self, pattern: str) -> str:
        n = 1
        while posixpath.join(self._folder, pattern.format(n)).casefold() in self._taken:
            n += 1
        name = posixpath.join(self._folder, pattern.format(n))
        self._taken.add(name.casefold())
        return name
