"""The ALVH ribbon add-in (workbooks/alvh.xlam): reproducible, branded, and wired to alvh.main().

The VBA project is an OLE2 compound file whose module sources are compressed (MS-OVBA 2.4.1);
the small reader below is independent of the build script, so the checks do not trust the code
they test.
"""

from __future__ import annotations

import ast
import importlib.util
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
from lxml import etree

from rules_engine.excel_setup import ADDIN_XLWINGS_VERSION, xlwings_cli

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "build_addin.py"
COMMITTED = ROOT / "workbooks" / "alvh.xlam"
NS = {"ui": "http://schemas.microsoft.com/office/2006/01/customui"}
CUSTOM_UI = "customUI/customUI.xml"
_END_OF_CHAIN = 0xFFFFFFFA
_PROJECT_VERSION, _MODULE_NAME, _MODULE_OFFSET = 0x0009, 0x0019, 0x0031


def ovba_decompress(data: bytes) -> bytes:
    """MS-OVBA 2.4.1: a CompressedContainer of LZ77-style chunks."""
    assert data[0] == 1, "not a VBA compressed container"
    out = bytearray()
    pos = 1
    while pos < len(data):
        header = struct.unpack_from("<H", data, pos)[0]
        end = min(pos + (header & 0x0FFF) + 3, len(data))
        pos += 2
        if not header & 0x8000:
            out += data[pos : pos + 4096]
            pos += 4096
            continue
        chunk_start = len(out)
        while pos < end:
            flags = data[pos]
            pos += 1
            for bit in range(8):
                if pos >= end:
                    break
                if not flags >> bit & 1:
                    out.append(data[pos])
                    pos += 1
                    continue
                token = struct.unpack_from("<H", data, pos)[0]
                pos += 2
                bit_count = max((len(out) - chunk_start - 1).bit_length(), 4)
                offset = (token >> (16 - bit_count)) + 1
                for _ in range((token & (0xFFFF >> bit_count)) + 3):
                    out.append(out[-offset])
    return bytes(out)


def ole_streams(data: bytes) -> dict[str, bytes]:
    """Every stream of a compound file by name (names in a VBA project are unique)."""
    assert data[:8] == bytes.fromhex("D0CF11E0A1B11AE1"), "not an OLE2 compound file"
    sector_size, mini_size = 1 << struct.unpack_from("<H", data, 0x1E)[0], 64
    first_dir = struct.unpack_from("<I", data, 0x30)[0]
    cutoff, first_minifat = struct.unpack_from("<II", data, 0x38)
    assert struct.unpack_from("<I", data, 0x48)[0] == 0, "extra DIFAT sectors not supported"

    def sector(i: int) -> bytes:
        return data[(i + 1) * sector_size : (i + 2) * sector_size]

    def chain(start: int, table: list[int]) -> list[int]:
        found = []
        while start < _END_OF_CHAIN:
            found.append(start)
            start = table[start]
        return found

    def as_ints(raw: bytes) -> list[int]:
        return list(struct.unpack(f"<{len(raw) // 4}I", raw))

    difat = [s for s in struct.unpack_from("<109I", data, 0x4C) if s < _END_OF_CHAIN]
    fat = as_ints(b"".join(sector(s) for s in difat))
    directory = b"".join(sector(s) for s in chain(first_dir, fat))
    entries = [directory[i : i + 128] for i in range(0, len(directory), 128)]
    root_start = struct.unpack_from("<I", entries[0], 116)[0]
    mini_stream = b"".join(sector(s) for s in chain(root_start, fat))
    minifat = as_ints(b"".join(sector(s) for s in chain(first_minifat, fat)))
    streams = {}
    for entry in entries:
        name_len, kind = struct.unpack_from("<HB", entry, 64)
        if kind != 2:
            continue
        start, size = struct.unpack_from("<IQ", entry, 116)
        if size < cutoff:
            parts = [
                mini_stream[s * mini_size : (s + 1) * mini_size] for s in chain(start, minifat)
            ]
        else:
            parts = [sector(s) for s in chain(start, fat)]
        streams[entry[: name_len - 2].decode("utf-16-le")] = b"".join(parts)[:size]
    return streams


def vba_sources(vba_project: bytes) -> dict[str, str]:
    """Each VBA module's source text, located through the project's `dir` stream."""
    streams = ole_streams(vba_project)
    records = ovba_decompress(streams["dir"])
    pos, name, sources = 0, "", {}
    while pos < len(records):
        record_id, size = struct.unpack_from("<HI", records, pos)
        pos += 6
        if record_id == _PROJECT_VERSION:
            size = 6
        if record_id == _MODULE_NAME:
            name = records[pos : pos + size].decode("latin-1")
        elif record_id == _MODULE_OFFSET:
            offset = struct.unpack_from("<I", records, pos)[0]
            sources[name] = ovba_decompress(streams[name][offset:]).decode("latin-1")
        pos += size
    return sources


def load_build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_addin", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `xlwings quickstart alvh --addin --ribbon` makes, run here, not by the script."""
    workdir = tmp_path_factory.mktemp("quickstart")
    command = [*xlwings_cli(Path(sys.executable)), "quickstart", "alvh", "--addin", "--ribbon"]
    subprocess.run(command, cwd=workdir, check=True, capture_output=True)
    return workdir / "alvh" / "alvh.xlam"


@pytest.fixture(scope="module")
def committed() -> zipfile.ZipFile:
    return zipfile.ZipFile(COMMITTED)


@pytest.fixture(scope="module")
def sources(committed: zipfile.ZipFile) -> dict[str, str]:
    return vba_sources(committed.read("xl/vbaProject.bin"))


def test_build_twice_gives_the_committed_bytes(tmp_path: Path) -> None:
    outputs = []
    for name in ("first.xlam", "second.xlam"):
        out = tmp_path / name
        done = subprocess.run(
            [sys.executable, str(SCRIPT), "--out", str(out)], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0] == COMMITTED.read_bytes(), "rebuild: python scripts/build_addin.py"


def test_committed_addin_is_a_valid_zip(committed: zipfile.ZipFile) -> None:
    assert committed.testzip() is None
    assert "xl/vbaProject.bin" in committed.namelist()


def test_every_other_part_is_the_template_byte_for_byte(
    template: Path, committed: zipfile.ZipFile
) -> None:
    original = zipfile.ZipFile(template)
    assert committed.namelist() == original.namelist()
    for info in original.infolist():
        built = committed.getinfo(info.filename)
        assert built.date_time == info.date_time, info.filename
        if info.filename == CUSTOM_UI:
            assert committed.read(CUSTOM_UI) != original.read(CUSTOM_UI)
            continue
        assert committed.read(info.filename) == original.read(info.filename), info.filename
        assert (built.compress_type, built.compress_size, built.CRC) == (
            info.compress_type,
            info.compress_size,
            info.CRC,
        ), info.filename


def test_ribbon_has_an_alvh_tab_with_a_recompute_button(committed: zipfile.ZipFile) -> None:
    root = etree.fromstring(committed.read(CUSTOM_UI))
    tabs = root.findall(".//ui:tab", NS)
    assert [t.get("label") for t in tabs] == ["ALVH"]
    buttons = tabs[0].findall(".//ui:button", NS)
    assert [b.get("label") for b in buttons] == ["Recompute"]


def test_recompute_calls_a_macro_the_vba_project_defines(
    committed: zipfile.ZipFile, sources: dict[str, str]
) -> None:
    root = etree.fromstring(committed.read(CUSTOM_UI))
    button = root.find(".//ui:button", NS)
    assert button is not None
    module, _, macro = str(button.get("onAction")).partition(".")
    assert module in sources, f"no VBA module {module}: {sorted(sources)}"
    assert f"Sub {macro}(control As IRibbonControl)" in sources[module]


def test_the_macro_imports_the_module_named_like_the_addin(sources: dict[str, str]) -> None:
    body = sources["RibbonMyAddin"]
    assert "Left(ThisWorkbook.Name, (InStrRev(ThisWorkbook.Name" in body
    assert 'RunPython "import " & mymodule & ";" & mymodule & ".main()"' in body
    assert COMMITTED.stem == "alvh"


def test_the_module_the_button_imports_defines_main() -> None:
    alvh_py = COMMITTED.with_suffix(".py")
    tree = ast.parse(alvh_py.read_text(encoding="utf-8"))
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "main" in functions, f"{alvh_py} must define main(), which the button runs"


def test_vba_is_the_pinned_xlwings_release_with_its_licence(sources: dict[str, str]) -> None:
    xlwings_module = sources["xlwings"]
    assert f'XLWINGS_VERSION As String = "{ADDIN_XLWINGS_VERSION}"' in xlwings_module
    assert "BSD 3-clause license" in xlwings_module


def test_brand_ribbon_keeps_the_callback_and_the_rest_of_the_button() -> None:
    build = load_build_script()
    template_ui = (
        b'<customUI xmlns="http://schemas.microsoft.com/office/2006/01/customui"><ribbon><tabs>'
        b'<tab id="t" label="MyAddin"><group id="g" label="G"><button id="b" label="Run" '
        b'size="large" onAction="RibbonMyAddin.RunMain" imageMso="MacroPlay"/></group></tab>'
        b"</tabs></ribbon></customUI>"
    )
    button = etree.fromstring(build.brand_ribbon(template_ui)).find(".//ui:button", NS)
    assert button is not None
    assert button.get("label") == "Recompute"
    assert (button.get("onAction"), button.get("size"), button.get("imageMso")) == (
        "RibbonMyAddin.RunMain",
        "large",
        "MacroPlay",
    )


@pytest.mark.parametrize(
    "ribbon",
    [
        b'<tab id="t"><group id="g"><button id="b" onAction="Other.Macro"/></group></tab>',
        b'<tab id="t"><group id="g"><button id="b" onAction="RibbonMyAddin.RunMain"/></group>'
        b'</tab><tab id="u"/>',
    ],
    ids=["other-callback", "two-tabs"],
)
def test_brand_ribbon_refuses_a_template_it_was_not_written_for(ribbon: bytes) -> None:
    build = load_build_script()
    xml = (
        b'<customUI xmlns="http://schemas.microsoft.com/office/2006/01/customui"><ribbon><tabs>'
        + ribbon
        + b"</tabs></ribbon></customUI>"
    )
    with pytest.raises(build.BuildError):
        build.brand_ribbon(xml)
