"""read_workbook: values, addresses and the messages users see for bad inputs."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reader_books import POSITIONS_HEADER, At, Fmt, Rows, valid_sheets, write_book

from rules_engine.contract import SHEET_COLUMNS
from rules_engine.models import InputError, Issue, WorkbookError
from rules_engine.workbook.cells import CellError, RawCell, to_date, to_number
from rules_engine.workbook.reader import WorkbookRead, read_workbook
from rules_engine.workbook.sheetparse import Problems, parse_table

NOT_FINITE = "is not a finite number: a cell must hold an ordinary number (or stay blank)"

ENCRYPTED = Path(__file__).parent / "data" / "real-workbooks" / "calamine_pass_protected.xlsx"


def read(tmp_path: Path, sheets: dict[str, Rows | At]) -> WorkbookRead:
    return read_workbook(write_book(tmp_path / "book.xlsx", sheets))


def errors(tmp_path: Path, sheets: dict[str, Rows | At]) -> list[Issue]:
    with pytest.raises(InputError) as info:
        read(tmp_path, sheets)
    assert all(i.severity == "error" and i.source == "reader" for i in info.value.issues)
    return info.value.issues


def only(issues: list[Issue]) -> Issue:
    assert len(issues) == 1, [str(i) for i in issues]
    return issues[0]


def with_leg(leg: list[Any]) -> dict[str, Rows | At]:
    sheets = valid_sheets()
    sheets["Positions"] = [POSITIONS_HEADER, leg]
    return sheets


LEG = ["IC1", "SPX", "Put", dt.date(2018, 3, 16), 2700, -10, None, 6.1, 0.13, None]


def leg(**changes: Any) -> list[Any]:
    """LEG with some fields changed, by lower-case header name."""
    row = list(LEG)
    names = [h.lower().replace(" ", "_") for h in POSITIONS_HEADER]
    for name, value in changes.items():
        row[names.index(name)] = value
    return row


# --- a valid workbook -----------------------------------------------------------------------------


def test_valid_workbook_values_and_addresses(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["Market"] = [*sheets["Market"][:7], ["Breadth Source", "NYSE"]]  # no Dividend Yield
    sheets["History"] = [
        ["Date", "SPX Close", "VIX Close", "VIX3M", "Advances", "Comment"],
        [dt.date(2018, 1, 29), 2853.53, 13.84, 15.0, 1200, None],  # after As Of: dropped
        [dt.date(2018, 1, 25), 2839.25, 11.58, 13.4, None, "quiet"],
        [dt.date(2018, 1, 24), 2837.54, None, 13.3, 1500, None],
        [None, None, None, None, None, None],
        [dt.date(2018, 1, 26), 2872.87, 11.08, 13.5, 1800, None],
    ]
    path = write_book(tmp_path / "book.xlsx", sheets)
    result = read_workbook(path)
    inputs = result.inputs

    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.sheet_names == ("Positions", "Market", "VIX Futures", "History")

    pos = inputs.positions
    assert list(pos["type"]) == ["PUT", "PUT", "CALL", "CALL"]
    assert list(pos["underlying"]) == ["SPX"] * 4
    assert list(pos["multiplier"]) == [100.0] * 4  # SPX option default
    assert list(pos["qty"]) == [-10.0, 10.0, -10.0, 10.0]
    assert list(pos["row"]) == [2, 3, 4, 5]
    assert pos["expiry"].iloc[0] == dt.date(2018, 3, 16)
    assert math.isnan(pos["mark"].iloc[0])
    assert inputs.columns["Positions"]["strike"] == "E"
    assert inputs.cell("Positions", 3, "entry_price") == "H3"

    assert inputs.market["as_of"] == dt.date(2018, 1, 26)
    assert inputs.market["spx"] == 2872.87
    assert inputs.market["dividend_yield"] == 0.0
    assert inputs.market["breadth_source"] == "NYSE"
    assert inputs.market_cells["rate"] == "B7"
    assert inputs.market_cells["breadth_source"] == "B8"

    hist = inputs.history
    assert hist.index.name == "date"
    assert list(hist.index) == [pd.Timestamp(f"2018-01-{d}") for d in (24, 25, 26)]
    assert list(hist["row"]) == [4, 3, 6]
    assert math.isnan(hist["vix_close"].iloc[0])
    assert list(hist["advances"].iloc[[0, 2]]) == [1500.0, 1800.0]
    assert math.isnan(hist["advances"].iloc[1])
    assert list(hist["vix3m"]) == [13.3, 13.4, 13.5]
    assert list(hist["comment"].isna()) == [True, False, True]
    assert hist["comment"].iloc[1] == "quiet"
    assert "spx_high" not in hist.columns

    assert list(inputs.vix_futures["price"]) == [12.95, 13.85]
    assert inputs.vix_options is None
    assert inputs.calendar.empty and list(inputs.calendar.columns)[:3] == ["date", "event", "note"]
    assert inputs.settings == {}
    messages = [(w.sheet, w.message) for w in inputs.warnings]
    after = "1 row(s) dated after the As Of date 2018-01-26 (Market!B2) are ignored"
    assert ("History", after) in messages
    assert any(s == "Settings" and "default settings" in m for s, m in messages)


def test_optional_sheets_are_read(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["calendar"] = [
        ["Date", "Event", "Note"],
        [dt.date(2018, 2, 14), "CPI", None],
        [dt.date(2018, 1, 31), "FOMC", "Yellen's last"],
    ]
    sheets["SETTINGS"] = [["Setting", "Value"], ["  Engine.Sizer ", "alvh"], ["x.limit", 0.5]]
    sheets["VIX Options"] = [
        ["Expiry", "Strike", "Call Bid", "Call Ask", "IV", "Open Interest"],
        [dt.date(2018, 2, 14), 15, 0.55, 0.6, 0.8, 1000],
        [dt.date(2018, 2, 14), 13, 1.1, 1.2, 0.75, 500],
    ]
    inputs = read(tmp_path, sheets).inputs
    cal = inputs.calendar
    assert list(cal["date"]) == [dt.date(2018, 1, 31), dt.date(2018, 2, 14)]
    assert list(cal["note"]) == ["Yellen's last", ""]
    assert list(cal["row"]) == [3, 2]
    assert inputs.settings["engine.sizer"].value == "alvh"
    assert inputs.settings["engine.sizer"].cell == "B2"
    assert inputs.settings["x.limit"].value == 0.5
    assert inputs.vix_options is not None
    assert list(inputs.vix_options["strike"]) == [13.0, 15.0]
    assert list(inputs.vix_options["open_interest"]) == [500.0, 1000.0]
    assert not any(w.sheet == "Settings" for w in inputs.warnings)


def test_position_normalisation(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["Positions"] = [
        POSITIONS_HEADER,
        [1.0, " vix ", "Fut", dt.date(2018, 2, 14), None, 2, None, 13.0, None, None],
        [2.0, "uvxy", "ETF", None, None, 100, None, 12.5, None, None],
        ["H", "VIX", "call", dt.date(2018, 2, 14), 15, 20, None, 0.6, None, 0.55],
        ["H", "VIX", "Put", dt.date(2018, 2, 14), 12, 0, None, 0.3, None, None],
        ["W", "spxw", "Put", dt.date(2018, 2, 14), 2600, -1, None, 3.1, None, None],
    ]
    inputs = read(tmp_path, sheets).inputs
    pos = inputs.positions
    assert list(pos["group"]) == ["1", "2", "H", "W"]
    assert list(pos["underlying"]) == ["VIX", "UVXY", "VIX", "SPXW"]
    assert list(pos["type"]) == ["FUTURE", "SHARE", "CALL", "PUT"]
    assert list(pos["multiplier"]) == [1000.0, 1.0, 100.0, 100.0]  # SPXW: an SPX option
    assert pos["expiry"].iloc[1] is None
    zero = [w for w in inputs.warnings if w.cell == "F5"]
    assert len(zero) == 1 and "ignored" in zero[0].message and zero[0].column == "Qty"


def test_header_variants_match(tmp_path: Path) -> None:
    sheets = valid_sheets()
    header = ["group", "UNDERLYING", "type", "Expiry", "strike", "qty", "multiplier"]
    sheets["Positions"] = [
        [*header, "entry_price", "I V", "MARK"],
        LEG,
    ]
    sheets["Market"] = [["FIELD", "value"], ["as_of", dt.date(2018, 1, 26)], ["spx", 2872.87],
                        ["vix", 11.08], ["R A T E", 0.01]]  # fmt: skip
    inputs = read(tmp_path, sheets).inputs
    assert inputs.positions["entry_price"].iloc[0] == 6.1
    assert inputs.positions["iv"].iloc[0] == 0.13
    assert inputs.market["rate"] == 0.01
    sheets["Positions"] = [[*header, "ENTRY PRICE", "iv", "Mark"], LEG]
    sheets["Market"][1] = ["AsOf", dt.date(2018, 1, 26)]
    inputs = read(tmp_path, sheets).inputs
    assert inputs.positions["entry_price"].iloc[0] == 6.1
    assert inputs.market["as_of"] == dt.date(2018, 1, 26)


def test_percent_formatted_iv_arrives_as_fraction(tmp_path: Path) -> None:
    inputs = read(tmp_path, with_leg(leg(iv=Fmt(0.25, "0%")))).inputs
    assert inputs.positions["iv"].iloc[0] == 0.25
    inputs = read(tmp_path, with_leg(leg(iv="25%"))).inputs
    assert inputs.positions["iv"].iloc[0] == 0.25


def test_iso_text_dates_are_accepted(tmp_path: Path) -> None:
    sheets = with_leg(leg(expiry="2018-03-16 15:00:00"))
    sheets["Market"] = [*sheets["Market"]]
    sheets["Market"][1] = ["As Of", "2018-01-26"]
    inputs = read(tmp_path, sheets).inputs
    assert inputs.positions["expiry"].iloc[0] == dt.date(2018, 3, 16)
    assert inputs.market["as_of"] == dt.date(2018, 1, 26)


def test_data_not_at_a1_maps_to_real_addresses(tmp_path: Path) -> None:
    sheets = valid_sheets()
    good = ["IC1", "SPX", "Put", dt.date(2018, 3, 16), 2700, -10, None, 6.1, 0.13, None]
    bad = ["IC1", "SPX", "Put", dt.date(2018, 3, 16), "abc", 10, None, 4.7, 0.135, None]
    sheets["Positions"] = At("B3", [POSITIONS_HEADER, good, [None] * 10, bad])
    issue = only(errors(tmp_path, sheets))
    # header in row 3 from column B: Strike is column F; rows 4 (good), 5 (blank), 6 (bad)
    assert (issue.sheet, issue.cell, issue.column) == ("Positions", "F6", "Strike")
    assert issue.message == "'abc' is not a number"

    sheets["Positions"] = At("B3", [POSITIONS_HEADER, good])
    inputs = read(tmp_path, sheets).inputs
    assert inputs.columns["Positions"]["strike"] == "F"
    assert list(inputs.positions["row"]) == [4]
    sheets["Market"] = At("C2", valid_sheets()["Market"])
    assert read(tmp_path, sheets).inputs.market_cells["as_of"] == "D3"


# --- input errors, each at its exact place ----------------------------------------------------


def test_missing_sheet(tmp_path: Path) -> None:
    sheets = valid_sheets()
    del sheets["Market"]
    issue = only(errors(tmp_path, sheets))
    assert (issue.sheet, issue.cell, issue.column) == ("Market", None, None)
    assert issue.message.startswith("sheet is missing")


def test_missing_column_names_the_header_row(tmp_path: Path) -> None:
    sheets = valid_sheets()
    header = [h for h in POSITIONS_HEADER if h != "Strike"]
    sheets["Positions"] = At("B3", [header, LEG[:4] + LEG[5:]])
    issue = only(errors(tmp_path, sheets))
    assert (issue.sheet, issue.cell, issue.column) == ("Positions", None, "Strike")
    assert issue.message == (
        "no 'Strike' column in the header row (row 3); found: Group, Underlying, Type, Expiry, "
        "Qty, Multiplier, Entry Price, IV, Mark"
    )


def test_non_numeric_strike(tmp_path: Path) -> None:
    issue = only(errors(tmp_path, with_leg(leg(strike="abc"))))
    assert (issue.sheet, issue.cell, issue.column) == ("Positions", "E2", "Strike")
    assert issue.message == "'abc' is not a number"


def test_expiry_before_as_of(tmp_path: Path) -> None:
    issue = only(errors(tmp_path, with_leg(leg(expiry=dt.date(2018, 1, 19)))))
    assert (issue.sheet, issue.cell, issue.column) == ("Positions", "D2", "Expiry")
    assert "2018-01-19" in issue.message and "2018-01-26" in issue.message
    assert "Market!B2" in issue.message


def test_negative_entry_price(tmp_path: Path) -> None:
    issue = only(errors(tmp_path, with_leg(leg(entry_price=-6.1))))
    assert (issue.sheet, issue.cell, issue.column) == ("Positions", "H2", "Entry Price")
    assert "-6.1" in issue.message and "negative" in issue.message


def test_empty_positions(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["Positions"] = [POSITIONS_HEADER]
    issue = only(errors(tmp_path, sheets))
    assert (issue.sheet, issue.cell) == ("Positions", "A2")
    assert "no positions" in issue.message


def test_unknown_position_type(tmp_path: Path) -> None:
    issue = only(errors(tmp_path, with_leg(leg(type="Straddle"))))
    assert (issue.sheet, issue.cell, issue.column) == ("Positions", "C2", "Type")
    assert "'Straddle'" in issue.message and "Call, Put, Future or Share" in issue.message


def test_bad_type_blank_and_boolean(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["Positions"] = [POSITIONS_HEADER, leg(type=" "), leg(qty=True)]
    found = {(i.cell, i.column): i.message for i in errors(tmp_path, sheets)}
    assert found[("C2", "Type")].startswith("Type is blank")
    assert found[("F3", "Qty")] == "TRUE is a true/false value, not a number"
    assert len(found) == 2


def test_option_without_strike_or_expiry(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["Positions"] = [POSITIONS_HEADER, leg(strike=None), leg(expiry=None), leg(strike=-5)]
    found = {(i.cell, i.column): i.message for i in errors(tmp_path, sheets)}
    assert found == {
        ("E2", "Strike"): "Strike is blank: a put needs a strike",
        ("D3", "Expiry"): "Expiry is blank: a put needs an expiry date",
        ("E4", "Strike"): "Strike -5 must be above 0",
    }


def test_multiplier_mark_and_iv_checks(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["Positions"] = [
        POSITIONS_HEADER,
        leg(multiplier=0),
        leg(mark=-1),
        leg(iv=-0.2),
        leg(iv=25),
    ]
    found = {(i.cell, i.column): i.message for i in errors(tmp_path, sheets)}
    assert set(found) == {("G2", "Multiplier"), ("J3", "Mark"), ("I4", "IV"), ("I5", "IV")}
    assert "above 0" in found[("G2", "Multiplier")]
    assert "negative" in found[("I4", "IV")]
    assert "percentage typed as a number" in found[("I5", "IV")]
    assert "0.25" in found[("I5", "IV")] and "25%" in found[("I5", "IV")]


def test_duplicate_history_date(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["History"] = [*sheets["History"], [dt.date(2018, 1, 25), 2839.0, 11.6]]
    issue = only(errors(tmp_path, sheets))
    assert (issue.sheet, issue.cell, issue.column) == ("History", "A5", "Date")
    assert "rows 3 and 5" in issue.message and "2018-01-25" in issue.message


def test_rate_typed_as_percent_number(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["Market"] = [*sheets["Market"]]
    sheets["Market"][6] = ["Rate", 4.5]
    issue = only(errors(tmp_path, sheets))
    assert (issue.sheet, issue.cell, issue.column) == ("Market", "B7", "Rate")
    assert "450%" in issue.message and "0.045" in issue.message and "4.5%" in issue.message


def test_number_in_a_date_column(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["History"] = [*sheets["History"], [43126, 2872.0, 11.0]]
    issue = only(errors(tmp_path, sheets))
    assert (issue.sheet, issue.cell, issue.column) == ("History", "A5", "Date")
    assert issue.message == "43126 is a number, not a date: format the cell as a date"


def test_text_in_history_number_column(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["History"] = [
        ["Date", "SPX Close", "Advances"],
        [dt.date(2018, 1, 25), "n/a", 1200],
        [dt.date(2018, 1, 26), 2872.87, "many"],
    ]
    found = {(i.cell, i.column): i.message for i in errors(tmp_path, sheets)}
    assert found == {
        ("B2", "SPX Close"): "'n/a' is not a number",
        ("C3", "Advances"): "'many' is not a number",
    }


def test_market_problems(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["Market"] = [
        ["Field", "Value"],
        ["As Of", 43126],
        ["SPX", -1],
        ["VIX", "high"],
        ["Dividend Yield", 1.8],
        ["spx", 2800],
    ]
    issues = errors(tmp_path, sheets)
    found = {(i.cell, i.column): i.message for i in issues}
    assert found[("B2", "As Of")] == (
        "As Of: 43126 is a number, not a date: format the cell as a date"
    )
    assert found[("B3", "SPX")] == "SPX -1 must be above 0"
    assert found[("B4", "VIX")] == "VIX: 'high' is not a number"
    assert "180%" in found[("B5", "Dividend Yield")]
    assert "rows 3 and 6" in found[("A6", "Field")]
    assert any(i.cell is None and "'Rate'" in i.message for i in issues)
    assert len(issues) == 6


def test_vix_futures_checks(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["VIX Futures"] = [
        ["Expiry", "Price"],
        [dt.date(2018, 3, 21), 13.85],
        [dt.date(2018, 1, 17), 11.0],  # expired: a warning, not an error
        [dt.date(2018, 2, 14), 12.95],
    ]
    inputs = read(tmp_path, sheets).inputs
    assert list(inputs.vix_futures["expiry"]) == [dt.date(2018, 2, 14), dt.date(2018, 3, 21)]
    assert list(inputs.vix_futures["row"]) == [4, 2]
    assert any(w.sheet == "VIX Futures" and "rows 3" in w.message for w in inputs.warnings)

    sheets["VIX Futures"] = [
        ["Expiry", "Price"],
        [dt.date(2018, 2, 14), 12.95],
        [dt.date(2018, 3, 21), 0],
        [dt.date(2018, 2, 14), 13.0],
    ]
    found = {(i.cell, i.column): i.message for i in errors(tmp_path, sheets)}
    assert found[("B3", "Price")] == "Price 0 must be above 0"
    assert "rows 2 and 4" in found[("A4", "Expiry")]


def test_duplicate_setting(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["Settings"] = [["Setting", "Value"], ["engine.sizer", "a"], ["Engine.Sizer", "b"]]
    issue = only(errors(tmp_path, sheets))
    assert (issue.sheet, issue.cell) == ("Settings", "A3")
    assert "rows 2 and 3" in issue.message


def test_several_errors_are_reported_together(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["Positions"] = [POSITIONS_HEADER, leg(strike="abc"), leg(entry_price=-1, type="X")]
    sheets["Market"] = [*sheets["Market"]]
    sheets["Market"][6] = ["Rate", 4.5]
    del sheets["History"]
    places = {(i.sheet, i.cell) for i in errors(tmp_path, sheets)}
    assert places == {
        ("Positions", "E2"),
        ("Positions", "H3"),
        ("Positions", "C3"),
        ("Market", "B7"),
        ("History", None),
    }


# --- file-level problems ------------------------------------------------------------------------


def test_encrypted_workbook_is_a_workbook_error() -> None:
    with pytest.raises(WorkbookError) as info:
        read_workbook(ENCRYPTED)
    message = str(info.value)
    assert str(ENCRYPTED) in message
    assert "encrypted" in message and "password" in message


def test_missing_and_non_workbook_files(tmp_path: Path) -> None:
    with pytest.raises(WorkbookError, match="no such file"):
        read_workbook(tmp_path / "nope.xlsx")
    text = tmp_path / "notes.xlsx"
    text.write_text("Date,Close\n")
    with pytest.raises(WorkbookError, match=r"notes\.xlsx: the file is not an Excel workbook"):
        read_workbook(text)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(WorkbookError, match=r"broken\.xlsx"):
        read_workbook(broken)


# --- header matching and speed --------------------------------------------------------------------


def _variant(draw: st.DrawFn, header: str) -> str:
    """The header with random case, and random spaces/underscores between and around letters."""
    out = []
    for ch in header:
        if ch == " ":
            out.append(draw(st.sampled_from([" ", "_", "", "  ", " _ "])))
        else:
            out.append(ch.upper() if draw(st.booleans()) else ch.lower())
            out.append(draw(st.sampled_from(["", "", "", " ", "_"])))
    return draw(st.sampled_from(["", " "])) + "".join(out)


@st.composite
def positions_headers(draw: st.DrawFn) -> list[str]:
    columns = SHEET_COLUMNS["Positions"]
    return [_variant(draw, col.header) for col in draw(st.permutations(columns))]


@settings(max_examples=200, deadline=None)
@given(positions_headers())
def test_header_matching_ignores_case_spaces_and_underscores(headers: list[str]) -> None:
    columns = SHEET_COLUMNS["Positions"]
    problems = Problems()
    table = parse_table("Positions", [headers, ["x"] * len(headers)], (0, 2), columns, problems)
    assert problems.errors == []
    assert table is not None
    assert set(table.letters) == {col.field for col in columns}
    assert table.extras == ()
    for col in columns:
        position = next(
            j for j, h in enumerate(headers) if h.replace(" ", "").replace("_", "").lower()
            == col.header.replace(" ", "").lower()
        )  # fmt: skip
        assert table.letters[col.field] == "CDEFGHIJKLMN"[position]


def test_a_long_history_is_read_whole(tmp_path: Path) -> None:
    """2,600 daily rows (its speed is in benchmarks/bench_recompute.py's read stage)."""
    days = [dt.date(2018, 1, 26) - dt.timedelta(days=i) for i in range(2600)]
    sheets = valid_sheets()
    sheets["History"] = [
        ["Date", "SPX Close", "SPX High", "SPX Low", "VIX Close"],
        *([d, 2000.0 + i, 2010.0 + i, 1990.0 + i, 15.0] for i, d in enumerate(days)),
    ]
    history = read_workbook(write_book(tmp_path / "big.xlsx", sheets)).inputs.history
    assert len(history) == 2600
    assert history["spx_close"].iloc[-1] == 2000.0  # the newest day, sorted last


def test_legacy_and_oversized_files_are_refused(tmp_path: Path) -> None:
    legacy = tmp_path / "old.xls"
    legacy.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 512)
    with pytest.raises(WorkbookError, match=r"old\.xls: this is an old-format \.xls"):
        read_workbook(legacy)
    crowded = tmp_path / "crowded.xlsx"
    with zipfile.ZipFile(crowded, "w") as package:
        for k in range(10_001):
            package.writestr(f"p{k}", b"")
    with pytest.raises(WorkbookError, match="10001 parts"):
        read_workbook(crowded)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("nan", f"'nan' {NOT_FINITE}"), ("inf", f"'inf' {NOT_FINITE}"),
     (float("inf"), f"inf {NOT_FINITE}"), (float("-inf"), f"-inf {NOT_FINITE}"),
     (float("nan"), f"nan {NOT_FINITE}"), ("1e309", f"'1e309' {NOT_FINITE}"),
     (dt.date(2018, 1, 2), "2018-01-02 is a date, not a number: format the cell as a number"),
     (dt.time(9, 30), "09:30:00 is a time or duration, not a number")],
)  # fmt: skip
def test_number_cells_refuse_non_numbers(raw: RawCell, expected: str) -> None:
    with pytest.raises(CellError) as info:
        to_number(raw)
    assert str(info.value) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(True, "TRUE is a true/false value, not a date"),
     ("1899-12-31", "1899-12-31 is before 1900-01-01, the first date Excel can hold"),
     (dt.date(1800, 5, 1), "1800-05-01 is before 1900-01-01, the first date Excel can hold"),
     ("26/01/2018", "'26/01/2018' is not a date: enter a date cell or ISO text like 2018-01-26"),
     (dt.timedelta(days=1), "1 day, 0:00:00 is a time or duration, not a date")],
)  # fmt: skip
def test_date_cells_refuse_non_dates(raw: RawCell, expected: str) -> None:
    with pytest.raises(CellError) as info:
        to_date(raw)
    assert str(info.value) == expected


def test_implausible_sizes_and_zero_iv_are_errors(tmp_path: Path) -> None:
    found = {
        (i.cell, i.column): i.message
        for i in errors(tmp_path, with_leg(leg(qty=1e308, strike=5e6, iv=0)))
    }
    assert "implausibly large" in found[("F2", "Qty")] and "1e+308" in found[("F2", "Qty")]
    assert "implausibly large" in found[("E2", "Strike")]
    assert "IV is 0" in found[("I2", "IV")]
