"""RQ jobs of insights: each takes ids and calls one service (which re-checks the tenant)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from redis.exceptions import RedisError

from deployments.models import FileStatus, IngestStatus, TransformRunFile
from deployments.queueing import enqueue_now, rows_with_live_jobs
from insights.ingestion import ENDED_RUN_STATUSES
from insights.ingestion import transform_run_ingest as _ingest

INGEST = "insights.tasks.transform_run_ingest"


def transform_run_ingest(run_id: int, tenant_id: str, force: bool = False) -> str:
    """Load an ended run's `.out` files into the results table (safe to run twice, or after a kill)."""
    return _ingest(run_id=run_id, tenant_id=tenant_id, force=force)


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
    resumed = sum(
        ingest_enqueue(run_id, str(tenant_id)) for run_id, tenant_id in pending if str(run_id) not in live
    )
    return {"resumed": resumed}


def demo_history_step() -> dict[str, Any]:
    """One step of the demo's batch history (insights/demo.py); enqueues the next one itself."""
    from insights.demo import demo_history_step as step

    return step()
