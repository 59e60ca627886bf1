"""Time `alvh recompute` on the example workbook and on generated 200- and 5,000-condor books.

Targets (on the 2-core CI machine): issue 2, whole process under 1.5 s for the example and the
engine step alone (no I/O: Inputs already read, plugins loaded) under 100 ms; issue 6, the whole
process on 5,000 condors (20,000 legs, 10 years of history) at most 4x the example's, both
measured in this one run (runs interleaved, medians compared), and a cold recompute of the
example at most 1.5x a bare `python -c "import pandas"`, interleaved too. Each book gets a per-stage
breakdown (read, engine, layout, write, timed in this process), beside the start-up every run
pays (interpreter, imports, plugin loading: a process that only starts), so that a slow stage
is easy to find. Run: `make bench`.
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
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import openpyxl

from rules_engine.engine import recompute
from rules_engine.expiries import next_expiries, third_friday, vix_expiry
from rules_engine.host import load_plugins
from rules_engine.layout import lay_out
from rules_engine.pricing import bsm
from rules_engine.workbook.create import create_workbook
from rules_engine.workbook.example import spx_closes, vix_closes
from rules_engine.workbook.reader import read_workbook
from rules_engine.workbook.writer import write_owned_sheets

RATE, DIVIDEND = 0.04, 0.013
#: Issue 6: the whole process on 5,000 condors costs at most this many times the example's.
MAX_RATIO = 4.0
STAGES = ("read", "engine", "layout", "write")


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
    for i, expiry in enumerate(next_expiries(as_of, 8, vix_expiry)):
        futures.append([expiry, round(vix_now + 1.0 + 0.6 * i, 2)])
    positions = wb["Positions"]
    expiries = next_expiries(as_of + dt.timedelta(days=14), 6, third_friday)
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


def summary(label: str, seconds: list[float], target: float | None) -> str:
    med, best = statistics.median(seconds), min(seconds)
    verdict = "" if target is None else "OK" if med < target else "OVER TARGET"
    goal = "" if target is None else f", target {target * 1000:.0f} ms: {verdict}"
    return (
        f"{label:<48} median {med * 1000:8.1f} ms  min {best * 1000:8.1f} ms  "
        f"(n={len(seconds)}{goal})"
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


#: The yardstick of a cold start: a bare interpreter that imports pandas and stops.
PANDAS_ONLY = (sys.executable, "-c", "import pandas")
#: A cold recompute of the example may take at most this multiple of PANDAS_ONLY (issue 6).
MAX_COLD_RATIO = 1.5


def processes(paths: Sequence[Path], repeat: int) -> tuple[dict[Path, list[float]], list[float]]:
    """Whole `alvh recompute` processes on each workbook and bare `import pandas` processes,
    interleaved so drift hits all alike."""
    alvh = shutil.which("alvh") or str(Path(sys.executable).with_name("alvh"))
    seconds: dict[Path, list[float]] = {path: [] for path in paths}
    baseline: list[float] = []
    for _ in range(repeat):
        baseline.extend(timed_runs(list(PANDAS_ONLY), 1))
        for path in paths:
            seconds[path].extend(timed_runs([alvh, "recompute", str(path), "--quiet"], 1))
    return seconds, baseline


def stages(path: Path, repeat: int) -> dict[str, list[float]]:
    """Read, engine, layout and write of one recompute in this process, `repeat` times."""
    host = load_plugins(use_entry_points=False)
    seconds: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for _ in range(repeat):
        marks = [time.perf_counter()]
        read = read_workbook(path)
        marks.append(time.perf_counter())
        outputs = recompute(read.inputs, host)
        marks.append(time.perf_counter())
        sheets = lay_out(outputs)
        marks.append(time.perf_counter())
        write_owned_sheets(path, sheets, expected_sha256=read.sha256)
        marks.append(time.perf_counter())
        for stage, begin, end in zip(STAGES, marks, marks[1:], strict=False):
            seconds[stage].append(end - begin)
    return seconds


def startup(repeat: int) -> list[float]:
    """A process that starts as `alvh recompute` does (imports, plugins) and stops there."""
    code = "from rules_engine.cli import main\nfrom rules_engine.host import load_plugins\n"
    code += "load_plugins()"
    return timed_runs([sys.executable, "-c", code], repeat)


def timed_runs(command: list[str], repeat: int) -> list[float]:
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True)
        seconds.append(time.perf_counter() - start)
    return seconds


def breakdown(label: str, parts: dict[str, list[float]], start: list[float]) -> str:
    """Median ms per stage, and the start-up every process pays."""
    medians = {stage: statistics.median(times) for stage, times in parts.items()}
    medians["start-up"] = statistics.median(start)
    shown = "  ".join(f"{stage} {ms * 1000:7.1f}" for stage, ms in medians.items())
    return f"{label + ': median ms':<48} {shown}"


def ratio_line(label: str, big: list[float], small: list[float], target: float) -> str:
    ratio = statistics.median(big) / statistics.median(small)
    verdict = "OK" if ratio <= target else "OVER TARGET"
    return f"{label:<48} {ratio:8.2f}x  (target at most {target:g}x: {verdict})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--condors", type=int, default=5000, help="size of the big book")
    args = parser.parse_args()
    big = f"{args.condors:,} condors"
    #: label -> (whole-process target, engine target); the big book's target is the ratio.
    targets: dict[str, tuple[float | None, float | None]] = {
        "example": (1.5, 0.100),
        "200 condors": (1.5, 0.100),
        big: (None, None),
    }
    lines = [f"machine: {machine()}"]
    with tempfile.TemporaryDirectory() as tmp:
        books = {label: Path(tmp) / f"book{n}.xlsx" for n, label in enumerate(targets)}
        host = load_plugins(use_entry_points=False)
        create_workbook(books["example"], host.declared_settings, example=True)
        generate_large(books["200 condors"])
        generate_large(books[big], condors=args.condors)
        processes(list(books.values()), 1)  # the first recompute adds the owned sheets
        whole, pandas_only = processes(list(books.values()), args.repeat)
        start = startup(args.repeat)
        for label, path in books.items():
            parts = stages(path, args.repeat)
            process_target, engine_target = targets[label]
            lines.append(
                summary(f"{label}: whole `alvh recompute` process", whole[path], process_target)
            )
            lines.append(
                summary(f"{label}: engine step alone (no I/O)", parts["engine"], engine_target)
            )
            lines.append(breakdown(label, parts, start))
        lines.append(
            ratio_line(
                f"{args.condors:,} condors / example (process)",
                whole[books[big]],
                whole[books["example"]],
                MAX_RATIO,
            )
        )
        lines.append(summary("bare `python -c 'import pandas'`", pandas_only, None))
        lines.append(
            ratio_line(
                "cold example recompute / import pandas",
                whole[books["example"]],
                pandas_only,
                MAX_COLD_RATIO,
            )
        )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
