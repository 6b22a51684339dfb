"""Finance's writes: budgets, exchange rates, and sharing a tenant's cost with its admins (all audited)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from insights.models_finance import COST_CURRENCY, Budget, CostSharing, ExchangeRate
from tenants.audit import audit_record, snapshot
from tenants.models import Tenant, Tier

CENT = Decimal("0.01")


def _who(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


@transaction.atomic
def budget_set(
    *, actor: Any, tenant: Tenant | None = None, tier: str = "", monthly: Decimal | None
) -> Budget | None:
    """Set (or with `monthly=None`, remove) one tenant's or one tier's monthly budget.

    Budgets are the vendor's own figures: the audit event is vendor-wide (no tenant), so a tenant's
    admins never read it in their tenant's log.
    """
    if (tenant is None) == (not tier) or (tier and tier not in Tier.values):
        raise ValueError("A budget is for one tenant or one tier.")
    lookup: dict[str, Any] = {"tenant": tenant} if tenant is not None else {"tenant": None, "tier": tier}
    existing = Budget.objects.select_for_update().filter(**lookup).order_by("pk").first()
    before = snapshot(existing, ["monthly"]) if existing else {}
    if monthly is None:
        if existing is not None:
            audit_record(actor=actor, action="budget.remove", obj=existing, tenant=None, before=before)
            existing.delete()
        return None
    budget = existing or Budget(**lookup)
    budget.monthly = monthly.quantize(CENT, rounding=ROUND_HALF_UP)
    budget.updated_by = _who(actor)
    budget.full_clean()
    budget.save()
    after = snapshot(budget, ["monthly"])
    if before != after:
        audit_record(actor=actor, action="budget.set", obj=budget, tenant=None, before=before, after=after)
    return budget


def exchange_rate_add(
    *, actor: Any, currency: str, valid_from: date, usd: Decimal, source: str = ""
) -> ExchangeRate:
    """Add a dated rate; one already given for that currency and day is refused (rates are history)."""
    if currency == COST_CURRENCY:
        raise ValidationError({"currency": "Costs are in US dollars already: no rate is needed for them."})
    rate = ExchangeRate(
        currency=currency, valid_from=valid_from, usd=usd, source=source, created_by=_who(actor)
    )
    rate.full_clean(validate_unique=False, validate_constraints=False)  # the insert below decides
    try:
        with transaction.atomic():
            rate.save()
            after = snapshot(rate, ["currency", "valid_from", "usd", "source"])
            audit_record(actor=actor, action="exchange_rate.add", obj=rate, tenant=None, after=after)
    except IntegrityError:
        raise ValidationError(
            {
                "valid_from": f"There is a {currency} rate from {valid_from:%-d %b %Y} already: rates "
                "are kept as history, so add one from another day."
            }
        ) from None
    return rate


@transaction.atomic
def cost_sharing_set(*, actor: Any, tenant: Tenant, visible: bool) -> CostSharing:
    """Show (or stop showing) the tenant's own cost to its admins; in the tenant's audit log."""
    sharing, _ = CostSharing.objects.select_for_update().get_or_create(tenant=tenant)
    if sharing.visible == visible:
        return sharing
    before = snapshot(sharing, ["visible"])
    sharing.visible = visible
    sharing.updated_by = _who(actor)
    sharing.save()
    audit_record(
        actor=actor,
        action="cost_sharing.set",
        obj=sharing,
        tenant=tenant,
        before=before,
        after=snapshot(sharing, ["visible"]),
    )
    return sharing


def cost_shared_with_tenant(tenant: Tenant) -> bool:
    return CostSharing.objects.filter(tenant=tenant, visible=True).exists()
