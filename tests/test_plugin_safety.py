"""Plugins cannot hurt the run: isolation, every kind of exception, time limits, leftover threads,
Ctrl-C, and exit codes that mean one thing each."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from cli_support import (
    ALVH,
    EXAMPLE,
    TEST_PLUGINS,
    cells,
    edit,
    run_alvh,
    set_setting,
    table,
)

from rules_engine.engine import recompute
from rules_engine.guarded import call_guarded, describe_exception
from rules_engine.host import load_plugins
from rules_engine.models import SettingCell
from rules_engine.workbook.reader import read_workbook

SIGNALS_TITLE = "Signal readings (strength 0-1 feeds the hedge ratio)"
MESSAGES = "Messages (errors name the sheet and cell to fix)"


def folder_with(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "plugins"
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(TEST_PLUGINS / f"{name}.py", folder / f"{name}.py")
    return folder


@pytest.fixture
def example(tmp_path) -> Path:
    path = tmp_path / "book.xlsx"
    shutil.copy(EXAMPLE, path)
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def signal_rows(path: Path) -> dict[str, dict]:
    return {row["Signal"]: row for row in table(path, "Signals", SIGNALS_TITLE)}


# --- isolation -----------------------------------------------------------------------------------


def test_a_plugin_that_mutates_the_risk_changes_nothing_anyone_else_sees(tmp_path):
    inputs = read_workbook(EXAMPLE).inputs
    quiet = load_plugins([folder_with(tmp_path / "a", "observer")], use_entry_points=False)
    meddled = load_plugins(
        [folder_with(tmp_path / "b", "observer", "meddler")], use_entry_points=False
    )
    clean, dirty = recompute(inputs, quiet), recompute(inputs, meddled)
    assert clean.ok and dirty.ok, dirty.issues
    watch = dirty.signals.set_index("Signal")
    assert "meddled with everything" in watch.loc["aaa_meddler", "Explanation"]  # it ran first
    base = clean.signals.set_index("Signal").loc["zzz_observer"]
    seen = watch.loc["zzz_observer"]
    assert seen["Explanation"] == base["Explanation"]
    assert seen["Value"] == base["Value"] > 0
    front = inputs.vix_futures["price"].iloc[0]
    assert f"vix {inputs.market['vix']:g}" in seen["Explanation"]
    assert f"front future {front:g}" in seen["Explanation"]
    for name in ("hedge", "risk_structures", "risk_scenarios", "risk_legs"):
        # the composite's explanation rightly names the meddler among the signals left out
        left, right = (
            getattr(x, name).drop(columns="Trigger", errors="ignore") for x in (dirty, clean)
        )
        pd.testing.assert_frame_equal(left, right, obj=name)
    assert watch.loc["rsi", "Value"] == clean.signals.set_index("Signal").loc["rsi", "Value"]


def test_everything_reachable_from_the_risk_report_is_a_copy():
    from book_helpers import cell_of, default_settings, hand_condor, positions, state

    from rules_engine.risk.report import compute_risk

    risk = compute_risk(positions(*hand_condor()), state(), default_settings(), cell_of)
    loss = risk.projected_loss()
    for frame, column in ((risk.legs, "qty"), (risk.hedge_legs, "qty"), (risk.structures, "value")):
        frame[column] = 0.0
    pnl = risk.leg_pnl(risk.primary)
    pnl[:] = 0.0
    with pytest.raises(TypeError):
        risk.kinds["IC1"] = "other"  # type: ignore[index]
    with pytest.raises(AttributeError):
        risk.condors[0].credit = 0.0  # type: ignore[misc]
    own = risk.isolated()
    own._legs.loc[:, "qty"] = 0.0
    cached = own._leg_pnl[risk.primary]
    cached.flags.writeable = True  # a copy: a plugin may even unlock and overwrite it
    cached[:] = 0.0
    assert own.projected_loss() == 0.0  # it broke only its own copy
    assert risk.projected_loss() == loss > 0
    assert risk.legs["qty"].abs().sum() == 8


# --- exceptions of every kind -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raise_it", "text"),
    [
        (lambda: (_ for _ in ()).throw(SystemExit(0)), "SystemExit (sys.exit(0))"),
        (lambda: (_ for _ in ()).throw(KeyboardInterrupt()), "KeyboardInterrupt"),
        (lambda: (_ for _ in ()).throw(GeneratorExit()), "GeneratorExit"),
        (lambda: 1 / 0, "ZeroDivisionError: division by zero"),
    ],
)
def test_guarded_call_turns_every_exception_into_its_text(raise_it, text):
    result = call_guarded(raise_it, 5.0)
    assert result.value is None and result.error == f"raised {text}"


def test_describe_exception_names_sys_exit_codes():
    assert describe_exception(SystemExit("bye")) == "SystemExit (sys.exit('bye'))"
    assert describe_exception(ValueError("x")) == "ValueError: x"


def test_signals_that_exit_or_interrupt_fail_alone_and_the_run_writes_everything(example, tmp_path):
    result = run_alvh(
        "recompute", str(example), "--plugins-dir", str(folder_with(tmp_path, "exits"))
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    rows = signal_rows(example)
    expected = {
        "exit_zero": "raised SystemExit (sys.exit(0))",
        "exit_text": "raised SystemExit (sys.exit('leaving now'))",
        "interrupt": "raised KeyboardInterrupt",
        "escape": "raised Escape: not an Exception",
        "generator_exit": "raised GeneratorExit",
    }
    for name, reason in expected.items():
        assert rows[name]["Status"] == "failed", name
        assert reason in rows[name]["Explanation"], rows[name]
        assert rows[name]["Plugin"] == "exits"
    assert rows["rsi"]["Status"] == "triggered"
    hedge = table(example, "Hedge", cells(example, "Hedge")[2][0])
    assert hedge[0]["Status"] == "ACTIVE" and hedge[-1]["Layer"] == "All ACTIVE"


def test_a_sizer_that_exits_is_exit_3_with_signals_and_risk_written(example, tmp_path):
    edit(example, set_setting("engine.sizer", "exiting"))
    folder = folder_with(tmp_path, "exiting_sizer")
    result = run_alvh("recompute", str(example), "--plugins-dir", str(folder))
    assert result.returncode == 3, result.stderr
    assert "inputs have errors" not in result.stderr
    assert "the sizer failed" in result.stderr and "Traceback" not in result.stderr
    assert "Not computed: the sizer failed" in cells(example, "Hedge")[3][0]
    assert signal_rows(example)["rsi"]["Status"] == "triggered"
    structures = table(example, "Risk", "Structures ($ per position; P&L by full repricing)")
    assert any(s["Structure"] == "iron condor" for s in structures)
    messages = table(example, "Run", MESSAGES)
    (error,) = [m for m in messages if m["Severity"] == "ERROR"]
    assert error["Source"] == "exiting_sizer" and "SystemExit" in error["Message"]
    run_info = {r["Field"]: r["Value"] for r in table(example, "Run", "Run")}
    assert run_info["Status"].startswith("FAILED: a plugin failed")


def test_an_unknown_sizer_is_an_input_error_at_its_settings_cell(example):
    edit(example, set_setting("engine.sizer", "nonesuch"))
    result = run_alvh("recompute", str(example))
    assert result.returncode == 1
    assert "Settings!B" in result.stderr and "'nonesuch'" in result.stderr


# --- time limits and threads ---------------------------------------------------------------------


def test_plugins_past_the_time_limit_time_out_and_the_run_goes_on(tmp_path):
    inputs = read_workbook(EXAMPLE).inputs
    settings = {**inputs.settings, "engine.plugin_time_limit": SettingCell(0.5, "B99")}
    inputs = dataclasses.replace(inputs, settings=settings)
    host = load_plugins([folder_with(tmp_path, "sleepy")], use_entry_points=False)
    started = time.monotonic()
    outputs = recompute(inputs, host)
    elapsed = time.monotonic() - started
    assert outputs.ok
    rows = outputs.signals.set_index("Signal")
    for name in ("sleeps", "spins"):
        assert rows.loc[name, "Status"] == "failed"
        assert rows.loc[name, "Explanation"] == "timed out after 0.5 s"
    assert rows.loc["rsi", "Status"] == "triggered"
    assert (outputs.hedge["Status"] == "ACTIVE").sum() >= 1
    assert elapsed < 5.0


def test_the_time_limit_is_a_setting_and_the_cli_run_ends(example, tmp_path):
    edit(example, set_setting("engine.plugin_time_limit", 0.5))
    folder = folder_with(tmp_path, "sleepy")
    started = time.monotonic()
    result = run_alvh("recompute", str(example), "--plugins-dir", str(folder), timeout=30)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 20
    assert signal_rows(example)["sleeps"]["Explanation"] == "timed out after 0.5 s"
    assert "Traceback" not in result.stderr


def test_threads_a_plugin_leaves_do_not_keep_the_process_alive(example, tmp_path):
    folder = folder_with(tmp_path, "thread_leaver")
    result = run_alvh("recompute", str(example), "--plugins-dir", str(folder), timeout=30)
    assert result.returncode == 0, result.stderr
    assert signal_rows(example)["leaves_threads"]["Status"] == "not triggered"
    assert "recomputed" in result.stdout


# --- Ctrl-C --------------------------------------------------------------------------------------


def test_ctrl_c_while_a_plugin_runs_is_exit_130_with_one_line_and_the_file_untouched(
    example, tmp_path
):
    marker = tmp_path / "started"
    before = sha(example)
    folder = folder_with(tmp_path, "waits_for_ctrl_c")
    env = {"ALVH_TEST_MARKER": str(marker), "ALVH_NO_ENTRY_POINTS": "1"}
    process = subprocess.Popen(
        [str(ALVH), "recompute", str(example), "--plugins-dir", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), process.communicate(timeout=30)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert err.strip().splitlines() == [f"alvh: interrupted; {example} was not changed"]
    assert "Traceback" not in err and out == ""
    assert sha(example) == before


# --- plugin folders ------------------------------------------------------------------------------


def test_a_missing_plugin_folder_is_an_error_before_anything_is_read(example, tmp_path):
    before = sha(example)
    result = run_alvh("recompute", str(example), "--plugins-dir", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert "which is not a folder" in result.stderr and "Traceback" not in result.stderr
    env_run = run_alvh("recompute", str(example), ALVH_PLUGINS_DIR=str(tmp_path / "gone"))
    assert env_run.returncode == 2 and "ALVH_PLUGINS_DIR" in env_run.stderr
    assert sha(example) == before


def test_a_workbook_named_like_an_option_still_works(tmp_path):
    book = tmp_path / "-book.xlsx"
    shutil.copy(EXAMPLE, book)
    result = subprocess.run(
        [str(ALVH), "recompute", "-book.xlsx"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ALVH_NO_ENTRY_POINTS": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert cells(book, "Hedge")[4][1] == "ACTIVE"
    missing = run_alvh("recompute", "-nosuch.xlsx")
    assert missing.returncode == 2 and "put -- before it" in missing.stderr
    dashed = tmp_path / "-plugins"
    dashed.mkdir()
    shutil.copy(TEST_PLUGINS / "always_warn.py", dashed)
    result = subprocess.run(
        [str(ALVH), "recompute", "--plugins-dir", "-plugins", "-book.xlsx", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ALVH_NO_ENTRY_POINTS": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert signal_rows(book)["always_warn"]["Status"] == "triggered"


def test_plugin_import_that_hangs_is_reported_and_loading_goes_on(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "hangs.py").write_text("import time\ntime.sleep(60)\n")
    started = time.monotonic()
    host = load_plugins([folder], use_entry_points=False, time_limit=0.5)
    assert time.monotonic() - started < 5
    (failure,) = host.failures
    assert failure.plugin == "hangs" and failure.error == "import timed out after 0.5 s"
    assert "rsi" in host.signals


def test_a_plugin_import_that_calls_sys_exit_is_a_named_failure(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "quits.py").write_text("import sys\nsys.exit(3)\n")
    host = load_plugins([folder], use_entry_points=False)
    (failure,) = host.failures
    assert failure.error == "import raised SystemExit (sys.exit(3))"


def test_a_setting_check_that_exits_is_a_named_failure_not_the_end_of_the_run(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "checky.py").write_text(
        "import sys\n"
        "from rules_engine import Reading, Setting, Signal, hookimpl\n"
        "def check(value):\n"
        "    sys.exit(7)\n"
        "@hookimpl\n"
        "def alvh_register_signals(register):\n"
        "    level = Setting('checky.level', 1.0, 'float', 'a level', check=check)\n"
        "    quiet = lambda ctx: Reading(0.0, False, 0.0, '-')\n"
        "    register(Signal('checky', quiet, settings=(level,)))\n"
    )
    host = load_plugins([folder], use_entry_points=False)
    (failure,) = host.failures
    assert failure.plugin == "checky"
    assert "its check raised SystemExit (sys.exit(7))" in failure.error


def test_a_registered_subclass_is_refused_without_running_its_code(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "sneaky.py").write_text(
        "import sys\n"
        "from rules_engine import Reading, Signal, hookimpl\n"
        "class Sneaky(Signal):\n"
        "    def __repr__(self):\n"
        "        sys.exit(9)\n"
        "@hookimpl\n"
        "def alvh_register_signals(register):\n"
        "    register(Sneaky('sneaky', lambda ctx: Reading(0.0, False, 0.0, '-')))\n"
    )
    host = load_plugins([folder], use_entry_points=False)
    (failure,) = host.failures
    assert failure.error == "registered a Sneaky, expected a Signal"
