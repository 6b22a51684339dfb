"""Offboarding on the tenant pages (through tenants.extensions: the plan before confirming, then what is
left and what holds it) and marking a deployment whose delete failed as removed by hand."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from deployments import selectors, services
from deployments.forms import MarkRemovedForm
from deployments.services.teardown import mark_removed_problem
from saasadmin.submissions import submit_once
from tenants.access import get_tenant_or_404, requires
from tenants.models import Tenant, TenantStatus


def offboarding_plan_context(request: HttpRequest, tenant: Tenant) -> dict[str, Any] | None:
    """The offboarding confirmation page's plan: resources deleted, shared endpoints left, cost that stops."""
    if not tenant.can_become(TenantStatus.OFFBOARDING):
        return None
    return {"tenant": tenant, "plan": services.offboarding_plan(tenant=tenant)}


def tenant_offboarding_context(request: HttpRequest, tenant: Tenant) -> dict[str, Any] | None:
    """An offboarding tenant's page: what is still in AWS, and for what holds it back, the fix."""
    if tenant.status != TenantStatus.OFFBOARDING:
        return None
    remaining = services.offboarding_remaining(tenant=tenant)
    return {"tenant": tenant, "remaining": remaining, "blocked": [r for r in remaining if r.blocked]}


def _back_to(request: HttpRequest) -> Tenant | None:
    """The tenant page named by `?tenant=` (404 when it is not a tenant the user may see)."""
    if not request.GET.get("tenant"):
        return None
    try:
        tenant_id = uuid.UUID(request.GET["tenant"])
    except ValueError:
        raise Http404("No such tenant") from None
    return get_tenant_or_404(request.user, tenant_id)


@requires("deployments.manage")
@submit_once
def deployment_mark_removed(request: HttpRequest, deployment_id: int) -> HttpResponse:
    """GET: the resources an operator confirms were removed by hand; POST: record it, with the reason.

    `?tenant=<id>` (the offboarding tenant's page sends it) is where to go back to afterwards.
    """
    deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
    back = _back_to(request)
    problem = mark_removed_problem(deployment)
    form = MarkRemovedForm(request.POST or None)
    if request.method == "POST" and problem is None and form.is_valid():
        try:
            services.deployment_mark_removed(
                actor=request.user, deployment=deployment, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{deployment.name}: marked removed by hand; the audit log has why.")
            if back is not None:
                return redirect("tenant_detail", tenant_id=back.pk)
            return redirect("deployment_detail", deployment_id=deployment.pk)
    context = {
        "deployment": deployment,
        "form": form,
        "problem": problem,
        "plan": services.deletion_plan(deployment=deployment),
        "back": back,
    }
    return render(request, "deployments/mark_removed.html", context)
