"""Read -> recompute -> lay out -> write: the one sequence the CLI and the Excel button share.

The adapters differ only in how they read and write, so both come in as callables. Inputs with
errors are not a failure of the sequence: they still produce a Run sheet that lists every error
(and Hedge, Signals and Risk sheets that say "Not computed" instead of showing stale numbers).
A bug in alvh itself is no failure of the sequence either: the Run sheet says so, and the caller
learns it from `Outputs.status`.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Sequence

from rules_engine.engine import RunOptions, failed_outputs, recompute
from rules_engine.guarded import describe_exception
from rules_engine.host import PluginHost
from rules_engine.layout import lay_out
from rules_engine.logbook import LoggedInputError
from rules_engine.models import InputError, Inputs, Issue, Outputs, SheetCells, WorkbookError

Reader = Callable[[], Inputs]
Writer = Callable[[Sequence[SheetCells]], None]
#: Set to 1 to let an internal error's traceback through (for alvh's developers).
DEBUG_ENV = "ALVH_DEBUG"


class WriteFailed(WorkbookError):
    """The outputs were computed but could not be written; they travel with the error so the
    caller can still report their issues."""

    def __init__(self, cause: WorkbookError, outputs: Outputs) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.outputs = outputs


def recompute_workbook(
    read: Reader, write: Writer, host: PluginHost, options: RunOptions | None = None
) -> Outputs:
    """Recompute a workbook through an adapter and return what was written.

    A WorkbookError from `read` propagates unchanged (nothing was computed or written); one from
    `write` is raised as `WriteFailed`. `options` default to this moment and the Settings' sizer.
    """
    options = options or RunOptions()
    try:
        inputs = read()
    except InputError as exc:
        log = exc.log if isinstance(exc, LoggedInputError) else ()
        outputs = failed_outputs(host, exc.issues, log=log)
    else:
        outputs = _recompute(inputs, host, options)
    try:
        write(lay_out(outputs))
    except WorkbookError as exc:
        raise WriteFailed(exc, outputs) from exc
    return outputs


def _recompute(inputs: Inputs, host: PluginHost, options: RunOptions) -> Outputs:
    """The engine's result, or, if alvh itself fails, a Run sheet that says so."""
    try:
        return recompute(inputs, host, options)
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            traceback.print_exc()
        issue = Issue(
            "error",
            f"internal error in alvh ({describe_exception(exc)}); nothing was computed. Please "
            f"report it with the workbook, or rerun with {DEBUG_ENV}=1 for the traceback",
            source="alvh",
        )
        as_of = inputs.market.get("as_of")
        return failed_outputs(host, [issue], as_of, "internal error", log=inputs.log)
