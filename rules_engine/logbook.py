"""The Log sheet: the memory of earlier recomputes that the steward rules read.

One row per layer per recompute, oldest first: when it ran (UTC, to the second), a hash of the
inputs it read, and the layer's status, instrument, contracts, cost and share covered. The Log is
alvh's own sheet, rewritten whole with every run's rows appended; it is read back tolerantly: a
row damaged or edited by hand is skipped with a warning naming its cell, never an error that
stops the run, since a lost memory only makes the next run compare with less.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from rules_engine import contract as c
from rules_engine.models import (
    LAYER_STATUSES,
    HedgeLayer,
    InputError,
    Inputs,
    Issue,
    LoggedLayer,
)
from rules_engine.workbook.cells import CellError, RawCell, address, is_blank, show, to_number
from rules_engine.workbook.inputs import SheetGrid, read_inputs

#: Rows the Log keeps: the newest; older ones are dropped as new runs append theirs. 5,000 rows
#: are years of daily recomputes of a few layers, and a sheet Excel opens in an instant.
MAX_LOG_ROWS = 5000
#: Hand-edited rows reported one by one; beyond these one warning counts the rest.
MAX_ROW_WARNINGS = 10
#: Hex digits of sha256 the inputs' hash keeps: enough that two different inputs never share one
#: in a Log's lifetime, short enough to read.
HASH_DIGITS = 16
#: Sheet rows of the sheet `alvh init` leaves (marker, blank, placeholder): nothing to warn about.
_INIT_ROWS = 3
_SKIPPED = "this row of an earlier recompute is skipped"


class LoggedInputError(InputError):
    """Bad inputs, with the Log sheet's rows as read: a run that stops at its inputs still
    rewrites the Log, and must keep its earlier rows."""

    def __init__(self, issues: list[Issue], log: tuple[LoggedLayer, ...]) -> None:
        super().__init__(issues)
        self.log = log


def log_sheet_name(sheet_names: Iterable[str]) -> str | None:
    """The workbook's Log sheet as named there (matched ignoring case, as the writers match
    owned sheets), or None."""
    return next((name for name in sheet_names if name.casefold() == c.LOG.casefold()), None)


def read_with_log(grids: Mapping[str, SheetGrid], log: SheetGrid | None) -> Inputs:
    """`read_inputs` of the input sheets' grids, with the Log's rows and warnings added.

    Raises LoggedInputError (an InputError) listing every bad input and carrying the Log's rows.
    """
    rows, issues = parse_log(log)
    try:
        inputs = read_inputs(grids)
    except InputError as exc:
        raise LoggedInputError(exc.issues, rows) from None
    return dataclasses.replace(inputs, log=rows, warnings=(*inputs.warnings, *issues))


# --- reading the sheet ----------------------------------------------------------------------------


def parse_log(grid: SheetGrid | None) -> tuple[tuple[LoggedLayer, ...], tuple[Issue, ...]]:
    """The Log's rows, sorted oldest first, and a warning per row that could not be read.

    No Log sheet, or a same-named sheet without alvh's marker in A1 (the user's, which the write
    then refuses), gives no rows and no warning. A problem the adapter found on the sheet (it
    spans too many cells, calamine failed on it) is a warning: the run goes on without memory.
    """
    if grid is None:
        return (), ()
    adapter = tuple(_as_warning(issue) for issue in grid.issues)
    rows, start = grid.rows, grid.start
    if start != (0, 0) or not rows or not _is_marker(rows[0][0] if rows[0] else ""):
        return (), adapter
    header_at, columns = _header(rows)
    if columns is None:
        if any(not is_blank(v) for line in rows[_INIT_ROWS:] for v in line):
            warning = Issue(
                "warning",
                "no header row with the columns "
                f"{', '.join(c.LOG_COLUMNS)}: the rows below cannot be read, so this recompute "
                "starts the Log afresh",
                c.LOG,
                "A1",
                source="reader",
            )
            return (), (*adapter, warning)
        return (), adapter
    logged: list[LoggedLayer] = []
    problems: list[Issue] = []
    for i in range(header_at + 1, len(rows)):
        line = rows[i]
        if all(is_blank(v) for v in line):
            continue
        row = _row(line, i, columns)
        if isinstance(row, Issue):
            problems.append(row)
        else:
            logged.append(row)
    logged.sort(key=lambda r: r.run)  # a Log sorted newest first in Excel reads the same
    return tuple(logged), (*adapter, *_capped(problems))


def _is_marker(value: RawCell) -> bool:
    return isinstance(value, str) and value.startswith(c.OWNED_MARKER)


def _as_warning(issue: Issue) -> Issue:
    return dataclasses.replace(
        issue,
        severity="warning",
        message=f"{issue.message}; the Log's earlier rows were not read",
        sheet=c.LOG,
    )


def _header(rows: Sequence[Sequence[RawCell]]) -> tuple[int, list[int] | None]:
    """The first row holding every Log column's header, and each column's position in it."""
    wanted = [c.header_key(name) for name in c.LOG_COLUMNS]
    for i, line in enumerate(rows):
        keys = [c.header_key(v) if isinstance(v, str) else "" for v in line]
        if all(key in keys for key in wanted):
            return i, [keys.index(key) for key in wanted]
    return -1, None


def _capped(problems: list[Issue]) -> list[Issue]:
    if len(problems) <= MAX_ROW_WARNINGS:
        return problems
    more = len(problems) - MAX_ROW_WARNINGS
    summary = Issue("warning", f"{more:,} more rows of the Log skipped", c.LOG, source="reader")
    return [*problems[:MAX_ROW_WARNINGS], summary]


def _row(line: Sequence[RawCell], i: int, columns: Sequence[int]) -> LoggedLayer | Issue:
    """One data row (0-based grid row `i`), or the warning at its first unreadable cell.

    A row as alvh wrote it (nearly every row) is taken as it is; any other goes through the
    converters, cell by cell, for their messages."""
    cells = [line[j] if j < len(line) else "" for j in columns]
    run, digest, status, instrument = cells[0], cells[1], cells[3], cells[4]
    numbers = [
        v for v in (cells[2], cells[5], cells[6], cells[7]) if isinstance(v, float) and v - v == 0
    ]
    if (
        isinstance(run, dt.datetime)
        and not run.microsecond
        and isinstance(digest, str)
        and digest == digest.strip() != ""
        and status in LAYER_STATUSES
        and isinstance(instrument, str)
        and len(numbers) == 4
    ):
        layer, contracts, cost, covered = numbers
        if layer.is_integer() and contracts.is_integer() and layer >= 0 and contracts >= 0:
            return LoggedLayer(
                run,
                digest,
                int(layer),
                str(status),
                instrument.strip(),
                int(contracts),
                cost,
                covered,
            )
    return _checked_row(cells, i, columns)


def _checked_row(cells: Sequence[RawCell], i: int, columns: Sequence[int]) -> LoggedLayer | Issue:
    parsers: tuple[Callable[[RawCell], Any], ...] = (
        _run_time,
        _text,
        _whole,
        _status,
        _any_text,
        _whole,
        _finite,
        _finite,
    )
    values = []
    for header, raw, j, parse in zip(c.LOG_COLUMNS, cells, columns, parsers, strict=True):
        try:
            values.append(parse(raw))
        except CellError as exc:
            return Issue("warning", f"{exc}; {_SKIPPED}", c.LOG, address(i, j), header, "reader")
    return LoggedLayer(*values)


def _run_time(value: RawCell) -> dt.datetime:
    """A date and time (a run at midnight reads back as a date), to the second, UTC."""
    if isinstance(value, str) and not is_blank(value):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise CellError(f"{show(value)} is not a date and time") from None
    if isinstance(value, dt.datetime):
        return utc_second(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    raise CellError(f"{show(value)} is not a date and time")


def _text(value: RawCell) -> str:
    if is_blank(value) or not isinstance(value, str):
        raise CellError(f"{show(value)} is not the hash text alvh writes")
    return value.strip()


def _any_text(value: RawCell) -> str:
    return "" if is_blank(value) else value.strip() if isinstance(value, str) else show(value)


def _whole(value: RawCell) -> int:
    number = to_number(value)
    if not (number >= 0 and float(number).is_integer()):  # NaN (blank) fails too
        raise CellError(f"{show(value)} is not a whole number of at least 0")
    return int(number)


def _status(value: RawCell) -> str:
    status = value.strip().upper() if isinstance(value, str) else ""
    if status not in LAYER_STATUSES:
        raise CellError(f"{show(value)} is not a layer status ({', '.join(LAYER_STATUSES)})")
    return status


def _finite(value: RawCell) -> float:
    number = to_number(value)
    if math.isnan(number):
        raise CellError("the cell is blank")
    return number


# --- writing the rows -----------------------------------------------------------------------------


def utc_second(moment: dt.datetime) -> dt.datetime:
    """`moment` in UTC without a time zone (a naive one is taken as UTC), to the nearest second:
    Excel keeps a time as a fraction of a day, which holds whole seconds exactly."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    whole = moment.replace(microsecond=0)
    return whole + dt.timedelta(seconds=1) if moment.microsecond >= 500_000 else whole


def log_rows(
    previous: Sequence[LoggedLayer],
    layers: Sequence[HedgeLayer],
    now: dt.datetime,
    inputs_hash: str,
) -> tuple[LoggedLayer, ...]:
    """The Log after this run: `previous` (oldest first), then one row per layer of this run.

    This run's rows are stamped `now` in UTC to the second, moved to one second after the last
    logged run when the clock says otherwise (two runs in one second, a clock set back), so each
    run's rows share a time no other run has. Only the newest MAX_LOG_ROWS rows are kept: the
    oldest are dropped.
    """
    stamp = utc_second(now)
    if previous and stamp <= previous[-1].run:
        stamp = previous[-1].run + dt.timedelta(seconds=1)
    added = tuple(
        LoggedLayer(
            run=stamp,
            inputs_hash=inputs_hash,
            layer=layer.layer,
            status=layer.status,
            instrument=layer.instrument,
            contracts=layer.contracts,
            cost=float(layer.cost),
            covered=float(layer.share_of_loss_covered),
        )
        for layer in layers
    )
    return (*previous, *added)[-MAX_LOG_ROWS:]


def last_run(log: Sequence[LoggedLayer]) -> tuple[LoggedLayer, ...]:
    """The rows of the most recent run in `log` (oldest first): the trailing rows that share the
    last row's time and inputs hash. Empty when the Log is."""
    if not log:
        return ()
    key = (log[-1].run, log[-1].inputs_hash)
    first = len(log)
    while first > 0 and (log[first - 1].run, log[first - 1].inputs_hash) == key:
        first -= 1
    return tuple(log[first:])


# --- the inputs' hash -----------------------------------------------------------------------------


def inputs_hash(inputs: Inputs) -> str:
    """A short hash of everything the engine computes from: positions, market, VIX futures, the
    option chains, history, calendar, settings and rules; never the Log itself.

    Only values count, not where they sit (sheet rows, column letters, cells), so the same
    workbook read by either adapter, in any process, gives the same hash, and a changed value a
    different one.
    """
    digest = hashlib.sha256()
    frames = {
        "positions": inputs.positions,
        "vix_futures": inputs.vix_futures,
        "vix_options": inputs.vix_options,
        "spx_options": inputs.spx_options,
        "history": inputs.history,
        "calendar": inputs.calendar,
    }
    for name, frame in frames.items():
        digest.update(f"\x00frame {name}\x00".encode())
        if frame is not None:
            _hash_frame(digest, frame)
    rest = {
        "market": sorted((key, _plain(value)) for key, value in inputs.market.items()),
        "settings": sorted((key, _plain(cell.value)) for key, cell in inputs.settings.items()),
        "rules": [(rule.layer, rule.expression, rule.note) for rule in inputs.rules],
    }
    digest.update(json.dumps(rest, allow_nan=True).encode())
    return digest.hexdigest()[:HASH_DIGITS]


def _hash_frame(digest: Any, frame: pd.DataFrame) -> None:
    """The frame's index and columns (but `row`, a location), each by name and values."""
    columns: list[tuple[str, Any]] = [("\x00index", frame.index)]
    columns += [(str(name), frame[name]) for name in frame.columns if name != "row"]
    for name, values in columns:
        digest.update(f"\x00column {name}\x00".encode())
        array = np.asarray(values)
        if array.dtype.kind in "fiub":
            numbers = array.astype("<f8")
            digest.update(np.where(np.isnan(numbers), np.nan, numbers).tobytes())
        elif array.dtype.kind == "M":
            digest.update("|".join(np.datetime_as_string(array, unit="s")).encode())
        else:
            digest.update(json.dumps([_plain(v) for v in array.tolist()]).encode())


def _plain(value: object) -> object:
    """A value as JSON can hold it, typed so that a date and its ISO text differ."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.date | dt.time):
        return [type(value).__name__, value.isoformat()]
    if isinstance(value, dt.timedelta):
        return ["timedelta", value.total_seconds()]
    return [type(value).__name__, str(value)]
