"""Bad rows of the optional option chains are skipped with a warning naming sheet, cell and column;
the VIX Futures curve warns about rows out of order and outlying prices. The rest still reads."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from reader_books import POSITIONS_HEADER, Rows, valid_sheets, write_book

from rules_engine.models import InputError, Inputs, Issue
from rules_engine.workbook.reader import read_workbook

FEB, MAR = dt.date(2018, 2, 14), dt.date(2018, 3, 21)  # the futures of valid_sheets()
VIX_HEADER = ["Expiry", "Strike", "Call Bid", "Call Ask", "IV", "Open Interest"]
SPX_HEADER = ["Expiry", "Strike", "Call Bid", "Call Ask", "Put Bid", "Put Ask"]
SPX = 2872.87  # Market SPX of valid_sheets()


def read(tmp_path: Path, **sheets: Rows) -> Inputs:
    book = valid_sheets()
    book.update({name.replace("_", " "): rows for name, rows in sheets.items()})
    return read_workbook(write_book(tmp_path / "book.xlsx", book)).inputs


def warnings_on(inputs: Inputs, sheet: str) -> dict[tuple[str | None, str | None], Issue]:
    """The sheet's cell warnings by (cell, column); each cell is warned about once."""
    found = [w for w in inputs.warnings if w.sheet == sheet and w.cell is not None]
    by_cell = {(w.cell, w.column): w for w in found}
    assert len(by_cell) == len(found), [str(w) for w in found]
    return by_cell


def assert_rest_is_read(inputs: Inputs) -> None:
    assert list(inputs.positions["row"]) == [2, 3, 4, 5]
    assert list(inputs.vix_futures["price"]) == [12.95, 13.85]
    assert len(inputs.history) == 3
    assert inputs.market["spx"] == SPX


def test_bad_vix_option_rows_are_skipped_each_named_by_cell(tmp_path: Path) -> None:
    inputs = read(
        tmp_path,
        VIX_Options=[
            VIX_HEADER,
            [FEB, 15, 0.55, 0.60, 0.80, 1000],  # 2: good
            [FEB, 16, 0.40, 0.45, 0, 100],  # 3: IV 0
            [FEB, 17, 0.30, 0.35, 5.0, 100],  # 4: IV 500%
            [FEB, 18, 0.25, 0.30, -0.1, 100],  # 5: negative IV
            [FEB, 250, 0.01, 0.02, 0.9, 100],  # 6: strike above 200
            [FEB, 0.5, 12.0, 12.5, 0.9, 100],  # 7: strike below 1
            [FEB, 19, 1.20, 1.00, 0.9, 100],  # 8: bid above ask
            [dt.date(2018, 2, 21), 15, 0.5, 0.6, 0.8, 100],  # 9: no future of that expiry
            [MAR, 15, 1.10, 1.20, 0.75, 500],  # 10: good
            [FEB, 15, 0.56, 0.61, 0.80, 900],  # 11: same expiry and strike as row 2
            [MAR, 16, 0.90, 1.00, 25, 100],  # 12: IV typed as 25 meaning 25%
            [MAR, "abc", 0.9, 1.0, 0.7, 100],  # 13: strike not a number
            [None, 17, 0.8, 0.9, 0.7, 100],  # 14: no expiry
            [dt.date(2018, 1, 17), 15, 0.1, 0.2, 0, 100],  # 15: expired (its IV 0 is moot)
        ],
    )
    assert inputs.vix_options is not None
    assert list(inputs.vix_options["row"]) == [2, 10]
    assert list(inputs.vix_options["strike"]) == [15.0, 15.0]
    found = warnings_on(inputs, "VIX Options")
    expected = {
        ("E3", "IV"): "IV 0 is not above 0",
        ("E4", "IV"): "IV 5 (500%) is above 300%",
        ("E5", "IV"): "IV -0.1 is not above 0",
        ("B6", "Strike"): "Strike 250 is outside the plausible range 1 to 200",
        ("B7", "Strike"): "Strike 0.5 is outside the plausible range 1 to 200",
        ("C8", "Call Bid"): "Call Bid 1.2 is above Call Ask 1",
        ("A9", "Expiry"): "expiry 2018-02-21 matches no live contract of the VIX Futures sheet "
        "(2018-02-14, 2018-03-21)",
        ("A11", "Expiry"): "expiry 2018-02-14 strike 15 appears twice (rows 2 and 11)",
        ("E12", "IV"): "a percentage typed as a number? enter 0.25 or 25%",
        ("B13", "Strike"): "'abc' is not a number",
        ("A14", "Expiry"): "Expiry is blank",
    }
    assert set(found) == set(expected)
    for (cell, column), words in expected.items():
        message = found[(cell, column)].message
        assert words in message, message
        row = cell.lstrip("ABCDEF")
        assert message.endswith(f"; row {row} is skipped"), message
    expired = [w.message for w in inputs.warnings if w.sheet == "VIX Options" and w.cell is None]
    assert expired == [
        "1 expired contract(s) with expiry before the As Of date 2018-01-26 (Market!B2) are "
        "ignored (rows 15)"
    ]
    assert_rest_is_read(inputs)


def test_vix_options_are_not_matched_to_a_curve_without_live_contracts(tmp_path: Path) -> None:
    inputs = read(
        tmp_path,
        VIX_Futures=[["Expiry", "Price"], [dt.date(2018, 1, 17), 11.0]],
        VIX_Options=[VIX_HEADER, [dt.date(2018, 2, 21), 15, 0.5, 0.6, 0.8, 100]],
    )
    assert inputs.vix_options is not None
    assert list(inputs.vix_options["row"]) == [2]
    assert not warnings_on(inputs, "VIX Options")


def test_bad_spx_option_rows_are_skipped_against_the_market_level(tmp_path: Path) -> None:
    low, high = 0.2 * SPX, 5.0 * SPX  # 574.574 and 14,364.35
    inputs = read(
        tmp_path,
        SPX_Options=[
            SPX_HEADER,
            [dt.date(2018, 2, 16), 2850, 40, 41, 30, 31],  # 2: good (no VIX future needed)
            [dt.date(2018, 2, 16), 574, 2290, 2300, 0.05, 0.1],  # 3: just below 0.2x SPX
            [dt.date(2018, 2, 16), 575, 2290, 2300, 0.05, 0.1],  # 4: just inside
            [dt.date(2018, 2, 16), 15000, 0, 0.05, 12100, 12200],  # 5: above 5x SPX
            [dt.date(2018, 2, 16), 2900, 20, 21, 50, 45],  # 6: put bid above put ask
            [dt.date(2018, 3, 16), 2850, 60, 61, 50, -1],  # 7: negative ask
        ],
    )
    assert inputs.spx_options is not None
    assert list(inputs.spx_options["row"]) == [4, 2]  # sorted by expiry, then strike
    found = warnings_on(inputs, "SPX Options")
    assert set(found) == {("B3", "Strike"), ("B5", "Strike"), ("E6", "Put Bid"), ("F7", "Put Ask")}
    assert 574 < low < 575 < 15000 and high < 15000
    span = "the plausible range 574.574 to 14,364.3 (0.2x to 5x the Market SPX 2,872.87)"
    assert found[("B3", "Strike")].message == f"Strike 574 is outside {span}; row 3 is skipped"
    assert found[("B5", "Strike")].message == f"Strike 15000 is outside {span}; row 5 is skipped"
    assert found[("E6", "Put Bid")].message == (
        "Put Bid 50 is above Put Ask 45: a crossed quote is not a price; row 6 is skipped"
    )
    assert found[("F7", "Put Ask")].message.endswith(
        "is negative: enter 0 or more; row 7 is skipped"
    )
    assert_rest_is_read(inputs)


def test_futures_out_of_order_get_one_warning_at_the_first_such_row(tmp_path: Path) -> None:
    inputs = read(
        tmp_path,
        VIX_Futures=[
            ["Expiry", "Price"],
            [MAR, 13.85],
            [FEB, 12.95],  # 3: the first out of order
            [dt.date(2018, 4, 18), 14.6],
            [dt.date(2018, 1, 17), 11.0],  # 5: out of order too, and expired
        ],
    )
    assert list(inputs.vix_futures["row"]) == [3, 2, 4]
    order = [w for w in inputs.warnings if "ascending order" in w.message]
    assert [(w.sheet, w.cell, w.column) for w in order] == [("VIX Futures", "A3", "Expiry")]
    assert order[0].message.startswith(
        "expiry 2018-02-14 in row 3 is earlier than 2018-03-21 in row 2 above it"
    )
    assert "read sorted by expiry" in order[0].message


@pytest.mark.parametrize(
    ("prices", "cell", "words"),
    [
        # median of 12.95, 13.85, 139.5, 14.6 is (13.85 + 14.6) / 2 = 14.225; 139.5 / 14.225 = 9.81
        ((12.95, 13.85, 139.5, 14.6), "B4", "Price 139.5 is 9.81x the median 14.225 of the 4"),
        # median of 12.95, 1.385, 14.6 is 12.95; 1.385 / 12.95 = 0.107
        ((12.95, 1.385, 14.6), "B3", "Price 1.385 is 0.107x the median 12.95 of the 3"),
    ],
)
def test_a_future_far_from_the_curve_is_warned_at_its_cell(
    tmp_path: Path, prices: tuple[float, ...], cell: str, words: str
) -> None:
    expiries = [FEB, MAR, dt.date(2018, 4, 18), dt.date(2018, 5, 16)]
    rows = [["Expiry", "Price"], *([e, p] for e, p in zip(expiries, prices, strict=False))]
    inputs = read(tmp_path, VIX_Futures=rows)
    found = warnings_on(inputs, "VIX Futures")
    assert set(found) == {(cell, "Price")}
    assert found[(cell, "Price")].message.startswith(words)
    assert found[(cell, "Price")].message.endswith("It is used as given")
    assert list(inputs.vix_futures["price"]) == list(prices)  # kept, as given


def test_two_futures_cannot_tell_which_is_the_outlier(tmp_path: Path) -> None:
    inputs = read(tmp_path, VIX_Futures=[["Expiry", "Price"], [FEB, 12.95], [MAR, 139.5]])
    assert not warnings_on(inputs, "VIX Futures")


def test_positions_keep_their_errors(tmp_path: Path) -> None:
    book = valid_sheets()
    book["Positions"] = [
        POSITIONS_HEADER,
        ["IC1", "SPX", "Put", dt.date(2018, 3, 16), 2700, -10, None, 6.1, 0, None],
    ]
    with pytest.raises(InputError) as info:
        read_workbook(write_book(tmp_path / "book.xlsx", book))
    assert [(i.sheet, i.cell, i.column) for i in info.value.issues] == [("Positions", "I2", "IV")]
