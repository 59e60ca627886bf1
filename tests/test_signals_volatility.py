"""The volatility signals (vix_term_structure, forward_vol, vol_risk_premium): readings worked out
by hand on constructed data, their boundaries, their missing-data messages and explanations."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import pytest
from test_volatility import FIVE

from rules_engine import Context, Signal
from rules_engine.host import load_plugins
from rules_engine.runner import SignalOutcome
from rules_engine.testing import evaluate_signal, make_context, make_history
from rules_engine_plugins import forward_vol, vix_term_structure, vol_risk_premium

AS_OF = dt.date(2024, 1, 31)


def _signal(module: Any) -> Signal:
    found: list[Signal] = []
    module.alvh_register_signals(found.append)
    (signal,) = found
    return signal


TERM = _signal(vix_term_structure)
FORWARD = _signal(forward_vol)
PREMIUM = _signal(vol_risk_premium)


def _context(
    signal: Signal,
    *,
    closes: Sequence[float] = (4000.0,),
    market: Mapping[str, Any] | None = None,
    futures: Sequence[tuple[dt.date, float]] = (),
    spx_options: pd.DataFrame | None = None,
    settings: Mapping[str, Any] | None = None,
    history: pd.DataFrame | None = None,
) -> Context:
    ctx = make_context(
        closes,
        as_of=AS_OF,
        history=history,
        market={"as_of": AS_OF, **(market or {})},
        settings=settings,
        plugins=[signal],
    )
    curve = pd.DataFrame(list(futures), columns=["expiry", "price"])
    return dataclasses.replace(ctx, vix_futures=curve, spx_options=spx_options)


def _run(signal: Signal, **kwargs: Any) -> SignalOutcome:
    return evaluate_signal(signal, _context(signal, **kwargs))


def _days(n: int) -> dt.date:
    return AS_OF + dt.timedelta(days=n)


def test_the_three_register_as_volatility_signals_with_prefixed_settings() -> None:
    host = load_plugins(
        builtins=tuple(
            f"rules_engine_plugins.{name}"
            for name in ("vix_term_structure", "forward_vol", "vol_risk_premium")
        ),
        use_entry_points=False,
    )
    assert host.failures == []
    for name in ("vix_term_structure", "forward_vol", "vol_risk_premium"):
        signal = host.signals[name].item
        assert signal.category == "volatility"
        assert signal.description
        assert signal.settings and all(s.name.startswith(f"{name}.") for s in signal.settings)
    assert host.signals["vol_risk_premium"].item.requires == ("spx_close",)


# --- vix_term_structure ---------------------------------------------------------------------
CONTANGO = [(_days(14), 15.0), (_days(49), 16.0)]


@pytest.mark.parametrize(
    ("vix", "triggered", "strength"),
    [
        (18.38, False, 0.0),  # 18.38 / 20 = 0.919: just below the warning 0.92
        (18.42, True, (0.921 - 0.92) / (1.0 - 0.92)),  # 0.921: just above, strength 0.0125
        (19.60, True, (0.98 - 0.92) / (1.0 - 0.92)),  # 0.98: strength 0.75
        (21.00, True, 1.0),  # 1.05: inverted, strength clipped to 1
    ],
)
def test_term_structure_ratio_and_its_boundary(
    vix: float, triggered: bool, strength: float
) -> None:
    got = _run(TERM, market={"vix": vix, "vix3m": 20.0}, futures=CONTANGO)
    assert got.reading is not None
    assert got.reading.value == pytest.approx(vix / 20.0)
    assert got.reading.triggered is triggered
    assert got.reading.strength == pytest.approx(strength)


@pytest.mark.parametrize(
    ("front", "triggered", "strength"),
    [(14.99, False, 0.0), (15.00, True, 1.0), (15.01, True, 1.0)],  # VX2 is 15.00
)
def test_term_structure_futures_inversion(front: float, triggered: bool, strength: float) -> None:
    futures = [(_days(14), front), (_days(49), 15.0)]
    got = _run(TERM, market={"vix": 14.0, "vix3m": 17.5}, futures=futures)  # ratio 0.8: quiet
    assert got.reading is not None
    assert got.reading.value == pytest.approx(0.8)
    assert (got.reading.triggered, got.reading.strength) == (triggered, strength)


def test_term_structure_skips_a_contract_expiring_today() -> None:
    # The AS_OF contract (20.0, above everything) has settled: VX1/VX2 are 15 and 16.
    futures = [(AS_OF, 20.0), *CONTANGO]
    got = _run(TERM, market={"vix": 14.0}, futures=futures)
    assert got.reading is not None
    assert got.reading.value == pytest.approx(15.0 / 16.0)
    assert not got.reading.triggered


def test_term_structure_settings_move_the_thresholds() -> None:
    settings = {"vix_term_structure.warning": 0.80, "vix_term_structure.inversion": 0.90}
    got = _run(TERM, market={"vix": 17.0, "vix3m": 20.0}, settings=settings)  # 0.85
    assert got.reading is not None
    assert got.status == "triggered"
    assert got.reading.strength == pytest.approx((0.85 - 0.80) / (0.90 - 0.80))


def test_term_structure_not_evaluated_without_vix3m_or_futures() -> None:
    got = _run(TERM, market={"vix": 14.0}, futures=[(_days(14), 15.0)])
    assert got.status == "not evaluated"
    assert got.reason == (
        "needs VIX and VIX3M in the Market sheet, or two live contracts in the VIX Futures sheet"
    )


def test_term_structure_explanations() -> None:
    both = _run(TERM, market={"vix": 19.6, "vix3m": 20.0}, futures=CONTANGO)
    assert both.reading is not None
    assert both.reading.explanation == (
        "VIX/VIX3M 19.60/20.00 = 0.980, flattening (at or above the warning 0.92); "
        "VX1 15.00 (2024-02-14) below VX2 16.00 (2024-03-20): contango"
    )
    inverted = [(_days(14), 16.5), (_days(49), 16.0)]
    futures_only = _run(TERM, market={"vix": 17.0}, futures=inverted)
    assert futures_only.reading is not None
    assert futures_only.reading.value == pytest.approx(16.5 / 16.0)
    assert futures_only.reading.explanation == (
        "VIX3M not in the Market sheet: futures only; "
        "VX1 16.50 (2024-02-14) at or above VX2 16.00 (2024-03-20): inverted; "
        "value is VX1/VX2 = 1.031"
    )
    spot_only = _run(TERM, market={"vix": 21.0, "vix3m": 20.0})
    assert spot_only.reading is not None
    assert spot_only.reading.explanation == (
        "VIX/VIX3M 21.00/20.00 = 1.050, inverted (at or above 1.00); "
        "fewer than two live VIX futures: VIX/VIX3M only"
    )


# --- forward_vol ----------------------------------------------------------------------------
# VX1 expires in 14 days, VX2 in 49: forward variance = (F2^2 x 49 - F1^2 x 14) / 35 (the 365s
# cancel). With F1 = 14, the forward vol is exactly 15 at F2 = sqrt((225 x 35 + 196 x 14) / 49)
# = 14.7212.


@pytest.mark.parametrize(
    ("second", "triggered"),
    [(14.70, False), (14.75, True)],  # forward vol 14.971 (below 15) and 15.040 (above)
)
def test_forward_vol_from_futures_and_its_boundary(second: float, triggered: bool) -> None:
    got = _run(FORWARD, futures=[(_days(14), 14.0), (_days(49), second), (_days(77), 30.0)])
    forward = math.sqrt((second**2 * 49 - 14.0**2 * 14) / 35)
    assert got.reading is not None
    assert got.reading.value == pytest.approx(forward, rel=1e-12)
    assert got.reading.triggered is triggered
    expected = (forward - 15.0) / (30.0 - 15.0) if triggered else 0.0  # 0.0026 when triggered
    assert got.reading.strength == pytest.approx(expected, rel=1e-12)


def test_forward_vol_above_the_level_but_below_the_front_term_is_quiet() -> None:
    # Backwardation 20 -> 18: forward vol sqrt((324 x 49 - 400 x 14) / 35) = 17.13, above 15 but
    # 0.857x the front term's 20: vol is priced to subside.
    got = _run(FORWARD, futures=[(_days(14), 20.0), (_days(49), 18.0)])
    assert got.reading is not None
    assert got.reading.value == pytest.approx(math.sqrt((324 * 49 - 400 * 14) / 35), rel=1e-12)
    assert not got.reading.triggered and got.reading.strength == 0.0
    ratio = {"forward_vol.min_ratio": 0.85}  # 17.13 / 20 = 0.857 >= 0.85: now it triggers
    looser = _run(FORWARD, futures=[(_days(14), 20.0), (_days(49), 18.0)], settings=ratio)
    assert looser.status == "triggered"


def test_forward_vol_negative_forward_variance_has_no_value() -> None:
    # 20^2 x 49 = 19,600 < 40^2 x 14 = 22,400: the forward variance is -80.
    got = _run(FORWARD, futures=[(_days(14), 40.0), (_days(49), 20.0)])
    assert got.status == "not triggered"
    assert got.reading is not None and got.reading.value is None
    assert got.reading.explanation.startswith(
        "VIX futures (no SPX Options sheet): forward variance between 2024-02-14 (14 days, vol "
        "40.00) and 2024-03-20 (49 days, vol 20.00) is -80.00, not above 0"
    )


# FIVE: five strikes 10 apart (r = 0); the 100 strike has the smallest |C - P| (test_volatility).
# sum of dK/K^2 Q over the strip (K0 = 100 at the average 4.75; every dK is 10)
STRIP = 10 / 80**2 * 0.5 + 10 / 90**2 * 1.5 + 10 / 100**2 * 4.75 + 10 / 110**2 * 1.2
STRIP += 10 / 120**2 * 0.4


def _options(*terms: tuple[dt.date, float]) -> pd.DataFrame:
    """The FIVE chain at each expiry with every quote scaled by the given factor."""
    rows = [
        (expiry, k, *(scale * q for q in quotes)) for expiry, scale in terms for k, *quotes in FIVE
    ]
    columns = ["expiry", "strike", "call_bid", "call_ask", "put_bid", "put_ask"]
    return pd.DataFrame(rows, columns=columns)


def test_forward_vol_from_the_spx_chain_comes_first() -> None:
    # 30 and 60 days; the second chain's quotes are 3x the first's, so F2 = 100 + 3 x 0.5 = 101.5
    # and its strip sum is 3 x STRIP. Total variance sigma^2 T = 2 x sum - (F/K0 - 1)^2.
    t1, t2 = 30 / 365, 60 / 365
    total1 = 2 * STRIP - (100.5 / 100 - 1) ** 2
    total2 = 2 * 3 * STRIP - (101.5 / 100 - 1) ** 2
    forward = 100 * math.sqrt((total2 - total1) / (t2 - t1))  # 64.7 points
    front = 100 * math.sqrt(total1 / t1)  # 45.9 points
    got = _run(
        FORWARD,
        market={"rate": 0.0},
        futures=[(_days(14), 14.0), (_days(49), 14.70)],
        spx_options=_options((_days(60), 3.0), (_days(30), 1.0), (_days(90), 5.0)),
    )
    assert got.reading is not None
    assert got.reading.value == pytest.approx(forward, rel=1e-12)
    assert got.reading.triggered and got.reading.strength == 1.0  # 64.7 is past the full 30
    assert got.reading.explanation == (
        f"SPX Options (model-free): forward vol {forward:.2f} between 2024-03-01 (30 days, vol "
        f"{front:.2f}) and 2024-03-31 (60 days, vol {100 * math.sqrt(total2 / t2):.2f}), "
        f"{forward / front:.3f}x the front term, at or above the level 15.00 and 1.00x the "
        "front term: forward volatility rising (strength 1 at 30.00)"
    )


def test_forward_vol_falls_back_to_futures_and_says_why() -> None:
    broken = _options((_days(30), 1.0), (_days(60), 3.0))
    broken.loc[broken["expiry"] == _days(60), "put_bid"] = 0.0
    futures = [(_days(14), 14.0), (_days(49), 14.70)]
    got = _run(FORWARD, market={"rate": 0.0}, futures=futures, spx_options=broken)
    assert got.reading is not None
    assert got.reading.value == pytest.approx(math.sqrt((14.70**2 * 49 - 14.0**2 * 14) / 35))
    assert got.reading.explanation.startswith(
        "VIX futures (SPX Options not used: expiry 2024-03-31: no strike has both a call and a "
        "put quote (bid above 0): the forward cannot be found): forward vol 14.97"
    )
    one = _run(FORWARD, futures=futures, spx_options=_options((_days(30), 1.0)))
    assert one.reading is not None
    assert one.reading.explanation.startswith(
        "VIX futures (SPX Options has one expiry after 2024-01-31): forward vol 14.97"
    )


def test_forward_vol_not_evaluated_without_two_terms() -> None:
    got = _run(FORWARD, futures=[(_days(14), 14.0)])
    assert got.status == "not evaluated"
    assert got.reason == (
        "needs two live contracts in the VIX Futures sheet, or the SPX Options sheet with two "
        "expiries (no SPX Options sheet)"
    )


def test_forward_vol_explanation() -> None:
    got = _run(FORWARD, futures=[(_days(14), 14.0), (_days(49), 14.75)])
    assert got.reading is not None
    # forward vol sqrt((14.75^2 x 49 - 14^2 x 14) / 35) = 15.0395; 15.0395 / 14 = 1.074
    assert got.reading.explanation == (
        "VIX futures (no SPX Options sheet): forward vol 15.04 between 2024-02-14 (14 days, vol "
        "14.00) and 2024-03-20 (49 days, vol 14.75), 1.074x the front term, at or above the "
        "level 15.00 and 1.00x the front term: forward volatility rising (strength 1 at 30.00)"
    )


# --- vol_risk_premium -----------------------------------------------------------------------
# 21 closes alternating 100, 101, 100, ...: every log return is +-ln(1.01), so the 20-day
# realized vol is 100 sqrt(252 / 20 x 20 ln(1.01)^2) = 100 sqrt(252) ln(1.01) = 15.7957 points.
SAWTOOTH = [100.0 if i % 2 == 0 else 101.0 for i in range(21)]
REALIZED = 100 * math.sqrt(252) * math.log(1.01)


@pytest.mark.parametrize(
    ("vix", "triggered"),
    [(16.79, True), (16.80, False)],  # premium 0.994 (just below 1.0) and 1.004 (just above)
)
def test_premium_boundary(vix: float, triggered: bool) -> None:
    got = _run(PREMIUM, closes=SAWTOOTH, market={"vix": vix})
    assert got.reading is not None
    assert got.reading.value == pytest.approx(vix - REALIZED, rel=1e-12)
    assert got.reading.triggered is triggered
    expected = (1.0 - (vix - REALIZED)) / (1.0 - -5.0) if triggered else 0.0
    assert got.reading.strength == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("premium", "strength"), [(-2.0, 0.5), (-5.0, 1.0), (-9.0, 1.0)])
def test_premium_strength(premium: float, strength: float) -> None:
    # strength = (1 - premium) / (1 - (-5)): -2 -> 3 / 6 = 0.5; -5 and below -> 1
    got = _run(PREMIUM, closes=SAWTOOTH, market={"vix": REALIZED + premium})
    assert got.reading is not None
    assert got.reading.strength == pytest.approx(strength)


def test_premium_window_uses_only_the_last_returns() -> None:
    # Five returns of +-ln(1.01) at the end; the 10% swings before them are outside the window.
    closes = [100.0, 110.0, 100.0, 110.0, 100.0, 101.0, 100.0, 101.0, 100.0, 101.0]
    got = _run(
        PREMIUM, closes=closes, market={"vix": 20.0}, settings={"vol_risk_premium.window": 5}
    )
    assert got.reading is not None
    assert got.reading.value == pytest.approx(20.0 - REALIZED, rel=1e-12)


def test_premium_uses_history_vix_when_the_market_has_none() -> None:
    history = make_history(AS_OF, spx_close=SAWTOOTH, vix_close=[*[30.0] * 19, 16.0, None])
    got = _run(PREMIUM, history=history)
    assert got.reading is not None
    assert got.reading.value == pytest.approx(16.0 - REALIZED, rel=1e-12)
    assert got.reading.explanation.startswith("VIX 16.00 (History VIX Close on 2024-01-30) minus")


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        (
            {"history": make_history(AS_OF, vix_close=[15.0] * 21)},
            "needs column 'spx_close' in History (absent or empty)",
        ),
        (
            {"closes": SAWTOOTH[:10], "market": {"vix": 15.0}},
            "needs 21 SPX closes in History for 20-day realized vol, found 10",
        ),
        ({"closes": SAWTOOTH}, "needs VIX in the Market sheet or a VIX Close in History"),
    ],
)
def test_premium_not_evaluated(kwargs: dict[str, Any], reason: str) -> None:
    got = _run(PREMIUM, **kwargs)
    assert (got.status, got.reason) == ("not evaluated", reason)


def test_premium_explanation() -> None:
    got = _run(PREMIUM, closes=SAWTOOTH, market={"vix": 16.79})
    assert got.reading is not None
    # 21 business days ending Wednesday 2024-01-31 start on 2024-01-03; premium 16.79 - 15.7957
    # = 0.9943, strength (1 - 0.9943) / 6 = 0.001.
    assert got.reading.explanation == (
        "VIX 16.79 (Market sheet) minus SPX 20-day realized vol 15.80 (closes 2024-01-03 to "
        "2024-01-31) = premium 0.99 points, below the threshold 1.00 (strength 1 at -5.00)"
    )


@pytest.mark.parametrize(
    ("signal", "settings", "message"),
    [
        (
            TERM,
            {"vix_term_structure.warning": 1.0, "vix_term_structure.inversion": 1.0},
            "vix_term_structure.warning 1 must be below vix_term_structure.inversion 1",
        ),
        (
            FORWARD,
            {"forward_vol.level": 30.0},
            "forward_vol.level 30 must be below forward_vol.full 30",
        ),
        (
            PREMIUM,
            {"vol_risk_premium.full": 1.0},
            "vol_risk_premium.full 1 must be below vol_risk_premium.threshold 1",
        ),
    ],
)
def test_thresholds_out_of_order_fail_with_the_reason(
    signal: Signal, settings: dict[str, Any], message: str
) -> None:
    got = _run(
        signal,
        closes=SAWTOOTH,
        market={"vix": 15.0, "vix3m": 16.0},
        futures=CONTANGO,
        settings=settings,
    )
    assert got.status == "failed"
    assert message in got.reason
