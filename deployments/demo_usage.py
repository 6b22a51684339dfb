"""DEMO HISTORY, not measured usage: a few days of made-up API usage for the demo fleet of demo.py, so
that the usage pages (and the cost split built on them) have something to show in `make run` before the
API has served much. Written once, straight into UsageMinute, and marked in the flush ledger as the batch
`demo-history` so that a second seed adds nothing. Never called outside the demo seed.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from uuid import UUID

from django.db import transaction

from deployments.models import Deployment, UsageFlushBatch, UsageMinute

DEMO_HISTORY_BATCH = "demo-history"
DAYS = 4
EVERY_MINUTES = 5  # one row every five minutes keeps the seed quick; the charts look the same
# deployment name -> (requests per busy minute, mean model latency in ms); batch deployments are not served
# by the API, and Soylent's endpoint never comes up (demo.py), so neither has API usage.
TRAFFIC: dict[str, tuple[int, float]] = {
    "Acme real-time": (40, 4.0),
    "Globex serverless": (12, 14.0),
    "Cyberdyne async": (3, 180.0),
    "Bridge multi-model": (18, 7.0),
    "Bridge multi-container": (10, 5.5),
    "Pool real-time": (25, 3.5),
}
# error column -> share of requests (throttling and cold loads where SageMaker would produce them)
ERROR_SHARES = {
    "errors_client": 0.004,
    "errors_throttled": 0.01,
    "errors_model": 0.002,
    "errors_timeout": 0.0005,
}
COLD_LOAD_SHARE = 0.006  # multi-model endpoints answer ModelNotReadyException on a cache miss


@transaction.atomic
def demo_usage_seed(now: datetime | None = None) -> int:
    """Write the demo history unless it is there already; return how many rows were written."""
    if UsageFlushBatch.objects.filter(batch=DEMO_HISTORY_BATCH).exists():
        return 0
    end = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    rows = [
        row
        for deployment in Deployment.objects.filter(name__in=TRAFFIC).prefetch_related("members")
        for tenant_id in _tenants(deployment)
        for row in _history(deployment, tenant_id, end)
    ]
    if rows:  # none while the demo fleet is not declared yet: a later seed writes them
        UsageMinute.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
        UsageFlushBatch.objects.create(batch=DEMO_HISTORY_BATCH, rows=len(rows))
    return len(rows)


def _tenants(deployment: Deployment) -> list[UUID]:
    return [deployment.tenant_id] if deployment.tenant_id else [m.tenant_id for m in deployment.members.all()]


def _history(deployment: Deployment, tenant_id: UUID, end: datetime) -> list[UsageMinute]:
    """Business-hours traffic with a quiet night, the same every seed (the generator is seeded by names)."""
    rate, latency = TRAFFIC[deployment.name]
    chance = random.Random(f"{deployment.name}/{tenant_id}")  # demo figures, not security
    scale = chance.uniform(0.5, 1.5)
    rows = []
    minute = end - timedelta(days=DAYS)
    while minute < end:
        daily = 0.15 + 0.85 * max(0.0, math.sin(math.pi * (minute.hour - 6) / 14))
        n = max(0, round(rate * scale * daily * chance.uniform(0.7, 1.3)))
        if n:
            rows.append(_row(deployment, tenant_id, minute, n, latency, chance))
        minute += timedelta(minutes=EVERY_MINUTES)
    return rows


def _row(
    deployment: Deployment, tenant_id: UUID, minute: datetime, n: int, latency: float, chance: random.Random
) -> UsageMinute:
    errors = {column: _share(n, share, chance) for column, share in ERROR_SHARES.items()}
    if deployment.kind == "multi_model":
        errors["errors_not_ready"] = _share(n, COLD_LOAD_SHARE, chance)
    mean = latency * chance.uniform(0.8, 1.25)
    return UsageMinute(
        tenant_id=tenant_id,
        deployment=deployment,
        minute=minute,
        invocations=n,
        bytes_in=n * chance.randint(300, 900),
        bytes_out=n * chance.randint(20, 60),
        latency_ms_sum=round(mean * n, 3),
        latency_ms_max=round(mean * chance.uniform(1.5, 4.0), 3),
        **errors,
    )


def _share(n: int, share: float, chance: random.Random) -> int:
    """How many of n requests fell in a class seen in `share` of requests (a binomial draw, kept simple)."""
    return sum(1 for _ in range(n) if chance.random() < share)
