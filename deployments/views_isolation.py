"""The "prove isolation" check on a tenant's page: the button, the progress of a running check (htmx
polls it), and the latest evidence."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from deployments.queueing import enqueues_watched
from deployments.services.isolation import isolation_check_latest
from deployments.services.isolation_runs import (
    isolation_check_abandon,
    isolation_check_latest_run,
    isolation_check_request,
)
from saasadmin.submissions import submit_once
from tenants.access import get_tenant_or_404, requires
from tenants.models import Tenant


def tenant_isolation_context(request: HttpRequest, tenant: Tenant) -> dict[str, Any] | None:
    """The latest check's evidence (when, by whom, each attempt and its verdict), and the run under way."""
    run = isolation_check_latest_run(tenant)
    return {
        "tenant": tenant,
        "event": isolation_check_latest(tenant),
        "run": run,
        "running": run is not None and run.active,
        "can_run": not tenant.is_leaving,
    }


@requires("isolation.check")
@require_POST
@submit_once
def tenant_isolation_check(request: HttpRequest, tenant_id: str) -> HttpResponse:
    tenant = get_tenant_or_404(request.user, tenant_id)
    try:
        with enqueues_watched() as enqueues:
            check = isolation_check_request(
                actor=request.user, tenant=tenant, host=request.get_host(), secure=request.is_secure()
            )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if enqueues.lost:
            isolation_check_abandon(check, "the job queue did not answer")
            messages.error(
                request,
                f"The isolation check of {tenant.name} could not start: the job queue did not answer. "
                "Try again in a moment.",
            )
        else:
            messages.info(
                request, f"The isolation check of {tenant.name} is running: its progress shows below."
            )
    return redirect(reverse("tenant_detail", args=[tenant.pk]) + "#isolation")


@requires("isolation.check")
def tenant_isolation_progress(request: HttpRequest, tenant_id: str) -> HttpResponse:
    """The isolation section alone, which htmx polls while a check runs."""
    tenant = get_tenant_or_404(request.user, tenant_id)
    section = tenant_isolation_context(request, tenant)
    return render(request, "deployments/_tenant_isolation.html", {"section": section})
