"""A signal that requires a History column the example does not have."""

from rules_engine import Reading, Signal, hookimpl


@hookimpl
def alvh_register_signals(register):
    register(Signal("breadth", lambda ctx: Reading(0.0, False, 0.0, "-"), requires=("advances",)))
