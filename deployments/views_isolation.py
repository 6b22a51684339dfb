"""The "prove isolation" check on a tenant's page: the latest evidence for operators, and the button."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from deployments.services.isolation import isolation_check_latest, isolation_check_run
from saasadmin.submissions import submit_once
from tenants.access import get_tenant_or_404, requires
from tenants.models import Tenant


def tenant_isolation_context(request: HttpRequest, tenant: Tenant) -> dict[str, Any] | None:
    """The latest check's evidence: when, by whom, and each attempt with its verdict."""
    event = isolation_check_latest(tenant)
    return {"tenant": tenant, "event": event, "can_run": not tenant.is_leaving}


@requires("isolation.check")
@require_POST
@submit_once
def tenant_isolation_check(request: HttpRequest, tenant_id: str) -> HttpResponse:
    tenant = get_tenant_or_404(request.user, tenant_id)
    try:
        event = isolation_check_run(
            actor=request.user, tenant=tenant, host=request.get_host(), secure=request.is_secure()
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        outcome = event.after["outcome"]
        if event.after["passed"]:
            messages.success(request, f"Isolation check on {tenant.name}: {outcome}.")
        else:
            messages.error(request, f"Isolation check on {tenant.name}: {outcome}. See the evidence below.")
    return redirect(reverse("tenant_detail", args=[tenant.pk]) + "#isolation")
