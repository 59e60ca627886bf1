"""How many cells a sheet may span when it is read, and which stray values make it span more.

Both adapters read a sheet as one rectangle from its first to its last used cell: calamine
allocates it whole, and Excel's bulk read returns it whole. One stray value far from the table
makes that rectangle enormous, so each adapter checks the span against one budget before reading,
and reports the values that make it too big, each at its cell, instead of reading gigabytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rules_engine.models import Issue
from rules_engine.workbook.cells import address

#: Most cells one input sheet may span. calamine holds two dense copies of the span while it reads
#: (about 64 bytes per cell) and the grid handed on costs more again: a million cells keeps one
#: read near 150 MB, while thirty years of daily History in thirty columns span about 230,000.
MAX_SHEET_CELLS = 1_000_000
#: Most values that may be set aside as strays (each reported at its cell); a sheet that needs
#: more set aside is simply too large, and is reported as one error.
MAX_STRAY_VALUES = 100


@dataclass(frozen=True)
class Extent:
    """A rectangle of cells, 0-based and inclusive."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def cells(self) -> int:
        return (self.bottom - self.top + 1) * (self.right - self.left + 1)

    def describe(self) -> str:
        """Like "16,384 columns x 1,048,576 rows (A1:XFD1048576)"."""
        columns = _count(self.right - self.left + 1, "column")
        rows = _count(self.bottom - self.top + 1, "row")
        corners = f"{address(self.top, self.left)}:{address(self.bottom, self.right)}"
        return f"{columns} x {rows} ({corners})"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def extent_of(rows: Sequence[int], cols: Sequence[int]) -> Extent | None:
    """The smallest rectangle holding every (row, column); None when there are none."""
    if not len(rows):
        return None
    return Extent(min(rows), min(cols), max(rows), max(cols))


def strays(rows: Sequence[int], cols: Sequence[int]) -> list[int] | None:
    """Indices of the few values far outside the rest that make the span exceed the budget
    ([] when it does not); None when the sheet is too large even without such values.

    Repeatedly sets aside the outermost row or column of values that shrinks the span the most
    per value set aside, as long as doing so at least halves it: a stray value far from the
    table does, a row or column of the table itself does not.
    """
    row_at = np.asarray(rows, dtype=np.int64)
    col_at = np.asarray(cols, dtype=np.int64)
    keep = np.ones(row_at.size, dtype=bool)
    while (span := _cells(row_at, col_at, keep)) > MAX_SHEET_CELLS:
        best: tuple[float, np.ndarray] | None = None
        for values in (row_at, col_at):
            kept = values[keep]
            for edge in (kept.max(), kept.min()):  # on a tie the table's top-left side stays
                line = keep & (values == edge)
                rest = keep & ~line
                shrunk = _cells(row_at, col_at, rest)
                set_aside = row_at.size - np.count_nonzero(rest)
                gain = (span - shrunk) / np.count_nonzero(line)
                fits = 2 * shrunk <= span and set_aside <= MAX_STRAY_VALUES
                if fits and (best is None or gain > best[0]):
                    best = (gain, rest)
        if best is None:
            return None
        keep = best[1]
    return [int(i) for i in np.flatnonzero(~keep)]


def _cells(rows: np.ndarray, cols: np.ndarray, keep: np.ndarray) -> int:
    if not keep.any():
        return 0
    r, c = rows[keep], cols[keep]
    return int(r.max() - r.min() + 1) * int(c.max() - c.min() + 1)


def stray_issue(sheet: str, row: int, col: int, whole: Extent) -> Issue:
    """The error for one stray value, at its cell."""
    return Issue(
        "error",
        f"a value far outside the table makes this sheet span {whole.describe()}; alvh reads "
        f"at most {MAX_SHEET_CELLS:,} cells per sheet: clear this cell (or move it next to the "
        "table) and save",
        sheet,
        address(row, col),
        source="reader",
    )


def too_large_issue(sheet: str, whole: Extent, cell: str | None, what: str) -> Issue:
    """The error for a sheet whose span is over budget with no stray value to blame; `what`
    says what spans it ("this sheet's values span", "the sheet's used range spans")."""
    return Issue(
        "error",
        f"{what} {whole.describe()}, {whole.cells:,} cells; alvh reads at most "
        f"{MAX_SHEET_CELLS:,} cells per sheet: clear the rows and columns the table does not "
        "use (select them, Home > Clear > Clear All)",
        sheet,
        cell,
        source="reader",
    )
