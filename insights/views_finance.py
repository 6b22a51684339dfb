"""Finance's settings pages: tier budgets, a tenant's budget, exchange rates, budget notices, and sharing a
tenant's cost with its admins. Each write form acts once (`submit_once`) and is audited by its service."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from insights.finance import services
from insights.finance.budgets import budgets_load
from insights.finance.months import current_month, today_utc
from insights.finance.rates import rates_on
from insights.forms_finance import CostSharingForm, ExchangeRateForm, TenantBudgetForm, TierBudgetsForm
from insights.models_finance import Budget, BudgetNotice, ExchangeRate
from saasadmin.submissions import submit_once
from tenants.access import get_tenant_or_404, requires
from tenants.formatting import money_text
from tenants.models import Tier


@requires("costs.manage")
@submit_once
def cost_budgets(request: HttpRequest) -> HttpResponse:
    """Tier budgets (a form), and the tenants with budgets of their own (a list)."""
    budgets = budgets_load()
    form = TierBudgetsForm(request.POST or None, initial_budgets=budgets.by_tier)
    if request.method == "POST" and form.is_valid():
        for tier in Tier.values:
            services.budget_set(actor=request.user, tier=tier, monthly=form.cleaned_data[tier])
        messages.success(request, "Tier budgets saved. Notices follow the next budget check (hourly).")
        return redirect("cost_budgets")
    context = {
        "form": form,
        "tenant_budgets": Budget.objects.filter(tenant__isnull=False).select_related("tenant")[:500],
        "this_month": current_month(),
    }
    return render(request, "insights/budgets.html", context)


@requires("costs.manage")
@require_POST
@submit_once
def cost_tenant_budget(request: HttpRequest, tenant_id: str) -> HttpResponseBase:
    tenant = get_tenant_or_404(request.user, tenant_id)
    form = TenantBudgetForm(request.POST)
    back = reverse("cost_tenant", args=[tenant.pk])
    if not form.is_valid():
        why = " ".join(str(error) for error in form.errors.get("monthly", []))
        messages.error(request, f"The budget was not saved: {why}")
        return redirect(back)
    monthly = form.cleaned_data["monthly"]
    services.budget_set(actor=request.user, tenant=tenant, monthly=monthly)
    if monthly is None:
        messages.success(request, f"{tenant.name} has no budget of its own now (its tier's applies, if any).")
    else:
        messages.success(request, f"{tenant.name}'s budget is {money_text(monthly)} a month.")
    return redirect(back)


@requires("costs.share")
@require_POST
@submit_once
def cost_sharing(request: HttpRequest, tenant_id: str) -> HttpResponseBase:
    tenant = get_tenant_or_404(request.user, tenant_id)
    form = CostSharingForm(request.POST)
    visible = form.is_valid() and form.cleaned_data["visible"]
    services.cost_sharing_set(actor=request.user, tenant=tenant, visible=visible)
    if visible:
        messages.success(request, f"{tenant.name}'s admins now see their own cost (never your margin).")
    else:
        messages.success(request, f"{tenant.name}'s admins no longer see its cost.")
    return redirect("cost_tenant", tenant_id=tenant.pk)


@requires("costs.manage")
@submit_once
def cost_rates(request: HttpRequest) -> HttpResponse:
    form = ExchangeRateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rate = services.exchange_rate_add(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Added: {rate}.")
            return redirect("cost_rates")
    context = {
        "form": form,
        "rates": ExchangeRate.objects.select_related("created_by")[:500],
        "in_force": [r for r in rates_on(today_utc()).values() if r is not None and r.valid_from],
        "missing": [c for c, r in rates_on(today_utc()).items() if r is None],
    }
    return render(request, "insights/rates.html", context)


@requires("costs.view")
def cost_notices(request: HttpRequest) -> HttpResponse:
    notices = BudgetNotice.objects.select_related("tenant")[:200]
    return render(request, "insights/notices.html", {"notices": notices})
