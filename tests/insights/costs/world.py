"""A small costed world in code: a catalogue version with round prices, deployments with a timeline."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from deployments.models import CatalogueVersion, Deployment, DeploymentEvent, DeploymentMember, UsageMinute
from insights.models_costs import AllocationLine, LedgerLine
from tests.factories import make_tenant

DAY = date(2026, 3, 10)  # a Tuesday in a 31-day month


def at(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def prices(valid_from: date, *, large: str = "0.10", extra: dict[str, Any] | None = None) -> CatalogueVersion:
    """A catalogue version with round prices: ml.m5.large real-time $0.10/h, async $0.12/h, transform
    $0.20/h; ml.m5.xlarge real-time $0.20/h; serverless $0.00002/GB-s and $0.016/GB; S3 $0.03/GB-month."""
    instances = {
        "ml.m5.large": {
            "realtime_per_hour": float(large),
            "async_per_hour": 0.12,
            "transform_per_hour": 0.20,
        },
        "ml.m5.xlarge": {"realtime_per_hour": 0.20, "async_per_hour": 0.24, "transform_per_hour": 0.40},
    }
    instances.update((extra or {}).get("instances", {}))
    region = {
        "instances": instances,
        "serverless": {"per_gb_second": 0.00002, "per_gb_data_processed": 0.016},
        "s3_per_gb_month": 0.03,
    }
    data = {"currency": "USD", "retrieved": valid_from.isoformat(), "regions": {"us-east-1": region}}
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    return CatalogueVersion.objects.create(
        valid_from=valid_from, retrieved=valid_from, sha256=digest, data=data, source="test"
    )


def endpoint(
    kind: str = "realtime",
    *,
    tenant: Any = None,
    isolation: str = "silo",
    settings: dict[str, Any] | None = None,
    name: str = "",
) -> Deployment:
    n = Deployment.objects.count() + 1
    return Deployment.objects.create(
        tenant=tenant,
        name=name or f"{kind} {n}",
        kind=kind,
        isolation=isolation,
        settings=settings or {},
        status="in_service",
        aws_name=f"sa-test-{n}",
    )


def live(deployment: Deployment, when: datetime, **variant: Any) -> None:
    """A status line: the generation with `variant` went live at `when`."""
    DeploymentEvent.objects.create(
        deployment=deployment,
        action="Status",
        outcome="in_service",
        resource="updating → in_service",
        detail={"live": True, "variant": variant},
        created_at=when,
    )


def deleted(deployment: Deployment, when: datetime) -> None:
    DeploymentEvent.objects.create(
        deployment=deployment,
        action="Status",
        outcome="deleted",
        resource="deleting → deleted",
        detail={"live": False},
        created_at=when,
    )


def member(deployment: Deployment, tenant: Any, joined: datetime, left: datetime | None = None) -> None:
    DeploymentMember.objects.create(deployment=deployment, tenant=tenant, target=f"{tenant.slug}.tar.gz")
    for outcome, when in (("joined", joined), ("left", left)):
        if when is not None:
            DeploymentEvent.objects.create(
                deployment=deployment,
                tenant=tenant,
                action="Member",
                outcome=outcome,
                detail={"tenant": str(tenant.pk), "member": outcome},
                created_at=when,
            )


def usage(
    deployment: Deployment,
    tenant: Any,
    day: date,
    hours: range | list[int],
    per_hour: int,
    latency_ms: float = 10.0,
    bytes_each: int = 0,
) -> None:
    UsageMinute.objects.bulk_create(
        UsageMinute(
            tenant=tenant,
            deployment=deployment,
            minute=at(day, hour, 7),
            invocations=per_hour,
            latency_ms_sum=latency_ms * per_hour,
            bytes_in=bytes_each * per_hour,
        )
        for hour in hours
    )


def tenants(*slugs: str) -> list[Any]:
    return [make_tenant(slug=slug, name=slug.title(), isolation="bridge") for slug in slugs]


def billed(day: date = DAY) -> dict[str, Decimal]:
    """Slug (or "idle") → the day's allocated cents."""
    found: dict[str, Decimal] = {}
    for line in AllocationLine.objects.filter(day=day).select_related("tenant"):
        key = line.tenant.slug if line.tenant else "idle"
        if line.is_idle and line.tenant:
            key = f"{line.tenant.slug} idle"
        found[key] = found.get(key, Decimal(0)) + line.billed_cost
    return {key: value for key, value in found.items() if value}  # members present who used nothing: 0


def day_total(day: date = DAY) -> Decimal:
    return sum((line.billed_cost for line in LedgerLine.objects.filter(day=day)), Decimal(0))


def reconciles(day: date = DAY) -> bool:
    """The day's allocation adds up to its ledger to the cent."""
    allocated = sum((line.billed_cost for line in AllocationLine.objects.filter(day=day)), Decimal(0))
    return allocated == day_total(day)


def then(day: date, days: int) -> date:
    return day + timedelta(days=days)
