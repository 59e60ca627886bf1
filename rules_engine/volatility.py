"""Model-free implied variance (the Cboe VIX method), its term interpolation, forward variance and
realized volatility, in plain numpy/pandas.

`model_free_variance(chain, T, r)` is the Cboe VIX calculation for one expiry, step by step as the
Cboe VIX white paper and methodology print it:

1. Mid quotes Q = (bid + ask) / 2. A series is *quoted* when its bid is above 0 and its ask is a
   number at or above the bid; a blank (NaN) bid counts as a zero bid.
2. Forward: the parity strike is the strike with the smallest |call mid - put mid| among strikes
   where both the call and the put are quoted (on a tie, the lowest such strike);
   F = parity strike + e^{rT} (call mid - put mid).
3. K0 = the listed strike at or immediately below F.
4. Strip: walking down from K0 the out-of-the-money puts, walking up from K0 the out-of-the-money
   calls; a series that is not quoted is skipped, and the walk stops after two consecutive
   strikes that are not quoted. At K0 the put and call mids are averaged.
5. dK = half the distance between the neighbouring *included* strikes; at the two ends, the
   distance to the single neighbour.
6. sigma^2 = (2/T) sum(dK / K^2 e^{rT} Q(K)) - (1/T) (F/K0 - 1)^2 (annualized variance).

The Cboe rule of 2025 that also drops a series whose ask is zero is covered by step 1 (such a
series has a zero bid too). Cboe uses each expiry's own Treasury rate and times to the minute;
the workbook gives dates, not minutes, so a plugin takes T = calendar days to expiry / 365 from
the as-of date (`years_to`) and the Market sheet's single Rate for every expiry.

`vix_from_terms` interpolates two terms to a constant maturity (Cboe's formula, in minutes);
`forward_variance` is the variance implied between two expiries; `realized_volatility` is the
close-to-close volatility the VIX is compared with.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]

#: The columns `model_free_variance` needs, one row per strike.
CHAIN_COLUMNS = ("strike", "call_bid", "call_ask", "put_bid", "put_ask")
MINUTES_PER_YEAR = 525_600.0
MINUTES_PER_DAY = 1_440.0
TRADING_DAYS_PER_YEAR = 252


@dataclass(frozen=True)
class TermVariance:
    """One expiry's model-free variance and the steps that made it (for explanations and tests).

    `strikes` are the included strikes, ascending, with their mids `quotes` (the K0 average at
    K0), widths `widths` (dK) and `contributions` (dK/K^2 e^{rT} Q). `strip` is the first term of
    sigma^2, (2/T) times their sum; `forward_term` is (1/T)(F/K0 - 1)^2.
    """

    forward: float
    parity_strike: float
    k0: float
    strikes: tuple[float, ...]
    quotes: tuple[float, ...]
    widths: tuple[float, ...]
    contributions: tuple[float, ...]
    strip: float
    forward_term: float
    variance: float


def model_free_variance(chain: pd.DataFrame, T: float, r: float) -> float:
    """Annualized model-free variance sigma^2 of one expiry (e.g. 0.0192 for ~13.9% vol).

    `chain`: columns strike, call_bid, call_ask, put_bid, put_ask, one row per strike, any order;
    `T`: years to expiry; `r`: continuously compounded annual rate (0.0003 = 0.03%). Raises
    ValueError saying why when the chain cannot give a variance. The steps are in the module
    docstring; `term_variance` returns them too.
    """
    return term_variance(chain, T, r).variance


def term_variance(chain: pd.DataFrame, T: float, r: float) -> TermVariance:
    """`model_free_variance` with the forward, K0 and the strike strip that made it."""
    if not (math.isfinite(T) and T > 0):
        raise ValueError(f"time to expiry T must be a number above 0, got {T!r}")
    if not math.isfinite(r):
        raise ValueError(f"rate r must be a finite number, got {r!r}")
    strike, call_bid, call_ask, put_bid, put_ask = _columns(chain)
    call_ok, put_ok = _quoted(call_bid, call_ask), _quoted(put_bid, put_ask)
    call_mid, put_mid = (call_bid + call_ask) / 2.0, (put_bid + put_ask) / 2.0
    growth = math.exp(r * T)

    both = np.flatnonzero(call_ok & put_ok)
    if both.size == 0:
        raise ValueError(
            "no strike has both a call and a put quote (bid above 0): the forward cannot be found"
        )
    parity = int(both[np.argmin(np.abs(call_mid[both] - put_mid[both]))])
    forward = float(strike[parity] + growth * (call_mid[parity] - put_mid[parity]))
    below = np.flatnonzero(strike <= forward)
    if below.size == 0:
        raise ValueError(f"no strike at or below the forward {forward:g}: K0 cannot be found")
    i0 = int(below[-1])
    k0 = float(strike[i0])
    if not (call_ok[i0] and put_ok[i0]):
        raise ValueError(f"K0 = {k0:g} needs both a call and a put quote (bid above 0)")

    puts = _walk(range(i0 - 1, -1, -1), put_ok)
    calls = _walk(range(i0 + 1, strike.size), call_ok)
    if not puts and not calls:
        raise ValueError(f"no out-of-the-money quote beside K0 = {k0:g}: no strip to sum")
    index = np.array([*reversed(puts), i0, *calls])
    quotes = np.where(index < i0, put_mid[index], call_mid[index])
    quotes[len(puts)] = (put_mid[i0] + call_mid[i0]) / 2.0
    strikes = strike[index]
    widths = _widths(strikes)
    contributions = widths / strikes**2 * growth * quotes
    strip = 2.0 / T * float(np.sum(contributions))
    forward_term = (forward / k0 - 1.0) ** 2 / T
    variance = strip - forward_term
    if not variance > 0:
        raise ValueError(f"the chain gives a variance of {variance:g}, not above 0")
    return TermVariance(
        forward=forward,
        parity_strike=float(strike[parity]),
        k0=k0,
        strikes=tuple(map(float, strikes)),
        quotes=tuple(map(float, quotes)),
        widths=tuple(map(float, widths)),
        contributions=tuple(map(float, contributions)),
        strip=strip,
        forward_term=forward_term,
        variance=variance,
    )


def vix_from_terms(
    T1: float,
    var1: float,
    T2: float,
    var2: float,
    days: float = 30,
) -> float:
    """The constant-maturity volatility index from two terms, in index points (13.69, not 0.1369).

    Cboe's formula in minutes: N_T = T x 525,600, N_days = days x 1,440, N365 = 525,600;
    100 sqrt((T1 var1 (N_T2 - N_days)/(N_T2 - N_T1) + T2 var2 (N_days - N_T1)/(N_T2 - N_T1))
    x N365 / N_days). Needs 0 < T1 < T2; a maturity outside [T1, T2] is extrapolated linearly in
    total variance, and ValueError is raised when that total variance is not above 0.
    """
    if not (math.isfinite(T1) and math.isfinite(T2) and 0 < T1 < T2):
        raise ValueError(f"needs 0 < T1 < T2, got T1={T1!r}, T2={T2!r}")
    if not (math.isfinite(days) and days > 0):
        raise ValueError(f"days must be a number above 0, got {days!r}")
    n1, n2 = T1 * MINUTES_PER_YEAR, T2 * MINUTES_PER_YEAR
    n_days = days * MINUTES_PER_DAY
    total = T1 * var1 * (n2 - n_days) / (n2 - n1) + T2 * var2 * (n_days - n1) / (n2 - n1)
    if not total > 0:
        raise ValueError(f"the interpolated total variance is {total:g}, not above 0")
    return 100.0 * math.sqrt(total * MINUTES_PER_YEAR / n_days)


def forward_variance(T1: float, var1: float, T2: float, var2: float) -> float:
    """The annualized variance implied between two expiries: (var2 T2 - var1 T1) / (T2 - T1).

    Works in any consistent unit (variance in 1.00 or in vol points squared). Can be negative
    when the nearer term is much richer than the farther; needs 0 <= T1 < T2.
    """
    if not (math.isfinite(T1) and math.isfinite(T2) and 0 <= T1 < T2):
        raise ValueError(f"needs 0 <= T1 < T2, got T1={T1!r}, T2={T2!r}")
    return (var2 * T2 - var1 * T1) / (T2 - T1)


def years_to(expiry: dt.date, as_of: dt.date) -> float:
    """T for an expiry: calendar days from the as-of date / 365 (the workbook has no minutes)."""
    return (expiry - as_of).days / 365.0


def realized_volatility(close: pd.Series, n: int) -> float:
    """Annualized close-to-close volatility of the last n log returns, in vol points (12.3).

    100 sqrt(252 / n x sum(ln(C_t / C_t-1)^2)): the variance-swap convention (no mean taken
    out), the realized counterpart of VIX^2. `close` is used as given (drop blanks first); needs
    at least n + 1 positive closes.
    """
    values = close.to_numpy(dtype=float)[-(n + 1) :]
    if n < 1 or values.size < n + 1:
        raise ValueError(f"needs {n + 1} closes for {n} returns, got {values.size}")
    if not (np.all(np.isfinite(values)) and np.all(values > 0)):
        raise ValueError("closes must be positive numbers")
    returns = np.diff(np.log(values))
    return 100.0 * math.sqrt(TRADING_DAYS_PER_YEAR / n * float(np.sum(returns**2)))


def _columns(chain: pd.DataFrame) -> tuple[FloatArray, ...]:
    """The chain's columns as float arrays sorted by strike, after checking the strikes."""
    missing = [c for c in CHAIN_COLUMNS if c not in chain.columns]
    if missing:
        raise ValueError(f"the chain needs columns {', '.join(missing)}")
    ordered = chain.sort_values("strike", kind="stable")
    arrays = tuple(pd.to_numeric(ordered[c]).to_numpy(dtype=float) for c in CHAIN_COLUMNS)
    strike = arrays[0]
    if strike.size == 0:
        raise ValueError("the chain is empty")
    if not (np.all(np.isfinite(strike)) and np.all(strike > 0)):
        raise ValueError("every strike must be a number above 0")
    repeated = np.unique(strike[1:][np.diff(strike) == 0])
    if repeated.size:
        raise ValueError(f"strike {repeated[0]:g} appears more than once")
    return arrays


def _quoted(bid: FloatArray, ask: FloatArray) -> npt.NDArray[np.bool_]:
    """A usable quote: bid above 0 and an ask at or above it (NaN compares False)."""
    return (bid > 0) & (ask >= bid)


def _walk(order: range, quoted: npt.NDArray[np.bool_]) -> list[int]:
    """Indexes of the quoted series walking outward, skipping unquoted ones, stopping after two
    consecutive unquoted ones."""
    kept: list[int] = []
    gap = 0
    for i in order:
        if quoted[i]:
            kept.append(i)
            gap = 0
            continue
        gap += 1
        if gap == 2:
            break
    return kept


def _widths(strikes: FloatArray) -> FloatArray:
    """dK: half the distance between the neighbours, one-sided at the two ends."""
    widths = np.empty_like(strikes)
    widths[0] = strikes[1] - strikes[0]
    widths[-1] = strikes[-1] - strikes[-2]
    widths[1:-1] = (strikes[2:] - strikes[:-2]) / 2.0
    return widths
