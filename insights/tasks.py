"""RQ jobs of insights: each takes ids and calls one service (which re-checks the tenant)."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q
from redis.exceptions import RedisError

from deployments.models import FileStatus, IngestStatus, TransformRunFile
from deployments.queueing import enqueue_now, rows_with_live_jobs
from insights.ingestion import ENDED_RUN_STATUSES
from insights.ingestion import transform_run_ingest as _ingest
from insights.models import RunSummary

INGEST = "insights.tasks.transform_run_ingest"
RECOUNT = "insights.tasks.rows_above_recount"


def transform_run_ingest(run_id: int, tenant_id: str, force: bool = False) -> str:
    """Load an ended run's `.out` files into the results table (safe to run twice, or after a kill)."""
    return _ingest(run_id=run_id, tenant_id=tenant_id, force=force)


def rows_above_recount(tenant_id: str) -> str:
    """Recount the tenant's flagged rows against its current threshold (the latest change wins)."""
    from insights.ingestion import insight_settings_of
    from insights.services import rows_above_recount as recount
    from tenants.models import Tenant

    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return "missing"
    recount(tenant=tenant, threshold=insight_settings_of(tenant.pk).threshold)
    return "recounted"


def ingest_enqueue(run_id: int, tenant_id: str, *, force: bool = False) -> bool:
    return enqueue_now(INGEST, run_id, tenant_id, force) if force else enqueue_now(INGEST, run_id, tenant_id)


def ingest_resume(limit: int = 50) -> dict[str, int]:
    """Enqueue ingestion for ended runs whose transformed files are still waiting, or were left loading
    by a worker that died, and that no live job is ingesting (saasadmin/cron.py, every minute)."""
    pending = (
        TransformRunFile.objects.filter(status=FileStatus.SUCCEEDED, run__status__in=ENDED_RUN_STATUSES)
        .filter(Q(ingest_status=IngestStatus.WAITING) | Q(ingest_status=IngestStatus.LOADING))
        .values_list("run_id", "tenant_id")
        .distinct()[:limit]
    )
    try:
        live = rows_with_live_jobs(INGEST)
    except RedisError:
        return {"resumed": 0}
    stale = (
        RunSummary.objects.exclude(threshold=F("tenant__insight_settings__threshold"))
        .filter(tenant__insight_settings__isnull=False)
        .values_list("tenant_id", flat=True)
        .distinct()[:limit]
    )
    for tenant_id in {str(t) for t in stale} - rows_with_live_jobs(RECOUNT):
        enqueue_now(RECOUNT, tenant_id)  # a threshold change whose recount was lost
    resumed = sum(
        ingest_enqueue(run_id, str(tenant_id)) for run_id, tenant_id in pending if str(run_id) not in live
    )
    return {"resumed": resumed}


def demo_history_step() -> dict[str, Any]:
    """One step of the demo's batch history (insights/demo.py); enqueues the next one itself."""
    from insights.demo import demo_history_step as step

    return step()
