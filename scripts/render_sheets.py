"""Render the Hedge and Risk sheets of exactly what `make demo` produces to PNG for the README.

    .venv/bin/python scripts/render_sheets.py [--out docs] [--dpi 96]

Needs LibreOffice (`soffice`, 7.4+) and `pdftocairo` (poppler-utils). The shipped example workbook
is copied to a temporary folder and recomputed by `alvh recompute`, as `make demo` does; the file
is then rendered as it is (no tidied copy): LibreOffice exports each sheet as one PDF page sized
to its used range, and pdftocairo turns the Hedge and Risk pages into PNGs, in colour (the
scenario grids are shaded).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from rules_engine.cli import main as alvh

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "workbooks" / "example.xlsx"
#: The sheets to picture, by their 1-based position in the workbook (its page in the PDF).
SHEETS = {"Hedge": 1, "Risk": 3}
#: The Risk sheet runs to many tables; its picture shows the top this many inches tall.
CROP_INCHES = {"Risk": 19.5}


def recomputed_example(folder: Path) -> Path:
    """The shipped example, copied to `folder` and recomputed as `make demo` does."""
    path = folder / "example.xlsx"
    shutil.copyfile(EXAMPLE, path)
    alvh(["recompute", str(path), "--quiet"], standalone_mode=False)
    return path


def render(out_dir: Path, dpi: int) -> list[Path]:
    """Write `<sheet>.png` (lower-case) for each sheet in SHEETS into `out_dir`."""
    sys.path.insert(0, str(ROOT / "tests"))
    from libreoffice_support import PDF_WHOLE_SHEETS, convert, make_profile

    out_dir.mkdir(parents=True, exist_ok=True)
    pictures = []
    with tempfile.TemporaryDirectory(prefix="alvh-render-") as temp:
        work = Path(temp)
        book = recomputed_example(work)
        convert(book, PDF_WHOLE_SHEETS, work, make_profile(work / "profile"))
        pdf = book.with_suffix(".pdf")
        for name, page in SHEETS.items():
            stem = out_dir / name.lower()
            crop = CROP_INCHES.get(name)
            height = ("-H", str(round(crop * dpi))) if crop else ()
            subprocess.run(
                [
                    *("pdftocairo", "-png", "-singlefile", "-r", str(dpi), *height),
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
