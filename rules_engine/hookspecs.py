"""The hooks a plugin may implement. Plugins register named objects; the host calls them itself.

Keep this list short: a hook is added only when a second real plugin needs it.
"""

from __future__ import annotations

from collections.abc import Callable

from rules_engine import hookspec
from rules_engine.models import Signal, Sizer


@hookspec
def alvh_register_signals(register: Callable[[Signal], None]) -> None:
    """Call `register(Signal(...))` once for each signal this plugin provides."""


@hookspec
def alvh_register_sizers(register: Callable[[Sizer], None]) -> None:
    """Call `register(Sizer(...))` once for each sizer this plugin provides."""
