"""The operators' page of the API's per-tier rate limits."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from saasadmin.submissions import submit_once
from tenants.access import requires
from tenants.forms import RateLimitsForm
from tenants.models import Tenant, TierRateLimit
from tenants.rate_limits import CONFIG_TTL_SECONDS, TIER_DEFAULTS, RateLimit, rate_limits_set, tier_limits


@requires("tenants.manage")
@submit_once
def rate_limits(request: HttpRequest) -> HttpResponse:
    current = tier_limits(fresh=True)
    form = RateLimitsForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        limits = {tier: RateLimit(rate, burst) for tier, (rate, burst) in form.limits().items()}
        changed = rate_limits_set(actor=request.user, limits=limits)
        messages.success(
            request,
            f"Saved: {changed} tier{'s' if changed != 1 else ''} changed." if changed else "No change.",
        )
        return redirect("rate_limits")
    tenants = dict(Tenant.objects.values_list("tier").annotate(n=Count("pk")))
    set_by = {row.tier: row for row in TierRateLimit.objects.select_related("updated_by")}
    rows = [
        {**tier, "tenants": tenants.get(tier["tier"], 0), "default": TIER_DEFAULTS[tier["tier"]],
         "set": set_by.get(tier["tier"])}
        for tier in form.tiers()
    ]  # fmt: skip
    return render(
        request, "tenants/rate_limits.html", {"form": form, "rows": rows, "ttl": int(CONFIG_TTL_SECONDS)}
    )
