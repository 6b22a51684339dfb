"""The demo's finance settings: dated exchange rates for the demo's euro and pound tenants, tier budgets
that some demo tenants run close to, and Acme's cost shown to its admins; idempotent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from insights.finance.budgets import budgets_check
from insights.finance.services import budget_set, cost_sharing_set
from insights.models_finance import Budget, ExchangeRate
from tenants.models import Tenant

# (currency, valid from, US dollars per unit, source): two dates each, so a margin's rate has a history.
RATES = [
    ("EUR", date(2025, 1, 1), Decimal("1.0389"), "ECB reference rate, 2 Jan 2025"),
    ("EUR", date(2026, 1, 1), Decimal("1.1720"), "ECB reference rate, 2 Jan 2026"),
    ("GBP", date(2025, 1, 1), Decimal("1.2529"), "Bank of England, 2 Jan 2025"),
    ("GBP", date(2026, 1, 1), Decimal("1.3470"), "Bank of England, 2 Jan 2026"),
]
TIER_BUDGETS = {"standard": Decimal("60.00"), "premium": Decimal("120.00")}
SHARED_WITH = "acme"


def demo_finance_seed() -> dict[str, int]:
    """Rates, budgets (unless someone set them already) and Acme's cost sharing; then the budget check."""
    added = 0
    for currency, valid_from, usd, source in RATES:
        _, created = ExchangeRate.objects.get_or_create(
            currency=currency, valid_from=valid_from, defaults={"usd": usd, "source": source}
        )
        added += created
    for tier, monthly in TIER_BUDGETS.items():
        if not Budget.objects.filter(tenant=None, tier=tier).exists():
            budget_set(actor=None, tier=tier, monthly=monthly)
    tenant = Tenant.objects.filter(slug=SHARED_WITH).first()
    if tenant is not None and not hasattr(tenant, "cost_sharing"):
        cost_sharing_set(actor=None, tenant=tenant, visible=True)
    return {"rates": added, "notices": len(budgets_check())}
