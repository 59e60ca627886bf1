"""rules_engine.volatility against the Cboe VIX white paper's worked example (tests/data/
vix_whitepaper, tolerances from its README) and small chains worked out by hand."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rules_engine.volatility import (
    forward_variance,
    model_free_variance,
    realized_volatility,
    term_variance,
    vix_from_terms,
    years_to,
)

WHITEPAPER = Path(__file__).parent / "data" / "vix_whitepaper"
COLUMNS = ["strike", "call_bid", "call_ask", "put_bid", "put_ask"]


def _board(term: str) -> pd.DataFrame:
    chain = pd.read_csv(WHITEPAPER / "chain.csv")
    return chain.loc[chain["term"] == term, COLUMNS].reset_index(drop=True)


def _expected(name: str) -> dict[str, Any]:
    sets = json.loads((WHITEPAPER / "expected.json").read_text())["parameter_sets"]
    result: dict[str, Any] = sets[name]
    return result


# (parameter set, N1 and N2 in minutes, R1, R2, the full-precision VIX) as the brief fixes them.
DATINGS = [
    ("white_paper_2014", 35924, 46394, 0.000305, 0.000286, 13.685821),
    ("methodology_2019_onward", 34484, 44954, 0.00031664, 0.00028797, 13.927842),
]


@pytest.mark.parametrize(("name", "n1", "n2", "r1", "r2", "vix"), DATINGS)
def test_white_paper_vix(name: str, n1: int, n2: int, r1: float, r2: float, vix: float) -> None:
    t1, t2 = n1 / 525600, n2 / 525600
    var1 = model_free_variance(_board("near"), t1, r1)
    var2 = model_free_variance(_board("next"), t2, r2)
    assert vix_from_terms(t1, var1, t2, var2) == pytest.approx(vix, abs=1e-6)


@pytest.mark.parametrize(("name", "n1", "n2", "r1", "r2", "vix"), DATINGS)
def test_white_paper_terms(name: str, n1: int, n2: int, r1: float, r2: float, vix: float) -> None:
    published = _expected(name)["published"]
    reproduced = _expected(name)["reproduced"]  # the fixture's independent checker
    for term, t, r, k in (("near", n1 / 525600, r1, "1"), ("next", n2 / 525600, r2, "2")):
        got = term_variance(_board(term), t, r)
        assert got.forward == pytest.approx(published[f"F{k}"], abs=1e-4)
        assert got.k0 == published[f"K0_{k}"]
        assert got.variance == pytest.approx(published[f"sigma2_{k}"], abs=2e-8)
        assert got.forward_term == pytest.approx(published[f"forward_term_{k}"], abs=5e-9)
        assert len(got.strikes) == reproduced[f"strip_size_{k}"]
        assert got.strikes[0] == reproduced[f"put_end_{k}"]
        assert got.strikes[-1] == reproduced[f"call_end_{k}"]


def test_white_paper_traps_near_term() -> None:
    """The README's traps: 1405 put skipped (so 1400 has dK 7.5), the put wing stops at 1365/1360,
    the 2120 call is skipped, 2125 kept, and the call wing stops at 2150/2175; Q(K0) = 22.775."""
    got = term_variance(_board("near"), 34484 / 525600, 0.00031664)
    widths = dict(zip(got.strikes, got.widths, strict=True))
    quotes = dict(zip(got.strikes, got.quotes, strict=True))
    assert 1405 not in widths and widths[1400] == 7.5
    assert min(widths) == 1370 and 1365 not in widths
    assert 2120 not in widths and max(widths) == 2125
    assert quotes[1960] == pytest.approx(22.775, abs=1e-12)


def test_row_order_does_not_matter() -> None:
    board = _board("next")
    shuffled = board.sample(frac=1.0, random_state=7)
    t = 44954 / 525600
    assert model_free_variance(shuffled, t, 0.00028797) == model_free_variance(board, t, 0.00028797)


def _chain(rows: Sequence[Sequence[float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


# Five strikes 10 apart; the 100 strike has the smallest |C - P| (5.0 - 4.5 = 0.5).
FIVE = [
    (80, 19.5, 20.5, 0.4, 0.6),  # call mid 20.0, put mid 0.5
    (90, 10.5, 11.5, 1.4, 1.6),  # 11.0, 1.5
    (100, 4.5, 5.5, 4.0, 5.0),  # 5.0, 4.5
    (110, 1.0, 1.4, 10.9, 11.3),  # 1.2, 11.1
    (120, 0.3, 0.5, 20.0, 21.0),  # 0.4, 20.5
]


def test_k0_averages_put_and_call() -> None:
    t = 0.25  # r = 0, so e^{rT} = 1
    got = term_variance(_chain(FIVE), t, 0.0)
    assert got.forward == pytest.approx(100 + (5.0 - 4.5))  # 100.5
    assert got.k0 == 100
    # Strip: puts 80, 90; K0 100 at (4.5 + 5.0) / 2 = 4.75; calls 110, 120; every dK is 10.
    assert got.quotes == pytest.approx((0.5, 1.5, 4.75, 1.2, 0.4))
    strip = 10 / 80**2 * 0.5 + 10 / 90**2 * 1.5 + 10 / 100**2 * 4.75
    strip += 10 / 110**2 * 1.2 + 10 / 120**2 * 0.4
    expected = 2 / t * strip - (100.5 / 100 - 1) ** 2 / t  # 0.0692209... - 0.0001
    assert model_free_variance(_chain(FIVE), t, 0.0) == pytest.approx(expected, rel=1e-12)


def test_k0_is_the_strike_below_the_forward_not_the_nearest() -> None:
    # At 100 the call mid 4.2 and put mid 4.8 are the closest pair: F = 100 - 0.6 e^{rT} = 99.397,
    # so K0 is 90 although 100 is the nearer strike.
    rows = [*FIVE]
    rows[2] = (100, 4.0, 4.4, 4.6, 5.0)
    t, r = 0.5, 0.02
    growth = math.exp(0.02 * 0.5)
    forward = 100 + growth * (4.2 - 4.8)
    got = term_variance(_chain(rows), t, r)
    assert got.forward == pytest.approx(forward, rel=1e-12)
    assert got.k0 == 90
    # Strip: put 80 (0.5); K0 90 at (1.5 + 11.0) / 2 = 6.25; calls 100 (4.2), 110 (1.2), 120 (0.4).
    strip = 10 / 80**2 * 0.5 + 10 / 90**2 * 6.25 + 10 / 100**2 * 4.2
    strip += 10 / 110**2 * 1.2 + 10 / 120**2 * 0.4
    expected = 2 / t * growth * strip - (forward / 90 - 1) ** 2 / t
    assert got.variance == pytest.approx(expected, rel=1e-12)


# K0 = 100 (|C - P| = 0.1 there). Zero bids: puts 85 (skipped), 75 and 70 (two in a row: stop,
# so the quoted 65 and 60 puts are out); calls 115 and 120 (stop, so the quoted 125 call is out).
STOPS = [
    (60, 39.8, 40.6, 0.05, 0.15),
    (65, 34.8, 35.6, 0.05, 0.15),
    (70, 29.8, 30.6, 0.0, 0.05),
    (75, 24.8, 25.6, 0.0, 0.05),
    (80, 19.9, 20.7, 0.2, 0.4),  # put mid 0.3
    (85, 15.0, 15.6, 0.0, 0.1),
    (90, 10.5, 11.3, 0.8, 1.0),  # put mid 0.9
    (95, 6.6, 7.4, 1.8, 2.2),  # put mid 2.0 (call mid 7.0)
    (100, 3.0, 3.4, 2.9, 3.3),  # call mid 3.2, put mid 3.1
    (105, 1.4, 1.6, 6.3, 7.1),  # call mid 1.5
    (110, 0.5, 0.7, 10.2, 11.0),  # call mid 0.6
    (115, 0.0, 0.1, 15.0, 15.8),
    (120, 0.0, 0.1, 19.8, 20.6),
    (125, 0.05, 0.1, 24.8, 25.6),
    (130, 0.0, 0.05, 29.8, 30.6),
]


def test_two_zero_bids_stop_the_walk() -> None:
    t = 0.1
    got = term_variance(_chain(STOPS), t, 0.0)
    assert got.forward == pytest.approx(100 + (3.2 - 3.1))
    assert got.k0 == 100
    assert got.strikes == (80, 90, 95, 100, 105, 110)
    # dK over the included strikes: 80 one-sided (90 - 80); 90 spans 80..95; 110 one-sided.
    assert got.widths == pytest.approx((10, 7.5, 5, 5, 5, 5))
    strip = 10 / 80**2 * 0.3 + 7.5 / 90**2 * 0.9 + 5 / 95**2 * 2.0
    strip += 5 / 100**2 * (3.1 + 3.2) / 2 + 5 / 105**2 * 1.5 + 5 / 110**2 * 0.6
    expected = 2 / t * strip - (100.1 / 100 - 1) ** 2 / t
    assert got.variance == pytest.approx(expected, rel=1e-12)


def test_a_blank_bid_counts_as_a_zero_bid() -> None:
    rows = [*STOPS]
    rows[5] = (85, 15.0, 15.6, float("nan"), 0.1)
    assert model_free_variance(_chain(rows), 0.1, 0.0) == model_free_variance(
        _chain(STOPS), 0.1, 0.0
    )


@pytest.mark.parametrize(
    ("chain", "t", "message"),
    [
        (
            _chain([(k, c, a, 0.0, 0.05) for k, c, a, _, _ in FIVE]),
            0.25,
            "no strike has both a call and a put quote (bid above 0): the forward cannot be found",
        ),
        (_chain(FIVE[:0]), 0.25, "the chain is empty"),
        (_chain(FIVE).drop(columns="put_ask"), 0.25, "the chain needs columns put_ask"),
        (_chain([*FIVE, FIVE[1]]), 0.25, "strike 90 appears more than once"),
        (_chain(FIVE), 0.0, "time to expiry T must be a number above 0, got 0.0"),
        (
            _chain([(90, 10.5, 11.5, 0.0, 0.1), (100, 4.5, 5.5, 4.0, 5.0), (110, 0, 0.1, 9, 10)]),
            0.25,
            "no out-of-the-money quote beside K0 = 100: no strip to sum",
        ),
    ],
)
def test_a_chain_without_a_variance_says_why(chain: pd.DataFrame, t: float, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        model_free_variance(chain, t, 0.0)
    assert str(raised.value) == message


def test_vix_from_terms_by_hand() -> None:
    # N1 = 20 days = 28,800 min, N2 = 40 days = 57,600, N30 = 43,200: weights 0.5 and 0.5.
    t1, t2 = 20 / 365, 40 / 365
    expected = 100 * math.sqrt((t1 * 0.04 * 0.5 + t2 * 0.09 * 0.5) * 525600 / 43200)
    assert vix_from_terms(t1, 0.04, t2, 0.09) == pytest.approx(expected, rel=1e-12)  # 27.08
    # A maturity equal to the first term gives that term's own vol: sqrt(0.04) = 20 points.
    assert vix_from_terms(t1, 0.04, t2, 0.09, days=20) == pytest.approx(20.0, rel=1e-12)


def test_vix_from_terms_rejects_terms_out_of_order() -> None:
    with pytest.raises(ValueError, match="needs 0 < T1 < T2"):
        vix_from_terms(0.1, 0.04, 0.05, 0.04)


def test_forward_variance_by_hand() -> None:
    # (0.0625 x 0.2 - 0.04 x 0.1) / (0.2 - 0.1) = (0.0125 - 0.004) / 0.1 = 0.085
    assert forward_variance(0.1, 0.04, 0.2, 0.0625) == pytest.approx(0.085, rel=1e-12)
    with pytest.raises(ValueError, match="needs 0 <= T1 < T2"):
        forward_variance(0.2, 0.04, 0.2, 0.04)


def test_years_to_counts_calendar_days() -> None:
    assert years_to(dt.date(2018, 3, 21), dt.date(2018, 1, 26)) == 54 / 365


def test_realized_volatility_by_hand() -> None:
    closes = pd.Series([100.0, 101.0, 100.0, 102.0])
    returns = [math.log(101 / 100), math.log(100 / 101), math.log(102 / 100)]
    expected = 100 * math.sqrt(252 / 3 * sum(x * x for x in returns))
    assert realized_volatility(closes, 3) == pytest.approx(expected, rel=1e-12)
    # Only the last n returns count: a leading close changes nothing.
    longer = pd.Series([50.0, *closes])
    assert realized_volatility(longer, 3) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="needs 4 closes for 3 returns, got 2"):
        realized_volatility(closes.tail(2), 3)
