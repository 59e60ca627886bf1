"""A signal whose evaluate raises: the engine must name it and keep everything else."""

from rules_engine import Signal, hookimpl


def evaluate(ctx):
    raise RuntimeError("boom from raising_signal")


@hookimpl
def alvh_register_signals(register):
    register(Signal("explodes", evaluate))
