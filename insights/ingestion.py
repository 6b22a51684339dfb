"""Ingesting a finished transform run: each transformed file's `.out` loaded (or quarantined), then the
run's figures summed once for the dashboard. Idempotent: a file already loaded is skipped, and
re-ingesting (`force`) replaces a file's rows, never adds to them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from deployments.aws import AwsError, NotFound
from deployments.aws.streams import object_chunks
from deployments.models import FileStatus, IngestStatus, TransformRun, TransformRunFile
from insights.loading import Target, file_load
from insights.models import FileResult, InsightSettings, RunSummary
from insights.outfiles import Figures, Malformed, Tail, column_count, joined, lines, rechunk
from insights.partitions import month_start

log = logging.getLogger(__name__)
ENDED_RUN_STATUSES = ("completed", "failed", "stopped")
DONE = (IngestStatus.LOADED, IngestStatus.QUARANTINED)


def insight_settings_of(tenant_id: UUID | str) -> InsightSettings:
    found, _ = InsightSettings.objects.get_or_create(tenant_id=tenant_id)
    return found


def transform_run_ingest(*, run_id: int, tenant_id: str, force: bool = False) -> str:
    """Load the `.out` of every transformed file of an ended run not loaded yet (every one with `force`),
    then sum the run's figures; returns what happened, for the job's result."""
    run = TransformRun.objects.select_related("deployment").filter(pk=run_id).first()
    if run is None or str(run.tenant_id) != str(tenant_id):
        return "missing"
    if run.status not in ENDED_RUN_STATUSES:
        return f"not ended ({run.status})"
    files = TransformRunFile.objects.filter(run=run, status=FileStatus.SUCCEEDED)
    if not force:
        files = files.exclude(ingest_status__in=DONE)
    threshold = insight_settings_of(run.tenant_id).threshold
    for file in files.order_by("input_key"):
        file_ingest(run=run, file=file, threshold=threshold, force=force)
    run_summary_refresh(run=run)
    return "ingested"


def _mark(file: TransformRunFile, status: str, reason: str, **fields: object) -> None:
    TransformRunFile.objects.filter(pk=file.pk).update(ingest_status=status, ingest_reason=reason, **fields)


def file_ingest(*, run: TransformRun, file: TransformRunFile, threshold: float, force: bool = False) -> str:
    """Load one file in one transaction, or quarantine it with the reason; returns its ingest status.

    The file is marked "loading" first (committed), so that a worker killed half-way leaves a file that
    says so on the page, with none of its rows: the load itself is one transaction.
    """
    started = timezone.now()
    _mark(file, IngestStatus.LOADING, f"Loading started at {started:%H:%M:%S} UTC.")
    try:
        with transaction.atomic():
            locked = TransformRunFile.objects.select_for_update().get(pk=file.pk)
            if not force and locked.ingest_status in DONE:
                return str(locked.ingest_status)  # another delivery of the run's end loaded it meanwhile
            figures, inputs = _load(run, file, threshold)
            _loaded(run, file, figures, inputs)
    except Malformed as exc:
        _quarantine(file, str(exc), exc.rows)
        return IngestStatus.QUARANTINED
    except NotFound:
        reason = (
            f"The output file {file.output_key} is missing although the job reported the file transformed. "
            "Re-run the transform for this file."
        )
        _quarantine(file, reason, 0)
        return IngestStatus.QUARANTINED
    except (AwsError, Exception) as exc:
        log.warning("ingesting %s stopped: %s", file.output_key, exc)
        _mark(
            file,
            IngestStatus.LOADING,
            f"Loading stopped before it finished ({exc}); nothing of the file was kept. "
            "It is retried automatically, or re-ingest the run.",
        )
        raise
    return IngestStatus.LOADED


def _quarantine(file: TransformRunFile, reason: str, rows: int) -> None:
    with transaction.atomic():
        FileResult.objects.filter(file=file).delete()
        _mark(file, IngestStatus.QUARANTINED, reason, rows_out=None, rows_malformed=rows, ingested_at=None)


def _load(run: TransformRun, file: TransformRunFile, threshold: float) -> tuple[Figures, int]:
    joined_by_sagemaker = run.deployment.settings.get("join_source") == "Input"
    first = _first_chunk(file.output_key)
    if not first:
        raise Malformed(
            "The output file is empty: the model wrote no scores for this input. Re-run the transform for it."
        )
    declared = run.deployment.settings.get("input_columns")
    inputs = column_count(first, declared) if joined_by_sagemaker else _input_width(file, declared)
    tail = Tail()

    def chunks() -> Iterator[bytes]:
        tail.size, tail.last_byte = 0, b""
        scores = tail.watch(object_chunks(file.output_key))
        if joined_by_sagemaker:
            return scores
        return rechunk(joined(lines(object_chunks(file.input_key)), lines(scores)))

    target = Target(
        tenant_id=run.tenant_id,
        run_month=month_start(run.created_at.date()),
        run_id=run.pk,
        file_id=file.pk,
        inputs=inputs,
        threshold=threshold,
    )
    figures = file_load(target, chunks, rows_in=file.rows_in)
    if tail.cut_short:
        raise Malformed(
            "The output file ends in the middle of a line: it was cut short, so nothing of it was loaded. "
            "Re-run the transform for this file."
        )
    return figures, inputs


def _first_chunk(uri: str) -> bytes:
    stream = object_chunks(uri, 64 * 1024)
    try:
        return next(stream, b"")
    finally:
        stream.close()


def _input_width(file: TransformRunFile, declared: int | None) -> int:
    first = _first_chunk(file.input_key)
    return declared or (first.split(b"\n", 1)[0].count(b",") + 1 if first.strip() else 0)


def _loaded(run: TransformRun, file: TransformRunFile, figures: Figures, inputs: int) -> None:
    FileResult.objects.update_or_create(
        file=file,
        defaults={
            "tenant_id": run.tenant_id,
            "run": run,
            "columns": inputs,
            "rows": figures.rows,
            "score_sum": figures.score_sum,
            "score_min": figures.score_min,
            "score_max": figures.score_max,
            "rows_above": figures.rows_above,
            "histogram": figures.histogram,
        },
    )
    _mark(
        file,
        IngestStatus.LOADED,
        "",
        rows_out=figures.rows,
        rows_malformed=0,
        ingested_at=timezone.now(),
    )


def run_summary_refresh(*, run: TransformRun) -> RunSummary:
    """The run's figures, summed from its files' (no pass over its rows)."""
    figures = Figures()
    columns = 0
    for result in FileResult.objects.filter(run=run):
        columns = max(columns, result.columns)
        figures.merge(
            result.rows,
            result.score_sum,
            result.score_min,
            result.score_max,
            result.rows_above,
            result.histogram,
        )
    files = list(
        TransformRunFile.objects.filter(run=run).values_list("status", "ingest_status", "rows_malformed")
    )
    summary, _ = RunSummary.objects.update_or_create(
        run=run,
        defaults={
            "tenant_id": run.tenant_id,
            "columns": columns,
            "rows": figures.rows,
            "rows_malformed": sum(malformed for _, _, malformed in files),
            "rows_above": figures.rows_above,
            "threshold": insight_settings_of(run.tenant_id).threshold,
            "score_mean": figures.score_sum / figures.rows if figures.rows else None,
            "score_min": figures.score_min,
            "score_max": figures.score_max,
            "histogram": figures.histogram,
            "files_loaded": sum(ingest == IngestStatus.LOADED for _, ingest, _ in files),
            "files_quarantined": sum(ingest == IngestStatus.QUARANTINED for _, ingest, _ in files),
            "files_failed": sum(status == FileStatus.FAILED for status, _, _ in files),
        },
    )
    return summary
