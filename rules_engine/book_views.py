"""The Risk sheet's book tables: the book at a glance (open P&L, net Greeks, dollars per VIX
point and how much of the condors' VIX risk the hedges offset), the condors' odds and return on
risk, and the existing hedges with what they fetch when closed in each spike.

Figures come from rules_engine/risk/bookview.py and rules_engine/risk/instruments.py; this module
only names and orders them. Fractions go in columns marked "(%)".
"""

from __future__ import annotations

import math

import pandas as pd

from rules_engine.risk.book import HEDGE_KINDS
from rules_engine.risk.bookview import (
    SPX_BOOK,
    VIX_HEDGES,
    WHOLE_BOOK,
    OpenPnl,
    expected_move,
    net_greeks,
    probability_beyond_shorts,
    return_on_risk,
    vix_sensitivity,
)
from rules_engine.risk.instruments import held_hedges
from rules_engine.risk.liquidity import Liquidity
from rules_engine.risk.market import Scenario
from rules_engine.risk.report import RiskReport

#: Column titles of the net Greeks, with their units.
_GREEK_TITLES = {
    "delta_spx_usd": "$Delta SPX ($/SPX pt)",
    "gamma_spx_usd": "$Gamma SPX ($/SPX pt²)",
    "vega_spx_usd": "$Vega SPX ($/vol pt)",
    "vanna_spx_usd": "Vanna SPX ($/SPX pt/vol pt)",
    "vomma_spx_usd": "Vomma SPX ($/vol pt²)",
    "delta_vix_usd": "$Delta VIX ($/future pt)",
    "gamma_vix_usd": "$Gamma VIX ($/future pt²)",
    "vega_vix_usd": "$Vega VIX ($/VIX-option vol pt)",
    "vanna_vix_usd": "Vanna VIX ($/future pt/vol pt)",
    "vomma_vix_usd": "Vomma VIX ($/VIX-option vol pt²)",
    "theta_usd": "$Theta ($/day)",
}


def book_summary(risk: RiskReport, opened: OpenPnl) -> pd.DataFrame:
    """One row each for the SPX book, the VIX hedges and the whole book: open P&L since entry,
    the net Greeks (SPX and VIX columns kept apart: their points never add up), dollars per
    spot VIX point with SPX held, and on the whole-book row the share of the SPX book's loss per
    VIX point that the hedges offset."""
    greeks = net_greeks(risk).rename(columns=_GREEK_TITLES)
    hedge = risk.legs["kind"].isin(HEDGE_KINDS)
    pnl = opened.legs["open_pnl_usd"]
    sensitivity = vix_sensitivity(risk)
    per_point = {
        SPX_BOOK: sensitivity.spx_book_usd,
        VIX_HEDGES: sensitivity.hedges_usd,
        WHOLE_BOOK: sensitivity.spx_book_usd + sensitivity.hedges_usd,
    }
    masks = {SPX_BOOK: ~hedge, VIX_HEDGES: hedge, WHOLE_BOOK: hedge | ~hedge}
    rows = []
    for name, mask in masks.items():
        part = pnl[mask.to_numpy()]
        rows.append(
            {
                "Part": name,
                "Legs": int(mask.sum()),
                "Open P&L ($)": float(part.sum()) if part.notna().all() else math.nan,
                **greeks.loc[name].to_dict(),
                "P&L per VIX Pt, SPX Held ($)": per_point[name],
                "Hedges Offset per VIX Pt (%)": (
                    sensitivity.ratio if name == WHOLE_BOOK else math.nan
                ),
            }
        )
    return pd.DataFrame(rows)


def condor_odds(risk: RiskReport) -> pd.DataFrame:
    """One row per condor: expected move to expiry from ATM IV, lognormal odds of finishing
    beyond each short strike, and return on risk (credit / max loss), annualized; then the
    whole book's return."""
    if not risk.condors:
        return pd.DataFrame()
    expiries = [c.expiry for c in risk.condors]
    moves = expected_move(risk).set_index("expiry").reindex(expiries)
    odds = probability_beyond_shorts(risk)
    returns = return_on_risk(risk)
    each = returns.iloc[:-1]
    frame = pd.DataFrame(
        {
            "Group": [c.group for c in risk.condors],
            "Expiry": expiries,
            "Days": odds["days"].to_numpy(dtype=int),
            "ATM IV": moves["atm_iv"].to_numpy(dtype=float),
            "Expected Move (SPX pts)": moves["move_points"].to_numpy(dtype=float),
            "Expected Move (%)": moves["move_fraction"].to_numpy(dtype=float),
            "Short Put": odds["short_put"].to_numpy(dtype=float),
            "P(Below Short Put) (%)": odds["prob_below_short_put"].to_numpy(dtype=float),
            "Short Call": odds["short_call"].to_numpy(dtype=float),
            "P(Above Short Call) (%)": odds["prob_above_short_call"].to_numpy(dtype=float),
            "P(Between Shorts) (%)": odds["prob_between"].to_numpy(dtype=float),
            "Credit ($)": each["credit_usd"].to_numpy(dtype=float),
            "Max Loss ($)": each["max_loss_usd"].to_numpy(dtype=float),
            "Return on Risk (%)": each["return"].to_numpy(dtype=float),
            "Annualized (%)": each["annualized"].to_numpy(dtype=float),
        }
    )
    whole = returns.iloc[-1]
    book = {
        "Group": str(returns.index[-1]),
        "Credit ($)": float(whole["credit_usd"]),
        "Max Loss ($)": float(whole["max_loss_usd"]),
        "Return on Risk (%)": float(whole["return"]),
        "Annualized (%)": float(whole["annualized"]),
    }
    return pd.concat([frame, pd.DataFrame([book])], ignore_index=True)


def held_hedge_table(risk: RiskReport, liquidity: Liquidity) -> pd.DataFrame:
    """Each existing VIX hedge leg with its model value, what it fetches closed today, and what it
    fetches closed in each spike today and at the horizon (at the bid with spreads widened;
    shorts bought back at the ask); empty when the book holds no VIX hedge."""
    if risk.hedge_legs.empty:
        return pd.DataFrame()
    days = [d for d in risk.horizons if d > 0][:1]
    spikes = list(risk.scenarios)
    spikes += [Scenario(sc.vix_points, sc.spx_move, d) for d in days for sc in risk.scenarios]
    held = held_hedges(risk, spikes, liquidity)
    frame = pd.DataFrame(
        {
            "Group": held["group"].astype(str),
            "Row": held["row"],
            "Instrument": held["label"],
            "Qty": held["qty"],
            "Model Value ($)": held["value"],
            "Exit Now ($)": held["exit_now"],
        }
    )
    for sc in spikes:
        frame[f"Exit {sc.label} ($)"] = held[sc]
    return frame.reset_index(drop=True)
