"""create_workbook and the example content, read back with read_workbook (and openpyxl/zipfile)."""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from rules_engine import contract as c
from rules_engine.cli import main
from rules_engine.expiries import next_vix_expiries, third_friday, vix_expiry
from rules_engine.models import InputError, Setting, WorkbookError
from rules_engine.workbook import example as ex
from rules_engine.workbook.create import create_workbook
from rules_engine.workbook.reader import read_workbook

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "rules_engine" / "example_data"
AS_OF = dt.date(2018, 1, 26)
SETTINGS = (
    Setting("engine.sizer", "alvh", "str", "Which sizer plugin to use.", choices=("alvh", "flat")),
    Setting("signal.vix_floor", 12.5, "float", "VIX level below which hedges are cheap.", 0, 100),
    Setting("hedge.max_layers", 3, "int", "How many hedge layers at most.", minimum=1),
    Setting("hedge.enabled", True, "bool", "=1+1 is text, not a formula"),
    Setting("calendar.start", dt.date(2018, 1, 2), "date", "First day the calendar covers."),
)
OWNED = c.OWNED_SHEETS  # Log included: alvh init leaves it for the first recompute to fill
INPUT = c.INPUT_SHEETS  # alvh init writes every input sheet the README lists


@pytest.fixture(scope="module")
def example_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("example") / "alvh.xlsx"
    create_workbook(path, SETTINGS, example=True)
    return path


def csv_close(name: str, date_column: str, close_column: str, day: dt.date) -> float:
    with (DATA / name).open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row[date_column] == day.isoformat():
                return float(row[close_column])
    raise AssertionError(f"{day} not in {name}")


# --- example content (pure data) ----------------------------------------------------------------


def test_vix_expiries_are_the_2018_settlement_wednesdays() -> None:
    assert third_friday(2018, 3) == dt.date(2018, 3, 16)
    assert third_friday(2018, 6) == dt.date(2018, 6, 15)  # June 1 was a Friday
    assert vix_expiry(2017, 12) == dt.date(2017, 12, 20)  # contract month December: Jan 19 - 30
    assert [e for e, _ in ex.futures_rows()] == [
        dt.date(2018, 2, 14),
        dt.date(2018, 3, 21),
        dt.date(2018, 4, 18),
        dt.date(2018, 5, 16),
        dt.date(2018, 6, 20),
        dt.date(2018, 7, 18),
        dt.date(2018, 8, 22),
    ]
    assert all(e.weekday() == 2 for e, _ in ex.futures_rows())
    # the next listed expiries, as the engine models a curve without a VIX Futures sheet
    assert next_vix_expiries(dt.date(2018, 1, 26), 3) == [
        dt.date(2018, 2, 14),
        dt.date(2018, 3, 21),
        dt.date(2018, 4, 18),
    ]
    assert next_vix_expiries(dt.date(2018, 2, 14), 1) == [dt.date(2018, 3, 21)]  # expiry day
    assert next_vix_expiries(dt.date(2018, 12, 31), 1) == [dt.date(2019, 1, 16)]
    prices = [p for _, p in ex.futures_rows()]
    assert prices == sorted(prices)  # contango


def _bsm(s: float, k: float, t: float, r: float, q: float, v: float, call: bool) -> float:
    """Textbook Black-Scholes-Merton (Hull, ch. 17) as an independent reference."""

    def n(x: float) -> float:
        return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))

    d1 = (math.log(s / k) + (r - q + v * v / 2) * t) / (v * math.sqrt(t))
    d2 = d1 - v * math.sqrt(t)
    if call:
        return s * math.exp(-q * t) * n(d1) - k * math.exp(-r * t) * n(d2)
    return k * math.exp(-r * t) * n(-d2) - s * math.exp(-q * t) * n(-d1)


def test_example_entry_prices_match_their_ivs() -> None:
    spot = 2872.87  # SPX close 2018-01-26
    for leg in ex.position_legs():
        t = (leg.expiry - AS_OF).days / 365
        reference = _bsm(spot, leg.strike, t, 0.0142, 0.0185, leg.iv, leg.type == "Call")
        assert leg.entry_price == pytest.approx(reference, abs=0.006), leg


def test_example_put_skew() -> None:
    legs = ex.position_legs()
    puts = sorted((leg.strike, leg.iv) for leg in legs if leg.type == "Put")
    calls = [leg.iv for leg in legs if leg.type == "Call"]
    assert all(0.11 <= iv <= 0.15 for _, iv in puts)
    assert all(0.07 <= iv <= 0.08 for iv in calls)
    put_ivs = [iv for _, iv in puts]
    assert put_ivs == sorted(put_ivs, reverse=True)  # lower strike, higher IV


def test_example_history_ends_on_as_of() -> None:
    rows = ex.history_rows()
    assert rows[0][0] == dt.date(2016, 2, 12)
    assert rows[-1] == (AS_OF, 2872.87, 11.08)
    assert rows[-1][1] == csv_close("spx_daily_close.csv", "observation_date", "SP500", AS_OF)
    assert rows[-1][2] == csv_close("vix_daily.csv", "DATE", "CLOSE", AS_OF)
    assert dt.date(2016, 2, 15) not in {d for d, _, _ in rows}  # Presidents' Day, blank in CSV


# --- the example workbook -----------------------------------------------------------------------


def test_example_workbook_reads_back(example_path: Path) -> None:
    inputs = read_workbook(example_path).inputs
    assert inputs.warnings == ()
    market = inputs.market
    assert market["as_of"] == AS_OF
    assert market["spx"] == csv_close("spx_daily_close.csv", "observation_date", "SP500", AS_OF)
    assert market["vix"] == csv_close("vix_daily.csv", "DATE", "CLOSE", AS_OF)
    assert (market["vix3m"], market["vvix"]) == (13.5, 95.0)
    assert (market["rate"], market["dividend_yield"]) == (0.0142, 0.0185)

    history = inputs.history
    assert history.index[-1].date() == AS_OF
    assert history.index[0].date() == dt.date(1900, 1, 1)  # monthly CAPE rows come first
    daily = history.dropna(subset=["spx_close"])
    assert daily.index[0].date() == dt.date(2016, 2, 12)
    with (DATA / "spx_daily_close.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    trading_days = [r for r in rows if r["SP500"] and r["observation_date"] <= "2018-01-26"]
    assert len(daily) == len(trading_days)
    assert daily["spx_close"].iloc[-1] == 2872.87
    assert daily["vix_close"].notna().all()

    assert len(inputs.vix_futures) == 7
    calendar = inputs.calendar
    soon = calendar[(calendar["date"] > AS_OF) & (calendar["date"] <= dt.date(2018, 3, 31))]
    assert list(soon["event"]) == ["FOMC", "CPI", "PPI", "CPI", "FOMC"]


def test_example_positions_are_three_iron_condors(example_path: Path) -> None:
    positions = read_workbook(example_path).inputs.positions
    assert len(positions) == 12
    groups = dict(tuple(positions.groupby("group")))
    assert set(groups) == {"IC-FEB", "IC-MAR", "IC-APR"}
    lots = {"IC-FEB": 8, "IC-MAR": 10, "IC-APR": 5}
    for name, legs in groups.items():
        assert len(legs) == 4 and legs["expiry"].nunique() == 1
        assert (legs["underlying"] == "SPX").all() and (legs["multiplier"] == 100).all()
        short_put, long_put, short_call, long_call = (
            legs[(legs["type"] == t) & (sign * legs["qty"] > 0)]["strike"].item()
            for t, sign in (("PUT", -1), ("PUT", 1), ("CALL", -1), ("CALL", 1))
        )
        assert long_put < short_put < 2872.87 < short_call < long_call
        assert set(legs["qty"].abs()) == {lots[str(name)]}
        assert (legs["entry_price"] > 0).all() and legs["iv"].notna().all()
    assert groups["IC-MAR"]["expiry"].iloc[0] == dt.date(2018, 3, 16)
    assert sorted(groups["IC-APR"]["strike"]) == [2625, 2650, 3000, 3025]


def test_example_sheets_and_formats(example_path: Path) -> None:
    book = openpyxl.load_workbook(example_path)
    assert tuple(book.sheetnames) == OWNED + INPUT
    market = book["Market"]
    notes = {market.cell(r, 1).value: market.cell(r, 3).value for r in range(2, 9)}
    for label in ("VIX3M", "VVIX", "Rate", "Dividend Yield"):
        assert "illustrative" in str(notes[label])
    assert "illustrative" not in str(notes["SPX"])
    assert market["B7"].value == 0.0142 and market["B7"].number_format == "0.00%"
    assert market["B2"].is_date
    assert book["Positions"]["I2"].number_format == "0.00%"
    assert book["History"]["A2"].is_date


# --- blank workbooks, settings, overwrite, styles ----------------------------------------------


def test_blank_workbook_layout(tmp_path: Path) -> None:
    path = tmp_path / "blank.xlsx"
    create_workbook(path, SETTINGS)
    book = openpyxl.load_workbook(path)
    assert tuple(book.sheetnames) == OWNED + INPUT
    for name in OWNED:
        sheet = book[name]
        assert sheet["A1"].value == (
            f"alvh output - {name}: rewritten by `alvh recompute`; edits here are lost"
        )
        assert sheet["A3"].value == "Run `alvh recompute <file>` to fill this sheet."
    positions = book["Positions"]
    assert [c.value for c in positions[1]][:3] == ["Group", "Underlying", "Type"]
    assert positions["A1"].font.b and positions.freeze_panes == "A2"
    assert positions.max_row == 1
    market = book["Market"]
    assert [market.cell(r, 1).value for r in range(2, 9)] == [
        "As Of", "SPX", "VIX", "VIX3M", "VVIX", "Rate", "Dividend Yield",
    ]  # fmt: skip
    assert all(market.cell(r, 2).value is None for r in range(2, 9))
    with pytest.raises(InputError) as info:
        read_workbook(path)
    assert {(i.sheet, i.cell) for i in info.value.issues} == {
        ("Market", "B2"),
        ("Market", "B3"),
        ("Market", "B4"),
        ("Market", "B7"),
        ("Positions", "A2"),
    }


def test_settings_rows_equal_the_declarations(example_path: Path) -> None:
    sheet = openpyxl.load_workbook(example_path)["Settings"]
    rows = [tuple(c.value for c in row) for row in sheet.iter_rows(min_row=1)]
    assert rows[0] == ("Setting", "Value", "Description")
    assert [r[0] for r in rows[1:]] == [s.name for s in SETTINGS]
    assert rows[1][1:] == ("alvh", "Which sizer plugin to use. (one of: alvh, flat)")
    assert rows[2][1:] == (12.5, "VIX level below which hedges are cheap. (min 0; max 100)")
    assert rows[3][1:] == (3, "How many hedge layers at most. (min 1)")
    assert rows[4][1:] == (True, "=1+1 is text, not a formula")
    assert sheet["C5"].data_type == "s"  # stored as text, not as the formula =1+1...
    assert rows[5][1] == dt.datetime(2018, 1, 2)
    cells = read_workbook(example_path).inputs.settings
    assert {k: v.value for k, v in cells.items()} == {
        "engine.sizer": "alvh",
        "signal.vix_floor": 12.5,
        "hedge.max_layers": 3.0,
        "hedge.enabled": True,
        "calendar.start": dt.date(2018, 1, 2),
    }


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"precious")
    with pytest.raises(WorkbookError, match="already exists"):
        create_workbook(path, SETTINGS)
    assert path.read_bytes() == b"precious"
    create_workbook(path, SETTINGS, force=True)
    assert zipfile.is_zipfile(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]  # no temp file left


def test_refuses_other_suffixes_and_missing_folders(tmp_path: Path) -> None:
    with pytest.raises(WorkbookError, match=r"\.xlsx"):
        create_workbook(tmp_path / "book.xlsm", SETTINGS)
    with pytest.raises(WorkbookError, match="does not exist"):
        create_workbook(tmp_path / "nope" / "book.xlsx", SETTINGS)


# --- every input sheet the README lists ----------------------------------------------------------


def readme_input_sheets() -> list[str]:
    """The sheets of the README's input-sheet table (section "The workbook")."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n### The workbook\n", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", section, re.M)


@pytest.mark.parametrize("example", [False, True], ids=["blank", "example"])
def test_alvh_init_writes_every_input_sheet_the_readme_lists(tmp_path: Path, example: bool) -> None:
    listed = readme_input_sheets()
    assert sorted(listed) == sorted(c.INPUT_SHEETS)  # the README and the contract agree
    path = tmp_path / "book.xlsx"
    args = ["init", str(path), *(["--example"] if example else [])]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(path, read_only=True)
    for name in listed:
        headers = [cell.value for cell in next(book[name].iter_rows(max_row=1))]
        contract = [column.header for column in c.SHEET_COLUMNS[name]]
        assert headers[: len(contract)] == contract, name
    rules = [row for row in book[c.RULES].iter_rows(min_row=2, values_only=True) if any(row)]
    settings = [row for row in book[c.SETTINGS].iter_rows(min_row=2, values_only=True) if row[0]]
    assert len(rules) == 3 and any(row[0] == "engine.sizer" for row in settings)
