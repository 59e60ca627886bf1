"""Run python-calamine calls so that whatever goes wrong inside becomes one ordinary exception.

calamine reports a bad file with CalamineError or ValueError, a conversion it cannot make with
OverflowError, and a bug in its Rust code with a panic: pyo3 raises PanicException, which derives
from BaseException (so `except Exception` misses it) and is not importable under a stable name,
and Rust prints the panic (and, with RUST_BACKTRACE set, a backtrace) straight to file
descriptor 2, past Python's sys.stderr. Each call therefore runs with descriptor 2 pointed at the
null device, and any failure comes out as `CalamineFailed` carrying calamine's own words.
KeyboardInterrupt and SystemExit pass through untouched.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


class CalamineFailed(Exception):
    """calamine raised or panicked; the message says what it reported."""


def guarded(call: Callable[[], T]) -> T:
    """The result of `call`, or CalamineFailed when it raised or panicked."""
    try:
        with _quiet_stderr():
            return call()
    except Exception as exc:
        raise CalamineFailed(_reason(exc)) from exc
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":
            raise
        raise CalamineFailed(f"the reader library failed: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    return str(exc).strip() or type(exc).__name__


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """File descriptor 2 goes to the null device while the block runs, and back afterwards; the
    exception a panic raises carries its message, and that is what the user is told."""
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 at all: nothing can reach the terminal
        yield
        return
    try:
        if sys.stderr is not None:
            sys.stderr.flush()
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 2)
        finally:
            os.close(null)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
