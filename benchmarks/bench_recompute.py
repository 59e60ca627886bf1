"""Time `alvh recompute` on the example workbook and on a generated 200-condor, 10-year workbook.

Targets (issue 2, on the 2-core CI machine): whole process under 1.5 s for the example; the engine
step alone (no I/O: Inputs already read, plugins loaded) under 100 ms. Run: `make bench`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openpyxl

from rules_engine.engine import recompute
from rules_engine.host import load_plugins
from rules_engine.layout import lay_out
from rules_engine.pricing import bsm
from rules_engine.workbook.create import create_workbook
from rules_engine.workbook.example import spx_closes, third_friday, vix_closes, vix_expiry
from rules_engine.workbook.reader import read_workbook
from rules_engine.workbook.writer import write_owned_sheets

RATE, DIVIDEND = 0.04, 0.013


def monthly(as_of: dt.date, count: int, expiry: Callable[[int, int], dt.date]) -> list[dt.date]:
    """The next `count` monthly expiries after `as_of`, by the given expiry rule."""
    out: list[dt.date] = []
    year, month = as_of.year, as_of.month
    while len(out) < count:
        day = expiry(year, month)
        if day > as_of:
            out.append(day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def generate_large(path: Path, condors: int = 200, seed: int = 7) -> None:
    """A blank workbook filled with 10 years of real SPX/VIX closes and `condors` iron condors."""
    host = load_plugins(use_entry_points=False)
    create_workbook(path, host.declared_settings, force=True)
    spx, vix = spx_closes(), vix_closes()
    dates = sorted(set(spx) & set(vix))
    as_of = dates[-1]
    spot, vix_now = spx[as_of], vix[as_of]
    rng = np.random.default_rng(seed)
    wb = openpyxl.load_workbook(path)
    market = wb["Market"]
    values = {
        "As Of": as_of,
        "SPX": spot,
        "VIX": vix_now,
        "VIX3M": vix_now + 1.5,
        "VVIX": 95.0,
        "Rate": RATE,
        "Dividend Yield": DIVIDEND,
    }
    for row in market.iter_rows(min_row=2):
        if row[0].value in values:
            row[1].value = values[row[0].value]
    hist = wb["History"]
    for d in dates:
        hist.append([d, spx[d], None, None, vix[d]])
    futures = wb["VIX Futures"]
    for i, expiry in enumerate(monthly(as_of, 8, vix_expiry)):
        futures.append([expiry, round(vix_now + 1.0 + 0.6 * i, 2)])
    positions = wb["Positions"]
    expiries = monthly(as_of + dt.timedelta(days=14), 6, third_friday)
    for n in range(condors):
        expiry = expiries[n % len(expiries)]
        t = (expiry - as_of).days / 365
        width = float(rng.choice([25, 50]))
        put = round(spot * (1 - rng.uniform(0.04, 0.10)) / 25) * 25
        call = round(spot * (1 + rng.uniform(0.03, 0.07)) / 25) * 25
        qty = int(rng.integers(1, 11))
        legs = [(put - width, 1, 0.20), (put, -1, 0.18), (call, -1, 0.11), (call + width, 1, 0.10)]
        for k, sign, iv in legs:
            is_call = k >= call
            price = float(bsm(spot, k, t, RATE, DIVIDEND, iv, is_call)["price"])
            positions.append(
                [
                    f"IC{n:03d}",
                    "SPX",
                    "Call" if is_call else "Put",
                    expiry,
                    k,
                    sign * qty,
                    None,
                    round(price, 2),
                    iv,
                    None,
                ]
            )
    wb.save(path)


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def summary(label: str, seconds: list[float], target: float) -> str:
    med, best = statistics.median(seconds), min(seconds)
    verdict = "OK" if med < target else "OVER TARGET"
    return (
        f"{label:<44} median {med * 1000:8.1f} ms  min {best * 1000:8.1f} ms  "
        f"(n={len(seconds)}, target {target * 1000:.0f} ms: {verdict})"
    )


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cpu = model or platform.processor()
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def bench(path: Path, label: str, repeat: int) -> list[str]:
    alvh = shutil.which("alvh") or str(Path(sys.executable).with_name("alvh"))
    work = path.with_name(f"run-{path.name}")
    shutil.copy(path, work)
    process = timed(
        lambda: subprocess.run([alvh, "recompute", str(work), "--quiet"], check=True), repeat
    )
    host = load_plugins(use_entry_points=False)
    read = read_workbook(work)
    engine = timed(lambda: recompute(read.inputs, host), repeat * 3)
    outputs = recompute(read.inputs, host)
    sheets = lay_out(outputs)
    reading = timed(lambda: read_workbook(work), repeat)

    def write() -> None:
        write_owned_sheets(work, sheets, expected_sha256=None)

    writing = timed(write, repeat)
    return [
        summary(f"{label}: whole `alvh recompute` process", process, 1.5),
        summary(f"{label}: engine step alone (no I/O)", engine, 0.100),
        summary(f"{label}: read inputs (calamine)", reading, 1.0),
        summary(f"{label}: write owned sheets (zip patch)", writing, 1.0),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    lines = [f"machine: {machine()}"]
    with tempfile.TemporaryDirectory() as tmp:
        example = Path(tmp) / "example.xlsx"
        host = load_plugins(use_entry_points=False)
        create_workbook(example, host.declared_settings, example=True)
        lines += bench(example, "example", args.repeat)
        large = Path(tmp) / "large.xlsx"
        generate_large(large)
        lines += bench(large, "200 condors, 10y history", args.repeat)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
