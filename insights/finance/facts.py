"""What the vendor's tenant cost page reads beside the cost lines — the tenant itself, its monthly budget
(its own, else its tier's), its currency's exchange rate on a day, and whether its admins see their cost —
in the one query that finds the tenant (scoped to the user), instead of four.
"""

# The annotations are SQL built from table names and bound parameters only, never from input.
# ruff: noqa: S608, S611

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import BooleanField, CharField
from django.db.models.expressions import RawSQL
from django.http import Http404

from insights.costs.runs import lines_version_sql
from insights.finance.rates import Rate
from insights.models_finance import COST_CURRENCY, Budget, CostSharing, ExchangeRate
from saasadmin.prepared import Prepared
from tenants.access import sees_every_tenant, tenants_for
from tenants.models import Tenant


@dataclass(frozen=True)
class TenantFacts:
    tenant: Tenant
    budget: Decimal | None
    budget_own: bool
    rate: Rate | None
    shared_with_tenant: bool
    lines_version: str  # costs.runs.lines_version, read in the same query


def _facts(rate_day: date) -> dict[str, RawSQL]:
    """The annotations, as correlated SQL on the tenant's row: the same six through the ORM's Subquery
    and Exists cost more to build than the query takes to run, on a page read many times a day."""
    quote = connection.ops.quote_name
    tenant = quote(Tenant._meta.db_table)
    budget, rate, sharing = (quote(m._meta.db_table) for m in (Budget, ExchangeRate, CostSharing))
    rate_in_force = (
        f"FROM {rate} r WHERE r.currency = {tenant}.currency AND r.valid_from <= %s "
        "ORDER BY r.valid_from DESC LIMIT 1"
    )
    # One budget row each at most (a unique tenant, a unique tier), one sharing row per tenant.
    return {
        "own_budget": RawSQL(
            f"SELECT b.monthly FROM {budget} b WHERE b.tenant_id = {tenant}.id",
            (),
            output_field=Budget._meta.get_field("monthly"),
        ),
        "tier_budget": RawSQL(
            f"SELECT b.monthly FROM {budget} b WHERE b.tenant_id IS NULL AND b.tier = {tenant}.tier",
            (),
            output_field=Budget._meta.get_field("monthly"),
        ),
        "rate_usd": RawSQL(
            f"SELECT r.usd {rate_in_force}", (rate_day,), output_field=ExchangeRate._meta.get_field("usd")
        ),
        "rate_from": RawSQL(
            f"SELECT r.valid_from {rate_in_force}",
            (rate_day,),
            output_field=ExchangeRate._meta.get_field("valid_from"),
        ),
        "shared": RawSQL(
            f"EXISTS (SELECT 1 FROM {sharing} s WHERE s.tenant_id = {tenant}.id AND s.visible = %s)",
            (True,),
            output_field=BooleanField(),
        ),
        "lines_version": RawSQL(lines_version_sql(), (), output_field=CharField()),
    }


# Vendor staff's read (`tenants_for` is every tenant for them), compiled once per process.
_FACTS = Prepared(
    lambda tenant_id, rate_day: Tenant.objects.all().annotate(**_facts(rate_day)).filter(pk=tenant_id),
    tenant_id=UUID,
    rate_day=date,
)


def tenant_facts_or_404(user: Any, tenant_id: UUID | str, *, rate_day: date) -> TenantFacts:
    """The tenant (404 when `user` may not see it, as `get_tenant_or_404`) with its budget, its rate in
    force on `rate_day` (None when its currency has none yet), its sharing switch and the cost lines'
    version, in one query."""
    try:
        if sees_every_tenant(user):  # vendor staff, whose scope is every tenant: the prepared read
            found = _FACTS(tenant_id=tenant_id, rate_day=rate_day)
        else:
            found = list(tenants_for(user).annotate(**_facts(rate_day)).filter(pk=tenant_id))
    except (ValueError, TypeError, ValidationError):  # not a UUID at all
        raise Http404("No such tenant") from None
    if not found:
        raise Http404("No such tenant")
    tenant = found[0]
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
        lines_version=str(facts.lines_version),
    )
