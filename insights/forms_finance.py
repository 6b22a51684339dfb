"""Forms of the finance pages: budgets, exchange rates, cost sharing, and the overview's filters."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from insights.finance.overview import SORTS
from insights.models_finance import COST_CURRENCY, ExchangeRate
from tenants.models import Currency, Tier


class BudgetField(forms.DecimalField):
    """US dollars a month, cents at most, 0.01 to a billion (Budget.monthly's bounds); empty: no budget."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "US dollars a month; leave empty for no budget.")
        super().__init__(
            max_digits=12,
            decimal_places=2,
            min_value=Decimal("0.01"),
            max_value=Decimal("1000000000"),
            **kwargs,
        )
        self.widget.attrs.update({"step": "0.01", "inputmode": "decimal", "placeholder": "No budget"})


class TierBudgetsForm(forms.Form):
    """One budget per tier (empty: none); a tenant's own budget wins over its tier's."""

    def __init__(self, *args: Any, initial_budgets: dict[str, Decimal] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for tier, label in Tier.choices:
            self.fields[tier] = BudgetField(label=f"{label} tier", initial=(initial_budgets or {}).get(tier))


class TenantBudgetForm(forms.Form):
    monthly = BudgetField(label="This tenant's monthly budget")


class ExchangeRateForm(forms.ModelForm):
    class Meta:
        model = ExchangeRate
        fields = ["currency", "valid_from", "usd", "source"]
        widgets = {"valid_from": forms.DateInput(attrs={"type": "date"})}
        error_messages = {
            NON_FIELD_ERRORS: {
                "unique_together": "There is a rate for this currency from that day already: rates are kept "
                "as history, so add one from another day."
            }
        }
        help_texts = {
            "usd": "What one unit of the currency is worth in US dollars, e.g. 1.08 for the euro.",
            "valid_from": "Plan prices of every month whose last day is on or after this date use it, "
            "until a later rate.",
            "source": "Where the rate comes from, e.g. “ECB reference rate”.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        currency = self.fields["currency"]
        assert isinstance(currency, forms.ChoiceField)
        currency.choices = [c for c in Currency.choices if c[0] != COST_CURRENCY]


class CostSharingForm(forms.Form):
    visible = forms.BooleanField(required=False, label="Show this tenant's admins their own cost")


class OverviewFilters(forms.Form):
    """The overview's query string: every value checked, anything odd falls back to its default."""

    q = forms.CharField(required=False, max_length=100, strip=True)
    sort = forms.ChoiceField(required=False, choices=[(s, s) for k in SORTS for s in (k, f"-{k}")])
    below = forms.DecimalField(
        required=False, min_value=Decimal(-1000), max_value=Decimal(100), decimal_places=1
    )
