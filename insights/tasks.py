"""RQ jobs of the cost side (saasadmin/cron.py schedules them): each calls one service."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.utils import timezone

from deployments.aws import AwsError
from insights.costs.reconcile import aws_costs_fetch
from insights.costs.runs import costs_run
from insights.costs.samples import capacity_sample, storage_sample
from insights.models_costs import AllocationRun, RunStatus

log = logging.getLogger(__name__)
CATCH_UP_DAYS = 31  # a cron down for days computes them all when it is back, up to a month
COST_EXPLORER_DAYS = 3  # Cost Explorer's figures settle over a day or two: fetch the last few again


def _first_missing(yesterday: date) -> date:
    """The day after the last day a completed run covered (yesterday when that is older than a month)."""
    last = (
        AllocationRun.objects.filter(status=RunStatus.COMPLETED, last_day__lte=yesterday)
        .order_by("-last_day")
        .values_list("last_day", flat=True)
        .first()
    )
    oldest = yesterday - timedelta(days=CATCH_UP_DAYS - 1)
    if last is None:
        return yesterday
    return min(yesterday, max(oldest, last + timedelta(days=1)))


def costs_daily() -> dict[str, object]:
    """Sample yesterday's S3 bytes, then compute the ledger and allocation of every day since the last
    run (yesterday, normally), then fetch Cost Explorer's figures of the last days. Runs twice alike."""
    today = timezone.now().date()
    yesterday = today - timedelta(days=1)
    sampled = storage_sample(yesterday)
    run = costs_run(_first_missing(yesterday), yesterday, trigger="cron", today=today)
    try:
        fetched = aws_costs_fetch(yesterday - timedelta(days=COST_EXPLORER_DAYS - 1), yesterday)
    except AwsError as exc:
        log.warning("Cost Explorer not read: %s", exc)  # the ledger stands; the next day reads it again
        fetched = 0
    return {"storage_samples": sampled, "run": run.pk, "total": str(run.total), "aws_lines": fetched}


def costs_rerun(first_day: str, last_day: str) -> dict[str, object]:
    """Recompute a past range (ISO dates), replacing its lines in one transaction."""
    run = costs_run(date.fromisoformat(first_day), date.fromisoformat(last_day), trigger="rerun")
    return {"run": run.pk, "total": str(run.total), "lines": run.allocation_lines}


def capacity_sample_job() -> int:
    """Sample the async endpoints' instance counts (every few minutes)."""
    return capacity_sample()
