"""The whole path through the CLI: init an example, recompute, read the cells back, break inputs."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from cli_support import cells, edit, header_letters, set_cell, table
from click.testing import CliRunner

from rules_engine.cli import main
from rules_engine.contract import LOG, LOG_COLUMNS, OWNED_MARKER, OWNED_SHEETS

TEST_PLUGINS = Path(__file__).parent / "plugins"
OWNED = OWNED_SHEETS
LISTING_PARTS = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"}
STYLES = {"xl/styles.xml"}


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def example_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("example") / "book.xlsx"
    result = run("init", str(path), "--example")
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def example(example_template, tmp_path) -> Path:
    path = tmp_path / "book.xlsx"
    shutil.copy(example_template, path)
    return path


def sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> zip part name, from workbook.xml and its relationships."""
    import re

    with zipfile.ZipFile(path) as z:
        wb = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    targets = dict(re.findall(r'Id="(rId\d+)"[^>]*Target="([^"]+)"', rels))
    targets |= {k: v for v, k in re.findall(r'Target="([^"]+)"[^>]*Id="(rId\d+)"', rels)}
    out = {}
    for name, rid in re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="(rId\d+)"', wb):
        target = targets[rid].lstrip("/")
        out[name] = target if target.startswith("xl/") else f"xl/{target}"
    return out


def raw_entries(path: Path) -> dict[str, tuple[int, bytes]]:
    """Each zip entry's CRC and compressed bytes, read straight from the file."""
    data = path.read_bytes()
    out = {}
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            start = info.header_offset
            name_len = int.from_bytes(data[start + 26 : start + 28], "little")
            extra_len = int.from_bytes(data[start + 28 : start + 30], "little")
            body = start + 30 + name_len + extra_len
            out[info.filename] = (info.CRC, data[body : body + info.compress_size])
    return out


def test_example_recompute_fills_every_owned_sheet(example):
    result = run("recompute", str(example))
    assert result.exit_code == 0, result.output + result.stderr
    assert "Layer" in result.output and "ACTIVE" in result.output
    for name in OWNED:
        assert str(cells(example, name)[0][0]).startswith(OWNED_MARKER)
    rows = table(example, "Hedge", cells(example, "Hedge")[2][0])
    hedge = [h for h in rows if h["Layer"] != "All ACTIVE"]
    statuses = [h["Status"] for h in hedge]
    # the plan: at least one layer bought now, and one planned or waiting for budget, each with
    # its trigger and reason
    assert "ACTIVE" in statuses and {"STANDBY", "UNFUNDED"} & set(statuses)
    assert all(h["Trigger"] and h["Why"] and h["Exit Rule"] for h in hedge)
    for h in hedge:
        assert h["Contracts"] > 0
        assert h["Cost ($)"] == pytest.approx(h["Contracts"] * h["Price (VIX pts)"] * 100)
        assert h["Instrument"].startswith("VIX ")
    budget = {r["Budget"]: r["Amount ($)"] for r in table(example, "Hedge", "Premium budget ($)")}
    used = sum(h["Cost ($)"] for h in hedge if h["Status"] == "ACTIVE")
    assert budget["Used by the ACTIVE layers ($)"] == pytest.approx(used)
    assert used <= budget["Premium budget, 25% of it ($)"] + 1e-6
    signals = {s["Signal"]: s for s in table(example, "Signals", cells(example, "Signals")[2][0])}
    # 2018-01-26: SPX had rallied for weeks; RSI(14) was far above 70
    assert signals["rsi"]["Status"] == "triggered" and signals["rsi"]["Value"] > 70
    structures = table(example, "Risk", "Structures ($ per position; P&L by full repricing)")
    condors = [s for s in structures if s["Structure"] == "iron condor"]
    assert len(condors) == 3
    assert all(c["Credit ($)"] > 0 and c["Max Loss ($)"] > c["Credit ($)"] for c in condors)
    scen = table(example, "Risk", "VIX spike scenarios at each horizon, hedged vs unhedged ($)")
    today = [s for s in scen if s["Horizon"] == "today"]
    assert [s["Scenario"] for s in today] == ["VIX +5", "VIX +6", "VIX +10", "VIX +20"]
    assert {s["Horizon"] for s in scen} == {"today", "T+7", "T+21 (condor expiry 2018-02-16)"}
    assert all(s["Book P&L Unhedged ($)"] < 0 for s in today)
    assert all(s["Book + All Hedges ($)"] > s["Book P&L Unhedged ($)"] for s in today)
    for s in scen:
        assert s["Book + All Hedges ($)"] == pytest.approx(
            s["Book P&L Unhedged ($)"]
            + s["Existing Hedges at Exit ($)"]
            + s["Active Layers at Exit ($)"]
        )
    analogs = table(
        example, "Risk", "Historical analogs: today's book meets each past move at once"
    )
    assert [a["End"] for a in analogs] == [
        dt.date(2018, 2, 5),
        dt.date(2018, 12, 24),
        dt.date(2020, 3, 16),
        dt.date(2024, 8, 5),
        dt.date(2025, 4, 8),
    ]
    assert all(a["Book Unhedged ($)"] < 0 for a in analogs)
    run_info = {r["Field"]: r["Value"] for r in table(example, "Run", "Run")}
    assert run_info["Status"] == "OK"


def log_table(path: Path) -> list[dict]:
    return table(path, LOG, cells(path, LOG)[2][0])


def hedge_layers(path: Path) -> list[dict]:
    """The Hedge table's layer rows (a total row has no layer number)."""
    rows = table(path, "Hedge", cells(path, "Hedge")[2][0])
    return [r for r in rows if isinstance(r["Layer"], float)]


def test_recompute_is_repeatable_and_leaves_every_other_part_byte_identical(example):
    """Recomputing unchanged inputs rewrites every owned sheet but the Log byte for byte (the
    first run has no earlier one to compare with, so its Run sheet and the Hedge sheet's answer
    may say so), and the Log gains one row per layer per recompute, each run's rows with one time
    and the same hash."""
    before = raw_entries(example)
    assert run("recompute", str(example)).exit_code == 0
    first = raw_entries(example)
    parts = sheet_parts(example)
    owned = {parts[name] for name in OWNED}
    changed = {n for n in before if before[n] != first.get(n)}
    allowed = owned | LISTING_PARTS | STYLES  # the cell styles the output needs, once
    assert changed <= allowed, changed - allowed
    assert set(before) <= set(first)
    results = ("Hedge", "Signals", "Risk")
    snapshot = {name: cells(example, name) for name in results}
    layers = len(hedge_layers(example))
    assert layers > 0
    assert len(log_table(example)) == layers
    assert run("recompute", str(example)).exit_code == 0
    for name in results:
        now = cells(example, name)
        assert len(now) == len(snapshot[name]), name
        differ = [was for was, row in zip(snapshot[name], now, strict=True) if was != row]
        assert all("none: first recompute" in was for was in differ), (name, differ)
    second = raw_entries(example)
    assert run("recompute", str(example)).exit_code == 0
    third = raw_entries(example)
    log_part = parts[LOG]
    assert {n: e for n, e in third.items() if n != log_part} == {
        n: e for n, e in second.items() if n != log_part
    }  # the third write changes no byte of any part but the Log's
    log = log_table(example)
    assert len(log) == 3 * layers
    assert list(log[0]) == list(LOG_COLUMNS)
    runs = [log[k * layers : (k + 1) * layers] for k in range(3)]
    for rows in runs:
        assert len({r["Run (UTC)"] for r in rows}) == 1
    assert runs[0][0]["Run (UTC)"] < runs[1][0]["Run (UTC)"] < runs[2][0]["Run (UTC)"]
    assert len({r["Inputs Hash"] for r in log}) == 1
    hedge = hedge_layers(example)
    for rows in runs:
        assert [(r["Layer"], r["Status"], r["Contracts"]) for r in rows] == [
            (h["Layer"], h["Status"], h["Contracts"]) for h in hedge
        ]


def test_a_run_with_bad_inputs_keeps_the_logs_earlier_rows(example):
    assert run("recompute", str(example)).exit_code == 0
    edit(example, set_cell("Positions", "Strike", 3, "abc"))
    logged = log_table(example)  # as openpyxl saved it (it keeps 16 digits of a float)
    assert logged
    assert run("recompute", str(example)).exit_code == 1
    assert log_table(example) == logged


def test_plugin_folder_signal_appears_and_a_raising_plugin_is_named(example, tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir()
    for name in ("always_warn", "raising_signal"):
        shutil.copy(TEST_PLUGINS / f"{name}.py", folder)
    result = run("recompute", str(example), "--plugins-dir", str(folder))
    assert result.exit_code == 0, result.output
    signals = {s["Signal"]: s for s in table(example, "Signals", cells(example, "Signals")[2][0])}
    assert signals["always_warn"]["Status"] == "triggered"
    assert signals["always_warn"]["Plugin"] == "always_warn"
    assert signals["explodes"]["Status"] == "failed"
    assert "boom from raising_signal" in signals["explodes"]["Explanation"]
    assert signals["rsi"]["Status"] == "triggered"
    messages = table(example, "Run", "Messages (errors name the sheet and cell to fix)")
    assert any(m["Source"] == "raising_signal" and "explodes" in m["Message"] for m in messages)
    hedge = table(example, "Hedge", cells(example, "Hedge")[2][0])
    assert hedge[0]["Status"] == "ACTIVE" and hedge[-1]["Layer"] == "All ACTIVE"
    assert "raising_signal" in result.stderr


def delete_sheet(sheet: str):
    def change(wb):
        del wb[sheet]

    return change


def delete_column(sheet: str, header: str):
    def change(wb):
        ws = wb[sheet]
        ws.delete_cols(ws[f"{header_letters(ws)[header]}1"].column)

    return change


def clear_positions(wb):
    ws = wb["Positions"]
    ws.delete_rows(2, ws.max_row)


def crossed_condor(wb):
    """Row 2 is a long put below the short put of its condor: move it above the short call."""
    ws = wb["Positions"]
    letters = header_letters(ws)
    ws[f"{letters['Strike']}2"] = 3100


BAD_INPUTS = {
    "missing sheet": (delete_sheet("Market"), "Market", None, None),
    "missing column": (delete_column("Positions", "Strike"), "Positions", None, "Strike"),
    "non-numeric strike": (set_cell("Positions", "Strike", 3, "abc"), "Positions", 3, "Strike"),
    "expiry before as-of": (
        set_cell("Positions", "Expiry", 4, __import__("datetime").datetime(2018, 1, 19)),
        "Positions",
        4,
        "Expiry",
    ),
    "negative price": (
        set_cell("Positions", "Entry Price", 5, -1.5),
        "Positions",
        5,
        "Entry Price",
    ),
    "crossed condor": (crossed_condor, "Positions", 2, "Strike"),
    "empty positions": (clear_positions, "Positions", 2, None),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_named_in_run_and_stderr_and_inputs_stay_untouched(example, case):
    change, sheet, row, column = BAD_INPUTS[case]
    edit(example, change)
    letters = {}
    if column:
        wb = openpyxl.load_workbook(example, read_only=True)
        if sheet in wb.sheetnames:
            letters = {str(c.value): c.column_letter for c in next(wb[sheet].iter_rows(max_row=1))}
        wb.close()
    before = raw_entries(example)
    parts_before = sheet_parts(example)
    result = run("recompute", str(example))
    assert result.exit_code == 1, result.output + result.stderr
    expected = sheet
    if row is not None:
        col = letters.get(column, "A") if column else "A"
        expected = f"{sheet}!{col}{row}"
    if column:
        expected += f" ({column})" if row is not None else ""
        assert column in result.stderr
    assert expected in result.stderr, result.stderr
    messages = table(example, "Run", "Messages (errors name the sheet and cell to fix)")
    errors = [m for m in messages if m["Severity"] == "ERROR"]
    assert errors and any(m["Where"].startswith(expected) for m in errors), errors
    assert "Not computed" in cells(example, "Hedge")[3][0]
    after = raw_entries(example)
    for name, part in parts_before.items():
        if name not in OWNED:
            assert after[part] == before[part], f"input sheet {name} changed"
