"""Writes of insights: a tenant's dashboard settings, and re-ingesting a run on request."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count

from deployments.models import TransformRun
from deployments.queueing import enqueue_now
from insights.ingestion import ENDED_RUN_STATUSES, insight_settings_of
from insights.models import FileResult, InsightSettings, ResultRow, RunSummary
from tenants.audit import audit_record, snapshot
from tenants.models import Tenant

SETTINGS_FIELDS = ["threshold", "column_names"]


@transaction.atomic
def insight_settings_update(
    *, actor: Any, tenant: Tenant, threshold: float, column_names: str
) -> InsightSettings:
    """Change the tenant's threshold and column names. A new threshold has the flagged rows of every run
    recounted by a job (one grouped query over all the tenant's rows, too long for a request), so that
    pages keep reading stored figures; until it ran, the dashboard says the counts are being updated."""
    found = insight_settings_of(tenant.pk)
    found = InsightSettings.objects.select_for_update().get(pk=found.pk)
    before = snapshot(found, SETTINGS_FIELDS)
    found.threshold, found.column_names, found.updated_by = threshold, column_names.strip(), actor
    found.full_clean()
    found.save()
    after = snapshot(found, SETTINGS_FIELDS)
    if before != after:
        audit_record(
            actor=actor,
            action="insights.settings_update",
            obj=found,
            tenant=tenant,
            before=before,
            after=after,
        )
    if before["threshold"] != after["threshold"]:
        from insights.tasks import RECOUNT

        transaction.on_commit(lambda: enqueue_now(RECOUNT, str(tenant.pk)))
    return found


def rows_above_recount(*, tenant: Tenant, threshold: float) -> None:
    """Recount each loaded file's and run's rows at or above `threshold`."""
    above = dict(
        ResultRow.objects.filter(tenant=tenant, score__gte=threshold)
        .values_list("file_id")
        .annotate(n=Count("*"))
        .order_by()
    )
    results = list(FileResult.objects.filter(tenant=tenant))
    for result in results:
        result.rows_above = above.get(result.file_id, 0)
    FileResult.objects.bulk_update(results, ["rows_above"], batch_size=500)
    per_run: dict[int, int] = {}
    for result in results:
        per_run[result.run_id] = per_run.get(result.run_id, 0) + result.rows_above
    summaries = list(RunSummary.objects.filter(tenant=tenant))
    for summary in summaries:
        summary.rows_above, summary.threshold = per_run.get(summary.run_id, 0), threshold
    RunSummary.objects.bulk_update(summaries, ["rows_above", "threshold"], batch_size=500)


def transform_run_reingest(*, actor: Any, run: TransformRun) -> None:
    """Load the run's files again from S3, replacing their rows (after a fix, or a load that stopped)."""
    from insights.tasks import ingest_enqueue

    if run.status not in ENDED_RUN_STATUSES:
        raise ValidationError(f"Run {run.sequence} has not ended yet: it is ingested when it does.")
    audit_record(
        actor=actor, action="insights.run_reingest", obj=run, tenant=run.tenant, after={"run": run.sequence}
    )
    transaction.on_commit(lambda: ingest_enqueue(run.pk, str(run.tenant_id), force=True))
