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
    moves = {row["expiry"]: row for row in expected_move(risk).to_dict("records")}
    odds = probability_beyond_shorts(risk).to_dict("index")
    returns = return_on_risk(risk)
    by_group = returns.to_dict("index")
    rows = []
    for condor in risk.condors:
        move = moves[condor.expiry]
        odd = odds[condor.group]
        ret = by_group[condor.group]
        rows.append(
            {
                "Group": condor.group,
                "Expiry": condor.expiry,
                "Days": int(odd["days"]),
                "ATM IV": float(move["atm_iv"]),
                "Expected Move (SPX pts)": float(move["move_points"]),
                "Expected Move (%)": float(move["move_fraction"]),
                "Short Put": float(odd["short_put"]),
                "P(Below Short Put) (%)": float(odd["prob_below_short_put"]),
                "Short Call": float(odd["short_call"]),
                "P(Above Short Call) (%)": float(odd["prob_above_short_call"]),
                "P(Between Shorts) (%)": float(odd["prob_between"]),
                "Credit ($)": float(ret["credit_usd"]),
                "Max Loss ($)": float(ret["max_loss_usd"]),
                "Return on Risk (%)": float(ret["return"]),
                "Annualized (%)": float(ret["annualized"]),
            }
        )
    whole = returns.iloc[-1]
    rows.append(
        {
            "Group": str(returns.index[-1]),
            "Credit ($)": float(whole["credit_usd"]),
            "Max Loss ($)": float(whole["max_loss_usd"]),
            "Return on Risk (%)": float(whole["return"]),
            "Annualized (%)": float(whole["annualized"]),
        }
    )
    return pd.DataFrame(rows)


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
