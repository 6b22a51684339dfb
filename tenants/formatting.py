"""Money and quantities as people read them: one formatting for every price the product prints (the `money`
template filter and the cost explanations built in Python alike), and none in exponent notation."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}
# Wide enough for any amount the product computes: quantizing to cents never overflows the precision.
_WIDE = Context(prec=60)


def money_text(
    value: Decimal | float | int | str | None, currency: str = "USD", *, unit: bool = False
) -> str:
    """`1234.5` → `$1,234.50`; never exponent notation (`2e-05` is not a price a person reads).

    A total is shown in cents. A `unit` price (per hour, per GB-second) keeps its significant digits, with
    at least cents: `0.00002` → `$0.00002`, `0.115` → `$0.115`.
    """
    if value is None:
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return "—"
    if not amount.is_finite():
        return "—"
    places = max(2, -amount.normalize(_WIDE).as_tuple().exponent) if unit else 2  # type: ignore[operator]
    amount = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=_WIDE)
    text = f"{abs(amount):,.{places}f}"
    sign = "-" if amount < 0 else ""
    symbol = CURRENCY_SYMBOLS.get(currency, "")
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


def number_text(value: float) -> str:
    """A quantity for people: `3600000` → `3,600,000`, `0.0231` → `0.0231`, `12.345` → `12.3`; no exponent."""
    if not math.isfinite(value) or value == 0:
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{value:,.{digits}f}".rstrip("0").rstrip(".")
