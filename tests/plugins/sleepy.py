"""Signals that run past any time limit: one asleep, one spinning in pure Python."""

import time

from rules_engine import Reading, Signal, hookimpl


def sleeps(ctx):
    time.sleep(60)
    return Reading(1.0, True, 1.0, "woke up")


def spins(ctx):
    while True:
        pass


@hookimpl
def alvh_register_signals(register):
    register(Signal("sleeps", sleeps))
    register(Signal("spins", spins))
