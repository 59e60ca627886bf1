"""Calibrate the stress model's defaults from the shipped data, and check or write them.

    .venv/bin/python scripts/calibrate_stress.py           # print the calibrated numbers
    .venv/bin/python scripts/calibrate_stress.py --check   # exit 1 if calibration.py differs
    .venv/bin/python scripts/calibrate_stress.py --write   # rewrite calibration.py's block

Inputs: the SPX and VIX daily closes shipped in rules_engine/example_data, read with the example
workbook's loaders (the SPX-VIX regressions use the days with both closes, 2016-02-12 onward; the
long-run VIX mean every VIX close), and the published VIX futures realized-vol points below.
Output: the block between the BEGIN/END calibrated markers of rules_engine/risk/calibration.py,
every number rounded to SIGNIFICANT digits.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rules_engine.risk import calibration
from rules_engine.workbook.example import spx_closes, vix_closes

FloatArray = npt.NDArray[np.float64]
Value = float | tuple[float, ...]

SIGNIFICANT = 4
#: The project's line length (pyproject.toml), for the comments written.
LINE_LENGTH = 100
#: Trading days per window of the points-rule regression (the notes: 1-10 day windows).
POINTS_WINDOW = 5
#: Realized vol of VIX futures at VIX 15, (days to expiry, vol): front month ~66% (~15 days),
#: second ~45% (~47 days), third ~35% (~77 days). Published figures quoted in the project's market
#: notes (shared/notes/market-model.md, "Measured on the shipped data and published settlements").
FUTURES_VOL_POINTS = ((15.0, 0.66), (47.0, 0.45), (77.0, 0.35))
#: Implied over realized VIX futures vol: Black-76 at 1.2x (+-0.1) realized reproduced Cboe's
#: published VXTH five-year return (same notes).
IMPLIED_OVER_REALIZED = 1.2

#: The calibrated names in the order written, each with the comment written above it.
COMMENTS = {
    "SPX_BETAS": "SPX log return per VIX log return in each VIX regime of the previous close"
    " (below 15, 15 to 25, 25 and above): regressions through the origin on consecutive daily"
    " closes.",
    "SPX_PCT_PER_VIX_POINT": "The points rule: SPX return per VIX point (a fraction, -0.01 = -1%"
    f" per point): regression through the origin over overlapping {POINTS_WINDOW}-day windows.",
    "LONG_RUN_VIX_MEAN": "The mean of every VIX close shipped (1990 on): the curve model's 1-year"
    " mean when a workbook's History holds too few VIX closes.",
    "VIX_VOL_30D": "VIX option implied vol at the money, 30 days to expiry, VIX 15 (1.00 = 100%):"
    f" {IMPLIED_OVER_REALIZED}x the realized vol of VIX futures there (a power law in tenor fitted"
    " to three published points).",
    "VIX_VOL_TERM_EXPONENT": "How fast that vol falls with tenor: vol ~ (days / 30) ** -exponent"
    " (the same fit).",
}
BEGIN = "# BEGIN calibrated"
END = "# END calibrated"


def paired_closes() -> tuple[FloatArray, FloatArray]:
    """SPX and VIX closes on the days both exist, in date order (VIX has closes on some
    holidays; SPX starts 2016-02-12)."""
    spx, vix = spx_closes(), vix_closes()
    days = sorted(spx.keys() & vix.keys())
    return np.array([spx[d] for d in days]), np.array([vix[d] for d in days])


def through_origin(x: FloatArray, y: FloatArray) -> float:
    """Least-squares slope of y on x with no intercept."""
    return float(x @ y / (x @ x))


def regime_betas(
    spx: FloatArray, vix: FloatArray, bounds: Sequence[float], *, log: bool = True
) -> tuple[float, ...]:
    """SPX return per VIX return, day by day, in each regime of the previous day's VIX close.

    log=False regresses simple % changes instead (how the market notes measured them).
    """
    if log:
        spx_ret, vix_ret = np.diff(np.log(spx)), np.diff(np.log(vix))
    else:
        spx_ret, vix_ret = spx[1:] / spx[:-1] - 1, vix[1:] / vix[:-1] - 1
    regime = np.searchsorted(np.asarray(bounds), vix[:-1], side="right")
    return tuple(
        through_origin(vix_ret[regime == i], spx_ret[regime == i]) for i in range(len(bounds) + 1)
    )


def points_coefficient(spx: FloatArray, vix: FloatArray, window: int = POINTS_WINDOW) -> float:
    """SPX return (fraction) per VIX point over every (overlapping) window of `window` trading
    days."""
    return through_origin(vix[window:] - vix[:-window], spx[window:] / spx[:-window] - 1)


def vol_term_fit(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """(vol at 30 days, tenor exponent b) of vol = a (days / 30) ** -b, least squares in logs."""
    days, vols = np.array(points).T
    slope, intercept = np.polyfit(np.log(days / calibration.VIX_VOL_ANCHOR_DAYS), np.log(vols), 1)
    return float(np.exp(intercept)), float(-slope)


def calibrate() -> dict[str, Value]:
    """Every calibrated default, unrounded, keyed by its name in calibration.py."""
    spx, vix = paired_closes()
    realized_30d, term_exponent = vol_term_fit(FUTURES_VOL_POINTS)
    return {
        "SPX_BETAS": regime_betas(spx, vix, calibration.REGIME_BOUNDS),
        "SPX_PCT_PER_VIX_POINT": points_coefficient(spx, vix),
        "LONG_RUN_VIX_MEAN": float(np.mean(list(vix_closes().values()))),
        "VIX_VOL_30D": IMPLIED_OVER_REALIZED * realized_30d,
        "VIX_VOL_TERM_EXPONENT": term_exponent,
    }


def rounded(value: Value) -> Value:
    """The value as stored: SIGNIFICANT significant digits."""
    if isinstance(value, tuple):
        return tuple(float(f"{v:.{SIGNIFICANT}g}") for v in value)
    return float(f"{value:.{SIGNIFICANT}g}")


def render(values: dict[str, Value]) -> list[str]:
    """The lines between the BEGIN and END markers."""
    lines: list[str] = []
    for name, comment in COMMENTS.items():
        lines += textwrap.wrap(comment, LINE_LENGTH, initial_indent="#: ", subsequent_indent="#: ")
        lines.append(f"{name}: Final = {rounded(values[name])!r}")
    return lines


def differences(values: dict[str, Value]) -> list[str]:
    """One line per calibrated constant whose stored value is not the computed one."""
    return [
        f"{name}: stored {getattr(calibration, name)!r}, computed {rounded(value)!r}"
        for name, value in values.items()
        if getattr(calibration, name) != rounded(value)
    ]


def write(values: dict[str, Value], path: Path) -> None:
    """Replace the block between the markers of calibration.py with the computed values."""
    lines = path.read_text("utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(BEGIN))
    stop = next(i for i, line in enumerate(lines) if line.startswith(END))
    path.write_text("\n".join([*lines[: start + 1], *render(values), *lines[stop:]]) + "\n")


def report(values: dict[str, Value]) -> None:
    """Print the calibrated numbers and the cross-checks behind them."""
    for name, value in values.items():
        print(f"{name} = {rounded(value)!r}")
    spx, vix = paired_closes()
    bounds = calibration.REGIME_BOUNDS
    regime = np.searchsorted(np.asarray(bounds), vix[:-1], side="right")
    counts = [int((regime == i).sum()) for i in range(len(bounds) + 1)]
    print(f"{len(spx)} days with both closes; daily returns per VIX regime {bounds}: {counts}")
    print("SPX per VIX beta, simple % returns:", rounded(regime_betas(spx, vix, bounds, log=False)))
    print("SPX per VIX beta over all days, log:", rounded(regime_betas(spx, vix, ())))
    spx_pct = (spx[POINTS_WINDOW:] / spx[:-POINTS_WINDOW] - 1) * 100
    vix_pts = vix[POINTS_WINDOW:] - vix[:-POINTS_WINDOW]
    print("VIX points per SPX % (reverse regression):", rounded(through_origin(spx_pct, vix_pts)))
    realized_30d, term_exponent = vol_term_fit(FUTURES_VOL_POINTS)
    for days, vol in FUTURES_VOL_POINTS:
        fit = realized_30d * (days / calibration.VIX_VOL_ANCHOR_DAYS) ** -term_exponent
        print(f"realized futures vol at {days:g} days: fit {fit:.4f}, published {vol}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--check", action="store_true", help="exit 1 if calibration.py differs")
    action.add_argument("--write", action="store_true", help="rewrite calibration.py's block")
    args = parser.parse_args(argv)
    values = calibrate()
    if args.write:
        write(values, Path(calibration.__file__))
        print(f"wrote {calibration.__file__}")
        return 0
    if args.check:
        stale = differences(values)
        for line in stale:
            print(line, file=sys.stderr)
        if stale:
            print("run: python scripts/calibrate_stress.py --write", file=sys.stderr)
        return 1 if stale else 0
    report(values)
    return 0


if __name__ == "__main__":
    sys.exit(main())
