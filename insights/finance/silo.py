"""“What this tenant would cost in Silo vs today”: for each shared endpoint it is on, the advisor's
estimate of serving the same traffic from an endpoint of its own (deployments.advisor), beside what its
share costs now."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Max, Sum

from deployments.advisor import Needs, NeedsError, advise
from deployments.catalogue import offered
from deployments.models import Kind, UsageMinute
from insights.finance.months import Month
from insights.finance.tenant import SharedEndpoint
from tenants.models import Isolation, Tenant

DEFAULT_INSTANCE = "ml.m5.large"
DEFAULT_INFERENCE_MS = 100.0
# How long an estimate is reused when the ledger's figures it is made of have not changed: the metered
# traffic it also reads only moves within the running month, by minutes.
CACHE_SECONDS = 600


@dataclass(frozen=True)
class SiloEstimate:
    """One shared endpoint: its share today (a month's worth) against the cheapest Silo kind that fits."""

    endpoint: SharedEndpoint
    today_monthly: Decimal
    kind_label: str | None
    silo_monthly: Decimal | None
    basis: str
    usage: str

    @property
    def difference(self) -> Decimal | None:
        return None if self.silo_monthly is None else self.silo_monthly - self.today_monthly


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _usage(tenant: Tenant, month: Month, deployment_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The tenant's metered use of each endpoint in the month (one grouped query)."""
    rows = (
        UsageMinute.objects.for_tenant(tenant)
        .filter(
            deployment_id__in=deployment_ids,
            minute__gte=_instant(month.start),
            minute__lt=_instant(month.end),
        )
        .values("deployment_id")
        .annotate(
            n=Sum("invocations"),
            latency=Sum("latency_ms_sum"),
            peak=Max("invocations"),
            bytes_in=Sum("bytes_in"),
        )
        .order_by()
    )
    return {row["deployment_id"]: row for row in rows}


def _needs(endpoint: SharedEndpoint, use: dict[str, Any] | None, days: int, instance_type: str) -> Needs:
    invocations = (use or {}).get("n") or endpoint.invocations
    per_day = invocations / max(days, 1)
    peak = max(((use or {}).get("peak") or 0) / 60, per_day / 86_400)
    latency = (use or {}).get("latency") or 0
    inference_ms = max(1.0, latency / invocations) if latency and invocations else DEFAULT_INFERENCE_MS
    payload_mb = min(5.0, ((use or {}).get("bytes_in") or 0) / max(invocations, 1) / 1_000_000) or 0.1
    return Needs(
        latency="milliseconds",
        payload_mb=payload_mb,
        requests_per_day=per_day,
        peak_rps=max(peak, per_day / 86_400),
        traffic="steady",
        tenants=1,
        own_model=not (endpoint.kind == Kind.REALTIME and endpoint.isolation == Isolation.POOL),
        cold_starts_ok=False,
        inference_ms=min(inference_ms, 60_000),
        isolation=Isolation.SILO,
        instance_type=instance_type if instance_type in offered("realtime") else DEFAULT_INSTANCE,
    )


def silo_estimates(
    *, tenant: Tenant, month: Month, shared: list[SharedEndpoint], days_counted: int
) -> list[SiloEstimate]:
    """Each shared endpoint's Silo alternative, priced by the advisor from the tenant's own traffic."""
    if not shared:
        return []
    usage = _usage(tenant, month, [e.deployment_id for e in shared])
    scale = Decimal(month.days) / Decimal(max(days_counted, 1))
    found = []
    for endpoint in shared:
        today = ((endpoint.cost + endpoint.idle_cost) * scale).quantize(Decimal("0.01"), ROUND_HALF_UP)
        use = usage.get(endpoint.deployment_id)
        try:
            needs = _needs(endpoint, use, days_counted, endpoint.instance_type)
        except NeedsError as exc:
            found.append(SiloEstimate(endpoint, today, None, None, str(exc), ""))
            continue
        fits = [a for a in advise(needs) if a.valid]
        described = (
            f"{needs.requests_per_day:,.0f} requests a day, peaks of {needs.peak_rps:,.2f} per second, "
            f"{needs.inference_ms:,.0f} ms each"
        )
        if not fits:
            found.append(
                SiloEstimate(endpoint, today, None, None, "No Silo kind fits this traffic.", described)
            )
            continue
        best = fits[0]
        found.append(SiloEstimate(endpoint, today, best.label, best.monthly, best.reasons[0], described))
    return found


def _cache_key(tenant: Tenant, month: Month, shared: list[SharedEndpoint], days_counted: int) -> str:
    """The estimate's inputs from the ledger, so that a rerun of the allocation makes a new entry."""
    inputs = repr(
        [(e.deployment_id, e.cost, e.idle_cost, e.invocations, e.instance_type, e.kind) for e in shared]
    )
    digest = hashlib.sha256(inputs.encode()).hexdigest()[:24]
    return f"silo-estimates:{tenant.pk}:{month.key}:{days_counted}:{digest}"


def silo_estimates_once(
    *, tenant: Tenant, month: Month, shared: list[SharedEndpoint], days_counted: int
) -> list[SiloEstimate]:
    """`silo_estimates`, worked out once per tenant, month and ledger figures (for CACHE_SECONDS): the
    cost page then reads no metered traffic and runs no advisor on each view."""
    if not shared:
        return []
    key = _cache_key(tenant, month, shared, days_counted)
    kept = cache.get(key)
    if kept is None:
        estimates = silo_estimates(tenant=tenant, month=month, shared=shared, days_counted=days_counted)
        kept = [(e.endpoint.deployment_id, e.today_monthly, e.kind_label, e.silo_monthly, e.basis, e.usage)
                for e in estimates]  # fmt: skip
        cache.set(key, kept, CACHE_SECONDS)
    endpoints = {e.deployment_id: e for e in shared}
    return [SiloEstimate(endpoints[d], today, *rest) for d, today, *rest in kept]
