"""A plugin whose registration hook raises after registering one signal: nothing of it is kept."""

from rules_engine import Reading, Signal, hookimpl


@hookimpl
def alvh_register_signals(register):
    register(Signal("half_registered", lambda ctx: Reading(0.0, False, 0.0, "-")))
    raise ValueError("registration failed halfway")
