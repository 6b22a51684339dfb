"""One tenant's cost in a month: per day and kind, per resource (the invoice), its share of each shared
endpoint with the numbers that made it, and the last twelve months.

The month's allocation lines are read once (joined to their ledger lines for quantities and the whole
endpoint's cost) and grouped here; the history is one grouped query more.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Sum
from django.db.models.functions import TruncMonth

from insights.finance.months import Month, months_back
from insights.finance.rates import cents
from insights.models_costs import BASIS_LABELS, COST_KIND_LABELS, AllocationBasis, AllocationLine
from tenants.models import Tenant

ZERO = Decimal("0.00")
# A month's figures are kept per tenant, month and lines version; a version is replaced by the next run.
CACHE_SECONDS = 24 * 3600
LINE_FIELDS = (
    "day",
    "kind",
    "isolation",
    "usage_type",
    "basis",
    "deployment_id",
    "deployment__name",
    "deployment__tenant_id",
    "share_numerator",
    "share_denominator",
    "invocations",
    "hours_present",
    "is_idle",
    "idle_policy",
    "billed_cost",
    "ledger_line__quantity",
    "ledger_line__unit",
    "ledger_line__unit_price",
    "ledger_line__billed_cost",
    "ledger_line__instance_type",
    "ledger_line__instance_count",
    "ledger_line__invocations",
)


@dataclass
class InvoiceLine:
    """One line of the month's invoice-like summary: a resource, what was used, what it cost."""

    label: str
    kind: str
    kind_label: str
    deployment_id: int | None
    shared: bool
    usage_type: str
    unit: str
    quantity: Decimal = Decimal(0)
    unit_price: Decimal | None = None
    cost: Decimal = ZERO
    idle: bool = False
    days: int = 0


@dataclass
class ShareDay:
    """A day on a shared endpoint: the tenant's numbers against everyone's, and what they made."""

    day: date
    basis: str
    numerator: Decimal
    denominator: Decimal
    invocations: int
    endpoint_invocations: int
    hours_present: Decimal
    endpoint_cost: Decimal
    cost: Decimal
    idle_cost: Decimal

    @property
    def basis_label(self) -> str:
        return BASIS_LABELS.get(self.basis, self.basis)

    @property
    def share_pct(self) -> Decimal | None:
        if not self.denominator:
            return None
        return (self.numerator / self.denominator * 100).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass
class SharedEndpoint:
    """The tenant's place on one shared endpoint over the month."""

    deployment_id: int
    name: str
    kind: str
    kind_label: str
    isolation: str
    instance_type: str = ""
    days: list[ShareDay] = field(default_factory=list)

    @property
    def cost(self) -> Decimal:
        return sum((d.cost for d in self.days), ZERO)

    @property
    def idle_cost(self) -> Decimal:
        return sum((d.idle_cost for d in self.days), ZERO)

    @property
    def endpoint_cost(self) -> Decimal:
        return sum((d.endpoint_cost for d in self.days), ZERO)

    @property
    def invocations(self) -> int:
        return sum(d.invocations for d in self.days)

    @property
    def endpoint_invocations(self) -> int:
        return sum(d.endpoint_invocations for d in self.days)

    @property
    def hours_present(self) -> Decimal:
        return sum((d.hours_present for d in self.days), Decimal(0))

    @property
    def bases(self) -> list[str]:
        return sorted({BASIS_LABELS.get(d.basis, d.basis) for d in self.days})

    @property
    def share_pct(self) -> Decimal | None:
        """Its part of the endpoint's cost over the month (idle share spread to it included)."""
        if not self.endpoint_cost:
            return None
        return ((self.cost + self.idle_cost) / self.endpoint_cost * 100).quantize(
            Decimal("0.1"), ROUND_HALF_UP
        )


@dataclass
class TenantCost:
    tenant: Tenant | None  # None only while kept in the cache
    month: Month
    total: Decimal
    daily: dict[date, dict[str, Decimal]]  # day → kind → cost
    invoice: list[InvoiceLine]
    shared: list[SharedEndpoint]
    history: list[tuple[Month, Decimal]]
    by_kind: list[tuple[str, str, Decimal]]

    @property
    def previous(self) -> Decimal:
        return self.history[-2][1] if len(self.history) > 1 else ZERO

    @property
    def last_day(self) -> date | None:
        return max(self.daily) if self.daily else None


def tenant_cost(*, tenant: Tenant, month: Month) -> TenantCost:
    """The tenant's cost page for `month` in two queries."""
    lines = list(
        AllocationLine.objects.filter(tenant=tenant, day__gte=month.start, day__lt=month.end)
        .order_by("day", "deployment_id", "id")
        .values(*LINE_FIELDS)
    )
    daily: dict[date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    kinds: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        daily[line["day"]][line["kind"]] += line["billed_cost"]
        kinds[line["kind"]] += line["billed_cost"]
    ranked = sorted(kinds.items(), key=lambda item: -item[1])
    return TenantCost(
        tenant=tenant,
        month=month,
        total=sum((line["billed_cost"] for line in lines), ZERO),
        daily={day: dict(by_kind) for day, by_kind in daily.items()},
        invoice=_invoice(lines),
        shared=_shared(lines),
        history=history(tenant=tenant, month=month),
        by_kind=[(k, COST_KIND_LABELS.get(k, k), c) for k, c in ranked],
    )


def tenant_cost_once(*, tenant: Tenant, month: Month, version: str) -> TenantCost:
    """`tenant_cost`, worked out once per tenant, month and lines version (`costs.runs.lines_version`):
    the figures only change when a run commits new lines, which changes the version, so a page shows
    what a fresh read would show without grouping the month's lines on every view."""
    key = f"tenant-cost:{tenant.pk}:{month.key}:{hashlib.sha256(version.encode()).hexdigest()[:16]}"
    kept = cache.get(key)
    if kept is None:
        kept = tenant_cost(tenant=tenant, month=month)
        cache.set(key, replace(kept, tenant=None), CACHE_SECONDS)
    return replace(kept, tenant=tenant)


def _is_shared(line: dict[str, Any]) -> bool:
    return line["basis"] != AllocationBasis.SILO or (
        line["deployment_id"] is not None and line["deployment__tenant_id"] is None
    )


def _invoice(lines: list[dict[str, Any]]) -> list[InvoiceLine]:
    """Lines grouped by resource and usage type (the idle share of an endpoint on a line of its own)."""
    grouped: dict[tuple[Any, ...], InvoiceLine] = {}
    for line in lines:
        key = (line["deployment_id"], line["kind"], line["usage_type"], line["is_idle"])
        entry = grouped.get(key)
        if entry is None:
            entry = grouped[key] = InvoiceLine(
                label=line["deployment__name"] or COST_KIND_LABELS.get(line["kind"], line["kind"]),
                kind=line["kind"],
                kind_label=COST_KIND_LABELS.get(line["kind"], line["kind"]),
                deployment_id=line["deployment_id"],
                shared=_is_shared(line),
                usage_type=line["usage_type"],
                unit=line["ledger_line__unit"] or "",
                unit_price=line["ledger_line__unit_price"],
                idle=line["is_idle"],
            )
        entry.cost += line["billed_cost"]
        entry.quantity += _share_of_quantity(line)
        entry.days += 1
        if entry.unit_price != line["ledger_line__unit_price"]:
            entry.unit_price = None  # the price changed within the month: no single unit price
    return sorted(grouped.values(), key=lambda e: (e.idle, e.shared, -e.cost, e.label))


def _share_of_quantity(line: dict[str, Any]) -> Decimal:
    """The tenant's part of the ledger line's quantity (its hours, GB-seconds…), in the share it paid."""
    quantity = line["ledger_line__quantity"]
    if quantity is None:
        return Decimal(0)
    if line["basis"] == AllocationBasis.SILO:
        return quantity
    whole = line["ledger_line__billed_cost"]
    return quantity * line["billed_cost"] / whole if whole else Decimal(0)


def _shared(lines: list[dict[str, Any]]) -> list[SharedEndpoint]:
    """Per shared endpoint, per day: its numbers, everyone's, its cost and its spread idle share."""
    endpoints: dict[int, SharedEndpoint] = {}
    days: dict[tuple[int, date], ShareDay] = {}
    for line in lines:
        if not _is_shared(line) or line["deployment_id"] is None:
            continue
        endpoint = endpoints.get(line["deployment_id"])
        if endpoint is None:
            endpoint = endpoints[line["deployment_id"]] = SharedEndpoint(
                line["deployment_id"],
                line["deployment__name"] or "",
                line["kind"],
                COST_KIND_LABELS.get(line["kind"], line["kind"]),
                line["isolation"],
                line["ledger_line__instance_type"] or "",
            )
        key = (line["deployment_id"], line["day"])
        day = days.get(key)
        if day is None:
            day = days[key] = ShareDay(
                day=line["day"],
                basis=line["basis"],
                numerator=Decimal(0),
                denominator=Decimal(0),
                invocations=0,
                endpoint_invocations=line["ledger_line__invocations"] or 0,
                hours_present=Decimal(0),
                endpoint_cost=line["ledger_line__billed_cost"] or ZERO,
                cost=ZERO,
                idle_cost=ZERO,
            )
            endpoint.days.append(day)
        if line["is_idle"]:
            day.idle_cost += line["billed_cost"]
            continue
        day.basis = line["basis"]
        day.numerator += line["share_numerator"]
        day.denominator = line["share_denominator"]
        day.invocations += line["invocations"]
        day.hours_present = max(day.hours_present, line["hours_present"])
        day.cost += line["billed_cost"]
    return sorted(endpoints.values(), key=lambda e: -(e.cost + e.idle_cost))


def shared_days(*, tenant: Tenant, month: Month, deployment_id: int) -> SharedEndpoint | None:
    """The tenant's days on one shared endpoint in `month` (one query), or None if it was not on it."""
    lines = list(
        AllocationLine.objects.filter(
            tenant=tenant, deployment_id=deployment_id, day__gte=month.start, day__lt=month.end
        )
        .order_by("day", "id")
        .values(*LINE_FIELDS)
    )
    found = _shared(lines)
    return found[0] if found else None


def history(*, tenant: Tenant, month: Month, months: int = 12) -> list[tuple[Month, Decimal]]:
    """The tenant's cost in each of the `months` months up to `month`, oldest first (one query)."""
    span = months_back(month, months)
    rows = (
        AllocationLine.objects.filter(tenant=tenant, day__gte=span[0].start, day__lt=month.end)
        .annotate(m=TruncMonth("day"))
        .values("m")
        .annotate(cost=Sum("billed_cost"))
        .order_by()
    )
    found = {_as_date(row["m"]): cents(row["cost"]) for row in rows}
    return [(m, found.get(m.start, ZERO)) for m in span]


def _as_date(value: Any) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value
