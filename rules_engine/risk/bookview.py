"""The book as a trader reads it: open P&L, net Greeks with vanna and vomma, how much of the
condors' VIX risk the hedges offset, expected moves, the odds of finishing beyond the short
strikes, return on risk, and the structure totals.

Pure functions of a `RiskReport` (rules_engine/risk/report.py): nothing here changes the report or
prices a new scenario; the engine lays the results out. Units follow DESIGN.md: dollars per
position, $delta per point of the leg's own underlying, $vega per vol point, $theta per day,
T = calendar days / 365. SPX points and VIX-future points are never added together, and neither
are SPX vol points and VIX-option vol points.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rules_engine.contract import POSITIONS
from rules_engine.models import Issue
from rules_engine.pricing import black76, bsm, norm_cdf
from rules_engine.risk.book import ETP_LEVERAGE, HEDGE_KINDS, CellOf
from rules_engine.risk.market import FloatArray, Scenario
from rules_engine.risk.report import RiskReport
from rules_engine.risk.stress import ETP_TENOR_DAYS
from rules_engine.risk.structures import Condor

DAYS_A_YEAR = 365.0
#: Row labels of the book-level tables: every leg that is not a VIX hedge (condors and other SPX
#: groups), the VIX hedges (VIX options and futures, VIX ETPs), and both.
SPX_BOOK = "SPX book"
VIX_HEDGES = "VIX hedges"
WHOLE_BOOK = "Whole book"
#: The book row of `return_on_risk`.
ALL_CONDORS = "All condors"

# --- open P&L -------------------------------------------------------------------------------------

#: How far (a fraction of today's level) the underlying may have moved since entry before an
#: option's Entry Price is judged impossible for its leg. SPX 5%: wide enough for the moves of a
#: normal month, narrow enough to catch a put bought at 3.00 and re-struck from 2700 to 3100 with
#: SPX at 2870 (a bought strike left more than 5% in the money by a crash is reported too, and the
#: message says the market may have moved).
#: VIX futures 80%: the band then reaches down to 1/5 of today's future, since the front future
#: rose ~5x in 2020-02/03 (VX1 ~14 -> 72.6), so a hedge that paid off is not reported.
ENTRY_BAND = {"spx_option": 0.05, "vix_option": 0.80}
#: A VIX future's or ETP's Entry Price more than this many times today's price, or less than its
#: inverse, is taken for another contract (an edited row, an ETP reverse split).
ENTRY_RATIO_MAX = 5.0


@dataclass(frozen=True)
class OpenPnl:
    """Dollars made or lost on each leg since entry, and Entry Prices that cannot be the leg's.

    `legs`, indexed like `risk.legs`: `group`, `row`, `entry_price` and `now_price` (per unit, in
    the leg's price units), `now_from` ("Mark" when the Mark cell is filled, else "model", the
    report's price), `open_pnl_usd` = qty x multiplier x (now_price - entry_price), NaN where the
    Entry Price is blank. `issues`: warnings at the Entry Price cells of `entry_mismatches`.
    """

    legs: pd.DataFrame
    issues: tuple[Issue, ...]

    @property
    def by_group(self) -> pd.Series:
        """Open P&L per Group ($, sheet order); NaN for a group with a leg lacking an Entry Price,
        since a partial sum would pass for the group's P&L."""
        pnl = self.legs["open_pnl_usd"]
        groups = self.legs["group"]
        total = pnl.groupby(groups, sort=False).sum()
        missing = pnl.isna().groupby(groups, sort=False).any()
        return total.where(~missing)

    @property
    def total(self) -> float:
        """Open P&L of every leg ($); NaN when any leg lacks an Entry Price."""
        pnl = self.legs["open_pnl_usd"]
        return float(pnl.sum()) if pnl.notna().all() else math.nan


def open_pnl(risk: RiskReport, cell_of: CellOf) -> OpenPnl:
    """Per leg, dollars from the Entry Price to today's price (Mark, else the model price)."""
    legs = risk.legs
    mark = legs["mark"].to_numpy(dtype=float)
    has_mark = np.isfinite(mark)
    now = np.where(has_mark, mark, legs["price"].to_numpy(dtype=float))
    entry = legs["entry_price"].to_numpy(dtype=float)
    frame = pd.DataFrame(
        {
            "group": legs["group"].astype(str),
            "row": legs["row"],
            "entry_price": entry,
            "now_price": now,
            "now_from": np.where(has_mark, "Mark", "model"),
            "open_pnl_usd": _size(legs) * (now - entry),
        },
        index=legs.index,
    )
    return OpenPnl(frame, tuple(entry_mismatches(risk, now, cell_of)))


def entry_bounds(risk: RiskReport) -> tuple[FloatArray, FloatArray]:
    """Per leg, the least and most an option could be worth at any vol with its underlying
    anywhere within `ENTRY_BAND` of today's level (NaN for futures and ETPs).

    With x the underlying level (SPX spot; for a VIX option the VIX future of its expiry), band b,
    T the years to expiry, and c the underlying's carry factor (e^-qT for SPX spot, e^-rT for a
    future): a call is worth at least max(x(1-b) c - K e^-rT, 0), its zero-vol value at the low
    edge, and at most x(1+b); a put at least max(K e^-rT - x(1+b) c, 0) and at most K.
    """
    legs = risk.legs
    kind = legs["kind"].to_numpy(dtype=object)
    spx = kind == "spx_option"
    band = np.full(len(legs), np.nan)
    for name, width in ENTRY_BAND.items():
        band[kind == name] = width
    level = legs["underlying_price"].to_numpy(dtype=float)
    strike = legs["strike"].to_numpy(dtype=float)
    years = _years(legs)
    call = (legs["type"] == "CALL").to_numpy()
    carry = np.exp(-np.where(spx, risk.dividend_yield, risk.rate) * years)
    strike_pv = strike * np.exp(-risk.rate * years)
    low_edge, high_edge = level * (1.0 - band), level * (1.0 + band)
    least = np.where(
        call,
        np.maximum(low_edge * carry - strike_pv, 0.0),
        np.maximum(strike_pv - high_edge * carry, 0.0),
    )
    most = np.where(call, high_edge, strike)
    option = np.isfinite(band)
    return np.where(option, least, np.nan), np.where(option, most, np.nan)


def entry_mismatches(risk: RiskReport, now: FloatArray, cell_of: CellOf) -> list[Issue]:
    """Warnings where an Entry Price no longer matches its leg (e.g. after the strike was edited):
    an option's outside `entry_bounds`, a future's or ETP's more than `ENTRY_RATIO_MAX` times
    today's price `now` (per leg) either way. Found in bulk; only flagged legs are walked."""
    legs = risk.legs
    least, most = entry_bounds(risk)
    entry = legs["entry_price"].to_numpy(dtype=float)
    linear = legs["kind"].isin(["vix_future", "etp"]).to_numpy() & (now > 0)
    ratio = np.divide(entry, now, out=np.full(len(legs), np.nan), where=linear)
    far = (ratio > ENTRY_RATIO_MAX) | (ratio < 1.0 / ENTRY_RATIO_MAX)
    flagged = np.flatnonzero((entry < least) | (entry > most) | far)
    issues = []
    for i in map(int, flagged):
        leg = legs.iloc[i]
        why = _entry_problem(leg, float(entry[i]), float(now[i]), float(least[i]), float(most[i]))
        cell = cell_of(int(leg["row"]), "entry_price")
        issues.append(Issue("warning", why, POSITIONS, cell, "Entry Price", "risk"))
    return issues


def _entry_problem(leg: pd.Series, entry: float, now: float, least: float, most: float) -> str:
    """Why this Entry Price cannot be the leg's (the leg is one `entry_mismatches` flagged)."""
    kind = str(leg["kind"])
    contract = f"{leg['underlying']} {str(leg['type']).lower()}"
    if kind not in ENTRY_BAND:
        return (
            f"Entry Price {entry:g} is {entry / now:.3g}x today's price {now:,.2f} of this "
            f"{contract} (more than {ENTRY_RATIO_MAX:g}x either way): was the Entry Price or the "
            "contract edited, or the ETP split?"
        )
    what = "SPX" if kind == "spx_option" else "the VIX future of its expiry"
    level = float(leg["underlying_price"])
    contract += f" struck at {leg['strike']:g}"
    band = f"with {what} anywhere within {ENTRY_BAND[kind]:.0%} of today's {level:,.2f}"
    if entry < least:
        return (
            f"Entry Price {entry:g} is below {least:,.2f}, the least this {contract} is worth at "
            f"any vol {band}: was the strike, type or Entry Price edited (or has the market moved "
            "that far since entry)? Its open P&L is not meaningful until they match"
        )
    limit = "its strike" if leg["type"] == "PUT" else "its underlying"
    return (
        f"Entry Price {entry:g} is above {most:,.2f}: this {contract} is never worth more than "
        f"{limit} ({band}): was the strike, type or Entry Price edited?"
    )


# --- net Greeks -------------------------------------------------------------------------------

#: Columns of `net_greeks` and their units (all dollars per position, summed).
NET_GREEK_UNITS = {
    "delta_spx_usd": "$ per SPX point",
    "gamma_spx_usd": "$ per SPX point per SPX point (change of $delta per SPX point)",
    "vega_spx_usd": "$ per SPX vol point",
    "vanna_spx_usd": "$ per SPX point per SPX vol point (change of $delta per vol point)",
    "vomma_spx_usd": "$ per SPX vol point per vol point (change of $vega per vol point)",
    "delta_vix_usd": "$ per point of each leg's own VIX future (ETPs: of the 1-month future)",
    "gamma_vix_usd": "$ per VIX-future point per VIX-future point",
    "vega_vix_usd": "$ per VIX-option vol point",
    "vanna_vix_usd": "$ per VIX-future point per VIX-option vol point",
    "vomma_vix_usd": "$ per VIX-option vol point per vol point",
    "theta_usd": "$ per calendar day",
}


def leg_vanna_vomma(risk: RiskReport) -> pd.DataFrame:
    """Per position, indexed like `risk.legs`: `vanna_usd` = qty x multiplier x vanna / 100 ($ per
    point of the leg's underlying per vol point) and `vomma_usd` = qty x multiplier x vomma /
    100^2 ($ per vol point per vol point), recomputed with bsm (SPX: S, K, T, r, q, IV) and
    black76 (VIX options: the future of their expiry, K, T, r, IV); 0 for futures and ETPs."""
    legs = risk.legs
    kind = legs["kind"].to_numpy(dtype=object)
    vanna = np.where(np.isin(kind, ["vix_future", "etp"]), 0.0, np.nan)
    vomma = vanna.copy()
    level = legs["underlying_price"].to_numpy(dtype=float)
    strike = legs["strike"].to_numpy(dtype=float)
    iv = legs["iv"].to_numpy(dtype=float)
    years = _years(legs)
    call = (legs["type"] == "CALL").to_numpy()
    spx = kind == "spx_option"
    if spx.any():
        g = bsm(
            level[spx],
            strike[spx],
            years[spx],
            risk.rate,
            risk.dividend_yield,
            iv[spx],
            call[spx],
        )
        vanna[spx], vomma[spx] = g["vanna"], g["vomma"]
    vix = kind == "vix_option"
    if vix.any():
        g = black76(level[vix], strike[vix], years[vix], risk.rate, iv[vix], call[vix])
        vanna[vix], vomma[vix] = g["vanna"], g["vomma"]
    size = _size(legs)
    return pd.DataFrame(
        {"vanna_usd": size * vanna / 100.0, "vomma_usd": size * vomma / 100.0**2}, index=legs.index
    )


def vix_delta_usd(risk: RiskReport) -> FloatArray:
    """Per leg, $delta per point of the leg's own VIX future: VIX options and futures as the
    report gives it; an ETP's per point of the 1-month future its index tracks, qty x multiplier x
    price x leverage / F(30 days) (its daily return is leverage x the future's return). 0 for SPX
    legs."""
    legs = risk.legs
    kind = legs["kind"].to_numpy(dtype=object)
    delta = np.where(np.isin(kind, list(HEDGE_KINDS)), legs["delta_usd"].to_numpy(dtype=float), 0.0)
    etp = kind == "etp"
    if etp.any():
        f30 = risk.vix_future(risk.as_of + dt.timedelta(days=ETP_TENOR_DAYS))
        leverage = np.array([ETP_LEVERAGE[u] for u in legs.loc[etp, "underlying"]], dtype=float)
        price = legs["price"].to_numpy(dtype=float)[etp]
        delta[etp] = _size(legs)[etp] * price * leverage / f30
    return np.asarray(delta, dtype=float)


def net_greeks(risk: RiskReport) -> pd.DataFrame:
    """Net dollar Greeks of the SPX book, the VIX hedges and the whole book (rows `SPX_BOOK`,
    `VIX_HEDGES`, `WHOLE_BOOK`); columns and units in `NET_GREEK_UNITS`.

    SPX and VIX sensitivities stay in columns of their own (a VIX-future point is not an SPX
    point): the SPX book's VIX columns are 0, the hedges' SPX columns are 0, the whole book has
    both. Theta, in dollars a day, is the one column summed across both.
    """
    legs = risk.legs
    hedge = legs["kind"].isin(HEDGE_KINDS).to_numpy()
    second = leg_vanna_vomma(risk)
    per_leg = {
        "delta": legs["delta_usd"].to_numpy(dtype=float),
        "gamma": legs["gamma_usd"].to_numpy(dtype=float),
        "vega": legs["vega_usd"].to_numpy(dtype=float),
        "vanna": second["vanna_usd"].to_numpy(dtype=float),
        "vomma": second["vomma_usd"].to_numpy(dtype=float),
    }
    vix = {**per_leg, "delta": vix_delta_usd(risk)}
    spx_row = {f"{g}_spx_usd": float(v[~hedge].sum()) for g, v in per_leg.items()}
    vix_row = {f"{g}_vix_usd": float(v[hedge].sum()) for g, v in vix.items()}
    theta = legs["theta_usd"].to_numpy(dtype=float)
    zero_spx, zero_vix = dict.fromkeys(spx_row, 0.0), dict.fromkeys(vix_row, 0.0)
    rows = {
        SPX_BOOK: {**spx_row, **zero_vix, "theta_usd": float(theta[~hedge].sum())},
        VIX_HEDGES: {**zero_spx, **vix_row, "theta_usd": float(theta[hedge].sum())},
        WHOLE_BOOK: {**spx_row, **vix_row, "theta_usd": float(theta.sum())},
    }
    return pd.DataFrame.from_dict(rows, orient="index")[list(NET_GREEK_UNITS)]


# --- the hedges against the condors, per VIX point ---------------------------------------------


#: Half the VIX move of the sensitivity's central difference (index points).
VIX_BUMP = 0.5


@dataclass(frozen=True)
class VixSensitivity:
    """Dollars per +1 point of spot VIX with SPX held, of the SPX book and of the VIX hedges.

    Full repricing in the stress model, as a central difference of VIX +/- `VIX_BUMP` points
    with SPX unchanged: SPX IVs move with their tenor scaling and skew, futures along the curve
    model, VIX option vols along the surface, ETPs with their index. It is the hedges' "vega"
    against the condors' in the one unit both share: dollars per VIX point.
    """

    spx_book_usd: float
    hedges_usd: float

    @property
    def ratio(self) -> float:
        """The share of the SPX book's loss per VIX point the hedges offset (1.0 = all of it);
        NaN when the SPX book does not lose as VIX rises."""
        return self.hedges_usd / -self.spx_book_usd if self.spx_book_usd < 0 else math.nan


def vix_sensitivity(risk: RiskReport) -> VixSensitivity:
    """The SPX book's and the hedges' dollars per spot VIX point (`VixSensitivity`)."""
    up, down = risk.pnl_many([Scenario(VIX_BUMP, spx_move=0.0), Scenario(-VIX_BUMP, spx_move=0.0)])
    width = 2.0 * VIX_BUMP
    return VixSensitivity((up.book - down.book) / width, (up.hedges - down.hedges) / width)


# --- the condors: expected move, odds, return on risk ---------------------------------------------


def _condor_legs(risk: RiskReport) -> pd.DataFrame:
    """Every leg of a recognised condor: its group, type, strike, qty and iv, with its condor's
    expiry (one pass over the legs)."""
    legs = risk.legs
    expiry = {c.group: c.expiry for c in risk.condors}
    group = legs["group"].astype(str)
    mine = group.isin(expiry).to_numpy()
    return pd.DataFrame(
        {
            "group": group[mine].to_numpy(),
            "type": legs["type"].to_numpy()[mine],
            "strike": legs["strike"].to_numpy(dtype=float)[mine],
            "qty": legs["qty"].to_numpy(dtype=float)[mine],
            "iv": legs["iv"].to_numpy(dtype=float)[mine],
            "condor_expiry": [expiry[g] for g in group[mine]],
        }
    )


def expected_move(risk: RiskReport) -> pd.DataFrame:
    """Per condor expiry (ascending): `days`, `atm_iv` (fraction), `move_fraction` = atm_iv x
    sqrt(days / 365), `move_points` = SPX x move_fraction (one standard deviation of the SPX
    return to expiry, in SPX points).

    ATM IV: the IVs of the legs of the condors of that expiry, linear in strike at today's SPX,
    flat beyond the lowest and highest strikes (legs sharing a strike are averaged).
    """
    legs = _condor_legs(risk)
    smiles = legs.groupby(["condor_expiry", "strike"])["iv"].mean()
    rows = []
    for expiry in sorted({c.expiry for c in risk.condors}):
        smile = smiles.xs(expiry, level=0)
        strikes = smile.index.to_numpy(dtype=float)
        atm = float(np.interp(risk.spx, strikes, smile.to_numpy(dtype=float)))
        days = max((expiry - risk.as_of).days, 0)
        fraction = atm * math.sqrt(days / DAYS_A_YEAR)
        rows.append(
            {
                "expiry": expiry,
                "days": days,
                "atm_iv": atm,
                "move_fraction": fraction,
                "move_points": risk.spx * fraction,
            }
        )
    return pd.DataFrame(rows, columns=["expiry", "days", "atm_iv", "move_fraction", "move_points"])


def probability_below(
    spot: float,
    strikes: FloatArray,
    years: FloatArray,
    rate: float,
    dividend_yield: float,
    vols: FloatArray,
) -> FloatArray:
    """Risk-neutral lognormal probability that the underlying finishes below each strike: N(-d2),
    d2 = (ln(S/K) + (r - q - vol^2/2) T) / (vol sqrt(T)); 1 or 0 where vol x sqrt(T) is 0."""
    strikes = np.asarray(strikes, dtype=float)
    vols = np.asarray(vols, dtype=float)
    years = np.asarray(years, dtype=float)
    scale = vols * np.sqrt(years)
    degenerate = scale <= 0
    safe = np.where(degenerate, 1.0, scale)
    drift = (rate - dividend_yield - 0.5 * vols * vols) * years
    d2 = (np.log(spot / strikes) + drift) / safe
    return np.where(degenerate, (spot < strikes).astype(float), norm_cdf(-d2))


PROBABILITY_COLUMNS = (
    "expiry",
    "days",
    "short_put",
    "short_put_iv",
    "short_call",
    "short_call_iv",
    "prob_below_short_put",
    "prob_above_short_call",
    "prob_between",
)


def probability_beyond_shorts(risk: RiskReport) -> pd.DataFrame:
    """Per condor (indexed by group): `prob_below_short_put` = N(-d2) at the short put with its
    own IV, `prob_above_short_call` = N(d2) at the short call with its own IV (risk-neutral,
    lognormal, with the Market rate and dividend yield, T = days / 365), and `prob_between` =
    1 - both, floored at 0 (the two IVs differ, so at equal short strikes the two tails can
    overlap slightly). Also `expiry`, `days`, and each short strike and its IV."""
    legs = _condor_legs(risk)
    short = legs[legs["qty"] < 0]
    iv: dict[tuple[str, str], float] = {}
    for group, kind, vol in zip(short["group"], short["type"], short["iv"], strict=True):
        iv.setdefault((group, kind), vol)  # the first short leg of each type, as listed
    condors = risk.condors
    put_iv = np.array([iv[(c.group, "PUT")] for c in condors], dtype=float)
    call_iv = np.array([iv[(c.group, "CALL")] for c in condors], dtype=float)
    days = np.array([max((c.expiry - risk.as_of).days, 0) for c in condors], dtype=float)
    market = (days / DAYS_A_YEAR, risk.rate, risk.dividend_yield)
    puts = np.array([c.short_put for c in condors], dtype=float)
    calls = np.array([c.short_call for c in condors], dtype=float)
    below = probability_below(risk.spx, puts, *market, put_iv)
    above = 1.0 - probability_below(risk.spx, calls, *market, call_iv)
    rows = {
        c.group: {
            "expiry": c.expiry,
            "days": int(days[i]),
            "short_put": c.short_put,
            "short_put_iv": float(put_iv[i]),
            "short_call": c.short_call,
            "short_call_iv": float(call_iv[i]),
            "prob_below_short_put": float(below[i]),
            "prob_above_short_call": float(above[i]),
            "prob_between": max(0.0, 1.0 - float(below[i]) - float(above[i])),
        }
        for i, c in enumerate(condors)
    }
    return _frame_by_group(rows, PROBABILITY_COLUMNS)


def annualized_return_on_risk(condors: Iterable[Condor], as_of: dt.date) -> float:
    """The max-loss-weighted mean of the condors' annualized returns on risk (a fraction a year):
    sum(credit_i x 365 / days_i) / sum(max_loss_i), days_i = days to expiry, at least 1. The
    `second_engine` signal's value. NaN when the max losses do not sum above 0."""
    listed = list(condors)
    max_loss = sum(c.max_loss for c in listed)
    if max_loss <= 0:
        return math.nan
    yearly = sum(c.credit * DAYS_A_YEAR / _days_held(c, as_of) for c in listed)
    return yearly / max_loss


def _days_held(condor: Condor, as_of: dt.date) -> int:
    return max((condor.expiry - as_of).days, 1)


RETURN_COLUMNS = ("expiry", "days", "credit_usd", "max_loss_usd", "return", "annualized")


def return_on_risk(risk: RiskReport) -> pd.DataFrame:
    """Per condor (indexed by group) and a last row `ALL_CONDORS`: `credit_usd`, `max_loss_usd`,
    `return` = credit / max loss (a fraction), `annualized` = return x 365 / days (a fraction a
    year; days to expiry, at least 1). The book row sums credit and max loss; its `annualized`
    is `annualized_return_on_risk` (max-loss weighted), its expiry and days blank. NaN where the
    max loss is not above 0."""
    rows: dict[str, dict[str, object]] = {}
    for c in risk.condors:
        days = _days_held(c, risk.as_of)
        ratio = c.credit / c.max_loss if c.max_loss > 0 else math.nan
        rows[c.group] = {
            "expiry": c.expiry,
            "days": days,
            "credit_usd": c.credit,
            "max_loss_usd": c.max_loss,
            "return": ratio,
            "annualized": ratio * DAYS_A_YEAR / days,
        }
    if risk.condors:
        credit = sum(c.credit for c in risk.condors)
        max_loss = sum(c.max_loss for c in risk.condors)
        rows[ALL_CONDORS] = {
            "expiry": None,
            "days": math.nan,
            "credit_usd": credit,
            "max_loss_usd": max_loss,
            "return": credit / max_loss if max_loss > 0 else math.nan,
            "annualized": annualized_return_on_risk(risk.condors, risk.as_of),
        }
    return _frame_by_group(rows, RETURN_COLUMNS)


# --- totals -----------------------------------------------------------------------------------

#: Dollar columns of the structure table that `totals` sums (as `risk.legs` names them).
# --- shared helpers -------------------------------------------------------------------------------


def _size(legs: pd.DataFrame) -> FloatArray:
    """Units per position: qty x multiplier."""
    qty = legs["qty"].to_numpy(dtype=float)
    return np.asarray(qty * legs["multiplier"].to_numpy(dtype=float), dtype=float)


def _years(legs: pd.DataFrame) -> FloatArray:
    """Years to expiry, T = calendar days / 365 (0 for an expiry today)."""
    return np.asarray(np.maximum(legs["days"].to_numpy(dtype=float), 0.0) / DAYS_A_YEAR)


def _frame_by_group(rows: dict[str, dict[str, object]], columns: Iterable[str]) -> pd.DataFrame:
    names = list(columns)
    index = pd.Index(list(rows), name="group", dtype=object)
    return pd.DataFrame([[row.get(n) for n in names] for row in rows.values()], index, names)
