"""The README's promises: its plugin example works as printed, its Quick start matches CI."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from cli_support import cells, edit, set_setting, table
from click.testing import CliRunner

from rules_engine.cli import main

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()


def example(hook: str) -> str:
    """The README's Python block that implements `hook`."""
    (code,) = [c for c in re.findall(r"```python\n(.*?)```", README, re.S) if hook in c]
    return code


def test_readme_plugin_example_adds_a_signal(tmp_path):
    code = example("alvh_register_signals")
    assert "\n## Write your own signal\n" in README
    assert len([line for line in code.splitlines() if line.strip()]) <= 25
    folder = tmp_path / "my-signals"
    folder.mkdir()
    (folder / "vix_jump.py").write_text(code)
    book = tmp_path / "book.xlsx"
    shutil.copy(ROOT / "workbooks" / "example.xlsx", book)
    result = CliRunner().invoke(main, ["recompute", str(book), "--plugins-dir", str(folder)])
    assert result.exit_code == 0, result.output
    (row,) = [
        r for r in table(book, "Signals", cells(book, "Signals")[2][0]) if r["Signal"] == "vix_jump"
    ]
    assert row["Plugin"] == "vix_jump" and row["Status"] in ("triggered", "not triggered")
    assert "x its 20-day mean" in row["Explanation"]


def test_readme_sizer_example_replaces_the_builtin_sizer(tmp_path):
    code = example("alvh_register_sizers")
    assert len([line for line in code.splitlines() if line.strip()]) <= 40
    folder = tmp_path / "my-sizers"
    folder.mkdir()
    (folder / "per_condor.py").write_text(code)
    book = tmp_path / "book.xlsx"
    shutil.copy(ROOT / "workbooks" / "example.xlsx", book)
    edit(book, set_setting("engine.sizer", "per_condor"))
    result = CliRunner().invoke(main, ["recompute", str(book), "--plugins-dir", str(folder)])
    assert result.exit_code == 0, result.output
    title = cells(book, "Hedge")[2][0]
    (layer,) = [row for row in table(book, "Hedge", title) if row["Layer"] != "All ACTIVE"]
    condors = table(book, "Risk", "Structures ($ per position; P&L by full repricing)")
    total = sum(row["Contracts"] for row in condors if row["Structure"] == "iron condor")
    assert layer["Contracts"] == total > 0
    assert layer["Trigger"] == "always" and layer["Instrument"].endswith(" call")
    assert layer["Cost ($)"] == pytest.approx(total * 100 * layer["Price (VIX pts)"])
    run_info = {r["Field"]: r["Value"] for r in table(book, "Run", "Run")}
    assert run_info["Sizer"] == "per_condor"


def test_quick_start_has_two_commands_and_ci_runs_the_test_one():
    block = re.search(r"## Quick start.*?```\n(.*?)```", README, re.S)
    assert block is not None
    commands = [line.strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert ci[-1] == "make test"
