"""Recognising structures in the Positions sheet: iron condors, VIX hedges, anything else.

An iron condor is four SPX option legs of one expiry and one size: a long put below a short put, a
short call at or above the short put, and a long call above it. Strikes in the wrong order are an
input error naming the cell, since every figure derived from them would be wrong.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from rules_engine.contract import POSITIONS
from rules_engine.models import Issue
from rules_engine.risk.book import HEDGE_KINDS, CellOf, records

IRON_CONDOR = "iron condor"
VIX_HEDGE = "VIX hedge"
OTHER = "other"


@dataclass(frozen=True)
class Condor:
    """The figures of one recognised iron condor, in dollars and SPX points."""

    group: str
    expiry: dt.date
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


Leg = dict[str, Any]
#: What recognising a structure reads of each leg.
_LEG_FIELDS = (
    "group",
    "kind",
    "type",
    "expiry",
    "strike",
    "qty",
    "multiplier",
    "entry_price",
    "price",
    "row",
)


def _leg(legs: list[Leg], type_: str, short: bool) -> Leg | None:
    picked = [g for g in legs if g["type"] == type_ and (g["qty"] < 0 if short else g["qty"] > 0)]
    return picked[0] if len(picked) == 1 else None


def _four(legs: list[Leg]) -> tuple[Leg, Leg, Leg, Leg]:
    """Long put, short put, short call, long call of a condor-shaped group."""
    lp, sp = _leg(legs, "PUT", False), _leg(legs, "PUT", True)
    sc, lc = _leg(legs, "CALL", True), _leg(legs, "CALL", False)
    assert lp is not None and sp is not None and sc is not None and lc is not None
    return lp, sp, sc, lc


def _crossed(group: str, legs: list[Leg], cell_of: CellOf) -> list[Issue]:
    """Errors for a condor-shaped group whose strikes are out of order."""
    lp, sp, sc, lc = _four(legs)
    k = {
        name: f"{leg['strike']:g}" for name, leg in (("lp", lp), ("sp", sp), ("sc", sc), ("lc", lc))
    }
    checks = [
        (
            lp,
            lp["strike"] < sp["strike"],
            f"the long put ({k['lp']}) must be below the short put ({k['sp']})",
        ),
        (
            sp,
            sp["strike"] <= sc["strike"],
            f"the short put ({k['sp']}) must not be above the short call ({k['sc']})",
        ),
        (
            lc,
            lc["strike"] > sc["strike"],
            f"the long call ({k['lc']}) must be above the short call ({k['sc']})",
        ),
    ]
    return [
        Issue(
            "error",
            f"iron condor {group!r} has crossed strikes: {text}",
            POSITIONS,
            cell_of(int(leg["row"]), "strike"),
            "Strike",
            "risk",
        )
        for leg, ok, text in checks
        if not ok
    ]


def _is_condor_shape(legs: list[Leg]) -> bool:
    if len(legs) != 4 or any(g["kind"] != "spx_option" for g in legs):
        return False
    if len({g["expiry"] for g in legs}) != 1:
        return False
    return all(_leg(legs, t, s) is not None for t in ("PUT", "CALL") for s in (True, False))


def _condor(group: str, legs: list[Leg]) -> Condor:
    lp, sp, sc, lc = _four(legs)
    contracts = float(abs(sp["qty"]))
    multiplier = float(sp["multiplier"])
    has_entry = all(math.isfinite(g["entry_price"]) for g in legs)
    premium = [g["entry_price"] if has_entry else g["price"] for g in legs]
    credit = -sum(g["qty"] * g["multiplier"] * p for g, p in zip(legs, premium, strict=True))
    width = max(sp["strike"] - lp["strike"], lc["strike"] - sc["strike"])
    per_unit = credit / (contracts * multiplier)
    return Condor(
        group=group,
        expiry=sp["expiry"],
        contracts=contracts,
        multiplier=multiplier,
        long_put=float(lp["strike"]),
        short_put=float(sp["strike"]),
        short_call=float(sc["strike"]),
        long_call=float(lc["strike"]),
        credit=float(credit),
        credit_source="Entry Price" if has_entry else "today's model price",
        max_loss=float(width * contracts * multiplier - credit),
        breakeven_low=float(sp["strike"] - per_unit),
        breakeven_high=float(sc["strike"] + per_unit),
    )


def _kind(name: str, legs: list[Leg], cell_of: CellOf, issues: list[Issue]) -> str:
    if all(g["kind"] in HEDGE_KINDS for g in legs):
        return VIX_HEDGE
    if not _is_condor_shape(legs):
        issues.append(
            Issue(
                "warning",
                f"group {name!r} ({len(legs)} legs) is not an iron condor (four SPX legs of one "
                "expiry: long put < short put <= short call < long call); it is priced and "
                "stressed, without credit, max loss or break-evens",
                POSITIONS,
                cell_of(int(legs[0]["row"]), "group"),
                "Group",
                "risk",
            )
        )
        return OTHER
    crossed = _crossed(name, legs, cell_of)
    if crossed:
        issues.extend(crossed)
        return OTHER
    if len({abs(g["qty"]) for g in legs}) != 1 or len({g["multiplier"] for g in legs}) != 1:
        issues.append(
            Issue(
                "warning",
                f"group {name!r} has iron-condor legs of unequal size or multiplier; it is "
                "priced and stressed but not treated as a condor",
                POSITIONS,
                cell_of(int(legs[0]["row"]), "qty"),
                "Qty",
                "risk",
            )
        )
        return OTHER
    return IRON_CONDOR


def recognise(
    legs: pd.DataFrame, cell_of: CellOf
) -> tuple[dict[str, str], list[Condor], list[Issue]]:
    """Kind of every group, the condors' figures, and problems found on the way."""
    groups: dict[str, list[Leg]] = {}
    for record in records(legs, _LEG_FIELDS):
        groups.setdefault(str(record["group"]), []).append(record)
    kinds: dict[str, str] = {}
    condors: list[Condor] = []
    issues: list[Issue] = []
    for name, members in groups.items():
        kinds[name] = _kind(name, members, cell_of, issues)
        if kinds[name] != IRON_CONDOR:
            continue
        condor = _condor(name, members)
        if condor.credit_source != "Entry Price":
            issues.append(
                Issue(
                    "warning",
                    f"iron condor {name!r}: Entry Price is blank on some legs, so credit, max loss "
                    "and break-evens use today's model prices",
                    POSITIONS,
                    cell_of(int(members[0]["row"]), "entry_price"),
                    "Entry Price",
                    "risk",
                )
            )
        condors.append(condor)
    return kinds, condors, issues
