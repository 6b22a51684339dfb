"""Placeholder while the dashboard is built."""

from __future__ import annotations

from django.urls import reverse

from tenants.models import Tenant


def landing_url(tenant: Tenant) -> str:
    return reverse("tenant_detail", kwargs={"tenant_id": tenant.pk})
