"""Reads for the usage pages: a tenant's metered API usage (deployments.UsageMinute) per day or hour."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from django.db.models import F, Max, Sum
from django.db.models.functions import TruncDay, TruncHour

from deployments.models import UsageMinute
from tenants.models import Tenant

# bucket -> (truncation, how far back the page looks)
BUCKETS = {"day": (TruncDay, timedelta(days=30)), "hour": (TruncHour, timedelta(hours=48))}
# The API's own refusals (deployments.metering.REFUSAL_CLASSES): errors, but not invocations.
REFUSAL_COLUMNS = ("errors_client", "errors_rate_limited", "errors_not_serving")
ERROR_COLUMNS = (
    "errors_client",
    "errors_throttled",
    "errors_model",
    "errors_timeout",
    "errors_not_ready",
    "errors_server",
    "errors_rate_limited",
    "errors_not_serving",
)


@dataclass(frozen=True)
class UsageRow:
    """One deployment's usage in one day or hour (or, with `start=None`, over the whole period)."""

    start: datetime | None
    deployment_id: int
    deployment_name: str
    deployment_kind: str
    shared: bool
    invocations: int
    errors: int
    bytes_in: int
    bytes_out: int
    latency_ms_sum: float
    latency_ms_max: float
    refused: int = 0  # requests the API refused before calling SageMaker (counted in `errors` too)

    @property
    def requests(self) -> int:
        """Every request counted: the invocations of SageMaker and the API's own refusals."""
        return self.invocations + self.refused

    @property
    def latency_ms_mean(self) -> float:
        return self.latency_ms_sum / self.invocations if self.invocations else 0.0

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


def usage_period(bucket: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The period a bucket size shows: the last 30 days per day, the last 48 hours per hour (UTC)."""
    now = now or datetime.now(UTC)
    unit = timedelta(days=1) if bucket == "day" else timedelta(hours=1)
    end = _floor(now, bucket) + unit
    return end - BUCKETS[bucket][1], end


def _floor(at: datetime, bucket: str) -> datetime:
    at = at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return at.replace(hour=0) if bucket == "day" else at


def usage_rows(*, tenant: Tenant, bucket: str, start: datetime, end: datetime) -> list[UsageRow]:
    """The tenant's usage per deployment and day/hour in [start, end), oldest first (one query)."""
    trunc = BUCKETS[bucket][0]
    errors = sum((F(column) for column in ERROR_COLUMNS[1:]), F(ERROR_COLUMNS[0]))
    refused = sum((F(column) for column in REFUSAL_COLUMNS[1:]), F(REFUSAL_COLUMNS[0]))
    grouped = (
        UsageMinute.objects.for_tenant(tenant)
        .filter(minute__gte=start, minute__lt=end)
        .annotate(start=trunc("minute", tzinfo=UTC))
        .values("start", "deployment_id", "deployment__name", "deployment__kind", "deployment__tenant_id")
        .annotate(
            n=Sum("invocations"),
            errors=Sum(errors),
            refused=Sum(refused),
            bytes_in=Sum("bytes_in"),
            bytes_out=Sum("bytes_out"),
            latency_sum=Sum("latency_ms_sum"),
            latency_max=Max("latency_ms_max"),
        )
        .order_by("start", "deployment__name")
    )
    return [
        UsageRow(
            start=g["start"],
            deployment_id=g["deployment_id"],
            deployment_name=g["deployment__name"],
            deployment_kind=g["deployment__kind"],
            shared=g["deployment__tenant_id"] is None,
            invocations=g["n"],
            errors=g["errors"],
            bytes_in=g["bytes_in"],
            bytes_out=g["bytes_out"],
            latency_ms_sum=g["latency_sum"],
            latency_ms_max=g["latency_max"],
            refused=g["refused"],
        )
        for g in grouped
    ]


def usage_totals(rows: list[UsageRow]) -> list[UsageRow]:
    """The rows summed per deployment over the whole period (`start=None`), busiest first."""
    totals: dict[int, UsageRow] = {}
    for row in rows:
        seen = totals.get(row.deployment_id)
        totals[row.deployment_id] = (
            replace(row, start=None)
            if seen is None
            else replace(
                seen,
                invocations=seen.invocations + row.invocations,
                errors=seen.errors + row.errors,
                refused=seen.refused + row.refused,
                bytes_in=seen.bytes_in + row.bytes_in,
                bytes_out=seen.bytes_out + row.bytes_out,
                latency_ms_sum=seen.latency_ms_sum + row.latency_ms_sum,
                latency_ms_max=max(seen.latency_ms_max, row.latency_ms_max),
            )
        )
    return sorted(totals.values(), key=lambda r: (-r.invocations, r.deployment_name))
