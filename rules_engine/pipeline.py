"""Read -> recompute -> lay out -> write: the one sequence the CLI and the Excel button share.

The adapters differ only in how they read and write, so both come in as callables. Inputs with
errors are not a failure of the sequence: they still produce a Run sheet that lists every error
(and Hedge, Signals and Risk sheets that say "Not computed" instead of showing stale numbers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rules_engine.engine import failed_outputs, recompute
from rules_engine.host import PluginHost
from rules_engine.layout import lay_out
from rules_engine.models import InputError, Inputs, Outputs, SheetCells, WorkbookError

Reader = Callable[[], Inputs]
Writer = Callable[[Sequence[SheetCells]], None]


class WriteFailed(WorkbookError):
    """The outputs were computed but could not be written; they travel with the error so the
    caller can still report their issues."""

    def __init__(self, cause: WorkbookError, outputs: Outputs) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.outputs = outputs


def recompute_workbook(read: Reader, write: Writer, host: PluginHost) -> Outputs:
    """Recompute a workbook through an adapter and return what was written.

    A WorkbookError from `read` propagates unchanged (nothing was computed or written); one from
    `write` is raised as `WriteFailed`.
    """
    try:
        inputs = read()
    except InputError as exc:
        outputs = failed_outputs(host, exc.issues)
    else:
        outputs = recompute(inputs, host)
    try:
        write(lay_out(outputs))
    except WorkbookError as exc:
        raise WriteFailed(exc, outputs) from exc
    return outputs
