"""Moving averages and RSI with TA-Lib's exact conventions, in plain numpy/pandas.

Why not TA-Lib itself: the engine must also run in Pyodide (xlwings Lite), where TA-Lib cannot be
installed; the tests use TA-Lib as the reference these functions must reproduce.

Conventions (TA-Lib defaults; ../shared/notes/market-model.md, "Indicator conventions"):
- Leading NaNs are skipped, as TA-Lib does: the series starts at its first valid value.
- A NaN after the first valid value (a gap or a blank last row) raises ValueError naming its index
  label: TA-Lib silently returns NaN or 0 from such a point on, which a signal would misread.
- Output: a float Series on the input's index and name, NaN before the first full window.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]


def sma(close: pd.Series, n: int) -> pd.Series:
    """Simple moving average of the last n values; first value at (first valid) + n - 1."""
    values, start = _clean(close, n, minimum=1, name="sma")
    out = np.full(values.size, np.nan)
    if values.size - start >= n:
        window_sums = np.convolve(values[start:], np.ones(n), mode="valid")
        out[start + n - 1 :] = window_sums / n
    return _like(close, out)


def ema(close: pd.Series, n: int) -> pd.Series:
    """Exponential moving average, k = 2/(n+1), seeded with the SMA of the first n values."""
    values, start = _clean(close, n, minimum=1, name="ema")
    out = np.full(values.size, np.nan)
    if values.size - start >= n:
        seed = float(np.mean(values[start : start + n]))
        out[start + n - 1 :] = _smooth(seed, values[start + n :], 2.0 / (n + 1))
    return _like(close, out)


def rsi(close: pd.Series, n: int = 14) -> pd.Series:
    """Wilder's RSI: 100 * avg gain / (avg gain + avg loss); 0 where both averages are 0.

    The first averages are the means of the first n changes (first value at (first valid) + n),
    then avg = avg + (change - avg) / n, i.e. (avg * (n - 1) + change) / n. TA-Lib returns 0, not
    50 or NaN, for a window with no change at all (a constant series), and so does this.
    """
    values, start = _clean(close, n, minimum=2, name="rsi")
    out = np.full(values.size, np.nan)
    changes = np.diff(values[start:])
    if changes.size >= n:
        gains = np.maximum(changes, 0.0)
        losses = np.maximum(-changes, 0.0)
        avg_gain = _smooth(float(np.mean(gains[:n])), gains[n:], 1.0 / n)
        avg_loss = _smooth(float(np.mean(losses[:n])), losses[n:], 1.0 / n)
        total = avg_gain + avg_loss
        ratio = np.divide(avg_gain, total, out=np.zeros_like(total), where=total > 0.0)
        out[start + n :] = 100.0 * ratio
    return _like(close, out)


def _clean(close: pd.Series, n: int, *, minimum: int, name: str) -> tuple[FloatArray, int]:
    """Check n and the data; return the values as floats and the position of the first valid one."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < minimum:
        raise ValueError(f"{name}: n must be an integer >= {minimum}, got {n!r}")
    values = close.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(values)
    if missing.all():
        return values, values.size
    start = int(np.argmax(~missing))
    gaps = np.flatnonzero(missing[start:])
    if gaps.size:
        position = start + int(gaps[0])
        raise ValueError(
            f"{name}: close has a missing value at index {close.index[position]!r} (row "
            f"{position}) after its first valid value; drop or fill gaps first"
        )
    return values, start


def _smooth(seed: float, values: FloatArray, alpha: float) -> FloatArray:
    """The recursion y <- y + alpha * (x - y) from y = seed, returning seed and every later y.

    A plain loop over a list: a sequential recursion has no vectorized numpy form, and at ~0.1 us
    per step 2,500 rows take well under a millisecond.
    """
    level = seed
    path = [seed]
    for value in values.tolist():
        level += alpha * (value - level)
        path.append(level)
    return np.asarray(path, dtype=np.float64)


def _like(close: pd.Series, values: FloatArray) -> pd.Series:
    """Wrap a result on the input's index and name."""
    return pd.Series(values, index=close.index, name=close.name, dtype=np.float64)
