"""Recognising structures in the Positions sheet: iron condors, VIX hedges, anything else.

An iron condor is four SPX option legs of one expiry and one size: a long put below a short put, a
short call at or above the short put, and a long call above it. Strikes in the wrong order are an
input error naming the cell, since every figure derived from them would be wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rules_engine.contract import POSITIONS
from rules_engine.models import Issue
from rules_engine.risk.book import CellOf

IRON_CONDOR = "iron condor"
VIX_HEDGE = "VIX hedge"
OTHER = "other"


@dataclass(frozen=True)
class Condor:
    """The figures of one recognised iron condor, in dollars and SPX points."""

    group: str
    expiry: object
    contracts: float
    multiplier: float
    long_put: float
    short_put: float
    short_call: float
    long_call: float
    credit: float
    credit_source: str
    max_loss: float
    breakeven_low: float
    breakeven_high: float


def _leg(frame: pd.DataFrame, type_: str, short: bool) -> pd.Series | None:
    mask = (frame["type"] == type_) & ((frame["qty"] < 0) if short else (frame["qty"] > 0))
    picked = frame[mask]
    return picked.iloc[0] if len(picked) == 1 else None


def _crossed(legs: pd.DataFrame, cell_of: CellOf) -> list[Issue]:
    """Errors for a condor-shaped group whose strikes are out of order."""
    lp, sp = _leg(legs, "PUT", False), _leg(legs, "PUT", True)
    sc, lc = _leg(legs, "CALL", True), _leg(legs, "CALL", False)
    assert lp is not None and sp is not None and sc is not None and lc is not None
    group = legs["group"].iloc[0]
    checks = [
        (
            lp,
            lp.strike < sp.strike,
            f"the long put ({lp.strike:g}) must be below the short put ({sp.strike:g})",
        ),
        (
            sp,
            sp.strike <= sc.strike,
            f"the short put ({sp.strike:g}) must not be above the short call ({sc.strike:g})",
        ),
        (
            lc,
            lc.strike > sc.strike,
            f"the long call ({lc.strike:g}) must be above the short call ({sc.strike:g})",
        ),
    ]
    return [
        Issue(
            "error",
            f"iron condor {group!r} has crossed strikes: {text}",
            POSITIONS,
            cell_of(int(leg.row), "strike"),
            "Strike",
            "risk",
        )
        for leg, ok, text in checks
        if not ok
    ]


def _is_condor_shape(legs: pd.DataFrame) -> bool:
    if len(legs) != 4 or not (legs["kind"] == "spx_option").all():
        return False
    if legs["expiry"].nunique() != 1:
        return False
    return all(_leg(legs, t, s) is not None for t in ("PUT", "CALL") for s in (True, False))


def _condor(legs: pd.DataFrame) -> Condor:
    lp, sp = _leg(legs, "PUT", False), _leg(legs, "PUT", True)
    sc, lc = _leg(legs, "CALL", True), _leg(legs, "CALL", False)
    assert lp is not None and sp is not None and sc is not None and lc is not None
    contracts = float(abs(sp.qty))
    multiplier = float(sp.multiplier)
    entry = legs["entry_price"].to_numpy(dtype=float)
    has_entry = bool(np.isfinite(entry).all())
    premium = entry if has_entry else legs["price"].to_numpy(dtype=float)
    credit = float(-(legs["qty"] * legs["multiplier"] * premium).sum())
    width = max(sp.strike - lp.strike, lc.strike - sc.strike)
    per_unit = credit / (contracts * multiplier)
    return Condor(
        group=str(sp.group),
        expiry=sp.expiry,
        contracts=contracts,
        multiplier=multiplier,
        long_put=float(lp.strike),
        short_put=float(sp.strike),
        short_call=float(sc.strike),
        long_call=float(lc.strike),
        credit=credit,
        credit_source="Entry Price" if has_entry else "today's model price",
        max_loss=float(width * contracts * multiplier - credit),
        breakeven_low=float(sp.strike - per_unit),
        breakeven_high=float(sc.strike + per_unit),
    )


def recognise(
    legs: pd.DataFrame, cell_of: CellOf
) -> tuple[dict[str, str], list[Condor], list[Issue]]:
    """Kind of every group, the condors' figures, and problems found on the way."""
    kinds: dict[str, str] = {}
    condors: list[Condor] = []
    issues: list[Issue] = []
    for group, frame in legs.groupby("group", sort=False):
        name = str(group)
        if frame["kind"].isin(["vix_option", "vix_future", "etp"]).all():
            kinds[name] = VIX_HEDGE
            continue
        if not _is_condor_shape(frame):
            kinds[name] = OTHER
            continue
        crossed = _crossed(frame, cell_of)
        if crossed:
            issues.extend(crossed)
            kinds[name] = OTHER
            continue
        sizes = frame["qty"].abs().unique()
        multipliers = frame["multiplier"].unique()
        if len(sizes) != 1 or len(multipliers) != 1:
            kinds[name] = OTHER
            first = int(frame["row"].iloc[0])
            issues.append(
                Issue(
                    "warning",
                    f"group {name!r} has iron-condor legs of unequal size or multiplier; it is "
                    "priced and stressed but not treated as a condor",
                    POSITIONS,
                    cell_of(first, "qty"),
                    "Qty",
                    "risk",
                )
            )
            continue
        kinds[name] = IRON_CONDOR
        condor = _condor(frame)
        if condor.credit_source != "Entry Price":
            issues.append(
                Issue(
                    "warning",
                    f"iron condor {name!r}: Entry Price is blank on some legs, so credit, max loss "
                    "and break-evens use today's model prices",
                    POSITIONS,
                    cell_of(int(frame["row"].iloc[0]), "entry_price"),
                    "Entry Price",
                    "risk",
                )
            )
        condors.append(condor)
    return kinds, condors, issues
