"""Reading `.out` files: their bytes in bounded chunks, their lines, their rows checked, their figures.

What a `.out` file holds depends on the deployment's DataProcessing.JoinSource:
- `Input` (what the product's batch deployments use for dashboards): SageMaker appends the score to each
  input row, so every line is `x1,…,xk,score` and the file is loaded as it is;
- `None`: one score per line, in input order (AssembleWith=Line); the product joins each score with its
  input line itself, streaming both objects side by side, so that the loaded rows are the same.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from insights.models import HISTOGRAM_BINS

CHUNK_BYTES = 1024 * 1024
EXAMPLES = 5


class Malformed(Exception):
    """The file cannot be loaded as it is: the message says why, for the page; `rows` counts the
    malformed rows when there are any."""

    def __init__(self, message: str, rows: int = 0) -> None:
        super().__init__(message)
        self.rows = rows


@dataclass
class Tail:
    """What a stream of chunks ended with: its size and whether its last line was complete."""

    size: int = 0
    last_byte: bytes = b""

    def watch(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            if chunk:
                self.size += len(chunk)
                self.last_byte = chunk[-1:]
                yield chunk

    @property
    def cut_short(self) -> bool:
        return self.size > 0 and self.last_byte != b"\n"


def lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of a stream of chunks (without their newline), holding one chunk and one line at most."""
    rest = b""
    for chunk in chunks:
        parts = (rest + chunk).split(b"\n")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


def rechunk(lines_in: Iterable[bytes], size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Lines joined back into newline-terminated chunks of about `size` bytes."""
    batch: list[bytes] = []
    held = 0
    for line in lines_in:
        batch.append(line)
        held += len(line) + 1
        if held >= size:
            yield b"\n".join(batch) + b"\n"
            batch, held = [], 0
    if batch:
        yield b"\n".join(batch) + b"\n"


def joined(inputs: Iterable[bytes], scores: Iterable[bytes]) -> Iterator[bytes]:
    """Each input line with its score appended (JoinSource=None): `x1,…,xk,score`, input order.

    A `.out` with fewer lines than its input was cut short; the missing scores become empty cells, which
    the checks report as rows without a score.
    """
    score_lines = iter(scores)
    for line in inputs:
        if not line.strip():
            continue  # blank input lines are not records; SageMaker wrote no score for them
        yield line.rstrip(b"\r") + b"," + next(score_lines, b"")
    for extra in score_lines:
        yield b"," + extra  # more scores than inputs: rows without inputs, reported as malformed


def column_count(first_chunk: bytes, expected_inputs: int | None) -> int:
    """How many input columns the file's rows have: the model's declared input width when the deployment
    states it, else the most common width among the first chunk's lines (one bad first line does not
    decide it)."""
    if expected_inputs:
        return expected_inputs
    widths = Counter(line.count(b",") for line in first_chunk.split(b"\n")[:1000] if line.strip())
    return widths.most_common(1)[0][0] if widths else 0


@dataclass
class Problems:
    """Malformed rows: how many, and the first few as sentences."""

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, number: int, problem: str) -> None:
        self.count += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(f"line {number:,} {problem}")

    def reason(self, rows: int) -> str:
        total = rows + self.count
        return (
            f"{self.count:,} of {total:,} rows are malformed, so nothing of the file was loaded: "
            + "; ".join(self.examples)
            + (" …" if self.count > len(self.examples) else "")
            + ". Check the model's output for this input file, then re-ingest the run."
        )


def _number(text: str) -> float | None:
    """A cell as PostgreSQL's COPY reads a double: None when empty; ValueError when not a number."""
    text = text.strip()
    if not text:
        return None
    if "_" in text:
        raise ValueError(text)
    value = float(text)
    if math.isnan(value) or math.isinf(value):
        raise ValueError(text)
    return value


def parsed(lines_in: Iterable[bytes], inputs: int, problems: Problems) -> Iterator[tuple[int, list, float]]:
    """(line number, input cells, score) of each well-formed row; the others are added to `problems`."""
    expected = inputs + 1
    for number, raw in enumerate(lines_in, start=1):
        cells = raw.decode("utf-8", "replace").rstrip("\r").split(",")
        if len(cells) != expected:
            problems.add(number, f"has {len(cells)} columns where {expected} were expected")
            continue
        try:
            score = _number(cells[-1])
        except ValueError:
            problems.add(number, f"has the score “{cells[-1][:30]}”, which is not a number")
            continue
        if score is None:
            problems.add(number, "has no score")
            continue
        try:
            values = [_number(cell) for cell in cells[:-1]]
        except ValueError:
            problems.add(number, "has an input cell that is not a number")
            continue
        yield number, values, score


def histogram_bin(score: float) -> int:
    """The histogram bin of a score: [0, 1] in HISTOGRAM_BINS equal bins, outliers in the end bins."""
    return min(max(math.floor(score * HISTOGRAM_BINS), 0), HISTOGRAM_BINS - 1)


@dataclass
class Figures:
    """A file's (or a run's) figures, added up row by row or from grouped SQL."""

    rows: int = 0
    score_sum: float = 0.0
    score_min: float | None = None
    score_max: float | None = None
    rows_above: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * HISTOGRAM_BINS)

    def add(self, score: float, threshold: float) -> None:
        self.rows += 1
        self.score_sum += score
        self.score_min = score if self.score_min is None else min(self.score_min, score)
        self.score_max = score if self.score_max is None else max(self.score_max, score)
        self.rows_above += score >= threshold
        self.histogram[histogram_bin(score)] += 1

    def merge(
        self, rows: int, total: float, low: float | None, high: float | None, above: int, hist: list[int]
    ) -> None:
        self.rows += rows
        self.score_sum += total
        if low is not None:
            self.score_min = low if self.score_min is None else min(self.score_min, low)
        if high is not None:
            self.score_max = high if self.score_max is None else max(self.score_max, high)
        self.rows_above += above
        self.histogram = [a + b for a, b in zip(self.histogram, hist or [0] * HISTOGRAM_BINS, strict=True)]
