"""A month's allocated cost as CSV in the FinOps FOCUS columns (https://focus.finops.org), streamed.

One row per allocation line (a resource's cost given to one tenant, or its idle share, on one day).
FOCUS names what it defines (BilledCost, EffectiveCost, ChargePeriodStart …); the columns it does not
define carry the `x_` prefix the specification reserves for providers' own.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.http import StreamingHttpResponse

SERVICE_NAME = "Amazon SageMaker"
SERVICE_CATEGORY = "AI and Machine Learning"
PROVIDER = "Amazon Web Services"

COLUMNS = (
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "BillingCurrency",
    "ChargeCategory",
    "ChargeFrequency",
    "ChargeDescription",
    "ProviderName",
    "PublisherName",
    "InvoiceIssuerName",
    "ServiceName",
    "ServiceCategory",
    "RegionId",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "PricingCategory",
    "ConsumedQuantity",
    "ConsumedUnit",
    "PricingQuantity",
    "PricingUnit",
    "ListUnitPrice",
    "SubAccountId",
    "SubAccountName",
    "Tags",
    "x_AllocationRule",
    "x_AllocationShare",
    "x_AllocationBasis",
    "x_IsIdle",
)


@dataclass(frozen=True)
class FocusLine:
    """What one CSV row says, in the product's terms (`focus_row` turns it into FOCUS's)."""

    day: date
    cost: Decimal
    description: str
    resource_id: str
    resource_name: str
    resource_type: str
    region: str
    quantity: Decimal
    unit: str
    unit_price: Decimal | None
    tenant_slug: str  # "" for a vendor-overhead idle line
    tenant_name: str
    rule: str
    share: Decimal | None
    basis: str
    idle: bool
    currency: str = "USD"
    tags: dict[str, str] = field(default_factory=dict)


def _instant(day: date) -> str:
    return datetime.combine(day, time(), tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _month_bounds(day: date) -> tuple[date, date]:
    start = day.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def _number(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f") if value else "0"


def focus_row(line: FocusLine) -> list[str]:
    """The CSV cells of `line`, in COLUMNS order. Costs are on-demand prices: billed = effective = list."""
    period_start, period_end = _month_bounds(line.day)
    cost = format(line.cost, "f")
    return [
        _instant(period_start),
        _instant(period_end),
        _instant(line.day),
        _instant(line.day + timedelta(days=1)),
        cost,
        cost,
        cost,
        line.currency,
        "Usage",
        "Usage-Based",
        line.description,
        PROVIDER,
        PROVIDER,
        PROVIDER,
        SERVICE_NAME,
        SERVICE_CATEGORY,
        line.region,
        line.resource_id,
        line.resource_name,
        line.resource_type,
        "Standard",
        _number(line.quantity),
        line.unit,
        _number(line.quantity),
        line.unit,
        _number(line.unit_price),
        line.tenant_slug,
        line.tenant_name,
        json.dumps(line.tags, sort_keys=True, separators=(",", ":")),
        line.rule,
        _number(line.share),
        line.basis,
        "true" if line.idle else "false",
    ]


class _Echo:
    """A file-like object whose write returns the text, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def focus_csv_chunks(lines: Iterable[FocusLine]) -> Iterator[str]:
    """The header, then one CSV line per allocation line, as they are read (nothing is held)."""
    writer = csv.writer(_Echo(), lineterminator="\n")
    yield writer.writerow(COLUMNS)
    for line in lines:
        yield writer.writerow(_safe(focus_row(line)))


def _safe(cells: list[str]) -> list[str]:
    """Cells a spreadsheet would run as formulas (=, +, -, @ at the start of a text) get a leading quote;
    numbers keep their sign."""
    safe = []
    for cell in cells:
        if cell[:1] in ("=", "+", "@", "\t", "\r") or (cell[:1] == "-" and not _is_number(cell)):
            cell = "'" + cell
        safe.append(cell)
    return safe


def _is_number(cell: str) -> bool:
    try:
        Decimal(cell)
    except ArithmeticError:
        return False
    return True


def focus_csv_response(lines: Iterable[FocusLine], filename: str) -> StreamingHttpResponse:
    """A streamed download of `lines` as FOCUS CSV."""
    response = StreamingHttpResponse(focus_csv_chunks(lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
