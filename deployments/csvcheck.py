"""Checking an uploaded CSV against what a batch model reads, in one streaming pass.

The file is read in blocks of lines (never whole) and each row written, normalised, to `out`: numbers
only, comma-separated, one row a line, without the header (SageMaker's CSV containers read every line as a
record). The first problem ends the check with the line it is on and the reason, in words.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import repeat
from typing import IO

import numpy as np

MAX_LINE_BYTES = 1024 * 1024  # one row; a file without line breaks is never held whole
WRITE_BATCH = 2000  # rows written to the checked copy at once
CHUNK_BYTES = 128 * 1024  # a block of lines checked at once (its cells held briefly: under 2 MB)


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


def _lines(source: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """(line number, raw line) one at a time, never longer than MAX_LINE_BYTES."""
    lines = iter(lambda: source.readline(MAX_LINE_BYTES + 1), b"")
    for number, raw in enumerate(lines, start=1):
        if len(raw) > MAX_LINE_BYTES:
            raise CsvRefused(number, "this line is longer than 1 MB: a row must end with a line break.")
        yield number, raw


def _parse(number: int, raw: bytes) -> list[str] | None:
    """The cells of one line (a cell never spans lines in the numeric CSV a model reads, so each line is
    parsed on its own and its number is exact); None for a blank line."""
    try:
        text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError:
        raise CsvRefused(number, "the file is not UTF-8 text: save it as CSV (UTF-8).") from None
    try:
        cells = next(csv.reader([text.rstrip("\r\n")]), [])
    except csv.Error as exc:
        raise CsvRefused(number, f"this is not a CSV row ({exc}).") from None
    if not text.strip():
        return None
    return [cell.strip() for cell in cells]


def _fast_record(raw: bytes, wanted: int) -> bytes | None:
    """The normalised row when a plain ASCII line has `wanted` finite numbers (most lines); None sends the
    line through the full parse, which says what is wrong with it, if anything."""
    if b'"' in raw or not raw.isascii():
        return None
    cells = [cell.strip() for cell in raw.rstrip(b"\r\n").split(b",")]
    if len(cells) != wanted:
        return None
    try:
        if not all(math.isfinite(float(cell)) for cell in cells):
            return None
    except ValueError:
        return None
    return b",".join(cells)


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
        because = (
            "the model expects"
            if expect.columns
            else "the header names"
            if checked.names
            else "the rows above have"
        )
        raise CsvRefused(line, f"{len(cells)} columns, but {because} {wanted}.")
    for index, cell in enumerate(cells, start=1):
        if not cell:
            raise CsvRefused(line, f"column {index} is empty: every cell must be a number.")
        if not _number(cell):
            raise CsvRefused(line, f"column {index} holds “{cell[:40]}”, which is not a number.")
    checked.columns = wanted


def _block_rows(body: bytes, columns: int) -> int | None:
    """How many rows `body` holds when each of its lines is `columns` finite numbers, written plainly
    (ASCII, no spaces, quotes or CR), checked a block at a time in numpy; None sends it line by line."""
    if not body.isascii() or any(mark in body for mark in (b" ", b"\r", b'"', b"\t")):
        return None
    lines = body.split(b"\n")
    lines.pop()  # after the last line break
    if set(map(bytes.count, lines, repeat(b","))) != {columns - 1}:
        return None
    try:
        values = np.array(b",".join(lines).split(b","), dtype=np.float64)
    except ValueError:
        return None
    return len(lines) if bool(np.isfinite(values).all()) else None


def _chunks(source: IO[bytes]) -> Iterator[bytes]:
    """The rest of the file in blocks of about CHUNK_BYTES, each ending at a line break (or the end)."""
    while chunk := source.read(CHUNK_BYTES):
        if not chunk.endswith(b"\n"):
            chunk += source.readline(MAX_LINE_BYTES + 1)
        yield chunk


class _Writer:
    """The checked copy, written in batches of rows."""

    def __init__(self, out: IO[bytes], checked: Checked) -> None:
        self.out, self.checked = out, checked
        self.pending: list[bytes] = []

    def row(self, row: bytes) -> None:
        self.pending.append(row)
        self.checked.rows += 1
        if len(self.pending) >= WRITE_BATCH:
            self.flush()

    def block(self, rows: bytes, count: int) -> None:
        self.flush()
        self.out.write(rows)
        self.checked.rows += count

    def flush(self) -> None:
        if self.pending:
            self.out.write(b"\n".join(self.pending) + b"\n")
            self.pending.clear()


def _line(number: int, raw: bytes, expect: Expectation, checked: Checked, writer: _Writer) -> None:
    """Check one line (the slow, exact path): a record is written, a blank line skipped, the first line
    may be the header; CsvRefused says what is wrong."""
    if len(raw) > MAX_LINE_BYTES:
        raise CsvRefused(number, "this line is longer than 1 MB: a row must end with a line break.")
    if checked.columns:
        fast = _fast_record(raw, checked.columns)
        if fast is not None:
            writer.row(fast)
            return
    cells = _parse(number, raw)
    if cells is None:
        return
    if not checked.columns and _header(number, cells, expect, checked):
        checked.columns = expect.columns or len(cells)
        return
    _record(number, cells, expect, checked)
    writer.row(",".join(cells).encode())


def csv_check(source: IO[bytes], expect: Expectation, out: IO[bytes]) -> Checked:
    """Check `source` row by row and write the rows the model reads to `out`; CsvRefused on a problem.

    The first line is read on its own (header or not, how many columns); the rest goes in blocks checked
    at once, and a block that does not pass is gone through line by line for the exact line and reason
    (also what blank lines, quotes, spaces or CRLF line ends take)."""
    checked = Checked()
    writer = _Writer(out, checked)
    number = 0
    for number, raw in _lines(source):
        _line(number, raw, expect, checked, writer)
        if checked.columns:
            break
    if checked.columns:
        for chunk in _chunks(source):
            body = chunk if chunk.endswith(b"\n") else chunk + b"\n"
            count = _block_rows(body, checked.columns)
            if count is not None:
                writer.block(body, count)
                number += count
                continue
            for raw in chunk.splitlines(keepends=True):
                number += 1
                _line(number, raw, expect, checked, writer)
    writer.flush()
    if checked.rows == 0:
        reason = "it holds a header row and no data rows." if checked.names else "it holds no rows."
        raise CsvRefused(0, f"The file is empty: {reason}")
    if expect.header and len(checked.names) != checked.columns:
        raise CsvRefused(
            1, f"the header names {len(checked.names)} columns, but the rows have {checked.columns}."
        )
    return checked
