"""Loading one `.out` file into the results table, all of it or nothing: `file_load(...)`.

PostgreSQL: the file's bytes go from S3 straight into `COPY … FROM STDIN` (psycopg 3) into a temporary
staging table, chunk by chunk, so PostgreSQL parses and checks every cell; the file's previous rows are
then deleted and the staged rows moved into the results table in the same transaction. A file COPY
refuses (a row of the wrong width, a score that is not a number) is read again by the Python checks,
which count every malformed row and quote the first few.

SQLite (the embedded default): the same checks in Python, rows inserted in batches, same transaction
shape, same results.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from django.db import connection
from psycopg import sql

from insights.models import HISTOGRAM_BINS, INPUT_COLUMNS
from insights.outfiles import Figures, Malformed, Problems, lines, parsed
from insights.partitions import TABLE, partition_ensure

log = logging.getLogger(__name__)
INSERT_BATCH = 2000


@dataclass(frozen=True)
class Target:
    """Where a file's rows go and how they are read: the keys of every row, and the flagging threshold."""

    tenant_id: Any
    run_month: date
    run_id: int
    file_id: int
    inputs: int  # input columns per row (the score follows them)
    threshold: float


Chunks = Callable[[], Iterator[bytes]]  # a fresh stream of the file's bytes each time it is called


def file_load(target: Target, chunks: Chunks, *, rows_in: int | None) -> Figures:
    """Replace the file's rows with the file's content; Malformed when any row is malformed or the file
    is not whole. Called inside the caller's transaction, which a Malformed (or anything) rolls back."""
    if target.inputs < 1:
        raise Malformed(
            "The output holds scores without their input rows: the deployment must join them "
            "(DataProcessing JoinSource=Input), or the input file was gone when the run was ingested."
        )
    if target.inputs > len(INPUT_COLUMNS):
        raise Malformed(
            f"Rows have {target.inputs} input columns; the results table holds at most {len(INPUT_COLUMNS)}."
        )
    if not connection.in_atomic_block:
        raise RuntimeError("file_load runs inside the transaction that records the file as loaded")
    partition_ensure(target.run_month)
    load = _load_postgresql if connection.vendor == "postgresql" else _load_python
    figures = load(target, chunks)
    if rows_in is not None and figures.rows != rows_in:
        raise Malformed(
            f"The output has {figures.rows:,} rows for {rows_in:,} input rows: it was cut short or "
            "written twice, so nothing of the file was loaded. Re-run the transform for this file."
        )
    return figures


def _columns(target: Target) -> str:
    return ", ".join(INPUT_COLUMNS[: target.inputs])


def _tenant_param(target: Target) -> Any:
    # Django stores UUIDs as 32 hex digits on SQLite, as uuid on PostgreSQL.
    return target.tenant_id if connection.vendor == "postgresql" else target.tenant_id.hex


def _delete_previous(cursor: Any, target: Target) -> None:
    cursor.execute(
        f"DELETE FROM {TABLE} WHERE tenant_id = %s AND run_month = %s AND file_id = %s",  # noqa: S608
        [_tenant_param(target), target.run_month, target.file_id],
    )


def _load_postgresql(target: Target, chunks: Chunks) -> Figures:
    columns = _columns(target)
    stage = f"insights_stage_{target.file_id}"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {stage}")
        inputs = ", ".join(f"{name} double precision" for name in INPUT_COLUMNS[: target.inputs])
        cursor.execute(
            f"CREATE TEMPORARY TABLE {stage} (line integer GENERATED ALWAYS AS IDENTITY, {inputs}, "
            "score double precision NOT NULL) ON COMMIT DROP"
        )
        started = time.perf_counter()
        copy_sql = f"COPY {stage} ({columns}, score) FROM STDIN (FORMAT csv)"
        try:
            # psycopg's own cursor: Django's wrapper has no copy(). The enclosing atomic block rolls
            # the transaction back whatever goes wrong, a refused row as much as a lost connection.
            with cursor.cursor.copy(copy_sql) as copy:  # type: ignore[attr-defined]
                for chunk in chunks():
                    copy.write(chunk)
        except (psycopg.DataError, psycopg.IntegrityError) as exc:
            # A row of the wrong width, a cell that is not a number (DataError), no score (NOT NULL).
            raise _malformed(target, chunks) from exc
        staged = time.perf_counter()
        figures = _stage_figures(cursor, stage, target)
        counted = time.perf_counter()
        _move_into_place(cursor.cursor, stage, target)  # type: ignore[attr-defined]
    log.info(
        "file %s: %d rows staged in %.2f s, counted in %.2f s, moved into place in %.2f s",
        target.file_id, figures.rows, staged - started, counted - staged, time.perf_counter() - counted,
    )  # fmt: skip
    return figures


def _move_into_place(raw: Any, stage: str, target: Target) -> None:
    """Replace the file's rows with the staged ones: delete the file's previous rows (one partition, by
    the primary key's prefix), then INSERT … SELECT the staged rows with the file's keys.

    A binary COPY out of the stage and back in was tried (bench/ingest.py): PostgreSQL took as long to
    take the rows in either way, and the round trip added its own time and a spool on disk."""
    columns = ", ".join(INPUT_COLUMNS[: target.inputs])
    _delete_previous(raw, target)
    raw.execute(
        sql.SQL(
            "INSERT INTO {} (tenant_id, run_month, run_id, file_id, line, {}, score) "
            "SELECT %s, %s, %s, %s, line, {}, score FROM {}"
        ).format(sql.Identifier(TABLE), sql.SQL(columns), sql.SQL(columns), sql.Identifier(stage)),
        [target.tenant_id, target.run_month, target.run_id, target.file_id],
    )


def _stage_figures(cursor: Any, stage: str, target: Target) -> Figures:
    """The staged rows' figures in one pass over the staging table, grouped by histogram bin."""
    cursor.execute(
        f"SELECT LEAST(GREATEST(floor(score * {HISTOGRAM_BINS})::int, 0), {HISTOGRAM_BINS - 1}) AS bin, "  # noqa: S608
        "count(*), sum(score), min(score), max(score), count(*) FILTER (WHERE score >= %s), "
        "count(*) FILTER (WHERE score IN ('NaN', 'Infinity', '-Infinity')) "
        f"FROM {stage} GROUP BY bin",
        [target.threshold],
    )
    figures = Figures()
    for bin_, rows, total, low, high, above, not_finite in cursor.fetchall():
        if not_finite:
            raise Malformed(
                f"{not_finite:,} rows have a score that is not a finite number (NaN or infinity)."
            )
        histogram = [0] * HISTOGRAM_BINS
        histogram[bin_] = rows
        figures.merge(rows, total, low, high, above, histogram)
    return figures


def _malformed(target: Target, chunks: Chunks) -> Malformed:
    """Read the file again in Python and describe its malformed rows (COPY stops at the first)."""
    problems = Problems()
    rows = sum(1 for _ in parsed(lines(chunks()), target.inputs, problems))
    if not problems.count:  # COPY refused something the Python checks accept
        return Malformed("PostgreSQL refused a row of the file, so nothing of it was loaded.")
    return Malformed(problems.reason(rows), problems.count)


def _load_python(target: Target, chunks: Chunks) -> Figures:
    """The portable path: check and insert rows in batches; any malformed row rolls the file back."""
    columns = _columns(target)
    marks = ", ".join(["%s"] * (target.inputs + 6))
    statement = (
        f"INSERT INTO {TABLE} (tenant_id, run_month, run_id, file_id, line, {columns}, score) "  # noqa: S608
        f"VALUES ({marks})"
    )
    keys = [_tenant_param(target), target.run_month, target.run_id, target.file_id]
    problems, figures = Problems(), Figures()
    with connection.cursor() as cursor:
        _delete_previous(cursor, target)
        batch: list[list[Any]] = []
        for number, values, score in parsed(lines(chunks()), target.inputs, problems):
            figures.add(score, target.threshold)
            if problems.count:
                continue  # the file is refused: keep counting, stop writing
            batch.append([*keys, number, *values, score])
            if len(batch) >= INSERT_BATCH:
                cursor.executemany(statement, batch)
                batch = []
        if problems.count:
            raise Malformed(problems.reason(figures.rows), problems.count)
        if batch:
            cursor.executemany(statement, batch)
    return figures
