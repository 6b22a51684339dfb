"""The files of a batch run: recorded before its job starts (the job reads exactly them, through a manifest),
marked transformed as their `.out` appears, and given their outcome when the job ends."""

from __future__ import annotations

import json

from deployments import resources
from deployments.aws import storage
from deployments.models import DatasetFile, FileStatus, RunStatus, TransformRun, TransformRunFile

STOPPED_REASON = "The run was stopped before this file was transformed."
NO_OUTPUT_REASON = "The job wrote no output for this file."


def run_files_record(run: TransformRun) -> int:
    """Record the objects of the run's input area as its files (once: a second call keeps the first
    set); returns how many the run has. A retry's files were recorded when it was started."""
    if run.files.exists():
        return run.files.count()
    found = storage.objects_list(run.input_prefix)
    rows = dict(
        DatasetFile.objects.filter(tenant_id=run.tenant_id, uri__in=[o.uri for o in found]).values_list(
            "uri", "rows"
        )
    )
    TransformRunFile.objects.bulk_create(
        [
            TransformRunFile(
                run=run,
                tenant_id=run.tenant_id,
                input_key=o.uri,
                output_key=resources.output_uri(run, o.uri),
                size_bytes=o.size,
                rows_in=rows.get(o.uri),
            )
            for o in found
        ],
        ignore_conflicts=True,  # a crashed attempt recorded some already
    )
    return len(found)


def run_manifest_write(run: TransformRun) -> str:
    """Write the manifest of the run's files (S3DataType=ManifestFile); returns its URI."""
    names = [f.input_key.removeprefix(run.input_prefix) for f in run.files.order_by("input_key")]
    uri = resources.manifest_uri(run.tenant, run.job_name)
    body = json.dumps([{"prefix": run.input_prefix}, *names]).encode()
    storage.object_put(uri, body)
    return uri


def outputs(run: TransformRun) -> frozenset[str]:
    """The `.out` objects the run's job has written so far."""
    return frozenset(o.uri for o in storage.objects_list(run.output_prefix))


def run_files_progress(run: TransformRun) -> int:
    """Mark the files whose `.out` the job has written so far as transformed; returns how many are."""
    done = outputs(run)
    run.files.filter(status=FileStatus.PENDING, output_key__in=done).update(status=FileStatus.SUCCEEDED)
    return run.files.filter(status=FileStatus.SUCCEEDED).count()


def _reason_for(run: TransformRun, uri: str, status: str, job_reason: str) -> str:
    """A failed file's reason: the part of the job's FailureReason that names it (the file by its name in
    the input area), else all of it."""
    if status == RunStatus.STOPPED:
        return STOPPED_REASON
    parts = [part.strip().replace(run.input_prefix, "") for part in job_reason.split("; ") if uri in part]
    return "; ".join(parts) or job_reason or NO_OUTPUT_REASON


def run_files_settle(
    run: TransformRun, status: str, job_reason: str, done: frozenset[str]
) -> tuple[int, int]:
    """Give every file its outcome once the job ended: a `.out` in `done` → transformed (its results are
    ingested even when other files failed); none → failed with the job's reason. Returns (transformed,
    failed)."""
    files = list(run.files.all())
    for item in files:
        if item.output_key in done:
            item.status, item.reason = FileStatus.SUCCEEDED, ""
        else:
            item.status, item.reason = FileStatus.FAILED, _reason_for(run, item.input_key, status, job_reason)
    TransformRunFile.objects.bulk_update(files, ["status", "reason"])
    succeeded = sum(f.status == FileStatus.SUCCEEDED for f in files)
    return succeeded, len(files) - succeeded


def run_files_copy(retry: TransformRun, failed: list[TransformRunFile]) -> None:
    """Record a retry's files: the failed files of the run it retries, pending again."""
    TransformRunFile.objects.bulk_create(
        [
            TransformRunFile(
                run=retry,
                tenant_id=retry.tenant_id,
                input_key=f.input_key,
                output_key=resources.output_uri(retry, f.input_key),
                size_bytes=f.size_bytes,
                rows_in=f.rows_in,
            )
            for f in failed
        ]
    )
