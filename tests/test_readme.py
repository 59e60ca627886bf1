"""The README's promises: its plugin example works as printed, its Quick start matches CI."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from rules_engine.cli import main

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_plugin_example_adds_a_signal(tmp_path):
    (code,) = re.findall(r"```python\n(.*?)```", README, re.S)
    folder = tmp_path / "my-signals"
    folder.mkdir()
    (folder / "vix_jump.py").write_text(code)
    book = tmp_path / "book.xlsx"
    shutil.copy(ROOT / "workbooks" / "example.xlsx", book)
    result = CliRunner().invoke(main, ["recompute", str(book), "--plugins-dir", str(folder)])
    assert result.exit_code == 0, result.output
    rows = CalamineWorkbook.from_path(str(book)).get_sheet_by_name("Signals").to_python()
    (row,) = [r for r in rows if r[0] == "vix_jump"]
    assert row[1] == "vix_jump" and row[2] in ("triggered", "not triggered")
    assert "x its 20-day mean" in row[6]


def test_quick_start_has_two_commands_and_ci_runs_the_test_one():
    block = re.search(r"## Quick start.*?```\n(.*?)```", README, re.S)
    assert block is not None
    commands = [line.strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert ci[-1] == "make test"
