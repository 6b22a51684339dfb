"""THE input of the shared-cost split: what each member of a deployment used, hour by hour, and when it
was a member. Everything the split knows of usage comes through `member_usage`.

Usage is the metering of the tenant inference API (`deployments.models.UsageMinute`, per tenant ×
deployment × minute), summed per hour in the database. Membership comes from the timeline: a `Member`
line says a tenant `joined` (it is served from then on) or `left`. A member with no such line (it joined
before the timeline recorded them) counts from when its membership was created.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet, Sum
from django.db.models.functions import ExtractHour

from deployments.models import Deployment, DeploymentEvent, DeploymentMember, UsageMinute

HOURS = 24


def _zeros() -> list[float]:
    return [0.0] * HOURS


@dataclass
class MemberUse:
    """One tenant's use of one deployment on one day."""

    invocations: list[float] = field(default_factory=_zeros)  # per hour of the day (UTC)
    latency_ms: list[float] = field(default_factory=_zeros)  # model latency × invocations, per hour
    bytes: list[float] = field(default_factory=_zeros)  # bytes in + out, per hour
    present: list[tuple[datetime, datetime]] = field(default_factory=list)  # member during these spans

    @property
    def total_invocations(self) -> int:
        return int(sum(self.invocations))


def member_usage(day_start: datetime, deployments: Iterable[Deployment]) -> dict[int, dict[UUID, MemberUse]]:
    """Deployment id → tenant id → its use that day, for every deployment given (three queries in all).

    A tenant's own deployment has its tenant present all day; a shared one has its members' spans.
    """
    deployments = list(deployments)
    day_end = day_start + timedelta(days=1)
    found: dict[int, dict[UUID, MemberUse]] = {d.pk: defaultdict(MemberUse) for d in deployments}
    rows = (
        UsageMinute.objects.filter(deployment_id__in=list(found), minute__gte=day_start, minute__lt=day_end)
        .annotate(hour=ExtractHour("minute", tzinfo=UTC))
        .values("deployment_id", "tenant_id", "hour")
        .annotate(
            n=Sum("invocations"),
            ms=Sum("latency_ms_sum"),
            bytes_in=Sum("bytes_in"),
            bytes_out=Sum("bytes_out"),
        )
    )
    for deployment_id, tenant_id, hour, n, ms, bytes_in, bytes_out in _raw(rows):
        use = found[deployment_id][tenant_id if isinstance(tenant_id, UUID) else UUID(str(tenant_id))]
        hour = int(hour)
        use.invocations[hour] += float(n or 0)
        use.latency_ms[hour] += float(ms or 0)
        use.bytes[hour] += float((bytes_in or 0) + (bytes_out or 0))
    shared = [d for d in deployments if d.tenant_id is None]
    for deployment in deployments:
        if deployment.tenant_id is not None:
            found[deployment.pk][deployment.tenant_id].present = [(day_start, day_end)]
    for (deployment_id, tenant_id), spans in _membership(shared, day_start, day_end).items():
        found[deployment_id][tenant_id].present = spans
    return {pk: dict(uses) for pk, uses in found.items()}


def _raw(queryset: QuerySet[Any]) -> list[tuple[Any, ...]]:
    """The queryset's rows as the database returns them: a day of a large fleet is tens of thousands of
    hourly rows, and Django's per-value converters cost more than the query (callers convert)."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # no deployment to ask about
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _membership(
    shared: list[Deployment], day_start: datetime, day_end: datetime
) -> dict[tuple[int, UUID], list[tuple[datetime, datetime]]]:
    """(deployment, tenant) → the spans of the day it was a member, from the timeline's Member lines."""
    if not shared:
        return {}
    ids = [d.pk for d in shared]
    events = (
        DeploymentEvent.objects.filter(deployment_id__in=ids, action="Member", created_at__lt=day_end)
        .order_by("created_at", "id")
        .values_list("deployment_id", "tenant_id", "outcome", "created_at")
    )
    since: dict[tuple[int, UUID], datetime | None] = {}
    spans: dict[tuple[int, UUID], list[tuple[datetime, datetime]]] = defaultdict(list)
    for deployment_id, tenant_id, outcome, at in events:
        key = (deployment_id, tenant_id)
        if outcome == "joined":
            since.setdefault(key, None)
            since[key] = since[key] or at
        elif outcome == "left":
            _span(spans, key, since.get(key), at, day_start)
            since[key] = None
            spans.setdefault(key, [])
    # Members with no Member line at all joined before the timeline recorded joins: from their creation.
    for deployment_id, tenant_id, created_at in DeploymentMember.objects.filter(
        deployment_id__in=ids
    ).values_list("deployment_id", "tenant_id", "created_at"):
        key = (deployment_id, tenant_id)
        if key not in since and key not in spans:
            since[key] = created_at
    for key, start in since.items():
        _span(spans, key, start, day_end, day_start)
    return {key: found for key, found in spans.items() if found}


def _span(
    spans: dict[tuple[int, UUID], list[tuple[datetime, datetime]]],
    key: tuple[int, UUID],
    start: datetime | None,
    end: datetime,
    day_start: datetime,
) -> None:
    if start is not None and end > day_start and end > start:
        spans[key].append((max(start, day_start), end))
