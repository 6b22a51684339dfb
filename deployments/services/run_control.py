"""What people do to batch runs: run now, stop a running job, run a failed run's failed files again; and
who is told when a run ends (the tenant's admins and the operators: a notice in the app and an email)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from deployments.models import (
    Deployment,
    FileStatus,
    RunStatus,
    RunTrigger,
    TransformRun,
)
from deployments.queueing import RUN_ADVANCE, enqueue_on_commit
from deployments.services.runs import transform_run_start
from deployments.states import event_record
from tenants.audit import audit_record
from tenants.notices import notice_recipients, notice_send

RETRYABLE = (RunStatus.FAILED, RunStatus.STOPPED)


@transaction.atomic
def transform_run_now(*, actor: Any, deployment: Deployment) -> TransformRun:
    """Start a run of the deployment now, outside its schedule (its "Run now" button)."""
    run = transform_run_start(actor=actor, deployment=deployment, trigger=RunTrigger.MANUAL)
    audit_record(
        actor=actor,
        action="transform_run.start",
        obj=run,
        tenant=run.tenant,
        after={"deployment": deployment.name},
    )
    return run


@transaction.atomic
def transform_run_stop(*, actor: Any, run: TransformRun) -> None:
    """Ask the run's job to stop: the run is Stopping until SageMaker says Stopped; files transformed by
    then keep their results, the others fail with the reason and can be retried."""
    stopping = TransformRun.objects.filter(pk=run.pk, status__in=[RunStatus.PENDING, RunStatus.IN_PROGRESS])
    if not stopping.update(status=RunStatus.STOPPING):
        run.refresh_from_db(fields=["status"])
        raise ValidationError(f"{run.label} is {run.get_status_display().lower()}: there is nothing to stop.")
    run.status = RunStatus.STOPPING
    event_record(run.deployment, action="Stop requested", outcome="ok", resource=run.job_name)
    audit_record(
        actor=actor,
        action="transform_run.stop",
        obj=run,
        tenant=run.tenant,
        after={"deployment": run.deployment.name},
    )
    # One step now (StopTransformJob) without a second chain of polls: the run's own polls go on.
    enqueue_on_commit(RUN_ADVANCE, run.pk, str(run.tenant_id), True)


@transaction.atomic
def transform_run_retry(*, actor: Any, run: TransformRun) -> TransformRun:
    """Run the failed files of an ended run again, in a new job that reads only them."""
    if run.status not in RETRYABLE:
        raise ValidationError(
            f"{run.label} is {run.get_status_display().lower()}: only a failed or stopped run can be retried."
        )
    taken = run.retries.exclude(status__in=[RunStatus.FAILED, RunStatus.STOPPED, RunStatus.SKIPPED]).first()
    if taken is not None:
        raise ValidationError(
            f"{run.label} was retried already by {taken.label} ({taken.get_status_display().lower()})."
        )
    failed = list(run.files.filter(status=FileStatus.FAILED))
    if not failed:
        raise ValidationError(f"{run.label} has no failed files to run again.")
    retry = transform_run_start(
        actor=actor, deployment=run.deployment, trigger=RunTrigger.RETRY, retry_of=run, files=failed
    )
    audit_record(
        actor=actor,
        action="transform_run.retry",
        obj=retry,
        tenant=run.tenant,
        after={"deployment": run.deployment.name, "files": len(failed), "retried": run.label},
    )
    return retry


def run_page_path(run: TransformRun) -> str:
    return reverse("transform_run_detail", kwargs={"tenant_id": run.tenant_id, "run_id": run.pk})


def _run_notice_text(run: TransformRun) -> tuple[str, str, str]:
    """(level, title, body) of the notice a run's end sends (files named as in the input area)."""
    files = list(run.files.values_list("status", flat=True))
    done = sum(status == FileStatus.SUCCEEDED for status in files)
    name = f"{run.label} of {run.deployment.name} ({run.tenant.name})"
    reason = run.failure_reason.replace(run.input_prefix, "")
    if run.status == RunStatus.COMPLETED:
        what = "Its file was" if done == 1 else f"All {done} files were"
        return (
            "success",
            f"{name} finished",
            f"{what} transformed; the results are loading into the dashboard.",
        )
    if run.status == RunStatus.SKIPPED:
        return "info", f"{name} was skipped", run.failure_reason
    verb = "was stopped" if run.status == RunStatus.STOPPED else "failed"
    body = f"{done} of {len(files)} files were transformed and are kept. {reason}".strip()
    return "error", f"{name} {verb}", f"{body} Open the run to retry its failed files."


def _skipped_again(run: TransformRun) -> bool:
    """A skipped run right after another skipped run of its deployment: people were told the input area
    is empty when the first was skipped, and a daily schedule would tell them again every day."""
    if run.status != RunStatus.SKIPPED:
        return False
    before = (
        TransformRun.objects.filter(deployment_id=run.deployment_id, sequence__lt=run.sequence)
        .order_by("-sequence")
        .values_list("status", flat=True)
        .first()
    )
    return before == RunStatus.SKIPPED


def transform_run_notify(*, run_id: int, tenant_id: str) -> int:
    """Tell the tenant's admins and the operators that a run ended (once per person, however often the
    end is delivered; a skip only when the run before was not skipped too); returns how many were told."""
    run = TransformRun.objects.select_related("deployment", "tenant").filter(pk=run_id).first()
    if run is None or str(run.tenant_id) != str(tenant_id) or run.is_active or _skipped_again(run):
        return 0
    level, title, body = _run_notice_text(run)
    return notice_send(
        users=notice_recipients(run.tenant),
        tenant=run.tenant,
        key=f"run:{run.pk}:{run.status}",
        level=level,
        title=title,
        body=body,
        url=run_page_path(run),
    )
