"""The running month projected from the days computed so far (what budgets compare against)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from django.db.models import Count, Sum
from django.utils import timezone

from insights.costs.money import cents
from insights.models_costs import AllocationLine, LedgerLine


@dataclass(frozen=True)
class Projection:
    """A month's cost so far and at the same daily rate to its end (a past month: projected = so far)."""

    so_far: Decimal
    projected: Decimal
    days_counted: int
    days_in_month: int


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def month_projection(
    month: date, *, today: date | None = None, tenant_ids: list[UUID] | None = None
) -> dict[UUID | None, Projection]:
    """Tenant id (None: the idle kept as overhead) → its projection for `month`, and the whole month under
    the key "total"; two queries whatever the number of tenants.

    Days counted are the days of the month before `today` that have a ledger: the rate is their mean.
    """
    today = today or timezone.now().date()
    first, last = month_bounds(month)
    until = min(last, today - timedelta(days=1))
    days_in_month = (last - first).days + 1
    computed = LedgerLine.objects.filter(day__gte=first, day__lte=until).aggregate(
        days=Count("day", distinct=True)
    )
    days = int(computed["days"] or 0)
    lines = AllocationLine.objects.filter(day__gte=first, day__lte=until)
    if tenant_ids is not None:
        lines = lines.filter(tenant_id__in=tenant_ids)
    sums = lines.values("tenant_id").annotate(total=Sum("billed_cost")).order_by()
    found: dict = {}
    for row in sums:
        found[row["tenant_id"]] = _projection(row["total"] or Decimal(0), days, days_in_month, until >= last)
    everything = sum((row["total"] or Decimal(0) for row in sums), Decimal(0))
    found["total"] = _projection(everything, days, days_in_month, until >= last)
    return found


def _projection(so_far: Decimal, days: int, days_in_month: int, complete: bool) -> Projection:
    so_far = cents(so_far)  # SQLite sums decimals as floats: back to cents
    if complete or not days:
        return Projection(so_far, so_far, days, days_in_month)
    return Projection(so_far, cents(so_far / days * days_in_month), days, days_in_month)
