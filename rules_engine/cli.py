"""The `alvh` command: recompute a workbook, create one, list plugins.

Exit codes of `alvh recompute` (each means one thing; the README lists them):
0 done (warnings allowed); 1 the inputs have errors, each at its cell, or `--sizer` names no loaded
sizer; 2 the workbook cannot be read or written, or the command line is wrong (nothing was
changed); 3 a plugin failed where no result could be made (the chosen sizer); 4 an internal error
in alvh; 130 interrupted by Ctrl-C.

`alvh recompute` prints the answer first (the summary lines), then the layer table; with `--json`
it prints one JSON document instead, for scripts, and nothing else on stdout.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import click
import numpy as np
import pandas as pd

from rules_engine import __version__
from rules_engine.engine import RunOptions
from rules_engine.excel_setup import excel_command
from rules_engine.guarded import describe_exception
from rules_engine.host import PLUGINS_DIR_ENV, PluginFolderError, PluginHost, load_plugins
from rules_engine.layout import as_text_table, text_value
from rules_engine.models import (
    CellValue,
    Inputs,
    Issue,
    Outputs,
    RunStatus,
    SheetCells,
    WorkbookError,
)
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

#: `--json`'s status for each exit code: the run's own status, or what stopped it.
JSON_STATUS: dict[int, str] = {
    EXIT_OK: "ok",
    EXIT_INPUT_ERRORS: "input errors",
    EXIT_FILE_ERROR: "file error",
    EXIT_PLUGIN_FAILED: "plugin failed",
    EXIT_INTERNAL_ERROR: "internal error",
    EXIT_INTERRUPTED: "interrupted",
}
#: Summary labels longer than this are not padded to: the values of the others stay in one column.
_LABEL_WIDTH = 40

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


def summary_lines(summary: Sequence[tuple[str, CellValue]]) -> list[str]:
    """The summary as aligned "label: value" lines, each value formatted as its label says
    (dollars without cents, shares as percents); a line without a label continues the one
    above."""
    width = max((len(label) + 1 for label, _ in summary if len(label) < _LABEL_WIDTH), default=0)
    lines = []
    for label, value in summary:
        head = f"{label}:" if label else ""
        lines.append(f"{head:<{width}} {text_value(label, value)}")
    return lines


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


class _Commands(click.Group):
    """A group whose command list shows each command's whole first sentence: click's own cuts
    it to the terminal's width with "...", here the line wraps instead."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=sys.maxsize)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=_Commands)
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
@click.option(
    "--quiet", is_flag=True, help="Print nothing on success (--json still prints its document)."
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON document for scripts (status, summary, layers, signals, messages) "
    "instead of text; the exit code is the same.",
)
def recompute_command(
    workbook: Path, plugins_dirs: tuple[Path, ...], sizer: str | None, quiet: bool, as_json: bool
) -> None:
    """Recompute WORKBOOK and write the engine's sheets into it.

    Reads the input sheets, prices and stresses the book, runs the signals and the sizer, and
    writes the Hedge, Signals, Risk, Run and Log sheets. Prints what to do now, then the hedge
    layers. Exit code: 0 done, 1 the inputs have errors, 2 the file cannot be read or written
    (or the command line is wrong), 3 the sizer failed, 4 an internal error in alvh, 130
    interrupted.
    """
    book = _FileBook(workbook)
    with _stdout_kept_for_json(as_json):
        host = _load_plugins(plugins_dirs)
        run = _run_recompute(book, host, RunOptions(sizer=sizer))
    if run.problem:
        _err(f"alvh: {run.problem}")
    if as_json:
        click.echo(json.dumps(json_document(book.path, run, book.changed()), indent=2))
    elif run.code == EXIT_OK and run.outputs is not None and not quiet:
        for line in summary_lines(run.outputs.summary):
            click.echo(line)
        _print_layers(run.outputs)
        click.echo(f"{workbook}: recomputed; Hedge, Signals, Risk, Run and Log sheets written.")
    click.get_current_context().exit(run.code)


@contextlib.contextmanager
def _stdout_kept_for_json(as_json: bool) -> Iterator[None]:
    """With --json, whatever a plugin prints goes to stderr: stdout holds the document alone."""
    if not as_json:
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield


@dataclass(frozen=True)
class RecomputeRun:
    """How `alvh recompute` ended: its exit code, what it wrote (None when nothing was
    written) and, when it stopped before writing or failed outside the engine, why."""

    code: int
    outputs: Outputs | None = None
    problem: str = ""


def _run_recompute(book: _FileBook, host: PluginHost, options: RunOptions) -> RecomputeRun:
    try:
        return _recompute(book, host, options)
    except KeyboardInterrupt:
        return RecomputeRun(EXIT_INTERRUPTED, problem=f"interrupted; {book.state()}")
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            traceback.print_exc()
        return RecomputeRun(
            EXIT_INTERNAL_ERROR,
            problem=f"internal error ({describe_exception(exc)}); {book.state()}. "
            f"Please report it, or rerun with {DEBUG_ENV}=1 for the traceback",
        )


def _recompute(book: _FileBook, host: PluginHost, options: RunOptions) -> RecomputeRun:
    workbook = book.path
    try:
        with workbook_lock(workbook):
            outputs = recompute_workbook(book.read, book.write, host, options)
    except WorkbookBusy as exc:
        return RecomputeRun(EXIT_FILE_ERROR, problem=f"nothing was read or written: {exc}")
    except WriteFailed as exc:
        _report_issues(exc.outputs.issues)
        problem = f"nothing was written to {workbook}: {exc.cause}"
        return RecomputeRun(EXIT_FILE_ERROR, problem=problem)
    except WorkbookError as exc:
        return RecomputeRun(EXIT_FILE_ERROR, problem=f"cannot read {workbook}: {exc}")
    _report_issues(outputs.issues)
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
    return RecomputeRun(_EXIT_FOR[outputs.status], outputs)


JsonValue = str | int | float | bool | None


def json_document(path: Path, run: RecomputeRun, changed: bool) -> dict[str, object]:
    """What `alvh recompute --json` prints: how the run ended and what it wrote. Dates are ISO
    text, a missing number is null; `changed` says whether the workbook file now differs from
    what was read."""
    outputs = run.outputs
    info = dict(outputs.run_info) if outputs is not None else {}
    issues = list(outputs.issues) if outputs is not None else []
    messages = [
        {"severity": i.severity, "where": i.where, "message": i.message, "source": i.source}
        for i in issues
    ]
    if run.problem:
        messages.append(
            {"severity": "error", "where": str(path), "message": run.problem, "source": "alvh"}
        )
    return {
        "status": JSON_STATUS[run.code],
        "file": str(path),
        "as_of": json_value(info.get("As Of")),
        "sizer": json_value(info.get("Sizer") or None),
        "summary": [
            {"label": label, "value": json_value(value)}
            for label, value in (outputs.summary if outputs is not None else ())
        ],
        "layers": _json_rows(outputs.hedge if outputs is not None else None),
        "signals": _json_rows(outputs.signals if outputs is not None else None),
        "messages": messages,
        "changed": changed,
    }


def _json_rows(frame: pd.DataFrame | None) -> list[dict[str, JsonValue]]:
    if frame is None:
        return []
    columns = [str(c) for c in frame.columns]
    return [
        {name: json_value(value) for name, value in zip(columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def json_value(value: object) -> JsonValue:
    """A cell value as JSON: numpy scalars as Python numbers, dates and times as ISO text,
    NaN, NaT and infinities as null."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class _FileBook:
    """The file adapter for the pipeline: calamine read, surgical write, and the file's hash
    in between, so that a file changed by someone else after the read is not overwritten."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sha256 = ""

    def changed(self) -> bool:
        """Whether the file differs from what was read (by hash: Ctrl-C or a failure may land
        after the atomic replace, and a replacement with the same bytes changed nothing)."""
        from rules_engine.workbook.guards import file_sha256

        if not self.sha256:
            return False
        try:
            return file_sha256(self.path) != self.sha256
        except OSError:
            return False

    def state(self) -> str:
        """Whether the file was changed, in words."""
        if self.changed():
            return f"{self.path} was already written with the new results"
        return f"{self.path} was not changed"

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
    """Create a new workbook with every input sheet and its headers.

    Settings holds every setting the loaded plugins declare, with its default and description;
    Rules holds the default layer triggers. With --example the sheets hold a realistic SPX book,
    its market and history.
    """
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
    """List what plugins loaded, from where, and what failed.

    For each plugin: its source (built-in, entry point or plugin folder), version, the signals and
    sizers it registered and its settings; then every plugin that failed to load, and why (exit
    code 1).
    """
    host = _load_plugins(plugins_dirs)
    click.echo(describe_plugins(host))
    if host.failures:
        sys.exit(EXIT_INPUT_ERRORS)


main.add_command(excel_command)
