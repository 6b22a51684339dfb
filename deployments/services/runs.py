"""Batch transform runs: one transform job per tenant run, polled to Completed or Failed and recorded."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from deployments import conf, resources, signals
from deployments.aws import AlreadyExists, AwsError, InProgress, Transient, recording
from deployments.aws import sagemaker as sm
from deployments.models import Deployment, Kind, RunStatus, Status, TransformRun
from deployments.queueing import RUN_ADVANCE, enqueue_on_commit
from deployments.states import call_recorder, event_record, timeline_batch
from tenants.models import TenantStatus

SCHEDULE_DAYS = {"daily": 1, "weekly": 7, "monthly": 30}
TERMINAL = {"Completed": RunStatus.COMPLETED, "Failed": RunStatus.FAILED, "Stopped": RunStatus.STOPPED}


@transaction.atomic
def transform_run_start(*, actor: Any, deployment: Deployment) -> TransformRun:
    """Record the next run of a batch deployment (its job name fixed now) and enqueue it."""
    if deployment.kind != Kind.BATCH or deployment.status != Status.IN_SERVICE or deployment.tenant is None:
        raise ValidationError("Only a tenant's batch deployment that is in service can run.")
    if deployment.tenant.status != TenantStatus.ACTIVE:
        raise ValidationError(f"{deployment.tenant} is not active: its batch runs are paused.")
    sequence = (deployment.runs.aggregate(top=Max("sequence"))["top"] or 0) + 1
    job_name = f"{deployment.aws_name}-r{sequence}"
    input_prefix, output_prefix = resources.dataset_prefixes(deployment.tenant, job_name)
    run = TransformRun(
        deployment=deployment,
        tenant=deployment.tenant,
        sequence=sequence,
        job_name=job_name,
        input_prefix=input_prefix,
        output_prefix=output_prefix,
    )
    run.full_clean()
    run.save()
    event_record(deployment, action="Run", outcome="scheduled", resource=job_name)
    enqueue_on_commit(RUN_ADVANCE, run.pk, str(run.tenant_id))
    return run


def _run_is_due(deployment: Deployment, last_run_at: datetime | None, now: datetime) -> bool:
    """Whether the deployment's schedule asks for a run now (its first one at once)."""
    days = SCHEDULE_DAYS.get(resources.values(deployment)["schedule"])
    if days is None or deployment.tenant is None or deployment.tenant.status != TenantStatus.ACTIVE:
        return False
    return last_run_at is None or last_run_at <= now - timedelta(days=days)


def _run_start_unless_raced(deployment: Deployment) -> TransformRun | None:
    try:
        return transform_run_start(actor=None, deployment=deployment)
    except (IntegrityError, ValidationError):
        return None  # another worker started the same sequence first, or the tenant was paused meanwhile


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


def transform_run_advance(*, run_id: int, tenant_id: str) -> str:
    """Create the run's job if not yet created, then poll it until it ends; returns the run's status."""
    run = TransformRun.objects.select_related("deployment", "tenant").filter(pk=run_id).first()
    if run is None or str(run.tenant_id) != str(tenant_id):
        return "missing"
    if run.tenant.status == TenantStatus.OFFBOARDED and run.status == RunStatus.PENDING:
        _run_end(run, RunStatus.STOPPED, "The tenant is offboarded.")
        return run.status
    with timeline_batch(), recording(call_recorder(run.deployment)):
        try:
            delay = _run_step(run)
        except (Transient, InProgress) as exc:
            delay = conf.poll_delay(run.polls)
            TransformRun.objects.filter(pk=run.pk).update(polls=run.polls + 1, failure_reason=str(exc)[:2000])
        except AwsError as exc:
            _run_end(run, RunStatus.FAILED, str(exc))
            delay = None
    if delay is not None:
        enqueue_on_commit(RUN_ADVANCE, run.pk, str(run.tenant_id), delay=delay)
    return run.status


def _run_step(run: TransformRun) -> float | None:
    if run.status == RunStatus.PENDING:
        with contextlib.suppress(AlreadyExists):  # an attempt that crashed or timed out created it
            sm.transform_job_create(resources.transform_job_spec(run))
        TransformRun.objects.filter(pk=run.pk, status=RunStatus.PENDING).update(
            status=RunStatus.IN_PROGRESS, started_at=timezone.now()
        )
        run.status = RunStatus.IN_PROGRESS
    if run.status != RunStatus.IN_PROGRESS:
        return None
    state = sm.transform_job_describe(run.job_name)
    if state.status in TERMINAL:
        _run_end(run, TERMINAL[state.status], state.failure_reason)
        return None
    if run.polls >= conf.max_polls():
        _run_end(run, RunStatus.FAILED, f"Still {state.status} after {run.polls} polls.")
        return None
    TransformRun.objects.filter(pk=run.pk).update(polls=run.polls + 1)
    return conf.poll_delay(run.polls)


def _run_end(run: TransformRun, status: str, reason: str) -> None:
    TransformRun.objects.filter(pk=run.pk, status__in=[RunStatus.PENDING, RunStatus.IN_PROGRESS]).update(
        status=status, failure_reason=reason[:4000], finished_at=timezone.now()
    )
    run.status, run.failure_reason = status, reason
    event_record(run.deployment, action="Run", outcome=status, resource=run.job_name, error=reason)
    transaction.on_commit(lambda: signals.transform_run_finished.send(sender=TransformRun, run=run))
