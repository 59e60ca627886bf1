"""Which part of a workbook package is damaged, for when python-calamine cannot say.

calamine tries every file format it knows and, when none fits, reports only "Cannot detect file
format"; a damaged sheet gives an XML error without the part's name. Here each part is inflated
and parsed on its own, so the message can name the one that is broken. Parsing keeps no tree, so
checking a large part costs no more memory than inflating it.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from rules_engine.models import WorkbookError
from rules_engine.workbook.zipsplice import ZipArchive

_XML_ENDINGS = (".xml", ".rels", ".vml")


class _Discard:
    """An lxml parser target that keeps nothing: only well-formedness is checked."""

    def start(self, tag: str | bytes, attrib: object) -> None:
        return None

    def end(self, tag: str | bytes) -> None:
        return None

    def data(self, data: str | bytes) -> None:
        return None

    def comment(self, text: str | bytes) -> None:
        return None

    def close(self) -> None:
        return None


def xml_problem(label: str, content: bytes) -> str | None:
    """Why `content` is not well-formed XML, naming it by `label`; None when it is."""
    parser = etree.XMLParser(
        target=_Discard(), resolve_entities=False, no_network=True, load_dtd=False
    )
    try:
        etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        return f"part {label} is not valid XML ({exc})"
    return None


def damaged_part(archive: ZipArchive, first: Iterable[str]) -> str | None:
    """What is wrong with the first part that cannot be inflated or parsed, trying `first` (the
    parts calamine reads when it opens a workbook) before every other XML part; None if none."""
    wanted = list(dict.fromkeys(first))
    wanted += [
        entry.name
        for entry in archive.entries
        if entry.name.lower().endswith(_XML_ENDINGS) and entry.name not in wanted
    ]
    for name in wanted:
        entry = archive.find(name)
        if entry is None:
            continue
        try:
            content = archive.read(entry)
        except WorkbookError as exc:
            return str(exc)
        problem = xml_problem(name, content)
        if problem is not None:
            return problem
    return None
