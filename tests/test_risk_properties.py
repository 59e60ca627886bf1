"""Properties the stress model must keep for any book (hypothesis): a short condor loses more as
VIX rises with SPX held, a long VIX call held in the book never loses more than its premium, and
nothing depends on the order of the Positions rows."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules_engine import Scenario
from rules_engine.testing import leg, make_risk

AS_OF = dt.date(2024, 1, 31)  # make_risk's default as-of date


@st.composite
def condors(draw: st.DrawFn) -> list[dict]:
    """A short iron condor around SPX 4000 as traded at VIX 16 (make_risk's): shorts 2-12% out,
    wings 25-100 points, 7-60 days, ATM IV 8-22% with a put skew (the further down, the
    higher). (Far longer condors with a near short call can gain vega at extreme vols: once a
    narrow call spread sits below the vega peak K = S exp((r + vol^2/2) T), which Black-Scholes
    rightly shows.)"""
    days = draw(st.integers(min_value=7, max_value=60))
    expiry = AS_OF + dt.timedelta(days=days)
    put_out = draw(st.floats(min_value=0.02, max_value=0.12))
    call_out = draw(st.floats(min_value=0.02, max_value=0.12))
    wing = draw(st.sampled_from([25.0, 50.0, 75.0, 100.0]))
    short_put = round(4000 * (1 - put_out) / 5) * 5
    short_call = round(4000 * (1 + call_out) / 5) * 5
    atm = draw(st.floats(min_value=0.08, max_value=0.22))
    skew = draw(st.floats(min_value=0.0, max_value=0.02))  # vol per 100 points below spot
    qty = draw(st.integers(min_value=1, max_value=20))

    def iv(strike: float) -> float:
        return atm + skew * max(4000 - strike, 0.0) / 100

    return [
        leg("IC", "SPX", "Put", short_put - wing, qty, expiry=expiry, iv=iv(short_put - wing)),
        leg("IC", "SPX", "Put", short_put, -qty, expiry=expiry, iv=iv(short_put)),
        leg("IC", "SPX", "Call", short_call, -qty, expiry=expiry, iv=iv(short_call)),
        leg("IC", "SPX", "Call", short_call + wing, qty, expiry=expiry, iv=iv(short_call + wing)),
    ]


@settings(max_examples=100, deadline=None)
@given(
    book=condors(),
    moves=st.lists(st.floats(min_value=-5.0, max_value=30.0), min_size=2, max_size=6),
    days=st.sampled_from([0.0, 3.0]),
)
def test_a_short_condor_loses_more_as_vix_rises_with_spx_held(
    book: list[dict], moves: list[float], days: float
) -> None:
    risk = make_risk(book)
    ordered = sorted(set(moves))
    pnls = [p.book for p in risk.pnl_many([Scenario(v, 0.0, days) for v in ordered])]
    for smaller, larger in itertools.pairwise(pnls):
        assert larger <= smaller + 1e-6 * max(1.0, abs(smaller))


@settings(max_examples=100, deadline=None)
@given(
    strike=st.floats(min_value=12.0, max_value=60.0),
    months=st.integers(min_value=1, max_value=6),
    contracts=st.integers(min_value=1, max_value=100),
    iv=st.floats(min_value=0.3, max_value=2.0),
    vix_points=st.floats(min_value=-10.0, max_value=60.0),
    spx_move=st.one_of(st.none(), st.floats(min_value=-0.3, max_value=0.1)),
    days=st.sampled_from([0.0, 7.0, 45.0, 400.0]),
)
def test_a_long_vix_call_in_the_book_never_loses_more_than_its_premium(
    strike: float,
    months: int,
    contracts: int,
    iv: float,
    vix_points: float,
    spx_move: float | None,
    days: float,
) -> None:
    expiry = AS_OF + dt.timedelta(days=30 * months)
    call = leg("H", "VIX", "Call", strike, contracts, expiry=expiry, iv=iv)
    risk = make_risk([call])
    premium = contracts * 100 * float(risk.legs["price"].iloc[0])
    assert risk.pnl(Scenario(vix_points, spx_move, days)).hedges >= -premium - 1e-9


SCENARIOS = [
    Scenario(6.0),
    Scenario(-3.0, 0.02),
    Scenario(20.0, -0.1, 7.0),
    Scenario(10.0, None, 45.0),
]


@settings(max_examples=40, deadline=None)
@given(book=condors(), order=st.randoms(use_true_random=False))
def test_results_do_not_depend_on_the_order_of_positions(
    book: list[dict], order: random.Random
) -> None:
    hedges = [
        leg("H", "VIX", "Call", 22.0, 10, expiry=AS_OF + dt.timedelta(days=60), iv=0.9),
        leg("H", "VIX", "Future", 0, 1, expiry=AS_OF + dt.timedelta(days=90)),
        leg("E", "VXX", "Share", 0, 100, mark=20.0),
    ]
    rows = [*book, *hedges]
    shuffled = rows.copy()
    order.shuffle(shuffled)
    first, second = make_risk(rows), make_risk(shuffled)
    for scenario in SCENARIOS:
        a, b = first.pnl(scenario), second.pnl(scenario)
        assert (b.book, b.hedges) == pytest.approx((a.book, a.hedges), rel=1e-12, abs=1e-9)
        assert second.structure_pnl(scenario).sort_index().to_dict() == pytest.approx(
            first.structure_pnl(scenario).sort_index().to_dict(), rel=1e-12, abs=1e-9
        )
    (c1,), (c2,) = first.condors, second.condors
    assert (c2.credit, c2.max_loss, c2.short_put, c2.short_call) == pytest.approx(
        (c1.credit, c1.max_loss, c1.short_put, c1.short_call)
    )


def test_a_large_book_prices_every_leg_as_a_small_book_does() -> None:
    # Above 256 legs the engine prices each distinct leg once and copies it to its repeats; the
    # result must be what pricing every condor on its own gives.
    expiries = [AS_OF + dt.timedelta(days=d) for d in (14, 45)]
    book = []
    for i in range(80):  # 320 legs, strikes and IVs repeating
        expiry = expiries[i % 2]
        put, call = 3700 + 25 * (i % 4), 4200 + 25 * (i % 3)
        book += [
            leg(f"IC{i}", "SPX", "Put", put - 50, 1 + i % 2, expiry=expiry, iv=0.22),
            leg(f"IC{i}", "SPX", "Put", put, -1 - i % 2, expiry=expiry, iv=0.20),
            leg(f"IC{i}", "SPX", "Call", call, -1 - i % 2, expiry=expiry, iv=0.14),
            leg(f"IC{i}", "SPX", "Call", call + 50, 1 + i % 2, expiry=expiry, iv=0.13),
        ]
    big = make_risk(book)
    for scenario in SCENARIOS:
        pnl = big.structure_pnl(scenario)
        for i in (0, 1, 5, 42, 79):
            alone = make_risk(book[4 * i : 4 * i + 4]).structure_pnl(scenario)
            assert pnl[f"IC{i}"] == pytest.approx(alone[f"IC{i}"], rel=1e-12, abs=1e-9)
