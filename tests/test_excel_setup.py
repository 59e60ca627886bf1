"""`alvh excel`: prints the set-up steps anywhere; --apply runs only what this machine can run."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rules_engine import excel_setup
from rules_engine.excel_setup import (
    ADDIN_XLWINGS_VERSION,
    ConfigFile,
    Machine,
    Platform,
    excel_command,
    merge_config,
    plan,
)

ROOT = Path(__file__).resolve().parent.parent
WORKBOOKS = ROOT / "workbooks"
SUCCESS = "Successfully installed the xlwings add-in!"


class FakeRunner:
    """Records each command; answers with the exit code and output scripted for its first words."""

    def __init__(self, answers: dict[str, tuple[int, str]] | None = None) -> None:
        self.calls: list[list[str]] = []
        self.answers = answers or {}

    def __call__(self, command: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(command))
        key = " ".join(command[-2:]) if "addin" in command else command[-1]
        code, out = self.answers.get(key, (0, SUCCESS if "addin" in command else ""))
        return subprocess.CompletedProcess(list(command), code, stdout=out, stderr="")


def run_excel(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    platform: Platform,
    args: Sequence[str] = (),
    runner: FakeRunner | None = None,
    xlwings: str | None = ADDIN_XLWINGS_VERSION,
) -> Result:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(excel_setup, "detect_platform", lambda: platform)
    monkeypatch.setattr(excel_setup, "installed_xlwings", lambda: xlwings)
    monkeypatch.setattr(excel_setup, "run_command", runner or FakeRunner())
    return CliRunner().invoke(excel_command, list(args))


def machine(platform: Platform, home: Path, xlwings: str | None = "0.30.0") -> Machine:
    return Machine(platform, Path("/opt/py/bin/python"), home, WORKBOOKS, xlwings)


def test_prints_the_steps_naming_this_interpreter_and_exits_0(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result = run_excel(monkeypatch, tmp_path, "other")
    assert result.exit_code == 0, result.output
    assert f"interpreter: {sys.executable}" in result.output
    assert f"{sys.executable} -m pip install xlwings=={ADDIN_XLWINGS_VERSION}" in result.output
    assert str(WORKBOOKS / "alvh.xlam") in result.output
    assert "addin install" in result.output and "config create --force" in result.output
    assert result.output.count("needs desktop Excel on Windows or macOS") == 4
    assert "ALVH tab > Recompute" in result.output


def test_the_real_machine_prints_without_error() -> None:
    result = CliRunner().invoke(excel_command, [])
    assert result.exit_code == 0, result.output
    assert result.exception is None


def test_windows_plan_installs_both_addins_and_points_them_here(tmp_path: Path) -> None:
    steps = plan(machine("windows", tmp_path))
    commands = [step.command[-4:] for step in steps if step.command]
    assert commands[0] == ("-m", "pip", "install", f"xlwings=={ADDIN_XLWINGS_VERSION}")
    assert commands[1][-2:] == ("addin", "install")
    assert commands[2] == ("addin", "install", "--file", str(WORKBOOKS / "alvh.xlam"))
    assert commands[3][-3:] == ("config", "create", "--force")
    config = steps[4].config
    assert config is not None
    assert config.path == tmp_path / ".myaddin" / "myaddin.conf"
    assert config.entries == (
        ("INTERPRETER_WIN", "/opt/py/bin/python"),
        ("PYTHONPATH", str(WORKBOOKS)),
    )
    assert all(step.blocked is None and step.done is None for step in steps)


def test_macos_config_lives_in_excels_sandbox(tmp_path: Path) -> None:
    config = plan(machine("macos", tmp_path))[4].config
    assert config is not None
    sandbox = tmp_path / "Library" / "Containers" / "com.microsoft.Excel" / "Data"
    assert config.path == sandbox / "myaddin.conf"
    assert config.entries[0] == ("INTERPRETER_MAC", "/opt/py/bin/python")


def test_apply_on_windows_runs_the_xlwings_commands_and_writes_the_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    runner = FakeRunner()
    result = run_excel(monkeypatch, tmp_path, "windows", ["--apply"], runner, xlwings="0.30.0")
    assert result.exit_code == 0, result.output
    tails = [call[-4:] for call in runner.calls]
    assert tails == [
        ["-m", "pip", "install", f"xlwings=={ADDIN_XLWINGS_VERSION}"],
        [*tails[1][:-2], "addin", "install"],
        ["addin", "install", "--file", str(WORKBOOKS / "alvh.xlam")],
        [*tails[3][:-3], "config", "create", "--force"],
    ]
    assert all(call[0].startswith(str(Path(sys.executable).parent)) for call in runner.calls)
    config = (tmp_path / ".myaddin" / "myaddin.conf").read_text()
    assert config == f'"INTERPRETER_WIN","{sys.executable}"\n"PYTHONPATH","{WORKBOOKS}"\n'
    assert result.output.count(". done") == 5


def test_apply_on_linux_runs_nothing_that_needs_excel(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    runner = FakeRunner()
    result = run_excel(monkeypatch, tmp_path, "other", ["--apply"], runner)
    assert result.exit_code == 0, result.output
    assert runner.calls == []
    assert "1. already done: xlwings" in result.output
    assert result.output.count("skipped: needs desktop Excel") == 4
    assert not (tmp_path / ".myaddin").exists()


def test_a_failing_command_is_reported_with_its_output_and_stops_the_rest(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    runner = FakeRunner(
        {f"xlwings=={ADDIN_XLWINGS_VERSION}": (1, "ERROR: No matching distribution")}
    )
    result = run_excel(monkeypatch, tmp_path, "windows", ["--apply"], runner, xlwings=None)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "1. FAILED: exit code 1" in result.output
    assert "| ERROR: No matching distribution" in result.output
    assert result.output.count("not attempted") == 4
    assert len(runner.calls) == 1


def test_an_addin_install_that_prints_an_error_but_exits_0_is_a_failure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    runner = FakeRunner({"addin install": (0, "Error: Failed to install the add-in: quit Excel")})
    result = run_excel(monkeypatch, tmp_path, "macos", ["--apply"], runner)
    assert result.exit_code == 1
    assert "2. FAILED: it did not report success" in result.output
    assert "| Error: Failed to install the add-in: quit Excel" in result.output


def test_a_command_that_cannot_start_is_reported_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def missing(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
        raise FileNotFoundError(2, "No such file or directory", command[0])

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(excel_setup, "detect_platform", lambda: "windows")
    monkeypatch.setattr(excel_setup, "installed_xlwings", lambda: ADDIN_XLWINGS_VERSION)
    monkeypatch.setattr(excel_setup, "run_command", missing)
    result = CliRunner().invoke(excel_command, ["--apply"])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "2. FAILED: could not run" in result.output


def test_missing_addin_folder_blocks_only_the_steps_that_need_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    runner = FakeRunner()
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    args = ["--apply", "--workbooks", str(empty)]
    result = run_excel(monkeypatch, tmp_path, "windows", args, runner)
    assert result.exit_code == 0, result.output
    assert "add-in:      not found" in result.output
    assert "3. skipped: workbooks/alvh.xlam not found: pass --workbooks DIR" in result.output
    assert "5. skipped: workbooks/alvh.xlam not found" in result.output
    assert [call[-2:] for call in runner.calls] == [["addin", "install"], ["create", "--force"]]


def test_merge_config_keeps_the_users_other_settings(tmp_path: Path) -> None:
    path = tmp_path / "myaddin.conf"
    path.write_text('"LICENSE_KEY","abc"\n"pythonpath","/old"\n\n"Interpreter_Win","C:\\old"\n')
    merge_config(ConfigFile(path, (("INTERPRETER_WIN", "C:\\py"), ("PYTHONPATH", "C:\\wb"))))
    assert path.read_text().splitlines() == [
        '"LICENSE_KEY","abc"',
        '"INTERPRETER_WIN","C:\\py"',
        '"PYTHONPATH","C:\\wb"',
    ]


def test_a_config_that_cannot_be_written_is_a_reported_failure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".myaddin").write_text("a file where the config folder should be")
    result = run_excel(monkeypatch, tmp_path, "windows", ["--apply"], FakeRunner())
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "5. FAILED: cannot write" in result.output
