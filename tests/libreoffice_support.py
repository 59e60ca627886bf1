"""LibreOffice as an independent oracle: a private profile and headless conversion with a timeout.

LibreOffice's default profile never recalculates an .xlsx on load (it trusts the cached values, and
ignores `fullCalcOnLoad`), and it would share state with any other LibreOffice the user runs. Every
conversion here therefore gets its own profile whose settings fix the recalculation mode and the
locale (so dates and decimals in CSV output do not depend on the machine). LibreOffice can hang, so
each conversion runs in its own process group and is killed whole when it overruns.

Used by tests/test_libreoffice.py and scripts/render_sheets.py.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
from pathlib import Path

#: Values of org.openoffice.Office.Calc/Formula/Load/OOXMLRecalcMode (LibreOffice's default is 1).
RECALC_ALWAYS = 0
RECALC_NEVER = 1

#: CSV export of every sheet to `<stem>-<sheet>.csv`: comma, double quotes, UTF-8, full precision
#: (not "as shown"), token 12 = -1 for all sheets (LibreOffice 7.2+).
CSV_ALL_SHEETS = "csv:Text - txt - csv (StarCalc):44,34,UTF8,1,,0,false,true,false,false,false,-1"

#: PDF export with each sheet on one page sized to its used range (LibreOffice 7.4+ JSON options).
PDF_WHOLE_SHEETS = 'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}'

CONVERSION_TIMEOUT_S = 60.0

_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
           xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" \
oor:op="fuse"><value>{recalc}</value></prop></item>
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" \
oor:op="fuse"><value>en-US</value></prop></item>
</oor:items>
"""


class LibreOfficeError(RuntimeError):
    """A conversion failed, produced nothing, or overran its timeout."""


def find_soffice() -> str | None:
    """The `soffice` executable on PATH, or None when LibreOffice is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def make_profile(folder: Path, *, recalc: int = RECALC_ALWAYS) -> Path:
    """Create a LibreOffice user profile in `folder` that recalculates OOXML files per `recalc`."""
    user = folder / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(_PROFILE.format(recalc=recalc), "utf-8")
    return folder


def convert(
    source: Path,
    target: str,
    out_dir: Path,
    profile: Path,
    *,
    timeout: float = CONVERSION_TIMEOUT_S,
) -> None:
    """Run `soffice --headless --convert-to target` on `source`, writing the result into `out_dir`.

    Raises LibreOfficeError (after killing LibreOffice's whole process group) on a timeout, and on
    a non-zero exit status.
    """
    soffice = find_soffice()
    if soffice is None:
        raise LibreOfficeError("LibreOffice (soffice) is not installed")
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [
        soffice,
        f"-env:UserInstallation={profile.resolve().as_uri()}",
        "--headless",
        "--norestore",
        "--nolockcheck",
        "--convert-to",
        target,
        "--outdir",
        str(out_dir),
        str(source),
    ]
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise LibreOfficeError(
                f"LibreOffice did not convert {source.name} within {timeout:g} s; killed it"
            ) from None
    if process.returncode != 0:
        raise LibreOfficeError(
            f"LibreOffice exited with {process.returncode} converting {source.name}: {stderr}"
        )


def sheets_as_csv(source: Path, out_dir: Path, profile: Path) -> dict[str, list[list[str]]]:
    """Every sheet of `source` as LibreOffice computes and shows it: sheet name -> CSV rows.

    A sheet LibreOffice could not open or export is missing from the result.
    """
    convert(source, CSV_ALL_SHEETS, out_dir, profile)
    prefix = f"{source.stem}-"
    sheets = {}
    for path in sorted(out_dir.glob(f"{prefix}*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            sheets[path.stem[len(prefix) :]] = list(csv.reader(handle))
    if not sheets:
        raise LibreOfficeError(f"LibreOffice wrote no CSV for {source.name}")
    return sheets
