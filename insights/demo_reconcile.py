"""DEMO: what Cost Explorer "billed" for the demo's year, queued in the emulator's moto so that the
reconcile runs its real code (GetCostAndUsage through the seam) and has differences to show.

The figures are the ledger's own per day, tag and usage type, with made-up gaps where AWS's bill would
really differ: about one group in twelve off by 1–4 % (per-second billing, an update's blue/green overlap),
and the last two days marked estimated. Emulated mode only.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from deployments.aws import costexplorer
from deployments.resources import TAG_TENANT
from insights.costs.reconcile import aws_costs_fetch, ledger_tag
from insights.models_costs import AwsCostLine, LedgerLine


def _results(first_day: date, last_day: date) -> dict[str, Any]:
    groups: dict[date, list[dict[str, Any]]] = defaultdict(list)
    chance = random.Random(f"{first_day}/cost-explorer")  # demo figures, not security
    rows = (
        LedgerLine.objects.filter(day__gte=first_day, day__lte=last_day)
        .values("day", "kind", "tenant__slug", "usage_type")
        .annotate(total=Sum("cost"))
        .order_by("day", "tenant__slug", "usage_type")
    )
    for row in rows:
        amount = row["total"]
        if chance.random() < 1 / 12:
            amount *= Decimal(str(round(1 + chance.choice((-1, 1)) * chance.uniform(0.01, 0.04), 4)))
        tag = ledger_tag(row["kind"], row["tenant__slug"])
        figure = {"Amount": str(amount.quantize(Decimal("0.0000000001"))), "Unit": "USD"}
        groups[row["day"]].append(
            {"Keys": [f"{TAG_TENANT}${tag}", row["usage_type"]], "Metrics": {"UnblendedCost": figure}}
        )
    days = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    return {
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
                "Total": {},
                "Groups": groups.get(day, []),
                "Estimated": day > last_day - timedelta(days=2),
            }
            for day in days
        ],
        "DimensionValueAttributes": [],
    }


def demo_cost_explorer(first_day: date, last_day: date) -> int:
    """Queue the demo's Cost Explorer answer for the range and read it back through the seam (once)."""
    if AwsCostLine.objects.filter(day__gte=first_day, day__lte=last_day).exists():
        return 0
    costexplorer.emulated_results_queue([_results(first_day, last_day)])
    return aws_costs_fetch(first_day, last_day)
