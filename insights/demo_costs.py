"""DEMO HISTORY, not measured: a year in the life of the demo fleet (deployments/demo.py), from which the
cost ledger and allocation compute twelve months of costs with the same code as every day's run.

What is made up is only what AWS and the API would have recorded: each deployment's timeline (when it
went live, on which instances, updates, members joining and leaving), an hour-by-hour history of metered
API usage (UsageMinute, quiet nights so that shared endpoints show idle hours), the async endpoint's
instance count over time, and the bytes in each tenant's S3 prefix. The costs themselves are never
written: `costs_run` computes them. Batch runs get no made-up history (a run's outputs are read by the
insight dashboards): their cost starts with the first real run. Marked in the flush ledger as the batch
`demo-cost-history`, so a second seed adds nothing. Never called outside the demo seed.
"""

from __future__ import annotations

import math
import random
import time as time_module
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from deployments.demo_usage import DAYS as RECENT_USAGE_DAYS
from deployments.models import Deployment, DeploymentEvent, UsageFlushBatch, UsageMinute
from insights.costs.samples import tenant_prefixes
from insights.models_costs import CapacitySample, CostRule, StorageSample
from tenants.models import Tenant

DEMO_COST_BATCH = "demo-cost-history"
MONTHS = 12
GIB = 1024**3


@dataclass(frozen=True)
class Life:
    """A demo deployment's simulated life: generations (days before today, instance type, count) and its
    members' joins and leaves (slug, joined days ago, left days ago or None); traffic per busy hour."""

    generations: tuple[tuple[int, str, int], ...]
    members: tuple[tuple[str, int, int | None], ...] = ()
    requests_per_hour: int = 0
    latency_ms: float = 0.0
    quiet_night: bool = False  # shared endpoints: nobody calls from midnight to 05:00 (idle hours)
    memory_mb: int = 0


# deployment name -> its year (the first generation starts at the first day of the history)
LIVES: dict[str, Life] = {
    "Acme real-time": Life(
        ((400, "ml.m5.large", 1), (150, "ml.m5.large", 2), (90, "ml.m5.large", 1)),
        requests_per_hour=2400,
        latency_ms=4.0,
    ),
    "Globex serverless": Life(((400, "", 0),), requests_per_hour=700, latency_ms=14.0, memory_mb=2048),
    "Globex async": Life(((400, "ml.m5.large", 1),), requests_per_hour=180, latency_ms=180.0),
    "Bridge multi-model": Life(
        ((400, "ml.m5.xlarge", 1),),
        members=(("initech", 400, None), ("umbrella", 400, None), ("hooli", 210, None), ("oscorp", 400, 250)),
        requests_per_hour=1100,
        latency_ms=7.0,
        quiet_night=True,
    ),
    "Bridge multi-container": Life(
        ((180, "ml.m5.large", 1),),
        members=(("initech", 180, None), ("hooli", 180, None)),
        requests_per_hour=600,
        latency_ms=5.5,
        quiet_night=True,
    ),
    "Pool real-time": Life(
        ((400, "ml.m5.large", 2),),
        members=(("stark", 400, None), ("wayne", 400, None), ("wonka", 95, None), ("tyrell", 400, 120)),
        requests_per_hour=1500,
        latency_ms=3.5,
        quiet_night=True,
    ),
}
# How the demo's shared endpoints split their cost: one of each rule, idle kept and spread.
RULES: dict[str, dict[str, Any]] = {
    "Bridge multi-model": {"basis": "invocations", "idle_policy": "overhead"},
    "Bridge multi-container": {"basis": "latency", "idle_policy": "spread"},
    "Pool real-time": {"basis": "even", "idle_policy": "overhead"},
}


def history_start(today: date) -> date:
    """The first day of the month twelve months back: eleven whole months and the running one."""
    month = today.month - (MONTHS - 1)
    year = today.year + (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1)


def _at(day: date, hour: int = 0) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def demo_costs_history(today: date | None = None, *, pause: float = 0.0) -> dict[str, int]:
    """Write the demo's simulated year unless it is there; counts of what was written (empty when not).

    One transaction per deployment (the stack's workers write meanwhile, and SQLite lets one writer in at a
    time, and a waiting one needs a moment between two: `pause` seconds); the marker goes last, so a seed
    stopped half-way writes again (usage and samples are unique per minute and day, a second copy of a
    timeline line changes no cost).
    """
    if UsageFlushBatch.objects.filter(batch=DEMO_COST_BATCH).exists():
        return {}
    today = today or timezone.now().date()
    fleet = {d.name: d for d in Deployment.objects.filter(name__in=LIVES).prefetch_related("members")}
    if not fleet:
        return {}  # the demo fleet is not declared yet: a later seed writes it
    start = history_start(today)
    tenants = {t.slug: t for t in Tenant.objects.all()}
    counts = {"events": 0, "usage_rows": 0, "capacity_samples": 0, "storage_samples": 0}
    for name, deployment in fleet.items():
        life = LIVES[name]
        with transaction.atomic():
            counts["events"] += _timeline(deployment, life, start, today, tenants)
            counts["usage_rows"] += _usage(deployment, life, start, today, tenants)
            if deployment.kind == "async":
                counts["capacity_samples"] += _capacity(deployment, start, today)
            if name in RULES:
                CostRule.objects.get_or_create(deployment=deployment, defaults=RULES[name])
        time_module.sleep(pause)
    with transaction.atomic():
        counts["storage_samples"] = _storage(start, today, tenants)
        UsageFlushBatch.objects.create(batch=DEMO_COST_BATCH, rows=counts["usage_rows"])
    return counts


def history_months(today: date) -> list[tuple[date, date]]:
    """The history's months (the running one up to yesterday): the demo computes one run per month, so
    that no transaction holds the database for long while the stack's workers run."""
    months, first, last = [], history_start(today), today - timedelta(days=1)
    while first <= last:
        following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        months.append((first, min(last, following - timedelta(days=1))))
        first = following
    return months


def _day_of(start: date, today: date, days_ago: int, hour: int) -> datetime:
    return _at(max(start, today - timedelta(days=days_ago)), hour)


def _timeline(
    deployment: Deployment, life: Life, start: date, today: date, tenants: dict[str, Tenant]
) -> int:
    events = []
    for days_ago, instance_type, count in life.generations:
        variant = (
            {"memory_mb": life.memory_mb, "max_concurrency": 5}
            if life.memory_mb
            else {"instance_type": instance_type, "instance_count": count}
        )
        events.append(
            DeploymentEvent(
                deployment=deployment,
                tenant_id=deployment.tenant_id,
                action="Status",
                outcome="in_service",
                resource="updating → in_service (demo history)",
                detail={"live": True, "variant": variant},
                created_at=_day_of(start, today, days_ago, 14 if days_ago < 400 else 0),
            )
        )
    for slug, joined, left in life.members:
        tenant = tenants.get(slug)
        if tenant is None:
            continue
        moves: list[tuple[str, int | None]] = [("joined", joined), ("left", left)]
        for outcome, ago in moves:
            if ago is None:
                continue
            events.append(
                DeploymentEvent(
                    deployment=deployment,
                    tenant=tenant,
                    action="Member",
                    outcome=outcome,
                    resource=f"{slug} {outcome} the endpoint (demo history)",
                    detail={"tenant": str(tenant.pk), "member": outcome},
                    created_at=_day_of(start, today, ago, 10 if ago < 400 else 0),
                )
            )
    DeploymentEvent.objects.bulk_create(events)
    return len(events)


def _usage_tenants(
    deployment: Deployment, life: Life, tenants: dict[str, Tenant]
) -> list[tuple[Tenant, int, int | None]]:
    if deployment.tenant is not None:
        return [(deployment.tenant, 400, None)]
    return [(tenants[slug], joined, left) for slug, joined, left in life.members if slug in tenants]


def _usage(deployment: Deployment, life: Life, start: date, today: date, tenants: dict[str, Tenant]) -> int:
    """One row per tenant and busy hour, up to where deployments/demo_usage.py's recent history begins."""
    end = _at(today) - timedelta(days=RECENT_USAGE_DAYS)
    rows = []
    for tenant, joined, left in _usage_tenants(deployment, life, tenants):
        chance = random.Random(f"{deployment.name}/{tenant.slug}/costs")  # demo figures, not security
        scale = chance.uniform(0.4, 1.6)
        first = max(_at(start), _at(today - timedelta(days=joined), 11 if joined < 400 else 0))
        last = min(end, _at(today - timedelta(days=left), 9) if left is not None else end)
        hour = first
        while hour < last:
            n = _requests(life, hour, scale, chance)
            if n:
                mean = life.latency_ms * chance.uniform(0.8, 1.25)
                rows.append(
                    UsageMinute(
                        tenant=tenant,
                        deployment=deployment,
                        minute=hour,
                        invocations=n,
                        bytes_in=n * chance.randint(300, 900),
                        bytes_out=n * chance.randint(20, 60),
                        latency_ms_sum=round(mean * n, 3),
                        latency_ms_max=round(mean * 3, 3),
                        errors_client=n // 400,
                    )
                )
            hour += timedelta(hours=1)
    UsageMinute.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    return len(rows)


def _requests(life: Life, hour: datetime, scale: float, chance: random.Random) -> int:
    if life.quiet_night and hour.hour < 5:
        return 0
    daily = 0.15 + 0.85 * max(0.0, math.sin(math.pi * (hour.hour - 6) / 14))
    weekly = 0.45 if hour.weekday() >= 5 else 1.0
    season = 1.0 + 0.25 * math.sin(2 * math.pi * hour.timetuple().tm_yday / 365)
    return max(0, round(life.requests_per_hour * scale * daily * weekly * season * chance.uniform(0.7, 1.3)))


def _capacity(deployment: Deployment, start: date, today: date) -> int:
    """The async endpoint scales to zero at night (20:00–07:00) and to two instances on busy days."""
    chance = random.Random(f"{deployment.name}/capacity")
    samples = []
    day = start
    while day < today:
        busy = 2 if chance.random() < 0.2 and day.weekday() < 5 else 1
        samples += [
            CapacitySample(deployment=deployment, at=_at(day, 7), instance_count=busy, source="demo"),
            CapacitySample(deployment=deployment, at=_at(day, 20), instance_count=0, source="demo"),
        ]
        day += timedelta(days=1)
    CapacitySample.objects.bulk_create(samples, ignore_conflicts=True)
    return len(samples)


def _storage(start: date, today: date, tenants: dict[str, Tenant]) -> int:
    """Each tenant's prefixes grow by a little every day (datasets in, outputs kept)."""
    rows = []
    for slug, tenant in sorted(tenants.items()):
        if tenant.status in ("onboarding", "offboarded"):
            continue
        chance = random.Random(f"{slug}/storage")
        size = chance.uniform(2, 40) * GIB
        daily = chance.uniform(0.05, 0.6) * GIB
        day = start
        while day < today:
            rows.append(
                StorageSample(
                    tenant=tenant,
                    day=day,
                    prefix=" + ".join(tenant_prefixes(slug)),
                    bytes=int(size),
                    objects_count=0,
                )
            )
            size += daily * chance.uniform(0.2, 1.8)
            day += timedelta(days=1)
    StorageSample.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    return len(rows)
