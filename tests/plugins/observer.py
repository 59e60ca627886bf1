"""A signal that reports what it sees of the book, to prove nobody changed it."""

from rules_engine import Reading, Signal, hookimpl


def evaluate(ctx):
    risk = ctx.risk
    loss = risk.projected_loss()
    seen = (
        f"loss {loss:.9f}; last close {float(ctx.history['spx_close'].iloc[-1]):.4f}; "
        f"qty {float(ctx.positions['qty'].abs().sum()):g}; "
        f"legs value {float(risk.legs['value'].sum()):.6f}; "
        f"front future {float(ctx.vix_futures['price'].iloc[0]):g}; vix {ctx.market['vix']:g}"
    )
    return Reading(loss, False, 0.0, seen)


@hookimpl
def alvh_register_signals(register):
    register(Signal("zzz_observer", evaluate))
