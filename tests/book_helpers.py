"""Building Positions frames and market states directly, without a workbook."""

from __future__ import annotations

import dataclasses
import datetime as dt
from functools import partial
from typing import Any

import pandas as pd

from rules_engine import testing
from rules_engine.risk.market import MarketState, ScenarioParams, VixCurve
from rules_engine.settings import CORE_SETTINGS

AS_OF = dt.date(2024, 1, 2)
EXPIRY = dt.date(2024, 2, 1)  # 30 calendar days after AS_OF


#: A Positions row: the public test helper's, with this module's expiry and multiplier.
leg = partial(testing.leg, expiry=EXPIRY, multiplier=100.0)


def positions(*legs: dict[str, Any]) -> pd.DataFrame:
    frame = pd.DataFrame(list(legs))
    frame["row"] = range(2, 2 + len(frame))
    return frame


def hand_condor(group: str = "IC1", qty: float = 2) -> list[dict[str, Any]]:
    """3700/3800 puts, 4200/4300 calls, 30 days, entry credit 7.40 per unit."""
    return [
        leg(group, "SPX", "PUT", 3700, qty, entry_price=3.10, iv=0.24),
        leg(group, "SPX", "PUT", 3800, -qty, entry_price=7.60, iv=0.21),
        leg(group, "SPX", "CALL", 4200, -qty, entry_price=5.20, iv=0.14),
        leg(group, "SPX", "CALL", 4300, qty, entry_price=2.30, iv=0.13),
    ]


CURVE = VixCurve(
    (dt.date(2024, 1, 17), dt.date(2024, 2, 14), dt.date(2024, 3, 20), dt.date(2024, 6, 18)),
    (16.5, 17.5, 18.3, 19.6),
    16.0,
)
#: The past year's mean VIX these tests assume: the curve model's theta = 0.675 x 18 + 12.05.
VIX_1Y_MEAN = 18.0


def state(
    spx: float = 4000.0,
    vix: float = 16.0,
    rate: float = 0.05,
    q: float = 0.0,
    vvix: float | None = 90.0,
) -> MarketState:
    curve = dataclasses.replace(CURVE, spot=vix)
    return MarketState(AS_OF, spx, vix, rate, q, curve, VIX_1Y_MEAN, vvix)


def default_settings(**overrides: Any) -> dict[str, Any]:
    from rules_engine_plugins.alvh_sizer import SETTINGS as SIZER

    values = {s.name: s.default for s in (*CORE_SETTINGS, *SIZER)}
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    return values


def params(**overrides: Any) -> ScenarioParams:
    return ScenarioParams.from_settings(default_settings(**overrides))


def cell_of(row: int, field: str) -> str:
    letters = {"strike": "E", "qty": "F", "iv": "I", "mark": "J", "expiry": "D"}
    return f"{letters.get(field, 'A')}{row}"
