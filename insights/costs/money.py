"""Money arithmetic of the ledger: exact Decimals, cents rounded half-up, shares by largest remainder."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
EXACT = Decimal("0.00000001")  # the 8 decimal places of the `cost` columns
ZERO = Decimal(0)


def exact(value: Decimal) -> Decimal:
    return value.quantize(EXACT, rounding=ROUND_HALF_UP)


def cents(value: Decimal) -> Decimal:
    """`value` rounded half-up to the cent: what a ledger line bills."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def largest_remainder(total: Decimal, parts: Sequence[Decimal]) -> list[Decimal]:
    """Share `total` (whole cents) out in proportion to `parts`, in cents that add up to `total` exactly.

    Each part gets the floor of its quota in cents; the cents left over go one each to the parts with
    the largest remainders, the earlier part first on a tie (callers order parts deterministically).
    Parts that are all zero leave everything on the last part (the idle line, when there is one).
    """
    total_cents = int((total / CENT).to_integral_value(rounding=ROUND_HALF_UP))
    if not parts:
        return []
    weight = sum(parts, ZERO)
    if weight <= 0:
        return [ZERO] * (len(parts) - 1) + [Decimal(total_cents) * CENT]
    quotas = [Decimal(total_cents) * part / weight for part in parts]
    floors = [int(q.to_integral_value(rounding=ROUND_FLOOR)) for q in quotas]
    left = total_cents - sum(floors)
    order = sorted(range(len(parts)), key=lambda i: (-(quotas[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [Decimal(n) * CENT for n in floors]
