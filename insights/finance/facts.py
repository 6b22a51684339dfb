"""What the vendor's tenant cost page reads beside the cost lines — the tenant itself, its monthly budget
(its own, else its tier's), its currency's exchange rate on a day, and whether its admins see their cost —
in the one query that finds the tenant (scoped to the user), instead of four.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Subquery
from django.http import Http404

from insights.finance.rates import Rate
from insights.models_finance import COST_CURRENCY, Budget, CostSharing, ExchangeRate
from tenants.access import tenants_for
from tenants.models import Tenant


@dataclass(frozen=True)
class TenantFacts:
    tenant: Tenant
    budget: Decimal | None
    budget_own: bool
    rate: Rate | None
    shared_with_tenant: bool


def tenant_facts_or_404(user: Any, tenant_id: UUID | str, *, rate_day: date) -> TenantFacts:
    """The tenant (404 when `user` may not see it, as `get_tenant_or_404`) with its budget, its rate in
    force on `rate_day` (None when its currency has none yet) and its sharing switch, in one query."""
    rates = ExchangeRate.objects.filter(currency=OuterRef("currency"), valid_from__lte=rate_day).order_by(
        "-valid_from"
    )
    budgets = Budget.objects.order_by()
    found = tenants_for(user).annotate(
        # One row each at most (a unique tenant, a unique tier): no ordering, hence no join to order by.
        own_budget=Subquery(budgets.filter(tenant=OuterRef("pk")).values("monthly")[:1]),
        tier_budget=Subquery(budgets.filter(tenant=None, tier=OuterRef("tier")).values("monthly")[:1]),
        rate_usd=Subquery(rates.values("usd")[:1]),
        rate_from=Subquery(rates.values("valid_from")[:1]),
        shared=Exists(CostSharing.objects.filter(tenant=OuterRef("pk"), visible=True)),
    )
    try:
        tenant = found.get(pk=tenant_id)
    except (Tenant.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such tenant") from None
    facts: Any = tenant  # the annotations ride on the instance
    if tenant.currency == COST_CURRENCY:
        rate: Rate | None = Rate(COST_CURRENCY, Decimal(1), None)
    elif facts.rate_usd is None:
        rate = None
    else:
        rate = Rate(tenant.currency, facts.rate_usd, facts.rate_from)
    own = facts.own_budget is not None
    return TenantFacts(
        tenant=tenant,
        budget=facts.own_budget if own else facts.tier_budget,
        budget_own=own,
        rate=rate,
        shared_with_tenant=bool(facts.shared),
    )
