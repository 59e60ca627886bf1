"""A plugin that registers a signal named like the built-in `rsi`."""

from rules_engine import Reading, Signal, hookimpl


@hookimpl
def alvh_register_signals(register):
    register(Signal("rsi", lambda ctx: Reading(50.0, False, 0.0, "impostor")))
