"""The `alvh` command: recompute a workbook, create one, list plugins.

Exit codes of `alvh recompute` (each means one thing; the README lists them):
0 done (warnings allowed); 1 the inputs have errors, each at its cell, or `--sizer` names no loaded
sizer; 2 the workbook cannot be read or written, or the command line is wrong (nothing was
changed); 3 a plugin failed where no result could be made (the chosen sizer); 4 an internal error
in alvh; 130 interrupted by Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import click

from rules_engine import __version__
from rules_engine.engine import RunOptions
from rules_engine.excel_setup import excel_command
from rules_engine.guarded import describe_exception
from rules_engine.host import PLUGINS_DIR_ENV, PluginFolderError, PluginHost, load_plugins
from rules_engine.layout import as_text_table
from rules_engine.models import Inputs, Issue, Outputs, RunStatus, SheetCells, WorkbookError
from rules_engine.pipeline import DEBUG_ENV, WriteFailed, recompute_workbook
from rules_engine.workbook.filelock import WorkbookBusy, workbook_lock

EXIT_OK = 0
EXIT_INPUT_ERRORS = 1
EXIT_FILE_ERROR = 2
EXIT_PLUGIN_FAILED = 3
EXIT_INTERNAL_ERROR = 4
EXIT_INTERRUPTED = 130

_EXIT_FOR: dict[RunStatus, int] = {
    "ok": EXIT_OK,
    "input errors": EXIT_INPUT_ERRORS,
    "plugin failed": EXIT_PLUGIN_FAILED,
    "internal error": EXIT_INTERNAL_ERROR,
}

LAYER_COLUMNS = (
    "Layer",
    "Status",
    "Instrument",
    "Contracts",
    "Price (VIX pts)",
    "Cost ($)",
    "Share of Loss Covered",
)

plugins_dir_option = click.option(
    "--plugins-dir",
    "plugins_dirs",
    multiple=True,
    type=click.Path(path_type=Path),
    help=f"Folder of plugin .py files to load (repeatable; also ${PLUGINS_DIR_ENV}).",
)


def _err(message: str) -> None:
    click.echo(message, err=True)


def _report_issues(issues: Sequence[Issue]) -> None:
    for issue in issues:
        if issue.severity in ("error", "warning"):
            _err(f"{issue.severity}: {issue}" + (f" [{issue.source}]" if issue.source else ""))


def _print_layers(outputs: Outputs) -> None:
    hedge = outputs.hedge
    share = next((c for c in hedge.columns if str(c).startswith("Share of Loss")), None)
    shown = hedge.rename(columns={share: "Share of Loss Covered"}) if share else hedge
    click.echo(as_text_table(shown, LAYER_COLUMNS))
    for _, row in hedge.iterrows():
        if isinstance(row["Trigger"], str) and row["Trigger"]:  # a totals row has none
            click.echo(f"  layer {row['Layer']} trigger: {row['Trigger']}")


class _PathArguments(click.Command):
    """A command whose WORKBOOK argument may start with "-": an existing file named like an option
    is taken as the file, and an unknown option gets a hint instead of a bare error."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, self._file_last(args))
        except click.NoSuchOption as exc:
            hint = "a workbook whose name starts with '-': write ./NAME or put -- before it"
            raise click.UsageError(f"{exc.format_message()} ({hint})", ctx) from None

    def _file_last(self, args: list[str]) -> list[str]:
        """The arguments with an existing file named like an option moved behind `--`."""
        known = {name for param in self.params for name in getattr(param, "opts", ())}
        valued = {
            name
            for param in self.params
            if isinstance(param, click.Option) and not param.is_flag
            for name in param.opts
        }
        for i, arg in enumerate(args):
            if arg == "--":
                break
            is_value = i > 0 and args[i - 1] in valued  # e.g. the folder of --plugins-dir
            bare = arg.split("=", 1)[0]
            if arg.startswith("-") and bare not in known and not is_value and Path(arg).exists():
                return [*args[:i], *args[i + 1 :], "--", arg]
        return args


@click.group()
@click.version_option(__version__, prog_name="alvh")
def main() -> None:
    """alvh: adaptive layered VIX hedges for SPX iron-condor books, from an Excel workbook."""


def run() -> NoReturn:
    """The `alvh` console command: `main`, then an exit that waits for nothing.

    Once the workbook is written and the output flushed nothing is left to do, so the process
    ends at once: no thread a plugin left running can keep it alive, and it skips the interpreter's
    teardown (freeing pandas and every frame costs ~0.15 s, a third of a recompute). `main` itself
    stays an ordinary click command for tests and embedding.
    """
    try:
        main.main(prog_name="alvh")
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc.code)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _exit_code(code: object) -> int:
    """What `sys.exit(code)` would make the exit status (a message goes to stderr as status 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    _err(str(code))
    return 1


def _load_plugins(given: Sequence[Path]) -> PluginHost:
    """The plugins, or a usage error (exit 2) for a plugin folder that does not exist."""
    try:
        return load_plugins(given)
    except PluginFolderError as exc:
        raise click.UsageError(str(exc)) from None


@main.command("recompute", cls=_PathArguments)
@click.argument("workbook", type=click.Path(path_type=Path))
@plugins_dir_option
@click.option(
    "--sizer",
    metavar="NAME",
    help="Size the hedge with this sizer for this run only, instead of the Settings' "
    "engine.sizer (`alvh plugins` lists them).",
)
@click.option("--quiet", is_flag=True, help="Print nothing on success.")
def recompute_command(
    workbook: Path, plugins_dirs: tuple[Path, ...], sizer: str | None, quiet: bool
) -> None:
    """Read WORKBOOK, compute risk, signals and hedge layers, write the engine's sheets back."""
    host = _load_plugins(plugins_dirs)
    book = _FileBook(workbook)
    try:
        code = _recompute(book, host, RunOptions(sizer=sizer), quiet)
    except KeyboardInterrupt:
        _err(f"alvh: interrupted; {book.state_after_interrupt()}")
        code = EXIT_INTERRUPTED
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            traceback.print_exc()
        _err(
            f"alvh: internal error ({describe_exception(exc)}); {book.state_after_interrupt()}. "
            f"Please report it, or rerun with {DEBUG_ENV}=1 for the traceback"
        )
        code = EXIT_INTERNAL_ERROR
    click.get_current_context().exit(code)


def _recompute(book: _FileBook, host: PluginHost, options: RunOptions, quiet: bool) -> int:
    workbook = book.path
    try:
        with workbook_lock(workbook):
            outputs = recompute_workbook(book.read, book.write, host, options)
    except WorkbookBusy as exc:
        _err(f"alvh: nothing was read or written: {exc}")
        return EXIT_FILE_ERROR
    except WriteFailed as exc:
        _report_issues(exc.outputs.issues)
        _err(f"alvh: nothing was written to {workbook}: {exc.cause}")
        return EXIT_FILE_ERROR
    except WorkbookError as exc:
        _err(f"alvh: cannot read {workbook}: {exc}")
        return EXIT_FILE_ERROR
    _report_issues(outputs.issues)
    code = _EXIT_FOR[outputs.status]
    if outputs.status == "input errors" and options.sizer not in (None, *host.sizers):
        _err(
            f"alvh: {workbook}: --sizer {options.sizer!r} is not a loaded sizer, so nothing was "
            "computed; the Run sheet says so (nothing else was changed)"
        )
    elif outputs.status == "input errors":
        _err(f"alvh: {workbook}: inputs have errors; see the Run sheet (nothing else was changed)")
    elif outputs.status == "plugin failed":
        _err(
            f"alvh: {workbook}: the sizer failed, so no hedge layers were made; Signals and Risk "
            "were written, and the Run sheet says why"
        )
    elif outputs.status == "internal error":
        _err(f"alvh: {workbook}: internal error in alvh; see the Run sheet")
    elif not quiet:
        click.echo(f"{workbook}: recomputed; Hedge, Signals, Risk, Run and Log sheets written.")
        _print_layers(outputs)
    return code


class _FileBook:
    """The file adapter for the pipeline: calamine read, surgical write, and the file's hash
    in between, so that a file changed by someone else after the read is not overwritten."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sha256 = ""

    def state_after_interrupt(self) -> str:
        """Whether the file is as it was read: Ctrl-C (or a failure) may land after the atomic
        replace."""
        from rules_engine.workbook.guards import file_sha256

        if not self.sha256:
            return f"{self.path} was not changed"
        try:
            same = file_sha256(self.path) == self.sha256
        except OSError:
            same = True
        if same:
            return f"{self.path} was not changed"
        return f"{self.path} was already written with the new results"

    def read(self) -> Inputs:
        from rules_engine.workbook.reader import FileInputError, read_workbook

        try:
            read = read_workbook(self.path)
        except FileInputError as exc:
            self.sha256 = exc.sha256
            raise
        self.sha256 = read.sha256
        return read.inputs

    def write(self, sheets: Sequence[SheetCells]) -> None:
        from rules_engine.workbook.writer import write_owned_sheets

        write_owned_sheets(self.path, sheets, expected_sha256=self.sha256)


@main.command("init", cls=_PathArguments)
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option("--example", is_flag=True, help="Fill it with a realistic example book and market.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@plugins_dir_option
def init_command(
    workbook: Path, example: bool, force: bool, plugins_dirs: tuple[Path, ...]
) -> None:
    """Create a new workbook with every input sheet, its headers and the Settings rows."""
    from rules_engine.workbook.create import create_workbook

    host = _load_plugins(plugins_dirs)
    try:
        create_workbook(workbook, host.declared_settings, example=example, force=force)
    except WorkbookError as exc:
        _err(f"alvh: {exc}")
        sys.exit(EXIT_FILE_ERROR)
    click.echo(f"created {workbook}" + (" with the example book" if example else ""))


def describe_plugins(host: PluginHost) -> str:
    lines = []
    for p in host.plugins:
        registered = [f"signal {s}" for s in p.signals] + [f"sizer {s}" for s in p.sizers]
        lines.append(f"{p.name} {p.version}  [{p.source}]")
        lines.append("    registers: " + (", ".join(registered) or "nothing"))
        if p.settings:
            lines.append("    settings: " + ", ".join(p.settings))
    for f in host.failures:
        lines.append(f"{f.plugin}  FAILED  [{f.source}]")
        lines.append(f"    {f.error}")
    return "\n".join(lines)


@main.command("plugins")
@plugins_dir_option
def plugins_command(plugins_dirs: tuple[Path, ...]) -> None:
    """List each plugin, where it came from, its version, what it registered, what failed."""
    host = _load_plugins(plugins_dirs)
    click.echo(describe_plugins(host))
    if host.failures:
        sys.exit(EXIT_INPUT_ERRORS)


main.add_command(excel_command)
