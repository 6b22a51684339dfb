"""A run's results as CSV, streamed row by row (a run may hold millions of rows), with every text cell
a spreadsheet would read as a formula neutralised."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from deployments.models import TransformRun, TransformRunFile
from insights.models import INPUT_COLUMNS, InsightSettings, ResultRow

# Cells starting with these are formulas (or become one) in Excel, LibreOffice and Google Sheets:
# https://owasp.org/www-community/attacks/CSV_Injection
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 2000


def csv_cell(value: Any) -> Any:
    """A cell as written: numbers as they are (a number is never a formula, even a negative one), empty
    for None, text prefixed with an apostrophe when a spreadsheet would run it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file-like object whose write() hands back the line csv.writer wrote."""

    def write(self, value: str) -> str:
        return value


def run_csv_lines(run: TransformRun, settings: InsightSettings, columns: int) -> Iterator[str]:
    """The header, then each row of the run in file and line order (read in chunks: bounded memory)."""
    writer = csv.writer(_Echo())
    files = TransformRunFile.objects.filter(run=run).only("input_key")
    names = {f.pk: f.input_key.rsplit("/", 1)[-1] for f in files}
    header = ["file", "line", *settings.names(columns), "score", f"flagged (score ≥ {settings.threshold:g})"]
    yield writer.writerow([csv_cell(cell) for cell in header])
    fields = ["file_id", "line", *INPUT_COLUMNS[:columns], "score"]
    rows = (
        ResultRow.objects.filter(tenant_id=run.tenant_id, run=run)
        .order_by("file_id", "line")
        .values_list(*fields)
        .iterator(chunk_size=CHUNK_ROWS)
    )
    for file_id, line, *values in rows:
        score = values[-1]
        cells = [names.get(file_id, ""), line, *values, score >= settings.threshold]
        yield writer.writerow([csv_cell(cell) for cell in cells])
