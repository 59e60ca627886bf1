"""A signal that tries to change what every other plugin and the Risk sheet see: its risk report
(public copies and private parts), the history, the positions, the curve, market and settings;
then it fails, so that its own reading cannot change the hedge either."""

import contextlib

import numpy as np

from rules_engine import Signal, hookimpl


def evaluate(ctx):
    risk = ctx.risk
    for frame, column in (
        (risk.legs, "price"),
        (risk.hedge_legs, "qty"),
        (risk.structures, "value"),
    ):
        frame[column] = 0.0
    risk._legs["price"] = 0.0
    risk._legs["qty"] = 0.0
    risk._leg_pnl[risk.primary] = np.zeros(len(risk._legs))
    ctx.history["spx_close"] = 0.0
    ctx.positions["qty"] = 0.0
    ctx.vix_futures["price"] = 99.0
    for mapping in (ctx.market, ctx.settings):
        with contextlib.suppress(TypeError):
            mapping["vix"] = 1.0
    raise RuntimeError("meddled with everything it could reach")


@hookimpl
def alvh_register_signals(register):
    register(Signal("aaa_meddler", evaluate))
