"""The usage page: a tenant's API predictions per day or hour, as a chart and the numbers behind it."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from deployments.models import Kind
from insights.charts import usage_figure
from insights.selectors import BUCKETS, UsageRow, usage_period, usage_rows, usage_totals
from tenants.access import get_tenant_or_404, requires, role_of
from tenants.models import Tenant
from tenants.roles import TENANT_ROLES

BUCKET_CHOICES = [("day", "Per day · last 30 days"), ("hour", "Per hour · last 48 hours")]


@requires("tenants.view")
def tenant_usage(request: HttpRequest, tenant_id: str) -> HttpResponse:
    tenant = get_tenant_or_404(request.user, tenant_id)
    bucket = request.GET.get("by", "day")
    bucket = bucket if bucket in BUCKETS else "day"
    start, end = usage_period(bucket)
    rows = usage_rows(tenant=tenant, bucket=bucket, start=start, end=end)
    label = _labeller(request)
    figure = usage_figure(rows, bucket=bucket, label=label)
    context = {
        "tenant": tenant,
        "bucket": bucket,
        "bucket_choices": BUCKET_CHOICES,
        "start": start,
        "end": end,
        "rows": [(label(row), row) for row in reversed(rows)],
        "totals": [(label(row), row) for row in usage_totals(rows)],
        "summary": _summary(rows),
        # Plotly's own encoder turns the figure into plain JSON; json_script embeds it as data, not script.
        "figure": json.loads(figure.to_json()) if rows else None,
    }
    return render(request, "insights/usage.html", context)


def _labeller(request: HttpRequest) -> Any:
    """Vendor staff see deployment names; a tenant's members see how their model is served, not AWS names."""
    if role_of(request.user) not in TENANT_ROLES:
        return lambda row: row.deployment_name
    kinds = dict(Kind.choices)
    return lambda row: (
        f"{kinds.get(row.deployment_kind, row.deployment_kind)} ({'shared' if row.shared else 'dedicated'})"
    )


def _summary(rows: list[UsageRow]) -> dict[str, float]:
    invocations = sum(r.invocations for r in rows)
    requests = sum(r.requests for r in rows)
    errors = sum(r.errors for r in rows)
    return {
        "invocations": invocations,
        "requests": requests,
        "errors": errors,
        "error_rate": errors / requests if requests else 0.0,
        "bytes": sum(r.bytes_in + r.bytes_out for r in rows),
        "latency_ms_mean": sum(r.latency_ms_sum for r in rows) / invocations if invocations else 0.0,
        "latency_ms_max": max((r.latency_ms_max for r in rows), default=0.0),
    }


def tenant_usage_section(request: HttpRequest, tenant: Tenant) -> dict[str, Any] | None:
    """The tenant page's usage block: the last 30 days in three figures and a link to the page."""
    start, end = usage_period("day")
    return {
        "tenant": tenant,
        "summary": _summary(usage_rows(tenant=tenant, bucket="day", start=start, end=end)),
    }
