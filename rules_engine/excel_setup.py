"""`alvh excel`: the steps that connect desktop Excel to this interpreter, printed or performed.

Two buttons run alvh from Excel (docs/excel.md): "Run main" on xlwings' own add-in tab, which
imports the module named like the workbook (workbooks/alvh.xlsx -> alvh.py), and "Recompute" on
the ALVH tab of workbooks/alvh.xlam, whose VBA imports the module named like the add-in file
(alvh.xlam -> the same alvh.py). Set-up is therefore: the xlwings package whose version matches the
add-ins' VBA, both add-ins in Excel's start-up folder, and config files naming this interpreter
(and, for the ALVH add-in, the folder holding alvh.py). Steps that need desktop Excel are printed
but never attempted elsewhere, and nothing here imports xlwings, so it runs on any machine.
"""

from __future__ import annotations

import locale
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Literal

import click

Platform = Literal["windows", "macos", "other"]
Runner = Callable[[Sequence[str]], subprocess.CompletedProcess[str]]

#: The xlwings release whose quickstart template workbooks/alvh.xlam is built from. The add-in's
#: VBA talks to this version of the Python package (on macOS through an AppleScript named after
#: it), so the package must be exactly this version. scripts/build_addin.py refuses to build
#: from any other.
ADDIN_XLWINGS_VERSION = "0.37.8"
#: The branded add-in; its VBA runs `import alvh; alvh.main()` because of this file name.
ADDIN_FILE = "alvh.xlam"
#: The workbook whose "Run main" button (xlwings' add-in) runs the same `alvh.main()`.
WORKBOOK_FILE = "alvh.xlsx"
#: PROJECT_NAME in the template's VBA: the ALVH add-in reads its settings from `myaddin.conf`.
ADDIN_CONFIG_NAME = "myaddin"
#: `xlwings addin install` exits 0 even when it fails; only this text says it worked.
INSTALLED_TEXT = "Successfully installed"
COMMAND_TIMEOUT_S = 600
MISSING_ADDIN = "workbooks/alvh.xlam not found: pass --workbooks DIR (the repository's workbooks)"
NEEDS_EXCEL = "needs desktop Excel on Windows or macOS: run `alvh excel --apply` there"
_PLATFORM_NAMES = {"windows": "Windows", "macos": "macOS", "other": "no desktop Excel"}
_OUTPUT_LINES_SHOWN = 6


@dataclass(frozen=True)
class Machine:
    """Everything the steps depend on: detected by `this_machine`, built directly in tests."""

    platform: Platform
    python: Path
    home: Path
    workbooks: Path | None
    xlwings_version: str | None


@dataclass(frozen=True)
class ConfigFile:
    """Settings to merge into a `"KEY","value"` config file (the format xlwings' VBA reads)."""

    path: Path
    entries: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Step:
    """One set-up step: a command to run or a config file to write, and whether it can run here."""

    title: str
    command: tuple[str, ...] = ()
    config: ConfigFile | None = None
    done: str | None = None
    blocked: str | None = None
    success_text: str | None = None

    def shown(self) -> str:
        """The command line, or the file and lines written, as the user would type or check them."""
        if self.config is not None:
            lines = "; ".join(_config_line(k, v).strip() for k, v in self.config.entries)
            return f"write {self.config.path}: {lines}"
        return subprocess.list2cmdline(self.command)


def detect_platform() -> Platform:
    """Windows and macOS have desktop Excel; anything else can only print the steps."""
    if sys.platform.startswith("win"):
        return "windows"
    if sys.platform == "darwin":
        return "macos"
    return "other"


def installed_xlwings() -> str | None:
    """The xlwings version installed for this interpreter, read without importing it."""
    try:
        return version("xlwings")
    except PackageNotFoundError:
        return None


def find_workbooks(explicit: Path | None = None) -> Path | None:
    """The folder with alvh.xlam and alvh.py: given, or the source tree's `workbooks/`."""
    folder = explicit or Path(__file__).resolve().parent.parent / "workbooks"
    return folder.resolve() if (folder / ADDIN_FILE).is_file() else None


def this_machine(workbooks: Path | None = None) -> Machine:
    """The machine `alvh excel` runs on."""
    return Machine(
        platform=detect_platform(),
        python=Path(sys.executable),
        home=Path(os.path.expanduser("~")),
        workbooks=find_workbooks(workbooks),
        xlwings_version=installed_xlwings(),
    )


def xlwings_cli(python: Path) -> tuple[str, ...]:
    """The xlwings command of this interpreter (never one found first on PATH)."""
    for candidate in (
        python.parent / "xlwings",
        python.parent / "xlwings.exe",
        python.parent / "Scripts" / "xlwings.exe",
    ):
        if candidate.is_file():
            return (str(candidate),)
    return (str(python), "-m", "xlwings.cli")


def excel_data_dir(machine: Machine) -> Path:
    """Where xlwings' VBA looks for user config files (the sandbox folder on macOS)."""
    if machine.platform == "macos":
        return machine.home / "Library" / "Containers" / "com.microsoft.Excel" / "Data"
    return machine.home / ".xlwings"


def addin_config_path(machine: Machine) -> Path:
    """The ALVH add-in's user config file, as its VBA (GetConfigFilePath) computes it."""
    name = f"{ADDIN_CONFIG_NAME}.conf"
    if machine.platform == "macos":
        return excel_data_dir(machine) / name
    return machine.home / f".{ADDIN_CONFIG_NAME}" / name


def plan(machine: Machine) -> list[Step]:
    """The steps for this machine, in order, each marked done, blocked or ready to run."""
    has_excel = machine.platform in ("windows", "macos")
    excel_only = None if has_excel else NEEDS_EXCEL
    cli = xlwings_cli(machine.python)
    addin = machine.workbooks / ADDIN_FILE if machine.workbooks else Path("workbooks", ADDIN_FILE)
    missing_addin = None if machine.workbooks else MISSING_ADDIN
    matching = machine.xlwings_version == ADDIN_XLWINGS_VERSION
    return [
        Step(
            f"Install xlwings {ADDIN_XLWINGS_VERSION}, the version the add-ins are built for",
            command=(
                str(machine.python),
                "-m",
                "pip",
                "install",
                f"xlwings=={ADDIN_XLWINGS_VERSION}",
            ),
            done=f"xlwings {machine.xlwings_version} is installed" if matching else None,
        ),
        Step(
            "Install xlwings' own add-in (its xlwings tab has Run main, for alvh.xlsx)",
            command=(*cli, "addin", "install"),
            blocked=excel_only,
            success_text=INSTALLED_TEXT,
        ),
        Step(
            "Install the ALVH add-in (ribbon tab ALVH, button Recompute)",
            command=(*cli, "addin", "install", "--file", str(addin)),
            blocked=excel_only or missing_addin,
            success_text=INSTALLED_TEXT,
        ),
        Step(
            "Point xlwings' add-in at this interpreter "
            f"(rewrites {excel_data_dir(machine) / 'xlwings.conf'})",
            command=(*cli, "config", "create", "--force"),
            blocked=excel_only,
        ),
        _addin_config_step(machine, excel_only or missing_addin),
    ]


def _addin_config_step(machine: Machine, blocked: str | None) -> Step:
    interpreter_key = "INTERPRETER_MAC" if machine.platform == "macos" else "INTERPRETER_WIN"
    folder = str(machine.workbooks or "workbooks")
    entries = ((interpreter_key, str(machine.python)), ("PYTHONPATH", folder))
    if blocked is None and any('"' in value for _, value in entries):
        blocked = "a path contains a double quote, which the add-in's config format cannot hold"
    return Step(
        "Point the ALVH add-in at this interpreter and at the folder holding alvh.py",
        config=ConfigFile(addin_config_path(machine), entries),
        blocked=blocked,
    )


def manual_steps(machine: Machine) -> list[str]:
    """What only the user can do, in Excel, after the set-up steps."""
    folder = machine.workbooks or Path("workbooks")
    quit_hint = " (on macOS with Cmd-Q)" if machine.platform != "windows" else ""
    return [
        f"Quit Excel completely{quit_hint} and start it again, so it loads both add-ins.",
        f"Open your workbook (or {folder / WORKBOOK_FILE}) and click the ALVH tab > Recompute. "
        "In alvh.xlsx, the xlwings tab > Run main does the same.",
    ]


def render(machine: Machine, steps: Sequence[Step]) -> str:
    """The set-up report: where things are, then every step with its command and state."""
    folder = machine.workbooks
    lines = [
        "alvh excel: connect desktop Excel to this Python",
        f"  interpreter: {machine.python}",
        f"  xlwings:     {machine.xlwings_version or 'not installed'} "
        f"(the add-ins need {ADDIN_XLWINGS_VERSION})",
        f"  workbook:    {_located(folder, WORKBOOK_FILE)}",
        f"  python file: {_located(folder, 'alvh.py')} (both buttons run its main())",
        f"  add-in:      {_located(folder, ADDIN_FILE)}",
        "",
        f"Steps (this machine: {_PLATFORM_NAMES[machine.platform]}):",
    ]
    number = 0
    for number, step in enumerate(steps, start=1):
        lines.append(f"{number}. {step.title}")
        lines.append(f"     {step.shown()}")
        if step.done:
            lines.append(f"     already done: {step.done}")
        elif step.blocked:
            lines.append(f"     {step.blocked}")
    lines.append("Then, in Excel:")
    for offset, text in enumerate(manual_steps(machine), start=number + 1):
        lines.append(f"{offset}. {text}")
    return "\n".join(lines)


def _located(folder: Path | None, name: str) -> str:
    if folder is None:
        return "not found"
    path = folder / name
    return str(path) if path.is_file() else f"{path} (missing)"


def run_command(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run one set-up command, capturing its output for the report."""
    return subprocess.run(
        list(command), capture_output=True, text=True, check=False, timeout=COMMAND_TIMEOUT_S
    )


def apply_step(step: Step, runner: Runner) -> str | None:
    """Perform a runnable step; return why it failed, or None when it worked."""
    if step.config is not None:
        try:
            merge_config(step.config)
        except OSError as exc:
            return f"cannot write {step.config.path}: {exc.strerror or exc}"
        return None
    try:
        result = runner(step.command)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"could not run {step.command[0]}: {exc}"
    output = "\n".join(part for part in (result.stdout, result.stderr) if part).strip()
    if result.returncode != 0:
        return f"exit code {result.returncode}" + _tail(output)
    if step.success_text and step.success_text not in output:
        return f"it did not report success ({step.success_text!r})" + _tail(output)
    return None


def _tail(output: str) -> str:
    kept = output.splitlines()[-_OUTPUT_LINES_SHOWN:]
    return "".join(f"\n       | {line}" for line in kept) if kept else " and printed nothing"


def _config_line(key: str, value: str) -> str:
    return f'"{key}","{value}"\n'


def merge_config(config: ConfigFile) -> None:
    """Set these keys in the config file, keeping every other line the user has there."""
    encoding = locale.getpreferredencoding(False)
    keys = {key.casefold() for key, _ in config.entries}
    kept: list[str] = []
    if config.path.is_file():
        for line in config.path.read_text(encoding=encoding).splitlines():
            key = line.split(",", 1)[0].strip().strip('"').casefold()
            if line.strip() and key not in keys:
                kept.append(line + "\n")
    config.path.parent.mkdir(parents=True, exist_ok=True)
    written = kept + [_config_line(key, value) for key, value in config.entries]
    config.path.write_text("".join(written), encoding=encoding)


def apply(steps: Sequence[Step], runner: Runner) -> tuple[list[str], bool]:
    """Perform the steps that can run here, in order, stopping at the first failure."""
    report: list[str] = []
    failed = False
    for number, step in enumerate(steps, start=1):
        if failed:
            report.append(f"{number}. not attempted (an earlier step failed)")
        elif step.done:
            report.append(f"{number}. already done: {step.done}")
        elif step.blocked:
            report.append(f"{number}. skipped: {step.blocked}")
        else:
            error = apply_step(step, runner)
            failed = error is not None
            report.append(f"{number}. FAILED: {error}" if error else f"{number}. done")
    return report, not failed


@click.command("excel")
@click.option(
    "--apply",
    "do_apply",
    is_flag=True,
    help="Perform the steps that can run on this machine (the rest are explained).",
)
@click.option(
    "--workbooks",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder holding alvh.xlam and alvh.py (default: the source tree's workbooks/).",
)
def excel_command(do_apply: bool, workbooks: Path | None) -> None:
    """Print (or with --apply perform) the steps that connect desktop Excel to this Python."""
    machine = this_machine(workbooks)
    steps = plan(machine)
    click.echo(render(machine, steps))
    if not do_apply:
        click.echo("\nRun `alvh excel --apply` to perform the steps that can run here.")
        return
    click.echo("\nApplying:")
    report, ok = apply(steps, run_command)
    click.echo("\n".join(report))
    if not ok:
        click.echo(
            "alvh excel: set-up is incomplete; fix the failure above and run it again.", err=True
        )
        sys.exit(1)
