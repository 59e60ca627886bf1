"""A real spreadsheet reads what alvh writes: LibreOffice opens, recalculates and shows our cells.

The fixture is the example workbook plus a user sheet whose formula reads layer 1's contracts on
the Hedge sheet, with a deliberately stale cached value. After a recompute through the file
adapter (the pipeline `alvh recompute` runs, on a fixed clock so that the Log's time is known),
LibreOffice (headless, with a private profile that recalculates on load) must show the new value
and every owned sheet exactly as the engine laid it out. Skipped where LibreOffice is absent,
except in CI, where that fails.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import openpyxl
import pytest
from libreoffice_support import (
    PDF_WHOLE_SHEETS,
    RECALC_NEVER,
    LibreOfficeError,
    convert,
    find_soffice,
    make_profile,
    sheets_as_csv,
)
from python_calamine import CalamineWorkbook

from rules_engine.contract import OWNED_SHEETS
from rules_engine.engine import RunOptions, recompute
from rules_engine.host import load_plugins
from rules_engine.layout import lay_out
from rules_engine.models import CellValue, SheetCells
from rules_engine.pipeline import recompute_workbook
from rules_engine.workbook.create import create_workbook
from rules_engine.workbook.reader import read_workbook
from rules_engine.workbook.writer import write_owned_sheets

USER_SHEET = "My Checks"
USER_FORMULA = "Hedge!F5*2"
STALE_CACHE = "-1"
LAYER1_CONTRACTS = (4, 5)  # Hedge!F5: 0-based row 4, column 5
CLOCK = RunOptions(now=dt.datetime(2018, 1, 26, 21, 5, 9, tzinfo=dt.UTC))


def require_soffice() -> str:
    """LibreOffice's executable; skip without it, but fail in CI, which must have it installed."""
    soffice = find_soffice()
    if soffice is not None:
        return soffice
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but LibreOffice (soffice) is not installed; .ci/run installs it")
    pytest.skip("LibreOffice (soffice) is not installed; install libreoffice-calc-nogui")


def require_pdftocairo() -> None:
    """The README pictures also need poppler's pdftocairo; the same rule: never skipped in CI."""
    if shutil.which("pdftocairo") is not None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but pdftocairo is not installed; .ci/run installs poppler-utils")
    pytest.skip("pdftocairo is not installed; install poppler-utils")


@dataclass(frozen=True)
class Recomputed:
    path: Path
    sheets: dict[str, SheetCells]


def _with_stale_user_formula(path: Path) -> None:
    """Add a user sheet reading Hedge!F5, then give the formula a wrong cached value.

    openpyxl writes formulas with an empty cached value; the zip is rewritten so the cache says
    -1, a value no recompute produces, so only a real recalculation can show the right number.
    """
    book = openpyxl.load_workbook(path)
    book.create_sheet(USER_SHEET)["A1"] = f"={USER_FORMULA}"
    book.save(path)
    empty, stale = (f"<f>{USER_FORMULA}</f><v>{v}</v>".encode() for v in ("", STALE_CACHE))
    patched = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as dst:
        hits = 0
        for info in src.infolist():
            data = src.read(info)
            hits += data.count(empty)
            dst.writestr(info, data.replace(empty, stale))
    assert hits == 1, "the user formula was not found exactly once in the saved workbook"
    patched.replace(path)


@pytest.fixture(scope="module")
def recomputed(tmp_path_factory: pytest.TempPathFactory) -> Recomputed:
    """The example plus the user formula after `alvh recompute`, and the cells the engine laid out.

    The expected cells come from the engine's layout of the inputs (recomputing unchanged inputs
    at the same time gives the same cells, the Log's included), never from reading the written
    file.
    """
    require_soffice()
    host = load_plugins(use_entry_points=False)
    path = tmp_path_factory.mktemp("lo-book") / "book.xlsx"
    create_workbook(path, host.declared_settings, example=True)
    _with_stale_user_formula(path)
    outputs = recompute(read_workbook(path).inputs, host, CLOCK)
    assert outputs.ok, outputs.issues
    written = recompute_workbook(
        lambda: read_workbook(path).inputs, partial(write_owned_sheets, path), host, CLOCK
    )
    assert written.ok, written.issues
    return Recomputed(path, {s.name: s for s in lay_out(outputs)})


@pytest.fixture(scope="module")
def recalculated(
    recomputed: Recomputed, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[list[str]]]:
    """Every sheet of the recomputed workbook as LibreOffice shows it after recalculating."""
    work = tmp_path_factory.mktemp("lo-recalc")
    return sheets_as_csv(recomputed.path, work / "csv", make_profile(work / "profile"))


def test_user_formula_reading_the_hedge_sheet_shows_the_new_value(
    recomputed: Recomputed, recalculated: dict[str, list[list[str]]]
) -> None:
    contracts = recomputed.sheets["Hedge"].rows[LAYER1_CONTRACTS[0]][LAYER1_CONTRACTS[1]]
    header = recomputed.sheets["Hedge"].rows[LAYER1_CONTRACTS[0] - 1][LAYER1_CONTRACTS[1]]
    assert header == "Contracts"
    assert isinstance(contracts, int | float) and contracts > 0
    cached = CalamineWorkbook.from_path(str(recomputed.path)).get_sheet_by_name(USER_SHEET)
    assert cached.to_python()[0][0] == float(STALE_CACHE), (
        "the file itself still holds the stale cache"
    )
    assert float(recalculated[USER_SHEET][0][0]) == 2 * contracts


def test_without_recalculation_on_load_libreoffice_shows_the_stale_cache(
    recomputed: Recomputed, tmp_path: Path
) -> None:
    """The control: the private profile, not luck, is what makes the formula show the new value."""
    shown = sheets_as_csv(
        recomputed.path, tmp_path / "csv", make_profile(tmp_path / "profile", recalc=RECALC_NEVER)
    )
    assert shown[USER_SHEET][0][0] == STALE_CACHE


def _shown_matches(written: CellValue, shown: str) -> bool:
    """Whether LibreOffice's CSV text for a cell (full precision, not "as shown") is `written`."""
    if written is None:
        return shown == ""
    if isinstance(written, bool):
        return shown == ("TRUE" if written else "FALSE")
    if isinstance(written, int | float):
        percent = shown.endswith("%")
        number = float(shown.rstrip("%")) / (100 if percent else 1)
        return math.isclose(number, written, rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(written, dt.datetime):
        return dt.datetime.strptime(shown, "%m/%d/%Y %H:%M:%S") == written
    if isinstance(written, dt.date):
        return dt.datetime.strptime(shown, "%m/%d/%Y").date() == written
    return shown == written


@pytest.mark.parametrize("sheet", OWNED_SHEETS)
def test_libreoffice_shows_every_owned_cell_as_written(
    sheet: str, recomputed: Recomputed, recalculated: dict[str, list[list[str]]]
) -> None:
    assert sheet in recalculated, f"LibreOffice did not export the {sheet} sheet"
    written = recomputed.sheets[sheet].rows
    shown = recalculated[sheet]
    mismatches = []
    for r in range(max(len(written), len(shown))):
        row = written[r] if r < len(written) else ()
        shown_row = shown[r] if r < len(shown) else []
        for c in range(max(len(row), len(shown_row))):
            value = row[c] if c < len(row) else None
            text = shown_row[c] if c < len(shown_row) else ""
            if not _shown_matches(value, text):
                mismatches.append(f"{sheet}!R{r + 1}C{c + 1}: wrote {value!r}, shown {text!r}")
    assert not mismatches, "\n".join(mismatches[:20])
    assert sum(1 for row in written for v in row if v is not None) > 2


def test_a_hung_conversion_is_killed_at_its_timeout(tmp_path: Path) -> None:
    require_soffice()
    source = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(source)
    with pytest.raises(LibreOfficeError, match=r"did not convert empty\.xlsx within"):
        convert(source, "csv", tmp_path / "out", make_profile(tmp_path / "p"), timeout=0.05)
    assert not (tmp_path / "out" / "empty.csv").exists()


@pytest.mark.parametrize("require", [require_soffice, require_pdftocairo])
def test_a_missing_tool_skips_locally_and_fails_in_ci(
    require: Callable[[], object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        require()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        require()


def _png_header(path: Path) -> tuple[int, int, int]:
    """Width, height and colour type (0 = grayscale) from a PNG's signature and IHDR chunk."""
    data = path.read_bytes()[:26]
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height, data[25]


def test_the_readme_pictures_render_the_example_legibly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_soffice()
    require_pdftocairo()
    monkeypatch.syspath_prepend(str(Path(__file__).parent.parent / "scripts"))
    import render_sheets

    pictures = render_sheets.render(tmp_path, dpi=96)
    assert [p.name for p in pictures] == ["hedge.png", "risk.png"]
    for picture in pictures:
        width, height, colour = _png_header(picture)
        assert colour in (2, 6), f"{picture.name} should be in colour (the grids are shaded)"
        assert 1000 < width < 5000 and height > 200, (picture.name, width, height)
        assert picture.stat().st_size < 1_500_000


def test_the_recomputed_example_shows_its_charts_in_pdf_and_png(
    recomputed: Recomputed, tmp_path: Path
) -> None:
    """LibreOffice opens the recomputed example and draws both charts: their titles, axis titles
    and legends are on the Hedge and Risk pages of the PDF, and the PNG of the Hedge page has
    the lines of each series' colour (the cells hold no colour)."""
    import subprocess

    from test_charts import _pixels_near

    from rules_engine.workbook.chartxml import SERIES_COLORS

    require_pdftocairo()
    convert(recomputed.path, PDF_WHOLE_SHEETS, tmp_path, make_profile(tmp_path / "profile"))
    pdf = tmp_path / recomputed.path.with_suffix(".pdf").name

    def page_text(page: int) -> str:
        done = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        return " ".join(done.stdout.split())

    hedge, risk = page_text(1), page_text(3)
    for words in ("Book P&L against a VIX spike today ($)", "VIX change (points)", "Unhedged"):
        assert words in hedge, words
    for words in ("Book and hedges against SPX, VIX unchanged", "T+7"):
        assert words in risk, words
    subprocess.run(
        ["pdftoppm", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "hedge")],
        check=True, timeout=60,
    )  # fmt: skip
    [png_page] = tmp_path.glob("hedge*.ppm")
    for colour in SERIES_COLORS[:3]:
        assert _pixels_near(png_page, colour) > 50, colour
