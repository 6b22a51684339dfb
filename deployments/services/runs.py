"""Batch transform runs: one transform job per tenant run over the files of its input area, polled to its
end; each file's outcome recorded before the run is told finished (deployments.signals)."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from redis.exceptions import RedisError

from deployments import conf, resources, schedules, signals
from deployments.aws import AlreadyExists, AwsError, InProgress, NotFound, Transient, recording
from deployments.aws import sagemaker as sm
from deployments.models import (
    ACTIVE_RUN_STATUSES,
    Deployment,
    Kind,
    RunStatus,
    RunTrigger,
    Status,
    TransformRun,
    TransformRunFile,
)
from deployments.queueing import RUN_ADVANCE, RUN_NOTIFY, enqueue_now, enqueue_on_commit, rows_with_live_jobs
from deployments.services import run_files
from deployments.states import call_recorder, event_record, timeline_batch
from tenants.models import Tenant, TenantStatus

TERMINAL = {"Completed": RunStatus.COMPLETED, "Failed": RunStatus.FAILED, "Stopped": RunStatus.STOPPED}
EMPTY_REASON = (
    "Skipped: the input area {prefix} holds no files. Upload a CSV file on the datasets page "
    "(or point the tenant at a prefix that has some), then run again."
)
OUTCOMES = {RunTrigger.SCHEDULE: "scheduled", RunTrigger.MANUAL: "requested", RunTrigger.RETRY: "retry"}


def _startable(deployment: Deployment) -> Tenant:
    """The deployment's tenant, when the deployment may start a run now; ValidationError saying why not."""
    tenant = deployment.tenant
    if deployment.kind != Kind.BATCH or deployment.status != Status.IN_SERVICE or tenant is None:
        raise ValidationError("Only a tenant's batch deployment that is in service can run.")
    if tenant.status != TenantStatus.ACTIVE:
        raise ValidationError(f"{tenant} is not active: its batch runs are paused.")
    active = deployment.runs.filter(status__in=ACTIVE_RUN_STATUSES).first()
    if active is not None:
        raise ValidationError(
            f"{active.label} is still {active.get_status_display().lower()}: "
            "a deployment runs one job at a time, so wait for it to end or stop it."
        )
    return tenant


@transaction.atomic
def transform_run_start(
    *,
    actor: Any,
    deployment: Deployment,
    trigger: str | None = None,
    retry_of: TransformRun | None = None,
    files: list[TransformRunFile] | None = None,
) -> TransformRun:
    """Record the next run of a batch deployment (its job name fixed now) and enqueue it.

    Never two runs of one deployment at once: refused here, and by a constraint for two starts racing.
    A retry (`retry_of`) reads the input area of the run it retries, and only `files`."""
    tenant = _startable(deployment)
    sequence = (deployment.runs.aggregate(top=Max("sequence"))["top"] or 0) + 1
    job_name = f"{deployment.aws_name}-r{sequence}"
    input_prefix, output_prefix = resources.dataset_prefixes(tenant, job_name)
    run = TransformRun(
        deployment=deployment,
        tenant=tenant,
        sequence=sequence,
        job_name=job_name,
        input_prefix=retry_of.input_prefix if retry_of else input_prefix,
        output_prefix=output_prefix,
        trigger=trigger or (RunTrigger.MANUAL if getattr(actor, "pk", None) else RunTrigger.SCHEDULE),
        retry_of=retry_of,
        started_by=actor if getattr(actor, "pk", None) else None,
    )
    run.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError:
        raise ValidationError("Another run of this deployment started at the same moment.") from None
    if files:
        run_files.run_files_copy(run, files)
    event_record(deployment, action="Run", outcome=OUTCOMES[RunTrigger(run.trigger)], resource=job_name)
    enqueue_on_commit(RUN_ADVANCE, run.pk, str(run.tenant_id))
    return run


def _run_is_due(deployment: Deployment, last_run_at: datetime | None, now: datetime) -> bool:
    """Whether the schedule asked for a run since the last one (a new deployment's first one at once)."""
    if deployment.tenant is None or deployment.tenant.status != TenantStatus.ACTIVE:
        return False
    slot = schedules.last_slot(resources.values(deployment), now)
    if slot is None:
        return False
    return last_run_at is None or last_run_at < slot


def _run_start_unless_raced(deployment: Deployment) -> TransformRun | None:
    try:
        return transform_run_start(actor=None, deployment=deployment, trigger=RunTrigger.SCHEDULE)
    except (IntegrityError, ValidationError):
        return None  # another run is active, another worker started it first, or the tenant was paused


def transform_runs_start_due(*, deployment: Deployment, now: datetime | None = None) -> TransformRun | None:
    """Start the next scheduled run of one deployment when its schedule says one is due."""
    last_run_at = deployment.runs.aggregate(last=Max("created_at"))["last"]
    if not _run_is_due(deployment, last_run_at, now or timezone.now()):
        return None
    return _run_start_unless_raced(deployment)


def transform_runs_due(*, now: datetime | None = None) -> list[Deployment]:
    """The in-service batch deployments whose schedule asks for a run now, decided in one query."""
    now = now or timezone.now()
    batch = Deployment.objects.filter(status=Status.IN_SERVICE, kind=Kind.BATCH)
    candidates = (
        batch.filter(tenant__status=TenantStatus.ACTIVE)
        .select_related("tenant")
        .annotate(last_run_at=Max("runs__created_at"))
    )
    return [d for d in candidates if _run_is_due(d, d.last_run_at, now)]  # type: ignore[attr-defined]


def transform_runs_start_all_due(*, now: datetime | None = None) -> int:
    """Start every due batch run (reconcile's pass); returns how many started."""
    return sum(_run_start_unless_raced(d) is not None for d in transform_runs_due(now=now))


def transform_runs_resume(*, now: datetime | None = None) -> list[int]:
    """Enqueue the active runs whose poll was lost (no job waiting, scheduled or running for them), so a
    run never holds its deployment's one place for good; returns their ids."""
    since = (now or timezone.now()) - timedelta(seconds=conf.pending_grace_seconds())
    active = list(TransformRun.objects.filter(status__in=ACTIVE_RUN_STATUSES, created_at__lt=since))
    if not active:
        return []
    try:
        live = rows_with_live_jobs(RUN_ADVANCE)
    except RedisError:
        return []  # the queue cannot be seen: resume nothing this time
    lost = [run for run in active if str(run.pk) not in live]
    for run in lost:
        enqueue_now(RUN_ADVANCE, run.pk, str(run.tenant_id))
    return [run.pk for run in lost]


def transform_run_advance(*, run_id: int, tenant_id: str, once: bool = False) -> str:
    """Create the run's job if not yet created, then poll it until it ends; returns the run's status.

    `once`: take one step without polling on (a stop asked from the page, while the run's own polls go on).
    """
    run = TransformRun.objects.select_related("deployment", "tenant").filter(pk=run_id).first()
    if run is None or str(run.tenant_id) != str(tenant_id):
        return "missing"
    if run.tenant.status == TenantStatus.OFFBOARDED and run.status == RunStatus.PENDING:
        _run_end(run, RunStatus.STOPPED, "The tenant is offboarded.")
        return run.status
    with timeline_batch(), recording(call_recorder(run.deployment)):
        try:
            delay = _run_step(run, once)
        except (Transient, InProgress) as exc:
            delay = conf.poll_delay(run.polls)
            TransformRun.objects.filter(pk=run.pk).update(polls=run.polls + 1, failure_reason=str(exc)[:2000])
        except NotFound as exc:
            stopped = run.status == RunStatus.STOPPING  # stopped before its job was created
            _run_end(run, RunStatus.STOPPED if stopped else RunStatus.FAILED, _not_found_reason(stopped, exc))
            delay = None
        except AwsError as exc:
            _run_end(run, RunStatus.FAILED, str(exc))
            delay = None
    if delay is not None and not once:
        enqueue_on_commit(RUN_ADVANCE, run.pk, str(run.tenant_id), delay=delay)
    return run.status


def _not_found_reason(stopped: bool, exc: AwsError) -> str:
    return "Stopped before its transform job started." if stopped else str(exc)


def _run_step(run: TransformRun, once: bool = False) -> float | None:
    created = run.status == RunStatus.PENDING
    if created and not _run_begin(run):
        return None
    if run.status not in (RunStatus.IN_PROGRESS, RunStatus.STOPPING):
        return None
    asked = run.status == RunStatus.STOPPING and (once or created)
    if asked:  # a stop was asked from the page (or while the job was being created): pass it on now
        sm.transform_job_stop(run.job_name)
    state = sm.transform_job_describe(run.job_name)
    if state.status in TERMINAL:
        _run_end(run, TERMINAL[state.status], state.failure_reason, run_files.outputs(run))
        return None
    if run.status == RunStatus.STOPPING and state.status == "InProgress" and not asked:
        sm.transform_job_stop(run.job_name)  # not Stopping yet: ask again
    if run.polls >= conf.max_polls():
        _run_end(
            run, RunStatus.FAILED, f"Still {state.status} after {run.polls} polls.", run_files.outputs(run)
        )
        return None
    run_files.run_files_progress(run)
    TransformRun.objects.filter(pk=run.pk).update(polls=run.polls + 1)
    return conf.poll_delay(run.polls)


def _run_begin(run: TransformRun) -> bool:
    """Record the run's files, write its manifest and create its job; False when there is nothing to do."""
    if not run_files.run_files_record(run):
        _run_end(run, RunStatus.SKIPPED, EMPTY_REASON.format(prefix=run.input_prefix))
        return False
    if not run.manifest_uri:
        run.manifest_uri = run_files.run_manifest_write(run)
        TransformRun.objects.filter(pk=run.pk).update(manifest_uri=run.manifest_uri)
    spec = resources.transform_job_spec(run)
    with contextlib.suppress(AlreadyExists):  # an attempt that crashed or timed out created it
        sm.transform_job_create(spec)
    TransformRun.objects.filter(pk=run.pk).update(
        instance_type=spec.instance_type, instance_count=spec.instance_count
    )
    TransformRun.objects.filter(pk=run.pk, status=RunStatus.PENDING).update(
        status=RunStatus.IN_PROGRESS, started_at=timezone.now()
    )
    # A stop asked meanwhile left it Stopping: the job is stopped on the next step.
    run.status = TransformRun.objects.values_list("status", flat=True).get(pk=run.pk)
    if run.status == RunStatus.STOPPED:  # ended by a stop that found no job yet: leave none running
        sm.transform_job_stop(run.job_name)
    return True


def _run_end(run: TransformRun, status: str, reason: str, outputs: frozenset[str] = frozenset()) -> None:
    """End the run and give each file its outcome, in one transaction; then tell who waits for it.

    Only the first delivery of an end does anything: a second (RQ delivers at least once, two polls
    raced) finds the run ended already."""
    with transaction.atomic():
        ended = TransformRun.objects.filter(pk=run.pk, status__in=ACTIVE_RUN_STATUSES).update(
            status=status, failure_reason=reason[:4000], finished_at=timezone.now()
        )
        if not ended:
            run.refresh_from_db(fields=["status", "failure_reason", "finished_at"])
            return
        run.status, run.failure_reason = status, reason
        done, failed = run_files.run_files_settle(run, status, reason, outputs)
        event_record(run.deployment, action="Run", outcome=status, resource=run.job_name, error=reason)
        if done or failed:
            summary = f"{run.job_name}: {done} of {done + failed} files transformed"
            event_record(run.deployment, action="Run files", outcome="ok" if not failed else "failed",
                         resource=summary)  # fmt: skip
        transaction.on_commit(lambda: signals.transform_run_finished.send(sender=TransformRun, run=run))
        enqueue_on_commit(RUN_NOTIFY, run.pk, str(run.tenant_id))
