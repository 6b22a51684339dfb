"""The month overview's reads: every tenant's cost, last month's, its plan price in dollars and margin.

A fixed number of queries whatever the number of tenants (the query-budget test holds it): the month's
and the previous month's allocation summed per tenant in one grouped query, the tenants in one, totals
per kind and idle in one, rates, budgets and notices in one each. Sorting, searching and paging happen on
those rows in Python: a few thousand small rows sort in microseconds, and every sort key (margin
included) is then one code path whatever the currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Max, Q, Sum

from insights.finance.budgets import Budgets, budgets_load
from insights.finance.months import Month
from insights.finance.rates import Rate, cents, rates_on, to_usd
from insights.models_costs import COST_KIND_LABELS, AllocationLine
from tenants.models import Tenant

ZERO = Decimal("0.00")
PERCENT = Decimal("0.1")
SORTS = ("name", "cost", "change", "margin", "margin_pct", "budget_pct", "price")


@dataclass
class TenantMonth:
    """One tenant's line of the overview."""

    tenant_id: Any
    name: str
    slug: str
    tier: str
    isolation: str
    status: str
    currency: str
    plan_price: Decimal
    cost: Decimal = ZERO
    previous: Decimal = ZERO
    projected: Decimal = ZERO
    price_usd: Decimal | None = None
    budget: Decimal | None = None
    low: bool = False  # below the page's margin threshold (set by the page)

    @cached_property
    def change(self) -> Decimal | None:
        """Month over month in percent, a running month by its projection (None: nothing last month)."""
        if not self.previous:
            return None
        return ((self.projected - self.previous) / self.previous * 100).quantize(PERCENT, ROUND_HALF_UP)

    @cached_property
    def margin(self) -> Decimal | None:
        """Plan price in dollars − cost (the projected cost for a running month)."""
        return None if self.price_usd is None else self.price_usd - self.projected

    @cached_property
    def margin_pct(self) -> Decimal | None:
        if self.margin is None or not self.price_usd:
            return None
        return (self.margin / self.price_usd * 100).quantize(PERCENT, ROUND_HALF_UP)

    @cached_property
    def budget_pct(self) -> Decimal | None:
        if not self.budget:
            return None
        return (self.projected / self.budget * 100).quantize(PERCENT, ROUND_HALF_UP)


@dataclass
class Overview:
    month: Month
    running: bool
    days_counted: int
    rows: list[TenantMonth]
    by_kind: list[tuple[str, str, Decimal, Decimal]]  # kind, label, this month, last month
    idle: Decimal
    idle_previous: Decimal
    rates: dict[str, Rate | None]
    totals: dict[str, Any] = field(default_factory=dict)


def _project(spent: Decimal, month: Month, days_counted: int) -> Decimal:
    """A running month's cost at the pace of the days counted so far; a past month's is what it cost."""
    if days_counted <= 0 or days_counted >= month.days:
        return spent
    return (spent / days_counted * month.days).quantize(Decimal("0.01"), ROUND_HALF_UP)


def days_counted(month: Month, last_day: Any) -> int:
    """How many days of `month` the allocation has run for (up to its last allocated day)."""
    if last_day is None or last_day < month.start:
        return 0
    return min(month.days, (last_day - month.start).days + 1)


def tenant_costs(month: Month) -> tuple[dict[Any, tuple[Decimal, Decimal]], Any]:
    """tenant id → (this month, last month), and the month's last allocated day: one grouped query."""
    previous = month.previous()
    this = Q(day__gte=month.start)
    rows = (
        AllocationLine.objects.filter(day__gte=previous.start, day__lt=month.end, tenant__isnull=False)
        .values("tenant_id")
        .annotate(
            cost=Sum("billed_cost", filter=this),
            previous=Sum("billed_cost", filter=~this),
            last_day=Max("day"),
        )
        .order_by()
    )
    costs, last_day = {}, None
    for row in rows:
        costs[row["tenant_id"]] = (cents(row["cost"]), cents(row["previous"]))
        if row["cost"] is not None and (last_day is None or row["last_day"] > last_day):
            last_day = row["last_day"]
    return costs, last_day


def kind_totals(month: Month) -> tuple[dict[str, tuple[Decimal, Decimal]], Decimal, Decimal]:
    """kind → (this month, last month) of what tenants pay, and vendor-overhead idle, in one query."""
    previous = month.previous()
    this = Q(day__gte=month.start)
    rows = (
        AllocationLine.objects.filter(day__gte=previous.start, day__lt=month.end)
        .values("kind", overhead=Q(tenant__isnull=True))
        .annotate(cost=Sum("billed_cost", filter=this), previous=Sum("billed_cost", filter=~this))
        .order_by()
    )
    kinds: dict[str, tuple[Decimal, Decimal]] = {}
    idle, idle_previous = ZERO, ZERO
    for row in rows:
        cost, before = cents(row["cost"]), cents(row["previous"])
        if row["overhead"]:
            idle, idle_previous = idle + cost, idle_previous + before
            continue
        seen = kinds.get(row["kind"], (ZERO, ZERO))
        kinds[row["kind"]] = (seen[0] + cost, seen[1] + before)
    return kinds, idle, idle_previous


def overview(*, month: Month, today: Any, search: str = "") -> Overview:
    """The month overview, every tenant included (search narrows the rows, not the totals)."""
    running = month.is_running(today)
    rates = rates_on(min(month.last_day, today))
    costs, last_day = tenant_costs(month)
    counted = days_counted(month, last_day) if running else month.days
    budgets = budgets_load()
    rows = _tenant_rows(costs, month, counted, rates, budgets, search)
    kinds, idle, idle_previous = kind_totals(month)
    by_kind = [
        (kind, COST_KIND_LABELS.get(kind, kind), cost, before)
        for kind, (cost, before) in sorted(kinds.items(), key=lambda item: -item[1][0])
    ]
    result = Overview(month, running, counted, rows, by_kind, idle, idle_previous, rates)
    result.totals = _totals(result, costs, month, counted)
    return result


def _tenant_rows(
    costs: dict[Any, tuple[Decimal, Decimal]],
    month: Month,
    counted: int,
    rates: dict[str, Rate | None],
    budgets: Budgets,
    search: str,
) -> list[TenantMonth]:
    """Tenants that existed by the month's end (or cost something in it), matching `search`."""
    end = datetime.combine(month.end, datetime.min.time(), tzinfo=UTC)
    # Whether it was onboarded after the month, as a boolean from the database (parsing 2,000 dates costs).
    tenants = Tenant.objects.annotate(late=ExpressionWrapper(Q(created_at__gte=end), BooleanField()))
    if search:
        tenants = tenants.filter(Q(name__icontains=search) | Q(slug__icontains=search))
    fields = ("pk", "name", "slug", "tier", "isolation", "status", "currency", "plan_price", "late")
    nothing = (ZERO, ZERO)
    usd: dict[tuple[str, Decimal], Decimal | None] = {}  # plan prices repeat: convert each once
    rows = []
    for pk, name, slug, tier, isolation, status, currency, price, late in tenants.values_list(*fields):
        if late and pk not in costs:
            continue  # onboarded after the month, and nothing charged to it in it
        cost, previous = costs.get(pk, nothing)
        row = TenantMonth(
            pk, name, slug, tier, isolation, status, currency, price, cost=cost, previous=previous
        )
        row.projected = _project(cost, month, counted)
        key = (row.currency, row.plan_price)
        if key not in usd:
            usd[key] = to_usd(row.plan_price, rates.get(row.currency))
        row.price_usd = usd[key]
        row.budget = budgets.for_tenant(row.tenant_id, row.tier)
        rows.append(row)
    return rows


def _totals(
    result: Overview, costs: dict[Any, tuple[Decimal, Decimal]], month: Month, counted: int
) -> dict[str, Any]:
    allocated = sum((c for c, _ in costs.values()), ZERO)
    previous = sum((p for _, p in costs.values()), ZERO)
    revenue = sum((row.price_usd or ZERO for row in result.rows), ZERO)
    total = allocated + result.idle
    projected = _project(total, month, counted)
    return {
        "total": total,
        "previous": previous + result.idle_previous,
        "allocated": allocated,
        "projected": projected,
        "revenue": revenue,
        "margin": revenue - projected,
        "change": (
            (
                (projected - previous - result.idle_previous) / (previous + result.idle_previous) * 100
            ).quantize(PERCENT, ROUND_HALF_UP)
            if previous + result.idle_previous
            else None
        ),
    }


def sort_rows(rows: list[TenantMonth], sort: str) -> list[TenantMonth]:
    """Rows by `sort` (a SORTS key, `-` for descending); rows without a value (no rate, no budget,
    no last month) come last either way, then by name."""
    key = sort.lstrip("-")
    descending = sort.startswith("-")
    if key == "name":
        return sorted(rows, key=lambda r: (r.name.lower(), str(r.tenant_id)), reverse=descending)
    present = [r for r in rows if getattr(r, _SORT_FIELDS[key]) is not None]
    absent = [r for r in rows if getattr(r, _SORT_FIELDS[key]) is None]
    present.sort(key=lambda r: r.name.lower())
    present.sort(key=lambda r: getattr(r, _SORT_FIELDS[key]), reverse=descending)
    absent.sort(key=lambda r: r.name.lower())
    return present + absent


_SORT_FIELDS = {
    "cost": "cost",
    "change": "change",
    "margin": "margin",
    "margin_pct": "margin_pct",
    "budget_pct": "budget_pct",
    "price": "price_usd",
}
