"""The Rules sheet: the default triggers on hand-worked readings, the figures a trigger reads and
shows, unknown figures never read as false, refusals by cell, the sheet read back from a file and
written by `alvh init`. Hostile triggers are in test_rules_hostile.py."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from reader_books import valid_sheets, write_book

from rules_engine import Reading, Signal
from rules_engine.composite import Composite, composite
from rules_engine.host import load_plugins
from rules_engine.models import InputError, Rule
from rules_engine.risk.report import RiskReport
from rules_engine.rules import DEFAULT_RULES, check_rules, evaluate_rules
from rules_engine.runner import SignalOutcome, Status
from rules_engine.testing import evaluate_signal, leg, make_context, make_risk
from rules_engine.workbook.create import create_workbook
from rules_engine.workbook.reader import read_workbook
from rules_engine_plugins import event_window

AS_OF = dt.date(2024, 1, 31)


def outcome(
    name: str,
    category: str,
    value: float | None,
    triggered: bool,
    strength: float,
    details: dict[str, float | bool] | None = None,
) -> SignalOutcome:
    status = "triggered" if triggered else "not triggered"
    reading = Reading(value, triggered, strength, f"{name} says so", details or {})
    return SignalOutcome(name, name, status, reading, "", category)


def missing(
    name: str, status: Status = "not evaluated", reason: str = "needs more"
) -> SignalOutcome:
    return SignalOutcome(name, name, status, None, reason, "event")


def level(value: float) -> Composite:
    """A composite warning level of `value` (what it is made of does not matter to a rule)."""
    return Composite(value, (), (), ())


def evaluate(
    rules: list[Rule] | tuple[Rule, ...],
    outcomes: list[SignalOutcome],
    comp: Composite | None = None,
    *,
    risk: RiskReport | None = None,
    market: Mapping[str, object] | None = None,
    open_pnl: float | None = None,
) -> dict[int, tuple[bool | None, str]]:
    results = evaluate_rules(rules, outcomes, comp or level(0.0), risk, market or {}, open_pnl)
    return {layer: (r.fired, r.reason) for layer, r in results.items()}


def rule(expression: str, layer: int = 1, cell: str = "B2") -> Rule:
    return Rule(layer, expression, cell)


# --- the defaults ---------------------------------------------------------------------------------

#: rsi (technical) warns at strength 0.8 and vix_term_structure (volatility) at 0.5; macd is quiet;
#: event_window failed.
TWO_WARN = [
    outcome("rsi", "technical", 72.0, True, 0.8),
    outcome("vix_term_structure", "volatility", 0.95, True, 0.5),
    outcome("macd", "technical", -1.2, False, 0.0),
    missing("event_window", "failed", "ValueError: boom"),
]


def test_default_rules_on_two_warning_signals() -> None:
    # composite = 1 - (1 - 0.5 x 0.8)(1 - 0.8 x 0.5) = 1 - 0.6 x 0.6 = 0.64 (default weights:
    # technical 0.5, volatility 0.8); two signals triggered.
    readings = {o.signal: o.reading for o in TWO_WARN if o.reading is not None}
    categories = {o.signal: o.category for o in TWO_WARN}
    comp = composite(readings, categories, {}, excluded=("event_window",))
    assert comp.value == pytest.approx(0.64)
    got = evaluate(DEFAULT_RULES, TWO_WARN, comp)
    assert got == {
        1: (True, "True"),
        2: (True, "composite 0.64 >= 0.5 and signals.triggered 2 >= 2"),
        3: (False, "composite 0.64 >= 0.75 and signals.triggered 2 >= 3"),
    }


def test_default_rules_quiet_and_loud() -> None:
    quiet = [outcome("rsi", "technical", 50.0, False, 0.0), missing("macd")]
    assert evaluate(DEFAULT_RULES, quiet, level(0.0)) == {
        1: (True, "True"),
        2: (False, "composite 0 >= 0.5 and signals.triggered 0 >= 2"),
        3: (False, "composite 0 >= 0.75 and signals.triggered 0 >= 3"),
    }
    loud = [*TWO_WARN, outcome("bollinger", "technical", 3000.0, True, 1.0)]
    got = evaluate(DEFAULT_RULES, loud, level(0.8))
    assert got[2] == (True, "composite 0.8 >= 0.5 and signals.triggered 3 >= 2")
    assert got[3] == (True, "composite 0.8 >= 0.75 and signals.triggered 3 >= 3")
    # composite high but only two signals triggered: layer 3 waits for the third
    assert evaluate(DEFAULT_RULES, TWO_WARN, level(0.9))[3][0] is False


def test_default_rules_are_valid_and_numbered_one_to_three() -> None:
    assert check_rules(DEFAULT_RULES, []) == []
    assert [r.layer for r in DEFAULT_RULES] == [1, 2, 3]
    assert [r.cell for r in DEFAULT_RULES] == ["B2", "B3", "B4"]
    assert all(r.note for r in DEFAULT_RULES)


# --- figures and reasons --------------------------------------------------------------------------


def test_reason_shows_the_figures_read() -> None:
    outcomes = [
        outcome("rsi", "technical", 67.2, False, 0.3),
        outcome("macd", "technical", -0.5, True, 0.6),
    ]
    got = evaluate([rule("macd.triggered and rsi.value > 65")], outcomes)
    assert got[1] == (True, "macd.triggered True and rsi.value 67.2 > 65")
    got = evaluate([rule("rsi.strength >= 0.5 or abs(macd.value) > 1")], outcomes)
    assert got[1] == (False, "rsi.strength 0.3 >= 0.5 or abs(macd.value -0.5) > 1")
    got = evaluate([rule('rsi.status == "not triggered" and macd.evaluated')], outcomes)
    assert got[1] == (True, 'rsi.status "not triggered" == "not triggered" and macd.evaluated True')


def test_arithmetic_and_functions() -> None:
    outcomes = [outcome("rsi", "technical", 60.0, False, 0.25)]
    # (60 - 50) / 4 = 2.5; max(2.5, 1) = 2.5 >= 2.5; min(0.25 * 4, 3) = 1 <= 1
    got = evaluate(
        [rule("max((rsi.value - 50) / 4, 1) >= 2.5 and min(rsi.strength * 4, 3) <= 1")], outcomes
    )
    assert got[1][0] is True
    assert evaluate([rule("-rsi.value + 61 == 1")], outcomes)[1][0] is True
    assert evaluate([rule("not (rsi.value < 50)")], outcomes)[1][0] is True
    assert evaluate([rule("1 < rsi.value < 61")], outcomes)[1][0] is True


def test_book_and_market_figures() -> None:
    # One condor, 2 lots, 30 days: credit (7.60 + 5.20 - 3.10 - 2.30) x 2 x 100 = $1,480.
    risk = make_risk(
        [
            leg("IC1", "SPX", "Put", 3700, 2, entry_price=3.10, iv=0.24),
            leg("IC1", "SPX", "Put", 3800, -2, entry_price=7.60, iv=0.21),
            leg("IC1", "SPX", "Call", 4200, -2, entry_price=5.20, iv=0.14),
            leg("IC1", "SPX", "Call", 4300, 2, entry_price=2.30, iv=0.13),
        ],
        as_of=AS_OF,
    )
    market = {"as_of": AS_OF, "spx": 4000.0, "vix": 16.0, "vvix": 90.0}
    rules = [
        rule("book.condor_credit == 1480 and book.days_to_expiry == 30", 1),
        rule("book.drawdown and book.open_pnl < -200", 2),
        rule("market.vix / market.spx * 1000 == 4 and market.vvix > 80", 3),
        rule("book.projected_loss > book.condor_credit", 4),
    ]
    got = evaluate(rules, [], risk=risk, market=market, open_pnl=-250.0)
    assert got[1] == (True, "book.condor_credit 1,480 == 1480 and book.days_to_expiry 30 == 30")
    assert got[2] == (True, "book.drawdown True and book.open_pnl -250 < -200")
    assert got[3] == (True, "market.vix 16 / market.spx 4,000 * 1000 == 4 and market.vvix 90 > 80")
    loss = risk.projected_loss()  # the report's own figure, passed through unchanged
    assert got[4] == (loss > 1480, f"book.projected_loss {loss:,.0f} > book.condor_credit 1,480")


# --- unknown figures: not evaluable, never silently false ----------------------------------------


def test_a_failed_signal_reads_as_not_triggered_but_its_value_is_unknown() -> None:
    outcomes = [missing("rsi", "failed", "ZeroDivisionError: division by zero")]
    got = evaluate(
        [
            rule("rsi.value > 65", 1),
            rule("rsi.evaluated and rsi.value > 65", 2),
            rule("not rsi.triggered and rsi.strength == 0", 3),
            rule('rsi.status == "failed"', 4),
        ],
        outcomes,
    )
    assert got[1] == (
        None,
        "not evaluable: rsi.value is unknown: rsi failed (ZeroDivisionError: division by zero): "
        "rsi.value unknown > 65",
    )
    assert got[2] == (False, "rsi.evaluated False and rsi.value unknown > 65")
    assert got[3] == (True, "not rsi.triggered False and rsi.strength 0 == 0")
    assert got[4] == (True, 'rsi.status "failed" == "failed"')


def test_a_missing_detail_is_not_evaluable_and_says_why() -> None:
    outcomes = [
        missing("event_window", reason="needs the Calendar sheet with event dates"),
        outcome("vix_term_structure", "volatility", 0.8, False, 0.0, {"ratio": 0.8}),
    ]
    got = evaluate(
        [rule("event_window.days <= 10", 1), rule("vix_term_structure.spread > 1", 2)], outcomes
    )
    fired, reason = got[1]
    assert fired is None
    assert "event_window.days is unknown: event_window not evaluated" in reason
    assert "needs the Calendar sheet" in reason
    fired, reason = got[2]
    assert fired is None
    assert "gives no detail 'spread' this run (its details: ratio" in reason


def test_unknown_book_and_market_figures() -> None:
    risk = make_risk([leg("H", "VIX", "Call", 20, 10, iv=0.9)], as_of=AS_OF)  # no condor
    rules = [
        rule("book.drawdown", 1),
        rule("book.days_to_expiry < 10", 2),
        rule("market.vix3m > 20", 3),
        rule("book.open_pnl > 0", 4),
    ]
    got = evaluate(rules, [], risk=risk, market={"vix": 16.0}, open_pnl=math.nan)
    assert all(fired is None for fired, _ in got.values())
    assert "needs the Entry Price of every SPX leg" in got[1][1]
    assert "Positions holds no iron condor" in got[2][1]
    assert "no VIX3M in the Market sheet" in got[3][1]
    assert evaluate([rule("book.drawdown", 1)], [], open_pnl=None)[1][0] is None
    assert evaluate([rule("book.drawdown", 1)], [], open_pnl=0.0)[1] == (
        False,
        "book.drawdown False",
    )


def test_a_failing_rule_leaves_the_others_evaluating() -> None:
    outcomes = [outcome("rsi", "technical", 70.0, True, 0.5), missing("event_window")]
    rules = [
        rule("rsi.triggered", 1, "B2"),
        rule("event_window.days <= 10", 2, "B3"),
        rule("rsi.value / (signals.triggered - 1) > 1", 3, "B4"),
        rule("rsi.__class__", 4, "B5"),
        rule("rsi.value >", 5, "B6"),
        rule("rsi.value > 65", 6, "B7"),
        rule("rsi.triggered and event_window.days", 7, "B8"),
    ]
    got = evaluate(rules, outcomes)
    assert got[1] == (True, "rsi.triggered True")
    assert got[2][0] is None and "event_window not evaluated" in got[2][1]
    assert got[3][0] is None and got[3][1].startswith("not evaluable: division by zero (70 / 0)")
    assert got[4][0] is None and got[4][1].startswith("refused: ")
    assert got[5][0] is None and "not a valid expression" in got[5][1]
    assert got[6] == (True, "rsi.value 70 > 65")
    assert got[7][0] is None and "event_window not evaluated" in got[7][1]
    issues = check_rules(rules, ["rsi", "event_window"])
    assert [i.cell for i in issues] == ["B5", "B6"]


def test_event_window_gives_days_to_a_rule() -> None:
    # The next FOMC is 6 calendar days after the as-of date.
    cal = pd.DataFrame(
        [(AS_OF + dt.timedelta(days=6), "FOMC", "")], columns=["date", "event", "note"]
    )
    signal: list[Signal] = []
    event_window.alvh_register_signals(signal.append)
    ctx = make_context([100.0, 101.0], as_of=AS_OF, calendar=cal, plugins=signal)
    result = evaluate_signal(signal[0], ctx)
    assert result.reading is not None and result.reading.details == {"days": 6.0}
    got = evaluate(
        [rule("event_window.days <= 5", 1), rule("event_window.days <= 10", 2)], [result]
    )
    assert got == {
        1: (False, "event_window.days 6 <= 5"),
        2: (True, "event_window.days 6 <= 10"),
    }


# --- refusals by cell -----------------------------------------------------------------------------


def test_an_unknown_signal_is_an_error_at_its_cell_listing_the_signals() -> None:
    (issue,) = check_rules(
        [rule("rsi.triggered", 1, "B2"), rule("rsy.triggered", 2, "B3")], ["rsi", "macd"]
    )
    assert (issue.severity, issue.sheet, issue.cell, issue.column) == (
        "error",
        "Rules",
        "B3",
        "Trigger",
    )
    assert issue.where == "Rules!B3 (Trigger)"
    assert issue.message.startswith("layer 2: `rsy` is not a signal or a name a rule can use")
    assert "(did you mean `rsi`?)" in issue.message
    assert "Signals: macd, rsi." in issue.message


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("composite + 1", "gives a number, not true/false"),
        ("rsi.value and True", "`rsi.value` is a number, but `and` / `or` needs true/false"),
        ("rsi.status > 1", "`rsi.status` is text, but > compares numbers"),
        ("rsi.triggered == 1", "compares true/false with a number"),
        ("book.delta > 0", "`book.delta` is not offered; book has book.projected_loss"),
        ("signals > 1", "`signals` alone is not a figure"),
        ("rsi > 1", "`rsi` alone is not a figure"),
        ("'abc' * 2 == 'x'", "`'abc'` is text, but `*` needs a number"),
        ("abs(rsi.value, 1) > 0", "abs takes one number"),
        ("max(rsi.value) > 0", "max takes 2 to 10 numbers"),
        ("round(rsi.value) > 0", "`round(...)` is not offered: the functions are abs, min, max"),
        ("rsi.value % 2 == 0", "the operator % is not offered"),
        ("rsi.value in (1, 2)", "only the comparisons == != < <= > >= are offered"),
        ("", "the trigger is blank"),
        ("rsi.value >", "not a valid expression"),
    ],
)
def test_triggers_refused_with_the_reason(expression: str, words: str) -> None:
    (issue,) = check_rules([rule(expression, 4, "B5")], ["rsi"])
    assert issue.cell == "B5" and issue.message.startswith("layer 4: ")
    assert words in issue.message


def test_line_breaks_in_a_cell_are_spaces() -> None:
    outcomes = [outcome("rsi", "technical", 70.0, True, 0.5)]
    got = evaluate([rule("rsi.triggered\nand rsi.value > 65")], outcomes)
    assert got[1] == (True, "rsi.triggered True and rsi.value 70 > 65")


# --- the sheet in a workbook ----------------------------------------------------------------------


def read_rules(tmp_path: Path, rows: list[list[object]]) -> tuple[Rule, ...]:
    sheets = {**valid_sheets(), "Rules": rows}
    return read_workbook(write_book(tmp_path / "book.xlsx", sheets)).inputs.rules


def test_rules_sheet_read_with_cells_notes_and_excel_true(tmp_path: Path) -> None:
    rules = read_rules(
        tmp_path,
        [
            ["Layer", "Trigger", "Note"],
            [1, True, "Excel turns a typed True into TRUE"],
            [None, None, "a note on its own row is skipped"],
            [],
            [2, "macd.triggered and rsi.value > 65", None],
        ],
    )
    assert rules == (
        Rule(1, "True", "B2", "Excel turns a typed True into TRUE"),
        Rule(2, "macd.triggered and rsi.value > 65", "B5", ""),
    )


def test_rules_sheet_layer_problems_are_errors_at_their_cells(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["Layer", "Trigger"],
        [1, "True"],
        [2.5, "True"],
        [0, "True"],
        ["two", "True"],
        [1, "composite > 0.5"],
        [None, "True"],
        [3, None],
    ]
    with pytest.raises(InputError) as info:
        read_rules(tmp_path, rows)
    found = {(i.sheet, i.cell): i.message for i in info.value.issues}
    assert found == {
        ("Rules", "A3"): "Layer 2.5 is not a whole number from 1 to 100",
        ("Rules", "A4"): "Layer 0 is not a whole number from 1 to 100",
        ("Rules", "A5"): "'two' is not a number",
        ("Rules", "A6"): "layer 1 appears twice (rows 2 and 6): keep one row per layer",
        ("Rules", "A7"): "Layer is blank: enter the hedge layer (1-100) this trigger gates",
        ("Rules", "B8"): "Trigger is blank: enter the layer's trigger, e.g. True",
    }


def test_rules_sheet_absent_gives_no_rules_and_a_warning(tmp_path: Path) -> None:
    inputs = read_workbook(write_book(tmp_path / "book.xlsx", valid_sheets())).inputs
    assert inputs.rules == ()
    (warning,) = [w for w in inputs.warnings if w.sheet == "Rules"]
    assert "the default layer triggers are used" in warning.message


def test_rules_sheet_without_rules_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        read_rules(tmp_path, [["Layer", "Trigger", "Note"], [None, None, "only a note"]])
    (issue,) = info.value.issues
    assert (issue.sheet, issue.cell) == ("Rules", "A2")
    assert "no rules" in issue.message and "delete the sheet" in issue.message


@pytest.mark.parametrize("example", [False, True])
def test_alvh_init_writes_the_default_rules(tmp_path: Path, example: bool) -> None:
    path = tmp_path / "init.xlsx"
    create_workbook(path, load_plugins(use_entry_points=False).declared_settings, example=example)
    sheet = openpyxl.load_workbook(path)["Rules"]
    assert [c.value for c in sheet[1]] == ["Layer", "Trigger", "Note"]
    assert [c.value for c in sheet["A"]][1:] == [1, 2, 3]
    assert sheet["B2"].value == "True" and sheet["B2"].data_type == "s"  # text, not Excel's TRUE
    if example:
        assert read_workbook(path).inputs.rules == DEFAULT_RULES
    else:  # a blank workbook cannot be read until its Market is filled; its rules are the same
        rows = [[c.value for c in row] for row in sheet.iter_rows()]
        assert read_rules(tmp_path, rows) == DEFAULT_RULES
