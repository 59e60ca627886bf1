"""Calling plugin code so that nothing it does can end the run.

Plugin code runs in a daemon worker thread and the caller waits at most the time limit:
- every exception it raises, `SystemExit` and `KeyboardInterrupt` included, comes back as the
  failure's text; the run goes on;
- a call that runs too long comes back as "timed out after N s"; the worker is asked to stop
  (an exception raised into it, which pure-Python loops notice at once) and, being a daemon,
  never keeps the process alive;
- threads the plugin starts inherit the daemon flag, so they do not keep the process alive either
  (the CLI also exits without waiting for any thread a plugin forced to be non-daemon);
- a Ctrl-C from the user arrives in the main thread, outside this wrapper, and stops the run.

Where threads do not exist (Pyodide, the Python of Excel on the web) the call runs inline: every
exception but KeyboardInterrupt is still caught, and there is no time limit.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

#: Seconds a plugin call may take when no setting says otherwise (`engine.plugin_time_limit`).
DEFAULT_TIME_LIMIT = 10.0
#: How often the waiting main thread wakes up, so that Ctrl-C is seen promptly on every platform.
_POLL_SECONDS = 0.1
_THREADS = sys.platform != "emscripten"


class PluginTimedOut(BaseException):
    """Raised into a plugin's worker thread when its time is up (a BaseException, so that a
    plugin's own `except Exception` does not swallow it)."""


@dataclass(frozen=True)
class Guarded(Generic[T]):
    """A plugin call's value, or why there is none (`error` is then not empty)."""

    value: T | None
    error: str = ""


def describe_exception(exc: BaseException) -> str:
    """`Type: message`, the form every plugin failure is reported in."""
    text = str(exc)
    if isinstance(exc, SystemExit):
        return f"SystemExit (sys.exit({exc.code!r}))"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def call_guarded(call: Callable[[], T], time_limit: float, name: str = "plugin") -> Guarded[T]:
    """Run `call()` as plugin code: its value, or the reason it failed or timed out."""
    if not _THREADS:
        return _inline(call)
    outcome: list[Guarded[T]] = []
    done = threading.Event()
    running = [True]
    guard = threading.Lock()

    def work() -> None:
        try:
            try:
                value = call()
            finally:
                with guard:  # from here on no timeout is raised into this thread
                    running[0] = False
            outcome.append(Guarded(value))
        except BaseException as exc:  # a timeout raised just before the guard lands here too
            outcome.append(Guarded(None, f"raised {describe_exception(exc)}"))
        finally:
            done.set()

    worker = threading.Thread(target=work, name=f"alvh plugin {name}", daemon=True)
    worker.start()
    deadline = time.monotonic() + time_limit
    while not done.wait(_POLL_SECONDS) and time.monotonic() < deadline:
        pass
    with guard:
        late = running[0]
        if late:
            _ask_to_stop(worker)
    if late:
        return Guarded(None, f"timed out after {time_limit:g} s")
    done.wait()  # it finished just in time: its result stands
    return outcome[0]


def _inline(call: Callable[[], T]) -> Guarded[T]:
    try:
        return Guarded(call())
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        return Guarded(None, f"raised {describe_exception(exc)}")


def _ask_to_stop(worker: threading.Thread) -> None:
    """Raise PluginTimedOut inside the worker (CPython only; elsewhere it just runs on)."""
    try:
        import ctypes

        set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
    except (ImportError, AttributeError):
        return
    if worker.ident is not None:
        set_async_exc(ctypes.c_ulong(worker.ident), ctypes.py_object(PluginTimedOut))
