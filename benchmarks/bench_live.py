"""Time a warm recompute through the live-Excel adapter, without Excel's own time.

Excel is replaced by the recording stand-in of the tests (tests/live_standin.py), loaded from the
example workbook. One run is what the button does after its imports: read the input sheets, compute,
lay out, write the owned sheets (`pipeline.recompute_workbook` with `live.read_book`/`write_book`).
The time the stand-in spends copying cells in and out (its `recorder.seconds`) is subtracted, so
the figure is the adapter's and the engine's. Target (issue 3): under 300 ms for the example.
Run: `.venv/bin/python benchmarks/bench_live.py`.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from bench_recompute import generate_large, machine

from rules_engine.host import PluginHost, load_plugins
from rules_engine.pipeline import recompute_workbook
from rules_engine.workbook.create import create_workbook
from rules_engine.workbook.live import read_book, write_book

ROOT = Path(__file__).resolve().parents[1]
TARGET = 0.300


def _standin() -> ModuleType:
    """tests/live_standin.py, a test helper rather than part of the package."""
    sys.path.insert(0, str(ROOT / "tests"))
    return importlib.import_module("live_standin")


def run_once(loaded: Any, host: PluginHost) -> tuple[float, float]:
    """(adapter + engine seconds, stand-in seconds) for one recompute of a fresh copy."""
    book = copy.deepcopy(loaded)
    start = time.perf_counter()
    outputs = recompute_workbook(
        lambda: read_book(book).inputs,
        lambda sheets: write_book(book, sheets),
        host,
    )
    total = time.perf_counter() - start
    assert outputs.ok, [str(i) for i in outputs.issues]
    excel = book.recorder.seconds
    return total - excel, excel


def bench(path: Path, label: str, repeat: int, target: float | None) -> str:
    standin = _standin()
    loaded = standin.Book.load(path)
    host = load_plugins(use_entry_points=False)
    run_once(loaded, host)  # warm: first-call imports and caches are not what a click costs
    runs = [run_once(loaded, host) for _ in range(repeat)]
    ours = [r[0] for r in runs]
    excel = statistics.median(r[1] for r in runs)
    med, best = statistics.median(ours), min(ours)
    verdict = "" if target is None else f", target {target * 1000:.0f} ms: "
    verdict += "" if target is None else ("OK" if med < target else "OVER TARGET")
    return (
        f"{label:<40} median {med * 1000:7.1f} ms  min {best * 1000:7.1f} ms  "
        f"(n={repeat}; stand-in's own {excel * 1000:.1f} ms excluded{verdict})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    lines = [f"machine: {machine()}"]
    with tempfile.TemporaryDirectory() as tmp:
        example = Path(tmp) / "example.xlsx"
        host = load_plugins(use_entry_points=False)
        create_workbook(example, host.declared_settings, example=True)
        lines.append(bench(example, "example: warm live recompute", args.repeat, TARGET))
        large = Path(tmp) / "large.xlsx"
        generate_large(large)
        lines.append(bench(large, "200 condors, 10y: warm live recompute", 3, None))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
