"""Reads for the run page and the tenant's batch section: a run with its files and progress, a tenant's
batch deployments with their schedule, its recent runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from deployments import resources, schedules
from deployments.models import (
    Deployment,
    DeploymentEvent,
    FileStatus,
    Kind,
    RunStatus,
    Status,
    TransformRun,
    TransformRunFile,
)
from tenants.models import Tenant


@dataclass(frozen=True)
class RunProgress:
    total: int
    transformed: int
    failed: int
    percent: int
    moving: bool


@dataclass(frozen=True)
class BatchSchedule:
    """A tenant's batch deployment as its tenant sees it: the schedule in words and the next run."""

    deployment: Deployment
    text: str
    next_at: datetime | None
    next_utc: datetime | None
    runnable: bool

    @property
    def next_local(self) -> str:
        """The next run in the schedule's own time zone ("Sat 28 Nov, 03:00"): templates would show UTC."""
        return self.next_at.strftime("%a %-d %b, %H:%M") if self.next_at else ""


def transform_run_get(*, user: Any, tenant: Tenant, run_id: int) -> TransformRun:
    """One run of `tenant` the user may see, or 404 (another tenant's run is not found)."""
    found = (
        TransformRun.objects.visible_to(user)
        .filter(tenant=tenant, pk=run_id)
        .select_related("deployment", "tenant", "retry_of", "started_by")
        .first()
    )
    if found is None:
        raise Http404("No such run")
    return found


def run_files(run: TransformRun) -> QuerySet[TransformRunFile]:
    return run.files.order_by("input_key")


def run_progress(run: TransformRun) -> RunProgress:
    """How far the run's job is, by files (one query)."""
    counts = run.files.aggregate(
        total=Count("id"),
        transformed=Count("id", filter=Q(status=FileStatus.SUCCEEDED)),
        failed=Count("id", filter=Q(status=FileStatus.FAILED)),
    )
    total = counts["total"]
    done = counts["transformed"] + counts["failed"]
    if run.status == RunStatus.COMPLETED or (total and not run.is_active):
        percent = 100
    else:
        percent = int(100 * done / total) if total else 0
    return RunProgress(total, counts["transformed"], counts["failed"], percent, run.is_active)


def run_timeline(run: TransformRun) -> QuerySet[DeploymentEvent]:
    """The deployment's timeline lines about this run (its job, its files, its stop)."""
    name = run.job_name
    about = (
        Q(resource=name)
        | Q(resource__startswith=f"{name}:")
        | Q(resource__contains=f"/{name}/")
        | Q(resource__contains=f"/{name}.manifest")
    )
    return DeploymentEvent.objects.filter(about, deployment=run.deployment).order_by("created_at", "id")


def batch_schedules(*, user: Any, tenant: Tenant, now: datetime | None = None) -> list[BatchSchedule]:
    """The tenant's batch deployments with their schedules, next run in the schedule's time zone."""
    now = now or timezone.now()
    found = []
    deployments = Deployment.objects.visible_to(user).filter(tenant=tenant, kind=Kind.BATCH)
    for deployment in deployments.exclude(status=Status.DELETED).order_by("name"):
        values = resources.values(deployment)
        upcoming = schedules.next_slot(values, now)
        found.append(
            BatchSchedule(
                deployment=deployment,
                text=schedules.schedule_text(values),
                next_at=upcoming,
                next_utc=upcoming.astimezone(UTC) if upcoming else None,
                runnable=deployment.status == Status.IN_SERVICE,
            )
        )
    return found


def tenant_runs(*, user: Any, tenant: Tenant, limit: int = 20) -> list[TransformRun]:
    """The tenant's latest runs with their file counts (one query)."""
    runs = (
        TransformRun.objects.visible_to(user)
        .filter(tenant=tenant)
        .select_related("deployment")
        .annotate(
            file_count=Count("files"),
            files_done=Count("files", filter=Q(files__status=FileStatus.SUCCEEDED)),
            files_failed=Count("files", filter=Q(files__status=FileStatus.FAILED)),
        )
        .order_by("-created_at", "-id")
    )
    return list(runs[:limit])
