"""The README's promises: its plugin example works as printed, its Quick start matches CI and
installs what each command needs, the package ships what alvh reads."""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import shutil
import subprocess
import tomllib
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


def dry_run(folder: Path, target: str) -> list[str]:
    """The commands `make TARGET` would run in `folder` (make -n runs none of them)."""
    done = subprocess.run(
        ["make", "-n", "--no-print-directory", target],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )  # --no-print-directory: under `make test` this make is a sub-make that names its folder
    return done.stdout.splitlines()


def installs(commands: list[str]) -> list[str]:
    return [c for c in commands if " -m pip " in c and "--upgrade pip" not in c]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_demo_installs_alvh_alone_and_make_test_adds_the_test_extras(tmp_path):
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    os.utime(tmp_path / "pyproject.toml", (0, 0))
    (demo,) = installs(dry_run(tmp_path, "demo"))
    assert demo.endswith(" -e .") and "[test]" not in demo
    (test,) = installs(dry_run(tmp_path, "test"))
    assert test.endswith(' -e ".[test]"')
    # after a demo, `make test` still installs the extras; after a test, `make demo` nothing
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:12]
    (venv / f".installed-demo-{digest}").touch()
    assert installs(dry_run(tmp_path, "demo")) == []
    assert installs(dry_run(tmp_path, "test")) == [test]
    assert dry_run(tmp_path, "test")[-1].endswith("pytest")


def test_packaging_metadata_is_current_and_ships_what_alvh_reads():
    """PEP 639 licence metadata (setuptools warns about the old table form), and every folder
    of the package declared, data folders included (setuptools warns about a missing one, and
    its files would be left out of a wheel)."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project, setuptools = meta["project"], meta["tool"]["setuptools"]
    assert meta["build-system"]["requires"] == ["setuptools>=77"]
    assert project["license"] == "MIT"
    assert all((ROOT / name).is_file() for name in project["license-files"])
    assert not [c for c in project.get("classifiers", []) if c.startswith("License ::")]
    package = ROOT / "rules_engine"
    folders = {
        ".".join(folder.relative_to(ROOT).parts)
        for folder in [package, *package.rglob("*")]
        if folder.is_dir() and folder.name != "__pycache__"
    }
    assert set(setuptools["packages"]) == folders | {"rules_engine_plugins"}
    data = setuptools["package-data"]["rules_engine.example_data"]
    shipped = [f.name for f in (package / "example_data").iterdir() if f.is_file()]
    assert shipped and all(any(fnmatch.fnmatch(f, g) for g in data) for f in shipped)
