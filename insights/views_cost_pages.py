"""The finance cost pages: the month overview and a tenant's cost page (finance and operators), the
tenant's own cost page (its admins, once an operator shares it), and the FOCUS CSV exports. Thin.

A month is `?month=YYYY-MM`: one that is not a month answers 400 with why, one that has not started 404.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse

from insights.charts import cost_daily_figure, cost_kinds_figure, cost_months_figure
from insights.costs.runs import lines_version
from insights.finance.aws_compare import month_comparison
from insights.finance.budgets import notices_for
from insights.finance.export import focus_lines, month_lines
from insights.finance.facts import TenantFacts, tenant_facts_or_404
from insights.finance.focus import focus_csv_response
from insights.finance.months import BadMonth, FutureMonth, Month, month_parse, today_utc
from insights.finance.overview import days_counted, overview, sort_rows
from insights.finance.rates import to_usd
from insights.finance.services import cost_shared_with_tenant
from insights.finance.silo import silo_estimates_once
from insights.finance.tenant import TenantCost, history, shared_days, tenant_cost_once
from insights.forms_finance import CostSharingForm, OverviewFilters, TenantBudgetForm
from insights.models_costs import COST_KIND_LABELS
from tenants.access import get_tenant_or_404, requires, user_can
from tenants.models import Tenant

PAGE_SIZE = 25


V = TypeVar("V", bound=Callable[..., HttpResponseBase])


class MonthRefused(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _month(request: HttpRequest) -> Month:
    """The page's month, or a 400/404 page saying why there is none."""
    try:
        return month_parse(request.GET.get("month"))
    except BadMonth as exc:
        raise MonthRefused(_refusal(request, str(exc), 400)) from None
    except FutureMonth as exc:
        raise MonthRefused(_refusal(request, str(exc), 404)) from None


def month_refusals(view: V) -> V:
    """Decorate a view that reads `?month=`: a month refused by `_month` answers its 400/404 page."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except MonthRefused as refused:
            return refused.response

    return wrapped  # type: ignore[return-value]


def _refusal(request: HttpRequest, message: str, status: int) -> HttpResponse:
    context = {"message": message, "status": status, "this_month": today_utc().strftime("%Y-%m")}
    return render(request, "insights/costs_refused.html", context, status=status)


def _month_nav(month: Month) -> dict[str, Any]:
    today = today_utc()
    following = month.next()
    return {
        "month": month,
        "previous_month": month.previous(),
        "next_month": following if following.start <= today else None,
        "running": month.is_running(today),
    }


@requires("costs.view")
@month_refusals
def cost_overview(request: HttpRequest) -> HttpResponseBase:
    month = _month(request)
    filters = OverviewFilters(request.GET)
    clean = filters.cleaned_data if filters.is_valid() else {}
    threshold = clean.get("below")
    threshold = Decimal(settings.FINANCE_MARGIN_THRESHOLD_PERCENT) if threshold is None else threshold
    params = {"month": month.key, "q": clean.get("q") or "", "sort": clean.get("sort") or "-cost"}
    params["below"] = f"{threshold.normalize():f}"
    data = overview(month=month, today=today_utc(), search=params["q"])
    rows = sort_rows(data.rows, params["sort"])
    for row in rows:  # a margin below the threshold, or below zero (a free plan that costs something)
        below = row.margin_pct is not None and row.margin_pct < threshold
        row.low = below or (row.margin is not None and row.margin < 0)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        **_month_nav(month),
        "data": data,
        "page": page,
        "params": params,
        "threshold": threshold,
        "below_count": sum(1 for r in rows if r.low),
        "notices": notices_for(month),
        "kinds_figure": cost_kinds_figure(
            data.by_kind,
            idle=data.idle,
            idle_previous=data.idle_previous,
            month=month.label,
            previous=month.previous().label,
        ),
        "can_manage": user_can(request.user, "costs.manage"),
    }
    template = "insights/_cost_table.html" if getattr(request, "htmx", False) else "insights/costs.html"
    return render(request, template, context)


def _tenant_context(
    request: HttpRequest, tenant: Tenant, month: Month, *, facts: TenantFacts | None = None
) -> dict[str, Any]:
    """The tenant cost page's context; vendor staff's (with `facts`) adds margin, budget and Silo."""
    vendor = facts is not None
    version = facts.lines_version if facts is not None else lines_version()
    cost = tenant_cost_once(tenant=tenant, month=month, version=version)
    nav = _month_nav(month)
    counted = days_counted(month, cost.last_day) if nav["running"] else month.days
    projected = (cost.total / counted * month.days).quantize(Decimal("0.01")) if counted else cost.total
    labels = {**COST_KIND_LABELS, "idle": "Idle"}
    days = [month.start + timedelta(days=n) for n in range(month.days)]
    context = {
        **nav,
        "tenant": tenant,
        "cost": cost,
        "vendor": vendor,
        "days_counted": counted,
        "projected": projected,
        "daily_figure": cost_daily_figure(cost.daily, days=days, labels=labels) if cost.daily else None,
        "months_figure": cost_months_figure(
            [(m.start, amount) for m, amount in cost.history], selected=month.start
        ),
        "change": _change(cost, projected),
    }
    if facts is not None:
        context.update(_vendor_context(request, facts, month, cost, counted, projected))
    context["body_key"] = _body_key(context, version)
    return context


def _body_key(context: dict[str, Any], version: str) -> str:
    """What the page's body (all of it but the forms) is made from, as a digest: the template renders the
    body once per digest (`{% cache %}`). The month's figures come from the lines `version`; the rest
    of what the body shows is the tenant's own fields, today (a running month's projection), what only
    vendor staff see and may do, and the Silo estimates."""
    tenant, month, rate = context["tenant"], context["month"], context.get("rate")
    silo = [(e.endpoint.deployment_id, e.today_monthly, e.kind_label, e.silo_monthly, e.basis, e.usage)
            for e in context.get("silo") or []]  # fmt: skip
    made_of = (
        version, month.key, today_utc(), context["vendor"], settings.FINANCE_MARGIN_THRESHOLD_PERCENT,
        tenant.pk, tenant.name, tenant.plan_price, tenant.currency, tenant.tier,
        rate and (rate.currency, rate.usd, rate.valid_from), context.get("budget"), context.get("budget_own"),
        context.get("can_set_split"), silo,
    )  # fmt: skip
    return hashlib.sha256(repr(made_of).encode()).hexdigest()


def _change(cost: TenantCost, projected: Decimal) -> Decimal | None:
    """Month over month in percent; a running month by its projection."""
    if not cost.previous:
        return None
    return ((projected - cost.previous) / cost.previous * 100).quantize(Decimal("0.1"))


def _rate_day(month: Month) -> Any:
    """The day whose exchange rate converts the month's plan price: its last, or today in a running one."""
    return min(month.last_day, today_utc())


def _vendor_context(
    request: HttpRequest, facts: TenantFacts, month: Month, cost: TenantCost, counted: int, projected: Decimal
) -> dict[str, Any]:
    """What only vendor staff read: plan price in dollars and margin, budget, sharing, Silo estimates."""
    tenant, rate, budget, own = facts.tenant, facts.rate, facts.budget, facts.budget_own
    price_usd = to_usd(tenant.plan_price, rate)
    return {
        "rate": rate,
        "price_usd": price_usd,
        "margin": None if price_usd is None else price_usd - projected,
        "margin_pct": (
            None if not price_usd else ((price_usd - projected) / price_usd * 100).quantize(Decimal("0.1"))
        ),
        "threshold": Decimal(settings.FINANCE_MARGIN_THRESHOLD_PERCENT),
        "budget": budget,
        "budget_pct": (projected / budget * 100).quantize(Decimal("0.1")) if budget else None,
        "silo": silo_estimates_once(tenant=tenant, month=month, shared=cost.shared, days_counted=counted),
        "shared_with_tenant": facts.shared_with_tenant,
        "can_manage": user_can(request.user, "costs.manage"),
        "can_share": user_can(request.user, "costs.share"),
        "can_set_split": user_can(request.user, "deployments.manage"),
        "budget_own": own,
        "budget_form": TenantBudgetForm(initial={"monthly": budget if own else None}),
        "sharing_form": CostSharingForm(initial={"visible": facts.shared_with_tenant}),
    }


@requires("costs.view")
@month_refusals
def cost_tenant(request: HttpRequest, tenant_id: str) -> HttpResponseBase:
    try:
        month = _month(request)
    except MonthRefused:
        get_tenant_or_404(request.user, tenant_id)  # another tenant's page is a 404 whatever the month
        raise
    facts = tenant_facts_or_404(request.user, tenant_id, rate_day=_rate_day(month))
    context = _tenant_context(request, facts.tenant, month, facts=facts)
    return render(request, "insights/cost_tenant.html", context)


def _own_tenant(request: HttpRequest, tenant_id: str) -> Tenant:
    """The signed-in admin's tenant, when an operator shares its cost with it; else 404."""
    tenant = get_tenant_or_404(request.user, tenant_id)
    if not cost_shared_with_tenant(tenant):
        raise Http404("This tenant's cost is not shared with its admins.")
    return tenant


@requires("costs.view_own")
@month_refusals
def tenant_costs(request: HttpRequest, tenant_id: str) -> HttpResponseBase:
    tenant = _own_tenant(request, tenant_id)
    month = _month(request)
    return render(request, "insights/cost_tenant.html", _tenant_context(request, tenant, month))


def _shared_days(
    request: HttpRequest, tenant: Tenant, deployment_id: int, *, vendor: bool
) -> HttpResponseBase:
    """One shared endpoint's day-by-day numbers for the tenant: a fragment the cost page loads when its
    "Day by day" opens (a page of its own without JavaScript)."""
    month = _month(request)
    context = {
        "tenant": tenant,
        "month": month,
        "vendor": vendor,
        "endpoint": shared_days(tenant=tenant, month=month, deployment_id=deployment_id),
        "base_template": "_fragment.html" if getattr(request, "htmx", False) else "base.html",
    }
    return render(request, "insights/cost_shared_days.html", context)


@requires("costs.view")
@month_refusals
def cost_tenant_shared(request: HttpRequest, tenant_id: str, deployment_id: int) -> HttpResponseBase:
    tenant = get_tenant_or_404(request.user, tenant_id)
    return _shared_days(request, tenant, deployment_id, vendor=True)


@requires("costs.view_own")
@month_refusals
def tenant_costs_shared(request: HttpRequest, tenant_id: str, deployment_id: int) -> HttpResponseBase:
    tenant = _own_tenant(request, tenant_id)
    return _shared_days(request, tenant, deployment_id, vendor=False)


@requires("costs.view")
@month_refusals
def cost_compare(request: HttpRequest) -> HttpResponseBase:
    """The month's ledger against Cost Explorer, per tenant tag and per day."""
    month = _month(request)
    context = {
        **_month_nav(month),
        "params": {"month": month.key},
        "data": month_comparison(month, today_utc()),
    }
    return render(request, "insights/cost_compare.html", context)


@requires("costs.view")
@month_refusals
def cost_export(request: HttpRequest) -> HttpResponseBase:
    """Every allocation line of the month, idle overhead included."""
    month = _month(request)
    lines = focus_lines(month_lines(month), tenant_view=False)
    return focus_csv_response(lines, f"saasadmin-costs-{month.key}.csv")


@requires("costs.view")
@month_refusals
def cost_tenant_export(request: HttpRequest, tenant_id: str) -> HttpResponseBase:
    tenant = get_tenant_or_404(request.user, tenant_id)
    month = _month(request)
    lines = focus_lines(month_lines(month, tenant), tenant_view=False)
    return focus_csv_response(lines, f"saasadmin-costs-{tenant.slug}-{month.key}.csv")


@requires("costs.view_own")
@month_refusals
def tenant_costs_export(request: HttpRequest, tenant_id: str) -> HttpResponseBase:
    tenant = _own_tenant(request, tenant_id)
    month = _month(request)
    lines = focus_lines(month_lines(month, tenant), tenant_view=True)
    return focus_csv_response(lines, f"costs-{tenant.slug}-{month.key}.csv")


def _cost_section(tenant: Tenant, url: str) -> dict[str, Any]:
    month = month_parse(None)
    (previous, before), (_, total) = history(tenant=tenant, month=month, months=2)
    return {
        "tenant": tenant,
        "month": month,
        "total": total,
        "previous": before,
        "previous_month": previous,
        "url": url,
    }


def tenant_cost_section(request: HttpRequest, tenant: Tenant) -> dict[str, Any] | None:
    """The tenant page's cost block for vendor staff: the running month so far and a link."""
    return _cost_section(tenant, reverse("cost_tenant", args=[tenant.pk]))


def tenant_own_cost_section(request: HttpRequest, tenant: Tenant) -> dict[str, Any] | None:
    """The same block for the tenant's admins, only when an operator shares the cost with them."""
    if not cost_shared_with_tenant(tenant):
        return None
    return _cost_section(tenant, reverse("tenant_costs", args=[tenant.pk]))
