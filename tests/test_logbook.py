"""The Log sheet: rows appended per recompute and capped, read back tolerantly by both adapters
(written through the real writers), and the inputs' hash."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from cli_support import edit, set_cell
from live_standin import Book

from rules_engine.contract import LOG, LOG_COLUMNS
from rules_engine.layout import lay_out, marker
from rules_engine.logbook import (
    MAX_LOG_ROWS,
    MAX_ROW_WARNINGS,
    LoggedInputError,
    inputs_hash,
    last_run,
    log_rows,
    parse_log,
    utc_second,
)
from rules_engine.models import HedgeLayer, LoggedLayer, Outputs, Rule, SheetCells
from rules_engine.risk.market import Scenario
from rules_engine.workbook.inputs import SheetGrid
from rules_engine.workbook.live import read_book, write_book
from rules_engine.workbook.reader import FileInputError, read_workbook
from rules_engine.workbook.writer import write_owned_sheets

ROOT = Path(__file__).parents[1]
BOOK = ROOT / "workbooks" / "alvh.xlsx"
HEADER_ROW = 3  # 0-based: marker, blank, title, then the header (spreadsheet row 4)

T0 = dt.datetime(2024, 3, 5, 14, 7, 31)
ROWS = (
    LoggedLayer(T0, "0123456789012345", 1, "ACTIVE", "VIX Apr 2024 17 call", 12, 3060.0, 0.2125),
    LoggedLayer(T0, "0123456789012345", 2, "STANDBY", "VIX Jun 2024 19 call", 8, 1440.0, 0.1),
    LoggedLayer(
        dt.datetime(2024, 3, 6),
        "9f86d081884c7d65",
        1,
        "HOLD",
        "+12 x VIX Apr 2024 17 call",
        12,
        3060.0,
        0.19,
    ),
    LoggedLayer(
        dt.datetime(2024, 3, 6),
        "9f86d081884c7d65",
        1,
        "ACTIVE",
        "=2 x VIX Apr 2024 18 call",
        2,
        512.5,
        0.031,
    ),
)


def layer(number: int, status: str = "ACTIVE", contracts: int = 10) -> HedgeLayer:
    return HedgeLayer(
        layer=number,
        status=status,  # type: ignore[arg-type]
        trigger="always",
        why="test",
        instrument=f"VIX Apr 2024 {16 + number} call",
        underlying="VIX",
        expiry=dt.date(2024, 4, 17),
        strike=16.0 + number,
        contracts=contracts,
        price=2.5,
        multiplier=100.0,
        cost=contracts * 250.0,
        payoff_by_scenario={Scenario(6): contracts * 400.0},
        share_of_loss_covered=contracts * 0.01,
        carry_per_day=-contracts * 2.0,
        exit_rule="sell half at 3x cost",
    )


def outputs(log: tuple[LoggedLayer, ...], status: str = "input errors") -> Outputs:
    empty = pd.DataFrame()
    return Outputs(
        hedge=empty,
        signals=empty,
        risk_structures=empty,
        risk_scenarios=empty,
        risk_legs=empty,
        run_info=(("Status", "test"),),
        plugins=empty,
        status=status,  # type: ignore[arg-type]
        log=log,
    )


def log_cells(log: tuple[LoggedLayer, ...]) -> SheetCells:
    return next(s for s in lay_out(outputs(log)) if s.name == LOG)


def grid(rows: list[list[object]]) -> SheetGrid:
    """The Log sheet as an adapter hands it over: ragged rows padded, blank cells ""."""
    width = max(len(r) for r in rows)
    return SheetGrid(
        [[("" if v is None else v) for v in r] + [""] * (width - len(r)) for r in rows], (0, 0)
    )


def laid_out(log: tuple[LoggedLayer, ...]) -> list[list[object]]:
    return [list(r) for r in log_cells(log).rows]


# --- appending ------------------------------------------------------------------------------------


def test_each_recompute_appends_one_row_per_layer_stamped_to_the_second_in_utc() -> None:
    log: tuple[LoggedLayer, ...] = ()
    plan = [layer(1), layer(2, "STANDBY", 4), layer(3, "UNFUNDED", 2)]
    zone = dt.timezone(dt.timedelta(hours=-5))
    for day in range(1, 4):
        now = dt.datetime(2024, 3, day, 9, 30, 15, 600_000, tzinfo=zone)  # 14:30:15.6 UTC
        log = log_rows(log, plan, now, f"hash{day}")
        assert len(log) == 3 * day
    assert [r.run for r in log[-3:]] == [dt.datetime(2024, 3, 3, 14, 30, 16)] * 3
    assert log[-2] == LoggedLayer(
        dt.datetime(2024, 3, 3, 14, 30, 16),
        "hash3",
        2,
        "STANDBY",
        "VIX Apr 2024 18 call",
        4,
        1000.0,
        0.04,
    )
    assert last_run(log) == log[-3:]
    assert last_run(log[:-3]) == log[3:6]
    assert last_run(()) == ()


def test_two_runs_in_one_second_or_a_clock_set_back_still_get_their_own_time() -> None:
    first = log_rows((), [layer(1)], T0, "h")
    second = log_rows(first, [layer(1)], T0 + dt.timedelta(milliseconds=300), "h")
    third = log_rows(second, [layer(1)], T0 - dt.timedelta(days=1), "h")
    assert [r.run for r in third] == [T0 + dt.timedelta(seconds=s) for s in (0, 1, 2)]
    assert last_run(third) == third[-1:]


def test_a_run_without_layers_adds_nothing() -> None:
    assert log_rows(ROWS, [], T0, "h") == ROWS


def test_the_log_keeps_the_newest_rows_only() -> None:
    old = tuple(
        LoggedLayer(T0 + dt.timedelta(minutes=i), "h", 1, "ACTIVE", "x", 1, 1.0, 0.1)
        for i in range(MAX_LOG_ROWS)
    )
    log = log_rows(old, [layer(1), layer(2)], T0 + dt.timedelta(days=30), "new")
    assert len(log) == MAX_LOG_ROWS
    assert log[:-2] == old[2:]  # the two oldest went
    assert [r.inputs_hash for r in log[-2:]] == ["new", "new"]


def test_utc_second() -> None:
    assert utc_second(dt.datetime(2024, 1, 1, 23, 59, 59, 500_000)) == dt.datetime(2024, 1, 2)
    aware = dt.datetime(2024, 7, 1, 10, 0, 0, 499_999, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert utc_second(aware) == dt.datetime(2024, 7, 1, 8, 0, 0)


# --- the sheet ------------------------------------------------------------------------------------


def test_the_log_sheet_is_laid_out_in_every_status() -> None:
    for status in ("ok", "input errors", "plugin failed", "internal error"):
        sheets = lay_out(outputs(ROWS, status))
        assert [s.name for s in sheets][-1] == LOG
        log = sheets[-1]
        assert log.rows[0] == (marker(LOG),)
        assert log.rows[HEADER_ROW] == LOG_COLUMNS
        assert log.rows[HEADER_ROW + 1] == (
            T0,
            "0123456789012345",
            1,
            "ACTIVE",
            "VIX Apr 2024 17 call",
            12,
            3060.0,
            0.2125,
        )
        assert len(log.rows) == HEADER_ROW + 1 + len(ROWS) + 1  # and the blank row after
        first, last = HEADER_ROW + 1, HEADER_ROW + len(ROWS)
        kinds = {run.column: (run.kind, run.first, run.last) for run in log.formats}
        assert kinds == {
            5: ("integer", first, last),
            6: ("dollars", first, last),
            7: ("percent", first, last),
        }


def test_an_empty_log_is_a_header_without_rows() -> None:
    rows = log_cells(()).rows
    assert rows[HEADER_ROW] == LOG_COLUMNS and len(rows) == HEADER_ROW + 2
    assert parse_log(SheetGrid(rows, (0, 0))) == ((), ())


def test_both_adapters_read_back_what_both_writers_wrote(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    shutil.copyfile(BOOK, path)
    sheets = lay_out(outputs(ROWS))
    write_owned_sheets(path, sheets)
    file_read = read_workbook(path).inputs
    live_read = read_book(Book.load(path)).inputs
    assert file_read.log == ROWS
    assert live_read.log == ROWS
    assert file_read.warnings == live_read.warnings
    live = Book.load(BOOK)
    write_book(live, sheets)
    assert read_book(live).inputs.log == ROWS


def test_bad_inputs_carry_the_log_rows_from_either_adapter(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    shutil.copyfile(BOOK, path)
    write_owned_sheets(path, lay_out(outputs(ROWS)))
    edit(path, set_cell("Positions", "Qty", 2, "ten"))
    with pytest.raises(FileInputError) as file_error:
        read_workbook(path)
    with pytest.raises(LoggedInputError) as live_error:
        read_book(Book.load(path))
    assert file_error.value.log == live_error.value.log == ROWS
    assert file_error.value.issues == live_error.value.issues


def test_a_hand_edited_row_is_skipped_with_a_warning_naming_its_cell(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    shutil.copyfile(BOOK, path)
    write_owned_sheets(path, lay_out(outputs(ROWS)))
    second = HEADER_ROW + 3  # 1-based row of ROWS[1]
    edit(path, lambda wb: wb[LOG].__setitem__(f"F{second}", "eight"))
    for inputs in (read_workbook(path).inputs, read_book(Book.load(path)).inputs):
        assert inputs.log == (ROWS[0], *ROWS[2:])
        [warning] = [w for w in inputs.warnings if w.sheet == LOG]
        assert (warning.severity, warning.cell, warning.column) == (
            "warning",
            f"F{second}",
            "Contracts",
        )
        assert "'eight' is not a number" in warning.message and "skipped" in warning.message


@pytest.mark.parametrize(
    ("column", "value", "says"),
    [
        (0, "yesterday", "'yesterday' is not a date and time"),
        (1, "", "is not the hash text"),
        (2, 1.5, "1.5 is not a whole number"),
        (3, "BOUGHT", "'BOUGHT' is not a layer status"),
        (5, -3.0, "-3 is not a whole number"),
        (6, "", "blank"),
        (7, True, "true/false"),
    ],
)
def test_each_kind_of_damage_names_its_cell(column: int, value: object, says: str) -> None:
    rows = laid_out(ROWS)
    rows[HEADER_ROW + 2][column] = value
    log, issues = parse_log(grid(rows))
    assert log == (ROWS[0], *ROWS[2:])
    [issue] = issues
    letter = "ABCDEFGH"[column]
    assert (issue.severity, issue.cell, issue.column) == (
        "warning",
        f"{letter}{HEADER_ROW + 3}",
        LOG_COLUMNS[column],
    )
    assert says in issue.message


def test_hand_edits_the_log_survives() -> None:
    """Lower-case status, ISO text for the time, a run at midnight read back as a date, columns
    moved, blank rows, sorted newest run first (Excel's sort is stable): all read, oldest
    first."""
    rows = laid_out(ROWS)
    for row in rows[HEADER_ROW:]:
        if len(row) == len(LOG_COLUMNS):
            row[:] = row[4:] + row[:4]
    data = rows[HEADER_ROW + 1 : HEADER_ROW + 1 + len(ROWS)]
    data[0][7] = "active"
    data[1][4] = "2024-03-05T14:07:31"
    data[2][4] = dt.date(2024, 3, 6)
    rows[HEADER_ROW + 1 :] = [*data[2:], [], *data[:2], [None] * 8]
    assert parse_log(grid(rows)) == (ROWS, ())


def test_warnings_stop_at_a_count() -> None:
    many = tuple(dataclasses.replace(ROWS[0], run=T0 + dt.timedelta(seconds=i)) for i in range(40))
    rows = laid_out(many)
    for row in rows[HEADER_ROW + 1 : HEADER_ROW + 31]:
        row[2] = "x"
    log, issues = parse_log(grid(rows))
    assert log == many[30:]
    assert len(issues) == MAX_ROW_WARNINGS + 1
    assert issues[-1].message == "20 more rows of the Log skipped"


def test_no_log_a_fresh_log_and_a_users_sheet_named_log_give_no_rows() -> None:
    assert parse_log(None) == ((), ())
    fresh = grid([[marker(LOG)], [], ["Run `alvh recompute <file>` to fill this sheet."]])
    assert parse_log(fresh) == ((), ())
    users = grid([["My trading log"], *[list(r) for r in log_cells(ROWS).rows[1:]]])
    assert parse_log(users) == ((), ())


def test_a_log_without_its_header_warns_once() -> None:
    rows = laid_out(ROWS)
    rows[HEADER_ROW][2] = "Lyr"
    log, issues = parse_log(grid(rows))
    assert log == ()
    [issue] = issues
    assert (issue.severity, issue.sheet, issue.cell) == ("warning", LOG, "A1")
    assert "no header row" in issue.message


def test_a_log_the_adapter_could_not_read_is_a_warning() -> None:
    from rules_engine.models import Issue

    refused = SheetGrid([], None, (Issue("error", "spans too much", LOG, "XFD1", source="reader"),))
    log, [issue] = parse_log(refused)
    assert log == () and issue.severity == "warning"
    assert issue.message == "spans too much; the Log's earlier rows were not read"


def test_a_stray_far_value_in_the_log_is_not_read_and_the_run_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    shutil.copyfile(BOOK, path)
    write_owned_sheets(path, lay_out(outputs(ROWS)))
    edit(path, lambda wb: wb[LOG].__setitem__("XFD1048576", "stray"))
    inputs = read_workbook(path).inputs
    assert inputs.log == ()
    [warning] = [w for w in inputs.warnings if w.sheet == LOG]
    assert warning.severity == "warning" and "earlier rows were not read" in warning.message
    assert len(inputs.positions) > 0


# --- the inputs' hash -----------------------------------------------------------------------------


def test_the_hash_is_the_same_for_the_same_workbook_by_either_adapter(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    shutil.copyfile(BOOK, path)
    first = inputs_hash(read_workbook(path).inputs)
    assert len(first) == 16 and int(first, 16) >= 0
    assert inputs_hash(read_workbook(path).inputs) == first
    assert inputs_hash(read_book(Book.load(path)).inputs) == first
    write_owned_sheets(path, lay_out(outputs(ROWS)))  # the Log is no input
    assert inputs_hash(read_workbook(path).inputs) == first


def test_the_hash_is_the_same_in_another_process() -> None:
    code = (
        "from pathlib import Path; from rules_engine.logbook import inputs_hash; "
        "from rules_engine.workbook.reader import read_workbook; "
        f"print(inputs_hash(read_workbook(Path({str(BOOK)!r})).inputs))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert other.stdout.strip() == inputs_hash(read_workbook(BOOK).inputs)


@pytest.mark.parametrize(
    ("sheet", "header", "row", "value"),
    [
        ("Positions", "Strike", 2, 2774.5),
        ("History", "VIX Close", 3, 11.5),
        ("Market", "Value", 3, 2873.0),
        ("Settings", "Value", 3, "5,8"),
        ("Calendar", "Note", 2, "moved"),
    ],
)
def test_one_changed_cell_changes_the_hash(
    tmp_path: Path, sheet: str, header: str, row: int, value: object
) -> None:
    path = tmp_path / "book.xlsx"
    shutil.copyfile(BOOK, path)
    before = inputs_hash(read_workbook(path).inputs)
    book = openpyxl.load_workbook(path, read_only=True)
    assert book[sheet].cell(row, 1).value is not None  # the row exists
    book.close()
    edit(path, set_cell(sheet, header, row, value))
    assert inputs_hash(read_workbook(path).inputs) != before


def test_the_hash_counts_values_and_rules_never_places_or_the_log() -> None:
    inputs = read_workbook(BOOK).inputs
    first = inputs_hash(inputs)
    moved = inputs.positions.assign(row=inputs.positions["row"] + 1)
    same = (
        dataclasses.replace(inputs, positions=moved),
        dataclasses.replace(inputs, columns={}, market_cells={}),
        dataclasses.replace(inputs, log=ROWS),
    )
    assert [inputs_hash(i) for i in same] == [first] * 3
    rule = Rule(2, "composite >= 0.5", "B3")
    ruled = inputs_hash(dataclasses.replace(inputs, rules=(rule,)))
    assert ruled != first
    moved_rule = dataclasses.replace(rule, cell="B9")
    assert inputs_hash(dataclasses.replace(inputs, rules=(moved_rule,))) == ruled
    stricter = dataclasses.replace(rule, expression="composite >= 0.6")
    assert inputs_hash(dataclasses.replace(inputs, rules=(stricter,))) not in (first, ruled)
    text_date = dict(inputs.market, as_of=inputs.market["as_of"].isoformat())
    assert inputs_hash(dataclasses.replace(inputs, market=text_date)) != first
