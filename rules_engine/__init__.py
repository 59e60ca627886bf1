"""alvh: the Adaptive Layered VIX Hedge rules engine.

Plugin authors import `hookimpl`, the models, the risk types and the hedge instruments (with
their liquidity model) from here (and the functions of
`rules_engine.pricing`, `rules_engine.indicators` and `rules_engine.testing`); everything else may
change.
"""

from importlib.metadata import PackageNotFoundError, version

import pluggy

from rules_engine.expiries import nearest_expiry
from rules_engine.models import (
    Context,
    HedgeLayer,
    LayerStatus,
    LoggedLayer,
    NotEvaluated,
    Reading,
    Setting,
    Signal,
    Sizer,
)
from rules_engine.risk.instruments import (
    Etp,
    Instrument,
    VixCall,
    VixCallSpread,
    VixFuture,
    hedge_candidates,
    held_hedges,
    snap_strike,
)
from rules_engine.risk.liquidity import Liquidity, Quote
from rules_engine.risk.market import Scenario
from rules_engine.risk.report import OptionValue, RiskReport, ScenarioPnl
from rules_engine.risk.structures import Condor

PROJECT = "alvh"
hookimpl = pluggy.HookimplMarker(PROJECT)
hookspec = pluggy.HookspecMarker(PROJECT)

try:
    __version__ = version("alvh")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

__all__ = [
    "PROJECT",
    "Condor",
    "Context",
    "Etp",
    "HedgeLayer",
    "Instrument",
    "LayerStatus",
    "Liquidity",
    "LoggedLayer",
    "NotEvaluated",
    "OptionValue",
    "Quote",
    "Reading",
    "RiskReport",
    "Scenario",
    "ScenarioPnl",
    "Setting",
    "Signal",
    "Sizer",
    "VixCall",
    "VixCallSpread",
    "VixFuture",
    "__version__",
    "hedge_candidates",
    "held_hedges",
    "hookimpl",
    "hookspec",
    "nearest_expiry",
    "snap_strike",
]
