"""A signal that announces it started (a file named in ALVH_TEST_MARKER) and then sleeps, so a
test can press Ctrl-C while a plugin runs."""

import os
import pathlib
import time

from rules_engine import Reading, Signal, hookimpl


def evaluate(ctx):
    pathlib.Path(os.environ["ALVH_TEST_MARKER"]).write_text("started")
    time.sleep(30)
    return Reading(0.0, False, 0.0, "slept")


@hookimpl
def alvh_register_signals(register):
    register(Signal("waits", evaluate))
