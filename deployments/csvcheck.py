"""Checking an uploaded CSV against what a batch model reads, in one streaming pass.

The file is read line by line (never whole) and each row written, normalised, to `out`: numbers only,
comma-separated, one row a line, without the header (SageMaker's CSV containers read every line as a
record). The first problem ends the check with the line it is on and the reason, in words.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

MAX_LINE_BYTES = 1024 * 1024  # one row; a file without line breaks is never held whole


@dataclass(frozen=True)
class Expectation:
    """What the model reads: how many columns (None: any, as long as every row has the same), and
    whether files start with a header row of column names."""

    columns: int | None = None
    header: bool = False

    def describe(self) -> str:
        count = f"{self.columns} numeric columns" if self.columns else "numeric columns"
        return f"{count} per row, {'after a header row' if self.header else 'with no header row'}"


@dataclass
class Checked:
    rows: int = 0
    columns: int = 0
    names: list[str] = field(default_factory=list)


class CsvRefused(Exception):
    """The file does not fit: `line` (1-based, 0 for the whole file) and a sentence saying why."""

    def __init__(self, line: int, reason: str) -> None:
        where = f"Line {line}: " if line else ""
        super().__init__(f"{where}{reason}")
        self.line, self.reason = line, reason


def _number(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False


def _rows(source: IO[bytes]) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each non-blank line, read one line at a time (a cell never spans lines in
    the numeric CSV a model reads, so each line is parsed on its own and its number is exact)."""
    lines = iter(lambda: source.readline(MAX_LINE_BYTES + 1), b"")
    for number, raw in enumerate(lines, start=1):
        if len(raw) > MAX_LINE_BYTES:
            raise CsvRefused(number, "this line is longer than 1 MB: a row must end with a line break.")
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise CsvRefused(number, "the file is not UTF-8 text: save it as CSV (UTF-8).") from None
        try:
            cells = next(csv.reader([text.rstrip("\r\n")]), [])
        except csv.Error as exc:
            raise CsvRefused(number, f"this is not a CSV row ({exc}).") from None
        if any(cell.strip() for cell in cells):
            yield number, [cell.strip() for cell in cells]


def _header(line: int, cells: list[str], expect: Expectation, checked: Checked) -> bool:
    """Handle the first row; True when it was the header (not a record)."""
    numeric = [_number(c) for c in cells]
    if expect.header:
        if any(numeric):
            raise CsvRefused(
                line,
                "this model's input starts with a header row of column names, and this line holds "
                "numbers: add the header row as the first line.",
            )
        checked.names = cells
        return True
    if not any(numeric) and cells:
        shown = ", ".join(cells[:3]) + (", …" if len(cells) > 3 else "")
        raise CsvRefused(
            line,
            f"this looks like a header row ({shown}), but this model's input has no header: "
            "remove the first line, or ask your operator to expect a header row.",
        )
    return False


def _record(line: int, cells: list[str], expect: Expectation, checked: Checked) -> None:
    wanted = expect.columns or checked.columns or len(cells)
    if len(cells) != wanted:
        because = "the model expects" if expect.columns else "the rows above have"
        raise CsvRefused(line, f"{len(cells)} columns, but {because} {wanted}.")
    for index, cell in enumerate(cells, start=1):
        if not cell:
            raise CsvRefused(line, f"column {index} is empty: every cell must be a number.")
        if not _number(cell):
            raise CsvRefused(line, f"column {index} holds “{cell[:40]}”, which is not a number.")
    checked.columns = wanted


def csv_check(source: IO[bytes], expect: Expectation, out: IO[bytes]) -> Checked:
    """Check `source` row by row and write the rows the model reads to `out`; CsvRefused on a problem."""
    checked = Checked()
    first = True
    for line, cells in _rows(source):
        if first:
            first = False
            if _header(line, cells, expect, checked):
                continue
        _record(line, cells, expect, checked)
        out.write((",".join(cells) + "\n").encode())
        checked.rows += 1
    if checked.rows == 0:
        reason = "it holds a header row and no data rows." if checked.names else "it holds no rows."
        raise CsvRefused(0, f"The file is empty: {reason}")
    if expect.header and len(checked.names) != checked.columns:
        raise CsvRefused(
            1, f"the header names {len(checked.names)} columns, but the rows have {checked.columns}."
        )
    return checked
