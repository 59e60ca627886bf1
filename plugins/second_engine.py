"""Built-in signal `second_engine`: the condor book earns too little for the risk it carries.

The condors are the book's second engine: their credit pays for the hedges and for the losses of
bad months. When premium is thin (low VIX, strikes far out) the credit no longer does, and the
temptation is to sell closer strikes or more size just when a spike costs most.

Rule: over the recognised iron condors of `ctx.risk` (credit from Entry Price, else today's model
price; max loss = widest wing x contracts x multiplier - credit), each condor's credit is annualized
by its own days to expiry from the as-of date (credit x 365 / days, days at least 1), and

    value = sum(credit_i x 365 / days_i) / sum(max_loss_i)

the max-loss-weighted mean of the condors' annualized returns on risk (a fraction a year: 0.5 is
50%). Triggered when value < `second_engine.min_return` (default 0.50). Strength =
(min_return - value) / min_return when triggered (1 at or below a zero return), else 0. Not
evaluated when the book has no recognised condor.
"""

from __future__ import annotations

from collections.abc import Callable

from rules_engine import Context, NotEvaluated, Reading, Setting, Signal, hookimpl

DAYS_A_YEAR = 365.0

MIN_RETURN = Setting(
    "second_engine.min_return",
    0.50,
    "float",
    "Annualized return on risk (credit / max loss, a year; 0.5 = 50%) below which the condors "
    "earn too little. 0.5: after the alvh sizer's hedge budget (25% of credit) it pays for one "
    "full max loss every 2.7 years (1 / (0.75 x 2.7)); the shipped VIX closes show five spikes "
    "of more than 24 points in 2018-2025, one every ~1.6 years.",
    minimum=0.01,
    maximum=20.0,
)


def evaluate(ctx: Context) -> Reading:
    minimum = float(ctx.settings[MIN_RETURN.name])
    risk = ctx.risk
    condors = risk.condors if risk is not None else ()
    if risk is None or not condors:
        raise NotEvaluated("needs at least one iron condor in the Positions sheet")
    days = [max((c.expiry - risk.as_of).days, 1) for c in condors]
    credit = sum(c.credit for c in condors)
    max_loss = sum(c.max_loss for c in condors)
    if max_loss <= 0:
        raise ValueError(
            f"the condors' max loss sums to ${max_loss:,.0f}: check their strikes and Entry Prices"
        )
    yearly = sum(c.credit * DAYS_A_YEAR / d for c, d in zip(condors, days, strict=True))
    value = yearly / max_loss
    triggered = value < minimum
    strength = (minimum - value) / minimum if triggered else 0.0
    state = "below" if triggered else "not below"
    terms = ", ".join(f"{c.group} {d} d" for c, d in zip(condors, days, strict=True))
    return Reading(
        value=value,
        triggered=triggered,
        strength=min(max(strength, 0.0), 1.0),
        explanation=(
            f"{len(condors)} condor(s) ({terms}): credit ${credit:,.0f} on max loss "
            f"${max_loss:,.0f} ({credit / max_loss:.1%}), {value:.1%} a year annualized by each "
            f"condor's days to expiry: {state} the {minimum * 100:g}% minimum"
        ),
    )


@hookimpl
def alvh_register_signals(register: Callable[[Signal], None]) -> None:
    register(
        Signal(
            name="second_engine",
            evaluate=evaluate,
            description="the condor book's annualized return on risk is too low for its risk",
            settings=(MIN_RETURN,),
            category="book",
        )
    )
