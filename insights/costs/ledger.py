"""The usage ledger of one day: a priced line per AWS resource and usage type, to the second.

- endpoints (real-time, multi-model, multi-container; async with its instance count over time):
  instance-hours of each instance type from the deployment's life (insights.costs.life);
- serverless endpoints: GB-seconds (memory × metered model time) and GB of data processed;
- batch transform: each run's instance count × its duration within the day;
- S3: the bytes under each tenant's prefixes that day, as a day's share of a GB-month.
Prices come from the catalogue version valid on the day (deployments.catalogue.prices_on).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q

from deployments.catalogue import prices_on
from deployments.models import CatalogueVersion, Deployment, Kind, RunStatus, Status, TransformRun
from deployments.rules import settings_normalise
from insights.costs import prices
from insights.costs.life import Piece, running_pieces
from insights.costs.money import cents, exact
from insights.costs.usage_input import MemberUse, member_usage
from insights.models_costs import S3_KIND, LedgerLine, StorageSample

HOUR = 3600
STORAGE_LOOKBACK_DAYS = 6  # a missed daily sample reuses the latest of the week before


@dataclass
class Drafted:
    """A ledger line before it is saved, with what the allocation needs to split it."""

    line: LedgerLine
    pieces: list[Piece] = field(default_factory=list)


@dataclass
class Day:
    """One day's ledger with its inputs: the allocation reads the same usage and pieces."""

    day: date
    start: datetime
    version: CatalogueVersion
    lines: list[Drafted]
    usage: dict[int, dict]  # deployment id → tenant id → MemberUse
    pieces: dict[int, list[Piece]]
    deployments: dict[int, Deployment]


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def ledger_day(day: date) -> Day:
    """The ledger of `day` (UTC), unsaved, with its inputs (a fixed number of queries, whatever the fleet)."""
    start = day_start(day)
    end = start + timedelta(days=1)
    version = prices_on(day)
    fleet = {
        d.pk: d
        for d in Deployment.objects.exclude(status=Status.DELETED, status_changed_at__lt=start).only(
            "id", "tenant_id", "kind", "isolation", "aws_name", "settings", "live_spec", "status"
        )
    }
    endpoints = [d for d in fleet.values() if d.kind != Kind.BATCH]
    pieces = running_pieces(endpoints, start, end)
    usage = member_usage(start, endpoints)
    lines: list[Drafted] = []
    for deployment in endpoints:
        if deployment.kind == Kind.SERVERLESS:
            lines += _serverless_lines(day, deployment, pieces.get(deployment.pk, []), usage, version)
        else:
            lines += _instance_lines(day, deployment, pieces.get(deployment.pk, []), usage, version)
    lines += _batch_lines(day, start, end, fleet, version)
    lines += _storage_lines(day, version)
    return Day(day, start, version, lines, usage, pieces, fleet)


def _line(day: date, version: CatalogueVersion, **fields: object) -> LedgerLine:
    line = LedgerLine(day=day, price_version=version, **fields)
    line.cost = exact(line.quantity * line.unit_price) if "cost" not in fields else line.cost
    line.billed_cost = cents(line.cost)
    return line


def _instance_lines(
    day: date, deployment: Deployment, found: list[Piece], usage: dict, version: CatalogueVersion
) -> list[Drafted]:
    """One line per instance type the endpoint ran that day (an update may change the type mid-day)."""
    by_type: dict[str, list[Piece]] = defaultdict(list)
    for piece in found:
        if piece.count > 0 and piece.instance_type:
            by_type[piece.instance_type].append(piece)
    use, billed = ("async", "AsyncInf") if deployment.kind == Kind.ASYNC else ("realtime", "Host")
    invocations = sum(u.total_invocations for u in usage.get(deployment.pk, {}).values())
    drafted = []
    for instance_type, group in sorted(by_type.items()):
        instance_seconds = sum(p.count * p.seconds for p in group)
        price = prices.hourly(version, instance_type, use)
        line = _line(
            day,
            version,
            deployment_id=deployment.pk,
            tenant_id=deployment.tenant_id,
            resource_id=prices.arn(f"endpoint/{deployment.aws_name}"),
            kind=deployment.kind,
            isolation=deployment.isolation,
            usage_type=prices.usage_type(f"{billed}:{instance_type}"),
            quantity=Decimal(instance_seconds) / HOUR,
            unit="Hrs",
            unit_price=price,
            cost=exact(Decimal(instance_seconds) * price / HOUR),
            seconds=sum(p.seconds for p in group),
            instance_type=instance_type,
            instance_count=max(p.count for p in group),
            invocations=invocations if len(by_type) == 1 else 0,
        )
        line.quantity = line.quantity.quantize(Decimal("0.000001"))
        drafted.append(Drafted(line, group))
    return drafted


def _memory_at(found: list[Piece], hour_start: datetime, fallback: int) -> int:
    middle = hour_start + timedelta(minutes=30)
    for piece in found:
        if piece.start <= middle < piece.end and piece.memory_mb:
            return piece.memory_mb
    return next((p.memory_mb for p in reversed(found) if p.memory_mb), fallback)


def _serverless_lines(
    day: date, deployment: Deployment, found: list[Piece], usage: dict, version: CatalogueVersion
) -> list[Drafted]:
    """GB-seconds per memory size (model time × memory), and the GB of data processed."""
    fallback = int(settings_normalise(Kind.SERVERLESS, deployment.settings).get("memory_mb") or 2048)
    start = day_start(day)
    gb_seconds: dict[int, Decimal] = defaultdict(Decimal)
    invocations: dict[int, int] = defaultdict(int)
    data_bytes = Decimal(0)
    use: MemberUse
    for use in usage.get(deployment.pk, {}).values():
        for hour in range(24):
            if not use.invocations[hour]:
                continue
            memory = _memory_at(found, start + timedelta(hours=hour), fallback)
            gb_seconds[memory] += Decimal(str(use.latency_ms[hour])) / 1000 * memory / 1024
            invocations[memory] += int(use.invocations[hour])
            data_bytes += Decimal(str(use.bytes[hour]))
    common = {
        "deployment_id": deployment.pk,
        "tenant_id": deployment.tenant_id,
        "resource_id": prices.arn(f"endpoint/{deployment.aws_name}"),
        "kind": Kind.SERVERLESS,
        "isolation": deployment.isolation,
        "seconds": sum(p.seconds for p in found),
    }
    drafted = [
        Drafted(
            _line(
                day,
                version,
                usage_type=prices.usage_type(f"ServerlessInf:Mem-{memory // 1024}GB"),
                quantity=quantity.quantize(Decimal("0.000001")),
                unit="GB-Second",
                unit_price=prices.serverless(version, "per_gb_second"),
                invocations=invocations[memory],
                **common,
            ),
            found,
        )
        for memory, quantity in sorted(gb_seconds.items())
    ]
    if data_bytes:
        quantity = (data_bytes / prices.GIB).quantize(Decimal("0.000001"))
        line = _line(
            day,
            version,
            usage_type=prices.usage_type("ServerlessInf-DataProcessing-Bytes"),
            quantity=quantity,
            unit="GB",
            unit_price=prices.serverless(version, "per_gb_data_processed"),
            **common,
        )
        drafted.append(Drafted(line, found))
    return drafted


def _batch_lines(
    day: date, start: datetime, end: datetime, fleet: dict[int, Deployment], version: CatalogueVersion
) -> list[Drafted]:
    """Each transform run's instances × the seconds it ran within the day."""
    runs = TransformRun.objects.filter(started_at__lt=end).filter(
        Q(finished_at__gt=start) | Q(finished_at__isnull=True, status=RunStatus.IN_PROGRESS)
    )
    drafted = []
    for run in runs.order_by("started_at", "id"):
        deployment = fleet.get(run.deployment_id)
        if deployment is None:
            deployment = Deployment.objects.get(pk=run.deployment_id)  # deleted since: rare
        # What the job was created on; a run from before runs recorded it, what the deployment says now.
        values = settings_normalise(Kind.BATCH, deployment.settings)
        instance_type = run.instance_type or values["instance_type"]
        count = run.instance_count or int(values["instance_count"])
        until = min(run.finished_at or end, end)
        seconds = max(0, int((until - max(run.started_at or start, start)).total_seconds()))
        price = prices.hourly(version, instance_type, "transform")
        line = _line(
            day,
            version,
            deployment_id=deployment.pk,
            tenant_id=run.tenant_id,
            resource_id=prices.arn(f"transform-job/{run.job_name}"),
            kind=Kind.BATCH,
            isolation=deployment.isolation,
            usage_type=prices.usage_type(f"Tsform:{instance_type}"),
            quantity=(Decimal(seconds * count) / HOUR).quantize(Decimal("0.000001")),
            unit="Hrs",
            unit_price=price,
            cost=exact(Decimal(seconds * count) * price / HOUR),
            seconds=seconds,
            instance_type=instance_type,
            instance_count=count,
        )
        drafted.append(Drafted(line))
    return drafted


def _storage_lines(day: date, version: CatalogueVersion) -> list[Drafted]:
    """A day of each tenant's S3 bytes: bytes / GiB × 1/days-in-month GB-months."""
    samples = (
        StorageSample.objects.filter(day__lte=day, day__gte=day - timedelta(days=STORAGE_LOOKBACK_DAYS))
        .order_by("tenant_id", "-day")
        .values_list("tenant_id", "prefix", "bytes")
    )
    latest: dict[Any, tuple[str, int]] = {}
    for tenant_id, prefix, size in samples:
        latest.setdefault(tenant_id, (prefix, size))
    days_in_month = calendar.monthrange(day.year, day.month)[1]
    price = prices.s3_per_gb_month(version)
    drafted = []
    for tenant_id, (prefix, size) in latest.items():
        if not size:
            continue
        quantity = Decimal(size) / prices.GIB / days_in_month
        line = _line(
            day,
            version,
            deployment_id=None,
            tenant_id=tenant_id,
            resource_id=prefix,
            kind=S3_KIND,
            isolation="",
            usage_type=prices.usage_type("TimedStorage-ByteHrs"),
            quantity=quantity.quantize(Decimal("0.000001")),
            unit="GB-Mo",
            unit_price=price,
            cost=exact(quantity * price),
            seconds=86400,
        )
        drafted.append(Drafted(line))
    return drafted
