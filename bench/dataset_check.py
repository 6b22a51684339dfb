"""The check of a tenant's CSV upload (deployments.csvcheck) against Python's csv module reading the same
file into floats (the plain way to do it), measured in the same run, plus the check's peak traced memory.

Run standalone: `.venv/bin/python bench/dataset_check.py [--mb 64]`. A file of `--mb` MB of six numeric
columns is written to a temporary file; each side reads it from there (CPU time, best of 3). The last line
is `dataset_check_vs_csv_reader=<check's MB/s ÷ csv.reader's MB/s>` (above 1: the check is faster).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import IO

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deployments.csvcheck import Expectation, csv_check

ROW = b"12.5,3.25,7,1000.125,42,0.5\n"


def reference(source: IO[bytes]) -> int:
    """csv.reader over the text, every cell to float: what a straightforward check does."""
    rows = 0
    text = io.TextIOWrapper(source, encoding="utf-8", newline="")
    for cells in csv.reader(text):
        [float(cell) for cell in cells]
        rows += 1
    text.detach()  # leave the file open for the next round
    return rows


def check(source: IO[bytes]) -> int:
    with tempfile.TemporaryFile() as out:
        return csv_check(source, Expectation(columns=6), out).rows


def best_seconds(source: IO[bytes], run: object) -> float:
    best = float("inf")
    for _ in range(3):
        source.seek(0)
        started = time.process_time()
        run(source)  # type: ignore[operator]
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryFile() as source:
        rows = args.mb * 1024 * 1024 // len(ROW)
        for _ in range(rows // 10_000):
            source.write(ROW * 10_000)
        size_mb = source.tell() / 1e6
        ours = size_mb / best_seconds(source, check)
        theirs = size_mb / best_seconds(source, reference)
        source.seek(0)
        tracemalloc.start()
        check(source)
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    print(f"file: {size_mb:.1f} MB, {rows:,} rows")
    print(f"csv_check: {ours:.1f} MB/s CPU; csv.reader to floats: {theirs:.1f} MB/s CPU")
    print(f"csv_check peak traced memory: {peak:.1f} MB")
    print(f"dataset_check_vs_csv_reader={ours / theirs:.2f}")


if __name__ == "__main__":
    main()
