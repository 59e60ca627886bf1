"""Locating a table on a sheet: its header row, its contract columns and its data rows.

The grid comes from python-calamine, which trims the sheet to its used range; `start` is where that
range begins, so every value here is mapped back to its real A1 address. Problems are collected in a
`Problems` log rather than raised, so that the user sees every mistake of a workbook at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from rules_engine.contract import Column, column_letter, field_name, header_key
from rules_engine.models import Issue
from rules_engine.workbook.cells import CellError, RawCell, is_blank, to_date, to_number, to_text

T = TypeVar("T")
_NAN = float("nan")


@dataclass
class Problems:
    """Errors and warnings found while reading, each located at a sheet, cell and column."""

    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    _bad_cells: set[tuple[str, str]] = field(default_factory=set)

    def error(
        self, sheet: str, message: str, cell: str | None = None, column: str | None = None
    ) -> None:
        self.errors.append(Issue("error", message, sheet, cell, column, source="reader"))
        if cell is not None:
            self._bad_cells.add((sheet, cell))

    def add(self, issues: Iterable[Issue]) -> None:
        """Problems found elsewhere (an adapter's own checks), kept in their severity."""
        for issue in issues:
            if issue.severity == "error":
                self.errors.append(issue)
                if issue.sheet is not None and issue.cell is not None:
                    self._bad_cells.add((issue.sheet, issue.cell))
            else:
                self.warnings.append(issue)

    def flagged(self, sheet: str, cell: str) -> bool:
        """Whether an error was already reported at this cell (so later checks stay quiet)."""
        return (sheet, cell) in self._bad_cells

    def warning(
        self, sheet: str, message: str, cell: str | None = None, column: str | None = None
    ) -> None:
        self.warnings.append(Issue("warning", message, sheet, cell, column, source="reader"))


@dataclass(frozen=True)
class Table:
    """The data rows of one sheet, column by column, with the address of every value.

    `values[field][i]` is the raw cell of spreadsheet row `rows[i]`; fully blank rows are left out.
    `headers[field]` is the header text as the user wrote it (used in messages).
    """

    sheet: str
    header_row: int
    first_column: str
    letters: dict[str, str]
    headers: dict[str, str]
    rows: list[int]
    values: dict[str, list[RawCell]]
    extras: tuple[str, ...]

    def cell(self, fieldname: str, i: int) -> str:
        """The A1 address of `fieldname` in data row i."""
        return f"{self.letters[fieldname]}{self.rows[i]}"

    def column(self, fieldname: str) -> list[RawCell]:
        """The raw values of a column, or blanks when the (optional) column is absent."""
        return self.values.get(fieldname, [""] * len(self.rows))

    def convert(
        self, fieldname: str, convert: Callable[[RawCell], T], fallback: T, problems: Problems
    ) -> list[T]:
        """Convert a whole column; a bad cell is reported at its address and gets `fallback`."""
        if fieldname not in self.values:
            return [convert("") for _ in self.rows]
        out: list[T] = []
        header = self.headers[fieldname]
        for i, raw in enumerate(self.values[fieldname]):
            try:
                out.append(convert(raw))
            except CellError as exc:
                problems.error(self.sheet, str(exc), self.cell(fieldname, i), header)
                out.append(fallback)
        return out

    def numbers(self, fieldname: str, problems: Problems) -> list[float]:
        """A number column: blank cells are NaN, anything else that is not a number is an error.

        A column of plain finite numbers and empty cells (nearly every column) is taken as it is;
        any other cell sends the column through `to_number`, cell by cell, for its messages.
        """
        plain: list[float] = []
        for value in self.values.get(fieldname, ()):
            if type(value) is float and value - value == 0.0:
                plain.append(value)
            elif value == "":
                plain.append(_NAN)
            else:
                return self.convert(fieldname, to_number, _NAN, problems)
        if fieldname in self.values:
            return plain
        return self.convert(fieldname, to_number, _NAN, problems)

    def dates(self, fieldname: str, problems: Problems) -> list[dt.date | None]:
        """A date column: blank cells are None."""
        return self.convert(fieldname, to_date, None, problems)

    def extra(self, fieldname: str, problems: Problems) -> list[object]:
        """A column the contract does not define: numbers if any cell is a number, else as typed.

        A column such as "Advances" with one stray word in it is then an error at that cell, while
        a "Comment" column of text is kept as text.
        """
        raw = self.column(fieldname)
        if any(isinstance(v, int | float) and not isinstance(v, bool) for v in raw):
            return list(self.numbers(fieldname, problems))
        return [None if is_blank(v) else v.strip() if isinstance(v, str) else v for v in raw]

    def texts(self, fieldname: str) -> list[str]:
        """A text column: stripped, blank cells are ""."""
        return [v.strip() if type(v) is str else to_text(v) for v in self.column(fieldname)]


def _holds_data(line: Sequence[RawCell], wanted: Sequence[int]) -> bool:
    """Whether any wanted column of the row holds something (stops at the first that does)."""
    width = len(line)
    return any(j < width and not is_blank(line[j]) for j in wanted)


def _at(line: Sequence[RawCell], j: int) -> RawCell:
    return line[j] if j < len(line) else ""


def _match(headers: Sequence[RawCell], columns: Sequence[Column]) -> dict[int, tuple[str, str]]:
    """Header position -> (field, header text) for every non-blank header."""
    known = {}
    for col in columns:
        known[header_key(col.header)] = col.field
        known[header_key(col.field)] = col.field
    found: dict[int, tuple[str, str]] = {}
    for j, raw in enumerate(headers):
        text = to_text(raw)
        name = known.get(header_key(text)) or field_name(text)
        if name:
            found[j] = (name, text)
    return found


def parse_table(
    sheet: str,
    grid: Sequence[Sequence[RawCell]],
    start: tuple[int, int] | None,
    columns: Sequence[Column],
    problems: Problems,
) -> Table | None:
    """Find the header row (the first non-empty row) and collect the data rows below it.

    Returns None, after reporting why, when the sheet is empty or a required column is missing.
    """
    header_at = next((i for i, row in enumerate(grid) if not all(map(is_blank, row))), None)
    expected = ", ".join(c.header for c in columns if c.required)
    if start is None or header_at is None:
        problems.error(sheet, f"the sheet is empty: expected a header row with {expected}", "A1")
        return None
    row0, col0 = start
    header_row = row0 + header_at + 1
    matched = _match(grid[header_at], columns)
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    for j, (name, text) in matched.items():
        if name in positions:
            first = f"{column_letter(col0 + positions[name])}{header_row}"
            here = f"{column_letter(col0 + j)}{header_row}"
            problems.error(
                sheet, f"a second {text!r} column ({first} and {here}): keep one", here, text
            )
            continue
        positions[name] = j
        headers[name] = text
    missing = [c for c in columns if c.required and c.field not in positions]
    found = ", ".join(to_text(raw) for raw in grid[header_at] if not is_blank(raw))
    for col in missing:
        problems.error(
            sheet,
            f"no {col.header!r} column in the header row (row {header_row}); found: {found}",
            None,
            col.header,
        )
    if missing:
        return None
    contract = {c.field for c in columns}
    keep = list(positions.items())
    wanted = [j for _, j in keep]
    used = [i for i in range(header_at + 1, len(grid)) if _holds_data(grid[i], wanted)]
    rows = [row0 + i + 1 for i in used]
    lines = [grid[i] for i in used]
    last = max(wanted)
    if all(len(line) > last for line in lines):  # a rectangle, as both adapters give
        cells = [[line[j] for line in lines] for j in wanted]
    else:
        cells = [[_at(line, j) for line in lines] for j in wanted]
    return Table(
        sheet=sheet,
        header_row=header_row,
        first_column=column_letter(col0),
        letters={name: column_letter(col0 + j) for name, j in keep},
        headers=headers,
        rows=rows,
        values={name: cells[k] for k, (name, _) in enumerate(keep)},
        extras=tuple(name for name, _ in keep if name not in contract),
    )
