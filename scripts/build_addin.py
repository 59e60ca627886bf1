"""Build workbooks/alvh.xlam, the ALVH ribbon add-in, from xlwings' ribbon add-in template.

`xlwings quickstart alvh --addin --ribbon` makes `alvh.xlam`, whose ribbon button calls the VBA
macro `RibbonMyAddin.RunMain`, which runs `import <add-in file stem>; <stem>.main()`. Because the
file is named alvh.xlam, its button runs `main()` of workbooks/alvh.py, the same function
xlwings' "Run main" calls for workbooks/alvh.xlsx, and the VBA binary never needs editing.

Only the ribbon part changes (tab "ALVH", group "Hedge", button "Recompute"); every other part,
the VBA project with xlwings' BSD licence notice included, is copied from the template byte for
byte (raw zip entries, same order and timestamps), so every run writes the same bytes.

Usage: .venv/bin/python scripts/build_addin.py [--out PATH]
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

from lxml import etree

from rules_engine.excel_setup import ADDIN_FILE, ADDIN_XLWINGS_VERSION, xlwings_cli
from rules_engine.workbook.zipsplice import open_archive, splice

CUSTOM_UI = "customUI/customUI.xml"
CUSTOM_UI_NS = "http://schemas.microsoft.com/office/2006/01/customui"
#: The template's only ribbon callback; the build refuses a template that no longer has it.
RUN_MAIN = "RibbonMyAddin.RunMain"
TAB = {"id": "alvhTab", "label": "ALVH"}
GROUP = {"id": "alvhGroup", "label": "Hedge"}
BUTTON = {
    "id": "alvhRecompute",
    "label": "Recompute",
    "screentip": "Recompute with alvh",
    "supertip": "Reads the active workbook, computes risk, signals and VIX hedge layers, "
    "and rewrites its Hedge, Signals, Risk and Run sheets.",
}
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "workbooks" / ADDIN_FILE
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


class BuildError(Exception):
    """The template is not what this script was written against."""


def quickstart_template(workdir: Path) -> bytes:
    """The add-in `xlwings quickstart alvh --addin --ribbon` makes, run with this interpreter."""
    command = [*xlwings_cli(Path(sys.executable)), "quickstart", "alvh", "--addin", "--ribbon"]
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, check=False)
    made = workdir / "alvh" / ADDIN_FILE
    if done.returncode != 0 or not made.is_file():
        raise BuildError(f"`{' '.join(command)}` failed: {(done.stderr or done.stdout).strip()}")
    return made.read_bytes()


def _only(parent: etree._Element, tag: str) -> etree._Element:
    found = parent.findall(f"{{{CUSTOM_UI_NS}}}{tag}")
    if len(found) != 1:
        raise BuildError(f"the template's ribbon has {len(found)} <{tag}> elements, expected 1")
    return found[0]


def brand_ribbon(custom_ui: bytes) -> bytes:
    """The template's ribbon with the ALVH tab, group and Recompute button, callback unchanged."""
    root = etree.fromstring(custom_ui, _PARSER)
    tab = _only(_only(_only(root, "ribbon"), "tabs"), "tab")
    group = _only(tab, "group")
    button = _only(group, "button")
    if button.get("onAction") != RUN_MAIN:
        raise BuildError(
            f"the template's button calls {button.get('onAction')!r}, not {RUN_MAIN!r}; "
            "check how its VBA finds the Python module before changing this script"
        )
    for element, attributes in ((tab, TAB), (group, GROUP), (button, BUTTON)):
        for name, value in attributes.items():
            element.set(name, value)
    return etree.tostring(root, encoding="utf-8", xml_declaration=False)


def build_addin(template: bytes) -> bytes:
    """The branded add-in: the template with only its ribbon part replaced."""
    archive = open_archive(template)
    entry = archive.find(CUSTOM_UI)
    if entry is None:
        raise BuildError(f"the template has no {CUSTOM_UI}")
    out = io.BytesIO()
    ribbon = brand_ribbon(archive.read(entry))
    splice(archive, out, replace={entry.name: ribbon}, add=(), remove=frozenset())
    return out.getvalue()


def check_xlwings_version() -> None:
    """Refuse to build from a template other than the one `alvh excel` tells users to match."""
    installed = version("xlwings")
    if installed != ADDIN_XLWINGS_VERSION:
        raise BuildError(
            f"xlwings {installed} is installed but rules_engine.excel_setup.ADDIN_XLWINGS_VERSION "
            f"is {ADDIN_XLWINGS_VERSION}; install that version or update the constant, then build"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    args = parser.parse_args(argv)
    try:
        check_xlwings_version()
        with tempfile.TemporaryDirectory() as workdir:
            addin = build_addin(quickstart_template(Path(workdir)))
    except BuildError as exc:
        print(f"build_addin: {exc}", file=sys.stderr)
        return 1
    args.out.write_bytes(addin)
    print(f"wrote {args.out} ({len(addin)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
