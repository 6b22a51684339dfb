"""Plan prices in US dollars: each tenant's plan price converted at the exchange rate in force on a day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case, DecimalField, F, Value, When
from django.db.models.expressions import Combinable

from insights.models_finance import COST_CURRENCY, ExchangeRate
from tenants.models import Currency

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Rate:
    """One unit of `currency` in US dollars, from `valid_from` (None: the cost currency itself, 1:1)."""

    currency: str
    usd: Decimal
    valid_from: date | None

    @property
    def text(self) -> str:
        if self.valid_from is None:
            return f"{self.currency} (no conversion)"
        return f"1 {self.currency} = {self.usd.normalize():f} USD (rate of {self.valid_from:%-d %b %Y})"


def rates_on(day: date) -> dict[str, Rate | None]:
    """Each currency's rate in force on `day` (the latest from that day or before), in one query;
    None for a currency with no rate yet (its plan prices cannot be converted: the pages say so)."""
    found: dict[str, Rate | None] = dict.fromkeys(Currency.values)
    found[COST_CURRENCY] = Rate(COST_CURRENCY, Decimal(1), None)
    rows = (
        ExchangeRate.objects.filter(valid_from__lte=day)
        .exclude(currency=COST_CURRENCY)
        .order_by("currency", "-valid_from")
        .values_list("currency", "usd", "valid_from")
    )
    for currency, usd, valid_from in rows:
        if found.get(currency) is None:
            found[currency] = Rate(currency, usd, valid_from)
    return found


def cents(value: Decimal | None) -> Decimal:
    """A sum of cents as cents (SQLite hands sums of decimals back with float noise); None is 0."""
    return Decimal("0.00") if value is None else Decimal(value).quantize(CENT, ROUND_HALF_UP)


def to_usd(amount: Decimal, rate: Rate | None) -> Decimal | None:
    """`amount` in US dollars at `rate`, to the cent; None when there is no rate to convert with."""
    if rate is None:
        return None
    return (amount * rate.usd).quantize(CENT, rounding=ROUND_HALF_UP)


def price_usd_expression(rates: dict[str, Rate | None], field: str = "plan_price") -> Combinable:
    """A SQL expression of a tenant row's plan price in US dollars (NULL without a rate), so that the
    overview sorts and pages by margin in the database."""
    output = DecimalField(max_digits=20, decimal_places=8)
    whens = [
        When(currency=currency, then=F(field) * Value(rate.usd, output_field=output))
        for currency, rate in rates.items()
        if rate is not None
    ]
    return Case(*whens, default=Value(None, output_field=output), output_field=output)
