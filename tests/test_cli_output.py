"""What `alvh` prints: the answer first, the JSON document for scripts, whole command lines in
`alvh --help`."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from cli_support import EXAMPLE, cells, edit, set_market, set_setting, table
from click.testing import CliRunner, Result

from rules_engine.cli import main, summary_lines

TEST_PLUGINS = Path(__file__).parent / "plugins"
KEYS = ["status", "file", "as_of", "sizer", "summary", "layers", "signals", "messages", "changed"]
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def run(*args: str, **extra: object) -> Result:
    return CliRunner().invoke(main, list(args), **extra)  # type: ignore[arg-type]


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = tmp_path / "book.xlsx"
    shutil.copy(EXAMPLE, path)
    return path


def document(result: Result) -> dict:
    """stdout as one JSON document (json.loads refuses anything around it)."""
    doc = json.loads(result.stdout)
    assert list(doc) == KEYS
    return doc


# --- the summary lines --------------------------------------------------------------------------


def test_summary_lines_align_and_format_by_label() -> None:
    lines = summary_lines(
        [
            ("Order 1", "Buy 69 x VIX Mar 2018 19/29 call spread at 0.33 limit"),
            ("", "Sell half of VIX Feb 2018 18 call"),
            ("Projected loss in VIX +6 ($)", 12345.678),
            ("Covered in VIX +6", 0.5689),
            ("Target share in VIX +6", 0.6),
            ("Carry per day ($)", -7.16),
            ("Covered in the worst analog, 2020-02-19 to 2020-03-16 (loss $41,718)", 1.464),
            ("Layer changes since the last recompute", 2),
        ]
    )
    assert lines == [
        "Order 1:                                Buy 69 x VIX Mar 2018 19/29 call spread at 0.33 "
        "limit",
        "                                        Sell half of VIX Feb 2018 18 call",
        "Projected loss in VIX +6 ($):           12,346",
        "Covered in VIX +6:                      57%",
        "Target share in VIX +6:                 60%",
        "Carry per day ($):                      -7",
        "Covered in the worst analog, 2020-02-19 to 2020-03-16 (loss $41,718): 146%",
        "Layer changes since the last recompute: 2",
    ]
    assert summary_lines([]) == []


def test_recompute_prints_the_summary_then_the_layers_then_where_they_went(
    book: Path, tmp_path: Path
) -> None:
    twin = tmp_path / "twin.xlsx"
    shutil.copy(book, twin)
    doc = document(run("recompute", "--json", str(twin)))
    result = run("recompute", str(book))
    assert result.exit_code == 0, result.output
    summary = [(line["label"], line["value"]) for line in doc["summary"]]
    assert summary and summary[0][0].startswith("Order")
    out = result.stdout.splitlines()
    expected = summary_lines(summary)
    assert out[: len(expected)] == expected
    money = next(line for line in out if line.startswith("Premium budget ($):"))
    assert re.fullmatch(r"Premium budget \(\$\): +[\d,]+", money)  # dollars, no cents
    covered = next(line for line in out if line.startswith("Covered in "))
    assert re.fullmatch(r"Covered in .*: +\d+%", covered)  # a share, as a percent
    header = out[len(expected)]
    assert header.split()[:3] == ["Layer", "Status", "Instrument"]
    assert out[-1] == f"{book}: recomputed; Hedge, Signals, Risk, Run and Log sheets written."
    assert run("recompute", "--quiet", str(book)).stdout == ""
    assert document(run("recompute", "--quiet", "--json", str(book)))["status"] == "ok"


def test_a_run_with_input_errors_prints_no_summary(book: Path) -> None:
    edit(book, set_market("SPX", "abc"))
    result = run("recompute", str(book))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "Market!B3" in result.stderr


# --- --json -------------------------------------------------------------------------------------


def test_json_of_the_example_is_what_the_sheets_hold(book: Path) -> None:
    result = run("recompute", "--json", str(book))
    assert result.exit_code == 0, result.stderr
    doc = document(result)
    assert doc["status"] == "ok" and doc["changed"] is True
    assert (doc["file"], doc["as_of"], doc["sizer"]) == (str(book), "2018-01-26", "alvh")
    hedge = table(book, "Hedge", cells(book, "Hedge")[2][0])
    assert [layer["Layer"] for layer in doc["layers"]] == [
        int(h["Layer"]) if isinstance(h["Layer"], float) else h["Layer"] for h in hedge
    ]
    first = doc["layers"][0]
    assert list(first) == list(hedge[0])  # every column, keyed by the sheet's headers
    assert first["Contracts"] == hedge[0]["Contracts"] and first["Status"] == "ACTIVE"
    assert ISO_DATE.fullmatch(first["Expiry"])
    total = doc["layers"][-1]
    assert total["Layer"] == "All ACTIVE" and total["Expiry"] is None  # a blank cell is null
    signals = {s["Signal"]: s for s in doc["signals"]}
    assert signals["rsi"]["Status"] == "triggered" and signals["rsi"]["Value"] > 70
    assert signals["rsi"]["Triggered"] is True
    assert signals["macro"]["Status"] == "not evaluated" and signals["macro"]["Value"] is None
    messages = table(book, "Run", "Messages (errors name the sheet and cell to fix)")
    assert [m["message"] for m in doc["messages"]] == [m["Message"] for m in messages]
    assert {m["severity"] for m in doc["messages"]} <= {"error", "warning", "info"}
    labels = [line["label"] for line in doc["summary"]]
    assert labels[0].startswith("Order") and isinstance(doc["summary"][0]["value"], str)


def test_json_of_a_workbook_with_input_errors(book: Path) -> None:
    edit(book, set_market("SPX", "abc"))
    result = run("recompute", "--json", str(book))
    assert result.exit_code == run("recompute", str(book)).exit_code == 1
    doc = document(result)
    assert doc["status"] == "input errors" and doc["changed"] is True  # the Run sheet says why
    assert doc["summary"] == doc["layers"] == doc["signals"] == []
    (error,) = [m for m in doc["messages"] if m["severity"] == "error"]
    assert error["where"].startswith("Market!B3") and error["source"]
    assert "Market!B3" in result.stderr  # the text for people still goes to stderr
    again = document(run("recompute", "--json", str(book)))
    assert again["changed"] is False  # the same errors again: the same bytes


def test_json_when_the_file_cannot_be_read(tmp_path: Path) -> None:
    missing = tmp_path / "nope.xlsx"
    text = run("recompute", str(missing))
    result = run("recompute", "--json", str(missing))
    assert result.exit_code == text.exit_code == 2
    doc = document(result)
    assert doc["status"] == "file error" and doc["changed"] is False
    assert doc["as_of"] is None and doc["layers"] == []
    (error,) = doc["messages"]
    assert error["severity"] == "error" and "cannot read" in error["message"]


def test_json_when_the_sizer_fails(book: Path, tmp_path: Path) -> None:
    folder = tmp_path / "plugins"
    folder.mkdir()
    shutil.copy(TEST_PLUGINS / "exiting_sizer.py", folder)
    edit(book, set_setting("engine.sizer", "exiting"))
    result = run("recompute", "--json", str(book), "--plugins-dir", str(folder))
    assert result.exit_code == 3
    doc = document(result)
    assert doc["status"] == "plugin failed" and doc["sizer"] == "exiting"
    assert doc["summary"] == doc["layers"] == [] and doc["signals"]


def test_json_stdout_holds_the_document_alone_when_a_plugin_prints(
    book: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "chatty.py").write_text(
        "from rules_engine import Reading, Signal, hookimpl\n"
        "print('loading chatty')\n"
        "def evaluate(ctx):\n"
        "    print('chatty evaluates')\n"
        "    return Reading(value=1.0, triggered=False, strength=0.0, explanation='quiet')\n"
        "@hookimpl\n"
        "def alvh_register_signals(register):\n"
        "    register(Signal('chatty', evaluate))\n"
    )
    result = run("recompute", "--json", str(book), "--plugins-dir", str(folder))
    assert result.exit_code == 0, result.stderr
    assert "chatty" in {s["Signal"] for s in document(result)["signals"]}
    assert "loading chatty" in result.stderr and "chatty evaluates" in result.stderr


# --- alvh --help --------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [80, 50])
def test_help_lists_each_command_with_its_whole_first_sentence(width: int) -> None:
    result = run("--help", terminal_width=width)
    assert result.exit_code == 0
    listing = result.stdout.split("Commands:\n", 1)[1]
    assert "..." not in listing
    entries: dict[str, str] = {}
    for line in listing.splitlines():
        name, _, text = line.strip().partition(" ")
        if line.startswith("  ") and not line.startswith("   "):
            entries[name] = text.strip()
        elif line.strip():
            last = list(entries)[-1]
            entries[last] += " " + line.strip()
    assert set(entries) == set(main.commands)
    for name, command in main.commands.items():
        help_text = " ".join((command.help or "").split())
        sentence = help_text[: help_text.index(".") + 1]
        assert entries[name] == sentence, name
        assert len(sentence) > 20 and sentence[0].isupper()
