"""The ledger against what AWS billed: Cost Explorer per day, tenant tag and usage type.

AWS knows a resource's tenant by its `saasadmin:tenant` tag (a slug, or "shared" for a shared
endpoint); S3 objects carry no cost-allocation tag, so storage is compared as untagged (""). The same
code runs in both modes: in the emulated one, moto's Cost Explorer answers what the demo queued.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.db.models import Sum

from deployments.aws import costexplorer
from deployments.resources import TAG_TENANT
from insights.costs.money import cents, exact
from insights.models_costs import S3_KIND, AwsCostLine, LedgerLine
from tenants.models import Tenant

SHARED, UNTAGGED = "shared", ""


@transaction.atomic
def aws_costs_fetch(first_day: date, last_day: date) -> int:
    """Replace the range's AwsCostLine rows with Cost Explorer's figures; returns how many were kept."""
    totals: dict[tuple[date, str, str], Decimal] = defaultdict(Decimal)
    currency = "USD"
    for group in costexplorer.cost_and_usage(first_day, last_day, TAG_TENANT):
        totals[(group.day, group.tag_value, group.usage_type)] += group.amount
        currency = group.unit or currency
    if not totals:
        return 0  # Cost Explorer had nothing for these days (not yet billed): keep what was fetched before
    slugs = {tag for _, tag, _ in totals}
    tenants = dict(Tenant.objects.filter(slug__in=slugs).values_list("slug", "pk"))
    AwsCostLine.objects.filter(day__gte=first_day, day__lte=last_day).delete()
    AwsCostLine.objects.bulk_create(
        AwsCostLine(
            day=day,
            tag_value=tag[:100],
            tenant_id=tenants.get(tag),
            usage_type=usage_type[:80],
            cost=exact(amount),
            currency=currency,
        )
        for (day, tag, usage_type), amount in sorted(totals.items())
    )
    return len(totals)


@dataclass(frozen=True)
class ReconcileRow:
    """One day and tag value: the ledger's and AWS's figures in cents (each rounded once from exact sums)
    and AWS minus the ledger."""

    day: date
    tag_value: str
    tenant_id: UUID | None
    ledger: Decimal
    aws: Decimal

    @property
    def difference(self) -> Decimal:
        return self.aws - self.ledger


def ledger_tag(kind: str, slug: str | None) -> str:
    """The tag value AWS would bill a ledger line under."""
    if kind == S3_KIND:
        return UNTAGGED
    return slug or SHARED


def reconcile_rows(first_day: date, last_day: date) -> list[ReconcileRow]:
    """Ledger vs Cost Explorer per day and tag value (a tenant's slug, "shared", untagged), in day order."""
    ledger: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    tenant_of: dict[str, UUID | None] = {}
    lines = (
        LedgerLine.objects.filter(day__gte=first_day, day__lte=last_day)
        .values("day", "kind", "tenant_id", "tenant__slug")
        .annotate(total=Sum("cost"))  # exact, rounded once per group as AWS rounds its own figure
        .order_by()
    )
    for row in lines:
        tag = ledger_tag(row["kind"], row["tenant__slug"])
        ledger[(row["day"], tag)] += row["total"]
        if tag not in (SHARED, UNTAGGED):
            tenant_of[tag] = row["tenant_id"]
    aws: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    billed = (
        AwsCostLine.objects.filter(day__gte=first_day, day__lte=last_day)
        .values("day", "tag_value", "tenant_id")
        .annotate(total=Sum("cost"))
        .order_by()
    )
    for group in billed:
        aws[(group["day"], group["tag_value"])] += group["total"]
        if group["tenant_id"]:
            tenant_of[group["tag_value"]] = group["tenant_id"]
    return [
        ReconcileRow(
            day,
            tag,
            tenant_of.get(tag),
            cents(ledger.get((day, tag), Decimal(0))),
            cents(aws.get((day, tag), Decimal(0))),
        )
        for day, tag in sorted(set(ledger) | set(aws))
    ]
