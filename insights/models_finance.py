"""Finance's own figures beside the cost ledger: exchange rates, budgets, budget notices, and whether a
tenant's admins may read their own cost.

Costs are in US dollars (what AWS bills); plan prices are in each tenant's currency and are converted at
the rate in force on the month's last day (`insights.finance.rates`), which the pages show with its date.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from tenants.models import Currency, Tenant, Tier

COST_CURRENCY = "USD"


class ExchangeRate(models.Model):
    """From `valid_from` on (until a later row), one unit of `currency` is worth `usd` US dollars."""

    currency = models.CharField(max_length=3, choices=Currency.choices)
    valid_from = models.DateField()
    usd = models.DecimalField(
        "US dollars per unit",
        max_digits=14,
        decimal_places=6,
        validators=[MinValueValidator(Decimal("0.000001")), MaxValueValidator(Decimal("100000"))],
    )
    source = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["currency", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "valid_from"], name="exchange_rate_one_per_day")
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.usd} USD from {self.valid_from:%-d %b %Y}"


class Budget(models.Model):
    """A monthly cost budget in US dollars, for one tenant or for every tenant of a tier (a tenant's own
    budget wins over its tier's)."""

    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, null=True, blank=True, related_name="cost_budget"
    )
    tier = models.CharField(max_length=12, choices=Tier.choices, blank=True)
    monthly = models.DecimalField(
        "monthly budget (USD)",
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1000000000"))],
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["tier", "tenant__name"]
        constraints = [
            models.CheckConstraint(
                name="budget_for_tenant_or_tier",
                condition=(
                    models.Q(tenant__isnull=False, tier="")
                    | models.Q(tenant__isnull=True) & ~models.Q(tier="")
                ),
            ),
            models.UniqueConstraint(
                fields=["tier"], condition=models.Q(tenant__isnull=True), name="budget_one_per_tier"
            ),
        ]

    def __str__(self) -> str:
        if self.tenant_id:
            return f"budget of {self.tenant}"
        return f"{self.get_tier_display()} tier budget"


class BudgetNotice(models.Model):
    """A tenant's running month projected past `threshold` % of its budget: raised once per threshold and
    month (the unique constraint), read by finance and operators."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="budget_notices")
    month = models.DateField(help_text="The month's first day.")
    threshold = models.PositiveSmallIntegerField()
    budget = models.DecimalField(max_digits=12, decimal_places=2)
    budget_source = models.CharField(max_length=20)  # "tenant" or the tier's name
    spent = models.DecimalField(max_digits=14, decimal_places=2)
    projected = models.DecimalField(max_digits=14, decimal_places=2)
    days_counted = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # When finance and operators were told through the notices (the bell, email); empty until then, so a
    # check killed between raising the notice and telling them tells them on its next run.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "month", "threshold"], name="budget_notice_once_per_threshold"
            )
        ]
        indexes = [models.Index(fields=["month", "threshold"])]

    def __str__(self) -> str:
        return f"{self.tenant} past {self.threshold}% of its budget in {self.month:%B %Y}"


class CostSharing(models.Model):
    """Whether a tenant's admins may read their own cost (an operator turns it on; never the margin)."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="cost_sharing")
    visible = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"Cost sharing with {self.tenant}"
