"""A user plugin: a signal that always triggers at half strength (tests plugin folders)."""

from rules_engine import Reading, Setting, Signal, hookimpl

__version__ = "1.2.3"


def evaluate(ctx):
    level = ctx.settings["always_warn.level"]
    return Reading(
        value=level, triggered=True, strength=0.5, explanation=f"always warns at {level}"
    )


@hookimpl
def alvh_register_signals(register):
    register(
        Signal(
            "always_warn",
            evaluate,
            requires=("spx_close",),
            settings=(Setting("always_warn.level", 3.0, "float", "a test level"),),
        )
    )
