"""The Recompute button of alvh.xlsx: the xlwings add-in's "Run main" imports this module (named
like the workbook) and calls `main()`.

Whatever goes wrong ends in the Run sheet (when it can be written) and in one Excel alert that
says what happened in a paragraph: a traceback dialog helps no trader.
"""

from __future__ import annotations

from functools import partial

import xlwings as xw

from rules_engine.contract import LOG, RUN
from rules_engine.engine import failed_outputs
from rules_engine.host import PluginHost, load_plugins
from rules_engine.layout import lay_out
from rules_engine.models import Issue, Outputs, WorkbookError
from rules_engine.pipeline import WriteFailed, recompute_workbook
from rules_engine.workbook.live import read_book, write_book

TITLE = "alvh"
#: How many of the errors the alert quotes; the Run sheet has all of them.
QUOTED_ERRORS = 3


def main() -> None:
    """Recompute the calling workbook: read its input sheets, write Hedge, Signals, Risk, Run.

    Outside Excel there is no calling workbook to tell, and `xw.Book.caller()` raises as usual.
    """
    book = xw.Book.caller()
    host = PluginHost()
    try:
        host = load_plugins()
        outputs = recompute_workbook(
            lambda: read_book(book).inputs, partial(write_book, book), host
        )
    except Exception as exc:  # every failure becomes a message, never a traceback dialog
        _alert(book, _report_failure(book, host, exc))
        return
    if not outputs.ok:
        _alert(book, errors_message(outputs))


def errors_message(outputs: Outputs) -> str:
    """The alert for a run that did not end well: what happened, and the first few errors."""
    errors = [issue for issue in outputs.issues if issue.severity == "error"]
    quoted = "; ".join(str(issue).rstrip(".") for issue in errors[:QUOTED_ERRORS])
    more = f" (and {len(errors) - QUOTED_ERRORS} more)" if len(errors) > QUOTED_ERRORS else ""
    if outputs.status == "plugin failed":
        return (
            f"No hedge layers were made: {quoted}. Signals and Risk are up to date; the Run "
            "sheet says more."
        )
    if outputs.status == "internal error":
        return f"alvh could not recompute this workbook: {quoted}. The Run sheet says so too."
    return (
        f"Nothing was computed: the workbook has {len(errors)} error(s), each listed in the "
        f"Run sheet with its sheet and cell. {quoted}{more}."
    )


def _report_failure(book: xw.Book, host: PluginHost, exc: Exception) -> str:
    """Write the failure into the Run sheet if possible; return the alert's text."""
    reason = str(exc) if isinstance(exc, WorkbookError) else f"{type(exc).__name__}: {exc}"
    reason = reason.strip().rstrip(".")
    if isinstance(exc, WriteFailed):
        reason = f"the result could not be written: {reason}"
    outputs = failed_outputs(host, [Issue("error", reason, source="alvh")])
    sheets = [sheet for sheet in lay_out(outputs) if sheet.name != LOG]  # keep the Log's rows
    for attempt in (sheets, [sheet for sheet in sheets if sheet.name == RUN]):
        try:
            write_book(book, attempt)
        except Exception:  # the alert below still tells the user what happened
            continue
        return f"alvh could not recompute this workbook: {reason}. The Run sheet says so too."
    return f"alvh could not recompute this workbook: {reason}. The Run sheet could not be written."


def _alert(book: xw.Book, message: str) -> None:
    book.app.alert(message, title=TITLE, mode="critical")
