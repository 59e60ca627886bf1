"""alvh: the Adaptive Layered VIX Hedge rules engine.

Plugin authors import `hookimpl` and the models from here; everything else may change.
"""

from importlib.metadata import PackageNotFoundError, version

import pluggy

from rules_engine.models import (
    Context,
    HedgeLayer,
    Reading,
    Setting,
    Signal,
    Sizer,
)

PROJECT = "alvh"
hookimpl = pluggy.HookimplMarker(PROJECT)
hookspec = pluggy.HookspecMarker(PROJECT)

try:
    __version__ = version("alvh")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

__all__ = [
    "PROJECT",
    "Context",
    "HedgeLayer",
    "Reading",
    "Setting",
    "Signal",
    "Sizer",
    "__version__",
    "hookimpl",
    "hookspec",
]
