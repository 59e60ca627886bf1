"""The book view (rules_engine/risk/bookview.py) against hand-worked figures.

Prices come from the independent scalar reference pricer (tests/reference_pricing.py); Greeks are
its central finite differences; lognormal probabilities are written with math.erf here.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

import pytest
import stress_by_hand as by_hand
from reference_pricing import black76_price, bsm_price

from rules_engine import Signal
from rules_engine.risk.bookview import (
    ALL_CONDORS,
    NET_GREEK_UNITS,
    SPX_BOOK,
    VIX_HEDGES,
    WHOLE_BOOK,
    annualized_return_on_risk,
    expected_move,
    net_greeks,
    open_pnl,
    probability_beyond_shorts,
    return_on_risk,
    vix_sensitivity,
)
from rules_engine.testing import evaluate_signal, leg, make_context, make_risk
from rules_engine_plugins import second_engine

AS_OF = dt.date(2024, 1, 31)  # make_risk's default as-of date
SPX, RATE = 4000.0, 0.04  # make_risk's default SPX and rate (dividend yield 0)
D30, D60 = AS_OF + dt.timedelta(days=30), AS_OF + dt.timedelta(days=60)
T30, T60 = 30 / 365, 60 / 365
# make_risk's default curve: 30 days 17.0, 60 days 17.5, ... (VIX 16 + 1, + 0.5 a month)
F30, F60 = 17.0, 17.5

#: The condor: (type, strike, qty, entry, iv).
CONDOR = (
    ("Put", 3700.0, 1, 5.0, 0.24),
    ("Put", 3800.0, -1, 9.0, 0.21),
    ("Call", 4200.0, -1, 6.0, 0.15),
    ("Call", 4300.0, 1, 2.5, 0.14),
)


def condor(group: str = "IC", expiry: dt.date = D30) -> list[dict[str, object]]:
    return [
        leg(group, "SPX", kind, k, q, expiry=expiry, entry_price=e, iv=v)
        for kind, k, q, e, v in CONDOR
    ]


HEDGES = [
    leg("H", "VIX", "Call", 20, 10, expiry=D30, entry_price=0.60, iv=0.9),
    leg("H", "VIX", "Future", 0, 1, expiry=D60, entry_price=16.0),
    leg("H", "VXX", "Share", 0, 100, entry_price=14.0, mark=12.0),
]


def book():
    return make_risk([*condor(), *HEDGES])


def cell_of(row: int, field: str) -> str:
    return f"{field}@{row}"


# --- reference Greeks: central differences of the reference prices -------------------------


def spx_ref(k: float, t: float, iv: float, call: bool) -> dict[str, float]:
    def p(s: float = SPX, v: float = iv, tt: float = t) -> float:
        return bsm_price(s, k, tt, RATE, 0.0, v, call)

    return _differences(p, SPX, iv, t)


def vix_ref(f: float, k: float, t: float, iv: float, call: bool) -> dict[str, float]:
    def p(s: float = f, v: float = iv, tt: float = t) -> float:
        return black76_price(s, k, tt, RATE, v, call)

    return _differences(p, f, iv, t)


def _differences(p: Callable[..., float], s: float, v: float, t: float) -> dict[str, float]:
    """Central differences: small steps for first derivatives, larger for second ones (their
    rounding error grows as 1/step^2)."""
    hs, hv, ht = s * 1e-6, 1e-6, 1e-7
    ks, kv = s * 1e-4, 1e-4
    return {
        "price": p(),
        "delta": (p(s=s + hs) - p(s=s - hs)) / (2 * hs),
        "gamma": (p(s=s + ks) - 2 * p() + p(s=s - ks)) / ks**2,
        "vega": (p(v=v + hv) - p(v=v - hv)) / (2 * hv),
        "theta": (p(tt=t - ht) - p(tt=t + ht)) / (2 * ht),
        "vanna": (
            p(s=s + ks, v=v + kv)
            - p(s=s + ks, v=v - kv)
            - p(s=s - ks, v=v + kv)
            + p(s=s - ks, v=v - kv)
        )
        / (4 * ks * kv),
        "vomma": (p(v=v + kv) - 2 * p() + p(v=v - kv)) / kv**2,
    }


def condor_refs() -> list[tuple[float, dict[str, float]]]:
    """(qty x 100, reference Greeks) of each condor leg."""
    return [(q * 100.0, spx_ref(k, T30, v, kind == "Call")) for kind, k, q, _, v in CONDOR]


def ref_sum(refs: list[tuple[float, dict[str, float]]], greek: str, scale: float = 1.0) -> float:
    return sum(size * g[greek] for size, g in refs) / scale


# --- open P&L ---------------------------------------------------------------------------------


def test_open_pnl_per_leg_from_entry_to_mark_or_model_price() -> None:
    result = open_pnl(book(), cell_of)
    legs = result.legs
    for i, (size, g) in enumerate(condor_refs()):
        entry = CONDOR[i][3]
        assert legs["now_from"].iloc[i] == "model"
        assert legs["open_pnl_usd"].iloc[i] == pytest.approx(size * (g["price"] - entry))
    call = black76_price(F30, 20, T30, RATE, 0.9, True)
    assert legs["open_pnl_usd"].iloc[4] == pytest.approx(10 * 100 * (call - 0.60))
    assert legs["open_pnl_usd"].iloc[5] == pytest.approx(1 * 1000 * (F60 - 16.0))  # $1,500
    assert legs["now_from"].iloc[6] == "Mark"
    assert legs["open_pnl_usd"].iloc[6] == pytest.approx(100 * (12.0 - 14.0))  # -$200
    credit = 100 * (-5.0 + 9.0 + 6.0 - 2.5)  # $750 received
    worth = sum(size * g["price"] for size, g in condor_refs())
    assert result.by_group["IC"] == pytest.approx(credit + worth)
    assert result.total == pytest.approx(credit + worth + 1000 * (call - 0.60) + 1500.0 - 200.0)
    assert result.issues == ()


def test_open_pnl_is_blank_without_an_entry_price() -> None:
    risk = make_risk([*condor()[:3], leg("IC", "SPX", "Call", 4300, 1, iv=0.14)])
    result = open_pnl(risk, cell_of)
    assert math.isnan(result.legs["open_pnl_usd"].iloc[3])
    assert math.isnan(result.by_group["IC"]) and math.isnan(result.total)
    assert result.legs["open_pnl_usd"].iloc[:3].notna().all()


def test_entry_price_of_an_edited_strike_is_warned_at_its_cell() -> None:
    spx = 2870.0
    legs = [
        leg("P", "SPX", "Put", 3100, 1, entry_price=3.0, iv=0.2),  # was 2700: edited
        leg("Q", "SPX", "Put", 2700, 1, entry_price=3.0, iv=0.2),  # as bought
        leg("C", "SPX", "Call", 3000, 1, entry_price=3500.0, iv=0.2),  # above any SPX near
    ]
    result = open_pnl(make_risk(legs, spx=spx), cell_of)
    by_cell = {i.cell: i for i in result.issues}
    assert set(by_cell) == {"entry_price@2", "entry_price@4"}
    put = by_cell["entry_price@2"]
    assert (put.severity, put.sheet, put.column) == ("warning", "Positions", "Entry Price")
    # intrinsic 3100 - 2870 = 230 > 3; at any vol with SPX within 5% of 2870 the put is worth at
    # least 3100 e^-rT - 2870 x 1.05 (q = 0)
    least = 3100 * math.exp(-RATE * T30) - spx * 1.05
    assert least == pytest.approx(76.33, abs=0.01)
    assert put.message.startswith(f"Entry Price 3 is below {least:,.2f}, the least this SPX put")
    assert "within 5% of today's 2,870.00" in put.message
    # a call is never worth more than its underlying: 2870 x 1.05 = 3013.50
    assert by_cell["entry_price@4"].message.startswith("Entry Price 3500 is above 3,013.50")


def test_vix_entry_prices_far_from_their_legs_are_warned() -> None:
    legs = [
        leg("H", "VIX", "Put", 40, 1, expiry=D30, entry_price=0.3, iv=0.9),  # strike edited
        leg("H", "VIX", "Call", 20, 1, expiry=D30, entry_price=0.6, iv=0.9),  # fine
        leg("F", "VIX", "Future", 0, 1, expiry=D30, entry_price=100.0),  # 100 / 17 = 5.88x
        leg("E", "UVXY", "Share", 0, 10, entry_price=50.0, mark=10.0),  # 5x exactly: allowed
    ]
    result = open_pnl(make_risk(legs), cell_of)
    by_cell = {i.cell: i.message for i in result.issues}
    assert set(by_cell) == {"entry_price@2", "entry_price@4"}
    # band 80% of the future 17: the put is worth at least (40 - 17 x 1.8) e^-rT = 9.37
    least = (40 - F30 * 1.8) * math.exp(-RATE * T30)
    assert by_cell["entry_price@2"].startswith(f"Entry Price 0.3 is below {least:,.2f}")
    assert by_cell["entry_price@4"].startswith("Entry Price 100 is 5.88x today's price 17.00")


# --- net Greeks --------------------------------------------------------------------------------


def test_net_greeks_in_dollars_never_mixing_spx_and_vix_points() -> None:
    frame = net_greeks(book())
    assert list(frame.index) == [SPX_BOOK, VIX_HEDGES, WHOLE_BOOK]
    assert list(frame.columns) == list(NET_GREEK_UNITS)
    refs = condor_refs()
    spx = {
        "delta_spx_usd": ref_sum(refs, "delta"),  # $ per SPX point
        "gamma_spx_usd": ref_sum(refs, "gamma"),  # $ per SPX point^2
        "vega_spx_usd": ref_sum(refs, "vega", 100),  # per vol point: vega per 1.00 / 100
        "vanna_spx_usd": ref_sum(refs, "vanna", 100),  # $ per SPX point per vol point
        "vomma_spx_usd": ref_sum(refs, "vomma", 100**2),  # $ per vol point per vol point
    }
    call = vix_ref(F30, 20, T30, 0.9, True)
    vix = {
        # 10 calls x 100 x dP/dF, + 1 future x 1000, + 100 VXX x $12 x leverage 1 / F(30 d) 17
        "delta_vix_usd": 1000 * call["delta"] + 1000.0 + 100 * 12.0 / F30,
        "gamma_vix_usd": 1000 * call["gamma"],
        "vega_vix_usd": 1000 * call["vega"] / 100,
        "vanna_vix_usd": 1000 * call["vanna"] / 100,
        "vomma_vix_usd": 1000 * call["vomma"] / 100**2,
    }
    theta_spx = ref_sum(refs, "theta", 365)  # $ per calendar day
    theta_vix = 1000 * call["theta"] / 365
    expected = {
        SPX_BOOK: {**spx, **dict.fromkeys(vix, 0.0), "theta_usd": theta_spx},
        VIX_HEDGES: {**dict.fromkeys(spx, 0.0), **vix, "theta_usd": theta_vix},
        WHOLE_BOOK: {**spx, **vix, "theta_usd": theta_spx + theta_vix},
    }
    for row, values in expected.items():
        for column, value in values.items():
            assert frame.loc[row, column] == pytest.approx(value, rel=1e-5, abs=1e-9), (
                row,
                column,
            )
    # a short condor: short vega, short gamma, long theta
    assert frame.loc[SPX_BOOK, "vega_spx_usd"] < 0 and frame.loc[SPX_BOOK, "theta_usd"] > 0


# --- hedges against the condors, per VIX point -------------------------------------------------


def test_vix_sensitivity_by_hand() -> None:
    risk = book()
    result = vix_sensitivity(risk)

    # SPX held at 4000, VIX 16 +/- 0.5: each condor IV moves 0.9 x 0.5 vol points (tenor factor
    # 1 at 30 days), and a strike below SPX takes the skew term 0.1 x 0.5 vol pts per 10% below
    def condor_value(points: float) -> float:
        total = 0.0
        for kind, k, q, _, v in CONDOR:
            shift = points / 100 * (0.9 + 0.1 * max(math.log(SPX / k), 0.0) / 0.10)
            total += q * 100 * bsm_price(SPX, k, T30, RATE, 0.0, v + shift, kind == "Call")
        return total

    assert result.spx_book_usd == pytest.approx(condor_value(0.5) - condor_value(-0.5), rel=1e-9)
    assert result.spx_book_usd < 0  # short vega

    def vol(days: float, k: float, f: float, vix: float) -> float:
        return by_hand.surface(days, k, f, vix, vvix=None, vix_today=16.0)  # no VVIX given

    def hedges_value(points: float) -> float:
        vix = 16.0 + points
        f30 = F30 + by_hand.curve_model(vix, 30) - by_hand.curve_model(16.0, 30)
        f60 = F60 + by_hand.curve_model(vix, 60) - by_hand.curve_model(16.0, 60)
        call_vol = 0.9 + vol(30, 20.0, f30, vix) - vol(30, 20.0, F30, 16.0)
        calls = 10 * 100 * black76_price(f30, 20.0, T30, RATE, call_vol, True)
        # the future x 1,000; VXX: 100 shares x $12 x the 30-day future's return
        return calls + 1000 * f60 + 100 * 12.0 * f30 / F30

    assert result.hedges_usd == pytest.approx(hedges_value(0.5) - hedges_value(-0.5), rel=1e-9)
    assert result.ratio == pytest.approx(result.hedges_usd / -result.spx_book_usd)


def test_hedge_ratio_is_blank_when_the_book_does_not_lose_as_vix_rises() -> None:
    risk = make_risk([leg("L", "SPX", "Put", 3800, 1, iv=0.2), *HEDGES[:1]])
    assert math.isnan(vix_sensitivity(risk).ratio)


# --- expected move, probabilities, return on risk ----------------------------------------------


def test_expected_move_interpolates_the_condor_ivs_at_spot() -> None:
    far = [
        leg("FAR", "SPX", "Put", 3000, 1, expiry=D60, entry_price=1.0, iv=0.30),
        leg("FAR", "SPX", "Put", 3100, -1, expiry=D60, entry_price=2.0, iv=0.29),
        leg("FAR", "SPX", "Call", 3400, -1, expiry=D60, entry_price=601.0, iv=0.27),
        leg("FAR", "SPX", "Call", 3500, 1, expiry=D60, entry_price=502.0, iv=0.26),
    ]
    frame = expected_move(make_risk([*condor(), *far]))
    assert list(frame["expiry"]) == [D30, D60]
    # 30 days: 4000 is halfway from 3800 (IV 0.21) to 4200 (0.15): 0.18
    assert frame["atm_iv"].iloc[0] == pytest.approx(0.18)
    assert frame["move_fraction"].iloc[0] == pytest.approx(0.18 * math.sqrt(30 / 365))
    assert frame["move_points"].iloc[0] == pytest.approx(4000 * 0.18 * math.sqrt(30 / 365))
    assert frame["move_points"].iloc[0] == pytest.approx(206.4, abs=0.05)
    # 60 days: every strike is below 4000: flat at the highest strike's IV, 0.26
    assert frame["atm_iv"].iloc[1] == pytest.approx(0.26)
    assert frame["move_points"].iloc[1] == pytest.approx(4000 * 0.26 * math.sqrt(60 / 365))


def test_expected_move_averages_ivs_of_a_shared_strike() -> None:
    second = condor("IC2")
    second[1] = leg("IC2", "SPX", "Put", 3800, -1, expiry=D30, entry_price=9.0, iv=0.23)
    frame = expected_move(make_risk([*condor(), *second]))
    # at 3800: (0.21 + 0.23) / 2 = 0.22; halfway to 4200's 0.15: 0.185
    assert frame["atm_iv"].iloc[0] == pytest.approx(0.185)


def n(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def test_probability_beyond_each_short_strike_with_its_own_iv() -> None:
    frame = probability_beyond_shorts(book())
    row = frame.loc["IC"]
    t = 30 / 365
    d2_put = (math.log(4000 / 3800) + (RATE - 0.21**2 / 2) * t) / (0.21 * math.sqrt(t))
    d2_call = (math.log(4000 / 4200) + (RATE - 0.15**2 / 2) * t) / (0.15 * math.sqrt(t))
    below, above = n(-d2_put), n(d2_call)
    assert row["prob_below_short_put"] == pytest.approx(below, rel=1e-12)
    assert row["prob_above_short_call"] == pytest.approx(above, rel=1e-12)
    assert row["prob_between"] == pytest.approx(1 - below - above, rel=1e-12)
    # d2 = (0.05129 + 0.00148) / 0.06021 = 0.8765 and (-0.04879 + 0.00236) / 0.04300 = -1.0796
    assert below == pytest.approx(0.1904, abs=1e-4) and above == pytest.approx(0.1402, abs=1e-4)
    assert (row["short_put"], row["short_put_iv"]) == (3800.0, 0.21)
    assert (row["short_call"], row["short_call_iv"]) == (4200.0, 0.15)
    assert row["days"] == 30


def test_return_on_risk_per_condor_and_for_the_book() -> None:
    risk = make_risk([*condor(), *condor("IC60", D60)])
    frame = return_on_risk(risk)
    # credit 100 x (9 + 6 - 5 - 2.5) = $750; max loss 100-point wing x 100 - 750 = $9,250
    assert frame.loc["IC", "credit_usd"] == pytest.approx(750.0)
    assert frame.loc["IC", "max_loss_usd"] == pytest.approx(9250.0)
    assert frame.loc["IC", "return"] == pytest.approx(750 / 9250)
    assert frame.loc["IC", "annualized"] == pytest.approx(750 / 9250 * 365 / 30)
    assert frame.loc["IC60", "annualized"] == pytest.approx(750 / 9250 * 365 / 60)
    book_row = frame.loc[ALL_CONDORS]
    assert book_row["credit_usd"] == pytest.approx(1500.0)
    assert book_row["return"] == pytest.approx(1500 / 18500)
    # max-loss weighted: (750 x 365/30 + 750 x 365/60) / 18,500
    yearly = (750 * 365 / 30 + 750 * 365 / 60) / 18500
    assert book_row["annualized"] == pytest.approx(yearly)
    assert annualized_return_on_risk(risk.condors, AS_OF) == pytest.approx(yearly)
    # the second_engine signal reads the same figure
    found: list[Signal] = []
    second_engine.alvh_register_signals(found.append)
    reading = evaluate_signal(found[0], make_context(risk=risk)).reading
    assert reading is not None and reading.value == pytest.approx(yearly)


# --- totals ---------------------------------------------------------------------------------
