"""A month's allocation lines as FOCUS rows (insights.finance.focus), read in chunks as they stream.

Vendor staff get every line (idle overhead included) with the resource's ARN and the numbers behind each
share. A tenant's own export names its resources by kind, and leaves out everything that would tell it
about other tenants (the endpoint's totals, the share's numerator and denominator).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from insights.finance.focus import FocusLine
from insights.finance.months import Month
from insights.models_costs import BASIS_LABELS, COST_KIND_LABELS, AllocationBasis, AllocationLine
from tenants.models import Tenant

CHUNK = 2000
FIELDS = (
    "day",
    "billed_cost",
    "currency",
    "kind",
    "isolation",
    "usage_type",
    "basis",
    "resource_id",
    "deployment_id",
    "deployment__name",
    "tenant__slug",
    "tenant__name",
    "is_idle",
    "idle_policy",
    "invocations",
    "hours_present",
    "share_numerator",
    "share_denominator",
    "ledger_line__quantity",
    "ledger_line__unit",
    "ledger_line__unit_price",
    "ledger_line__billed_cost",
    "ledger_line__invocations",
)


def month_lines(month: Month, tenant: Tenant | None = None) -> QuerySet[AllocationLine]:
    lines = AllocationLine.objects.filter(day__gte=month.start, day__lt=month.end)
    if tenant is not None:
        lines = lines.filter(tenant=tenant)
    return lines.order_by("day", "id")


def focus_lines(lines: QuerySet[AllocationLine], *, tenant_view: bool) -> Iterator[FocusLine]:
    """Each line as a FocusLine, `CHUNK` rows per database round trip."""
    for row in lines.values(*FIELDS).iterator(chunk_size=CHUNK):
        yield _tenant_line(row) if tenant_view else _vendor_line(row)


def _region(resource_id: str) -> str:
    parts = resource_id.split(":")
    if resource_id.startswith("arn:") and len(parts) > 3 and parts[3]:
        return parts[3]
    return str(getattr(settings, "AWS_REGION", "us-east-1"))


def _quantity(row: dict[str, Any]) -> Decimal:
    quantity = row["ledger_line__quantity"] or Decimal(0)
    if row["basis"] == AllocationBasis.SILO and not row["is_idle"]:
        return quantity
    whole = row["ledger_line__billed_cost"]
    return (quantity * row["billed_cost"] / whole).quantize(Decimal("0.000001")) if whole else Decimal(0)


def _share(row: dict[str, Any]) -> Decimal | None:
    if not row["share_denominator"]:
        return None
    return (row["share_numerator"] / row["share_denominator"]).quantize(Decimal("0.000001"))


def _vendor_description(row: dict[str, Any]) -> str:
    kind = COST_KIND_LABELS.get(row["kind"], row["kind"])
    name = row["deployment__name"] or kind
    if row["is_idle"] and not row["tenant__slug"]:
        return f"Idle capacity of {name}, kept as vendor overhead"
    who = row["tenant__name"] or ""
    if row["is_idle"]:
        rule = BASIS_LABELS.get(row["basis"], "").lower()
        return f"{who}'s part of the idle capacity of {name}, spread by {rule}"
    if row["basis"] == AllocationBasis.SILO:
        return f"{kind} {name}, {who}'s own"
    if row["basis"] == AllocationBasis.INVOCATIONS:
        return (
            f"{who}'s share of {name}: {row['invocations']:,} of {row['ledger_line__invocations'] or 0:,} "
            f"invocations, {row['hours_present']:f} h present"
        )
    share = _share(row)
    return f"{who}'s share of {name}: {BASIS_LABELS.get(row['basis'], row['basis']).lower()} ({share or 0:%})"


def _row_facts(row: dict[str, Any]) -> dict[str, Any]:
    """What the vendor's and the tenant's line both say of an allocation row."""
    return {
        "day": row["day"],
        "cost": row["billed_cost"],
        "currency": row["currency"],
        "region": _region(row["resource_id"]),
        "quantity": _quantity(row),
        "unit": row["ledger_line__unit"] or "",
        "unit_price": row["ledger_line__unit_price"],
        "tenant_slug": row["tenant__slug"] or "",
        "tenant_name": row["tenant__name"] or "",
        "rule": BASIS_LABELS.get(row["basis"], row["basis"]),
        "idle": row["is_idle"],
    }


def _vendor_line(row: dict[str, Any]) -> FocusLine:
    return FocusLine(
        **_row_facts(row),
        description=_vendor_description(row),
        resource_id=row["resource_id"],
        resource_name=row["deployment__name"] or COST_KIND_LABELS.get(row["kind"], row["kind"]),
        resource_type=COST_KIND_LABELS.get(row["kind"], row["kind"]),
        share=_share(row),
        basis=_numbers(row),
        tags={
            "saasadmin:tenant": row["tenant__slug"] or "shared",
            "saasadmin:deployment": row["deployment__name"] or "",
            "saasadmin:kind": row["kind"],
        },
    )


def _numbers(row: dict[str, Any]) -> str:
    if row["basis"] == AllocationBasis.SILO:
        return "the whole resource"
    return f"{row['share_numerator']:f} / {row['share_denominator']:f}"


def _tenant_line(row: dict[str, Any]) -> FocusLine:
    kind = COST_KIND_LABELS.get(row["kind"], row["kind"])
    shared = row["basis"] != AllocationBasis.SILO or row["is_idle"]
    name = f"{kind} ({'shared' if shared else 'dedicated'})"
    what = "your part of its idle capacity" if row["is_idle"] else "your share" if shared else "yours alone"
    return FocusLine(
        **_row_facts(row),
        description=f"{name}: {what}",
        resource_id=f"{row['kind']}-{row['deployment_id'] or 'storage'}",
        resource_name=name,
        resource_type=kind,
        share=None,
        basis="",
        tags={"saasadmin:tenant": row["tenant__slug"] or "", "saasadmin:kind": row["kind"]},
    )
