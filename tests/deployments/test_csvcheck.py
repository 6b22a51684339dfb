"""The CSV check of uploads, without a database: exact lines past the first block, what takes the slow
path (blank lines, spaces, quotes, CRLF), normalised output, and memory that does not grow with the file."""

from __future__ import annotations

import io
import tempfile
import tracemalloc

import pytest

from deployments.csvcheck import CHUNK_BYTES, CsvRefused, Expectation, csv_check

GOOD = b"1.5,2,-3e2\n" * 50_000  # about 550 KB: several blocks


def check(data: bytes, **expect: object) -> tuple[int, bytes]:
    out = io.BytesIO()
    checked = csv_check(io.BytesIO(data), Expectation(**expect), out)  # type: ignore[arg-type]
    return checked.rows, out.getvalue()


def test_a_large_file_passes_in_blocks_and_is_copied_as_is() -> None:
    assert len(GOOD) > 2 * CHUNK_BYTES
    rows, body = check(GOOD, columns=3)
    assert rows == 50_000
    assert body == GOOD


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (b"1,2\n", "2 columns, but the model expects 3."),
        (b"1,2,x\n", "column 3 holds “x”, which is not a number."),
        (b"1,2,1e999\n", "column 3 holds “1e999”, which is not a number."),
        (b"1,,3\n", "column 2 is empty"),
        (b",,\n", "column 1 is empty"),
        (b"1,2,\xff\n", "the file is not UTF-8 text"),
    ],
)
def test_a_bad_line_deep_in_the_file_is_named_exactly(bad: bytes, reason: str) -> None:
    with pytest.raises(CsvRefused) as refused:
        check(GOOD + GOOD + bad + GOOD, columns=3)
    assert refused.value.line == 100_001
    assert reason in str(refused.value)


def test_blank_lines_spaces_quotes_and_crlf_are_read_and_normalised() -> None:
    rows, body = check(GOOD + b"\n\n 1 , 2 ,3\r\n" + b'"4",5,6\n' + GOOD + b"7,8,9", columns=3)
    assert rows == 100_003
    assert body == GOOD + b"1,2,3\n4,5,6\n" + GOOD + b"7,8,9\n"


def test_a_header_is_taken_off_and_its_names_kept() -> None:
    out = io.BytesIO()
    checked = csv_check(io.BytesIO(b"a,b,c\r\n" + GOOD), Expectation(header=True), out)
    assert checked.names == ["a", "b", "c"]
    assert checked.rows == 50_000
    assert out.getvalue() == GOOD


def test_without_an_expected_count_every_row_has_the_first_rows_count() -> None:
    with pytest.raises(CsvRefused, match=r"Line 50001: 4 columns, but the rows above have 3\."):
        check(GOOD + b"1,2,3,4\n")


def test_memory_does_not_grow_with_the_file() -> None:
    """A 4.4 MB file is checked holding one block's cells at a time (the output goes to a file)."""
    with tempfile.TemporaryFile() as source, tempfile.TemporaryFile() as out:
        for _ in range(8):
            source.write(GOOD)
        source.seek(0)
        tracemalloc.start()
        try:
            csv_check(source, Expectation(columns=3), out)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 3 * 1024 * 1024  # for any size of file
