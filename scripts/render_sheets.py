"""Render the example's Hedge and Risk sheets to PNG for the README, through LibreOffice.

    .venv/bin/python scripts/render_sheets.py [--out docs] [--dpi 96]

Needs LibreOffice (`soffice`, 7.4+) and `pdftocairo` (poppler-utils). The example workbook is
created and recomputed in a temporary folder by `alvh init --example` and `alvh recompute`. A
scratch copy holding only the two sheets gets print-only changes so the picture is legible (the
engine's values are not touched): narrower columns with wrapped text, row heights to fit, thin cell
borders. LibreOffice exports each sheet as one PDF page sized to its used range (so no paper size,
orientation or scaling applies), and pdftocairo turns each page into a grayscale PNG (the sheets
have no colour).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Sequence
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Border, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from rules_engine.cli import main as alvh

ROOT = Path(__file__).resolve().parent.parent
SHEETS = ("Hedge", "Risk")
#: Columns holding sentences (longer than this) wrap at TEXT_WIDTH; the others at NUMBER_WIDTH.
LONG_TEXT = 40
TEXT_WIDTH = 30.0
NUMBER_WIDTH = 11.0
LINE_HEIGHT_PT = 15.0
#: The Risk sheet runs to many tables; its picture shows the top (structures, book, condors and
#: the spike table) this many inches tall.
CROP_INCHES = {"Risk": 13.0}
#: Characters of wrapped text per unit of column width (measured on the rendered picture).
CHARS_PER_WIDTH = 1.1


def recomputed_example(folder: Path) -> Path:
    """The shipped example book, created and recomputed in `folder` by the `alvh` command."""
    path = folder / "example.xlsx"
    alvh(["init", str(path), "--example"], standalone_mode=False)
    alvh(["recompute", str(path), "--quiet"], standalone_mode=False)
    return path


def _table_rows(sheet: Worksheet) -> dict[int, int]:
    """Row -> its last used column, for rows with more than one value (headers and data).

    Titles and the ownership marker are single values left free to overflow to the right.
    """
    rows = {}
    for r, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        used = [c for c, value in enumerate(values, start=1) if value is not None]
        if len(used) > 1:
            rows[r] = max(used)
    return rows


def _lines(text: str, width: float) -> int:
    """How many lines `text` wraps to, word by word, in a column `width` units wide."""
    return len(textwrap.wrap(text, int(width * CHARS_PER_WIDTH))) or 1


def _fit_for_print(sheet: Worksheet) -> None:
    """Narrow the columns, wrap table text, grow rows to fit, and draw the tables' grid."""
    rows = _table_rows(sheet)
    widths: dict[int, float] = {}
    for column in range(1, sheet.max_column + 1):
        texts = [str(sheet.cell(r, column).value or "") for r in rows]
        wide = any(len(t) > LONG_TEXT for t in texts)
        widths[column] = TEXT_WIDTH if wide else NUMBER_WIDTH
        sheet.column_dimensions[get_column_letter(column)].width = widths[column]
    wrap = Alignment(wrap_text=True, vertical="top")
    thin = Side(style="thin", color="A0A0A0")
    grid = Border(left=thin, right=thin, top=thin, bottom=thin)
    for r, last in rows.items():
        lines = 1
        for column in range(1, last + 1):
            cell = sheet.cell(r, column)
            cell.alignment = wrap
            cell.border = grid
            if isinstance(cell.value, str):
                lines = max(lines, _lines(cell.value, widths[column]))
        sheet.row_dimensions[r].height = LINE_HEIGHT_PT * lines


def scratch_copy(recomputed: Path, target: Path) -> None:
    """Save the sheets to render, laid out for print, as a new workbook at `target`."""
    book = openpyxl.load_workbook(recomputed)
    for name in book.sheetnames:
        if name not in SHEETS:
            del book[name]
    for name in SHEETS:
        _fit_for_print(book[name])
    book.save(target)


def render(out_dir: Path, dpi: int) -> list[Path]:
    """Write `<sheet>.png` (lower-case) for each sheet in SHEETS into `out_dir`."""
    sys.path.insert(0, str(ROOT / "tests"))
    from libreoffice_support import PDF_WHOLE_SHEETS, convert, make_profile

    out_dir.mkdir(parents=True, exist_ok=True)
    pictures = []
    with tempfile.TemporaryDirectory(prefix="alvh-render-") as temp:
        work = Path(temp)
        scratch = work / "sheets.xlsx"
        scratch_copy(recomputed_example(work), scratch)
        convert(scratch, PDF_WHOLE_SHEETS, work, make_profile(work / "profile"))
        pdf = scratch.with_suffix(".pdf")
        for page, name in enumerate(SHEETS, start=1):
            stem = out_dir / name.lower()
            crop = CROP_INCHES.get(name)
            height = ("-H", str(round(crop * dpi))) if crop else ()
            subprocess.run(
                [
                    *("pdftocairo", "-png", "-gray", "-singlefile", "-r", str(dpi), *height),
                    *("-f", str(page), "-l", str(page), str(pdf), str(stem)),
                ],
                check=True,
                timeout=60,
            )
            pictures.append(stem.with_suffix(".png"))
    return pictures


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNGs")
    parser.add_argument("--dpi", type=int, default=96, help="resolution of the PNGs")
    args = parser.parse_args(argv)
    for picture in render(args.out, args.dpi):
        print(f"{picture}: {picture.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
