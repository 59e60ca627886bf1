"""The `alvh` command: recompute a workbook, create one, list plugins.

Exit codes: 0 done; 1 the workbook's inputs (or the sizer) had errors, written to the Run sheet and
stderr; 2 the workbook file could not be read or written (nothing was changed).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from rules_engine import __version__
from rules_engine.excel_setup import excel_command
from rules_engine.host import PLUGINS_DIR_ENV, PluginHost, load_plugins
from rules_engine.layout import as_text_table
from rules_engine.models import Inputs, Issue, Outputs, SheetCells, WorkbookError

EXIT_INPUT_ERRORS = 1
EXIT_FILE_ERROR = 2

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
        click.echo(f"  layer {row['Layer']} trigger: {row['Trigger']}")


@click.group()
@click.version_option(__version__, prog_name="alvh")
def main() -> None:
    """alvh: adaptive layered VIX hedges for SPX iron-condor books, from an Excel workbook."""


@main.command("recompute")
@click.argument("workbook", type=click.Path(path_type=Path))
@plugins_dir_option
@click.option("--quiet", is_flag=True, help="Print nothing on success.")
def recompute_command(workbook: Path, plugins_dirs: tuple[Path, ...], quiet: bool) -> None:
    """Read WORKBOOK, compute risk, signals and hedge layers, write the engine's sheets back."""
    from rules_engine.pipeline import WriteFailed, recompute_workbook

    host = load_plugins(plugins_dirs)
    book = _FileBook(workbook)
    try:
        outputs = recompute_workbook(book.read, book.write, host)
    except WriteFailed as exc:
        _report_issues(exc.outputs.issues)
        _err(f"alvh: nothing was written to {workbook}: {exc.cause}")
        sys.exit(EXIT_FILE_ERROR)
    except WorkbookError as exc:
        _err(f"alvh: cannot read {workbook}: {exc}")
        sys.exit(EXIT_FILE_ERROR)
    _report_issues(outputs.issues)
    if not outputs.ok:
        _err(f"alvh: {workbook}: inputs have errors; see the Run sheet (nothing else was changed)")
        sys.exit(EXIT_INPUT_ERRORS)
    if not quiet:
        click.echo(f"{workbook}: recomputed; Hedge, Signals, Risk and Run sheets written.")
        _print_layers(outputs)


class _FileBook:
    """The file adapter for the pipeline: calamine read, surgical write, and the file's hash
    in between, so that a file changed by someone else after the read is not overwritten."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sha256 = ""

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


@main.command("init")
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option("--example", is_flag=True, help="Fill it with a realistic example book and market.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@plugins_dir_option
def init_command(
    workbook: Path, example: bool, force: bool, plugins_dirs: tuple[Path, ...]
) -> None:
    """Create a new workbook with every input sheet, its headers and the Settings rows."""
    from rules_engine.workbook.create import create_workbook

    host = load_plugins(plugins_dirs)
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
    host = load_plugins(plugins_dirs)
    click.echo(describe_plugins(host))
    if host.failures:
        sys.exit(EXIT_INPUT_ERRORS)


main.add_command(excel_command)
