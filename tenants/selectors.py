"""Reads of tenants with the list page's search, filters and sorting."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from tenants.access import tenants_for
from tenants.models import AuditEvent, Tenant

TENANT_SORTS = {
    "name": "name",
    "-name": "-name",
    "created": "created_at",
    "-created": "-created_at",
    "price": "plan_price",
    "-price": "-plan_price",
    "status": "status",
    "-status": "-status",
}


def tenant_list(
    *, user: Any, search: str = "", status: str = "", isolation: str = "", sort: str = "name"
) -> QuerySet[Tenant]:
    """Tenants visible to `user`, filtered and sorted, with their user counts in the same query."""
    qs = tenants_for(user).annotate(user_count=Count("memberships", distinct=True))
    if search:
        qs = qs.filter(
            Q(name__icontains=search) | Q(slug__icontains=search) | Q(contact_email__icontains=search)
        )
    if status:
        qs = qs.filter(status=status)
    if isolation:
        qs = qs.filter(isolation=isolation)
    return qs.order_by(TENANT_SORTS.get(sort, "name"), "pk")


def tenant_status_counts(*, user: Any) -> dict[str, int]:
    rows = tenants_for(user).values_list("status").annotate(n=Count("pk")).order_by()
    return dict(rows)


def audit_for_tenant(*, tenant: Tenant, limit: int = 50) -> QuerySet[AuditEvent]:
    return tenant.audit_events.select_related("actor", "tenant")[:limit]
