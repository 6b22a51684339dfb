"""The month's ledger against what AWS billed (Cost Explorer), per tenant tag and per day, for people:
the ledger's `insights.costs.reconcile.reconcile_rows` summed per tag, and the days that differ."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Max

from insights.costs.reconcile import SHARED, UNTAGGED, ReconcileRow, reconcile_rows
from insights.finance.months import Month
from insights.models_costs import AwsCostLine
from tenants.models import Tenant

CENT = Decimal("0.01")
DAYS_SHOWN = 100


@dataclass
class TagTotal:
    """One tag value over the month: a tenant's slug, "shared" endpoints, or untagged storage."""

    tag: str
    label: str
    tenant_id: Any
    ledger: Decimal = Decimal("0.00")
    aws: Decimal = Decimal("0.00")
    days_differing: int = 0

    @property
    def difference(self) -> Decimal:
        return self.aws - self.ledger


@dataclass
class Comparison:
    month: Month
    tags: list[TagTotal]
    days: list[ReconcileRow]  # the days and tags that differ by a cent or more, largest first
    days_differing: int
    fetched_at: Any
    aws_days: int
    ledger_days: int = 0
    pending: Decimal = Decimal("0.00")  # the ledger's cost on days AWS has not billed yet
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def ledger(self) -> Decimal:
        return sum((t.ledger for t in self.tags), Decimal("0.00"))

    @property
    def aws(self) -> Decimal:
        return sum((t.aws for t in self.tags), Decimal("0.00"))

    @property
    def difference(self) -> Decimal:
        return self.aws - self.ledger


def _label(tag: str, names: dict[str, str]) -> str:
    if tag == SHARED:
        return "Shared endpoints (tagged “shared”)"
    if tag == UNTAGGED:
        return "S3 storage (no cost-allocation tag)"
    return names.get(tag, tag)


def month_comparison(month: Month, today: date) -> Comparison:
    """Ledger vs AWS for the month's days up to yesterday."""
    last = min(month.last_day, today - timedelta(days=1))
    rows = reconcile_rows(month.start, last) if last >= month.start else []
    names = dict(Tenant.objects.filter(slug__in={r.tag_value for r in rows}).values_list("slug", "name"))
    fetched = AwsCostLine.objects.filter(day__gte=month.start, day__lt=month.end)
    billed_days = set(fetched.values_list("day", flat=True).distinct())
    tags: dict[str, TagTotal] = {}
    differing: list[ReconcileRow] = []
    pending = Decimal("0.00")
    for row in rows:
        if row.day not in billed_days:  # AWS has not billed that day yet: nothing to compare
            pending += row.ledger
            continue
        total = tags.get(row.tag_value)
        if total is None:
            total = tags[row.tag_value] = TagTotal(row.tag_value, _label(row.tag_value, names), row.tenant_id)
        total.ledger += row.ledger
        total.aws += row.aws
        if abs(row.difference) >= CENT:
            total.days_differing += 1
            differing.append(row)
    differing.sort(key=lambda r: (-abs(r.difference), r.day, r.tag_value))
    return Comparison(
        month=month,
        tags=sorted(tags.values(), key=lambda t: (-abs(t.difference), t.label)),
        days=differing[:DAYS_SHOWN],
        days_differing=len(differing),
        fetched_at=fetched.aggregate(last=Max("fetched_at"))["last"],
        aws_days=len(billed_days),
        ledger_days=len({row.day for row in rows}),
        pending=pending,
        labels={tag: total.label for tag, total in tags.items()},
    )
