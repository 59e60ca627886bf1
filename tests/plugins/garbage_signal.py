"""Signals returning garbage: a string, and a Reading with strength outside [0, 1]."""

from rules_engine import Reading, Signal, hookimpl


@hookimpl
def alvh_register_signals(register):
    register(Signal("garbage_text", lambda ctx: "not a reading"))
    register(Signal("garbage_strength", lambda ctx: Reading(1.0, True, 7.0, "too strong")))
