"""Cost Explorer: what AWS billed per day, grouped by the tenant cost-allocation tag and usage type."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from deployments.aws.clients import call

CE = "ce"
METRIC = "UnblendedCost"


@dataclass(frozen=True)
class CostGroup:
    """One day's cost for one value of the tag (a tenant's slug, "shared", or "" when untagged) and one
    usage type (USE1-Host:ml.m5.large …)."""

    day: date
    tag_value: str
    usage_type: str
    amount: Decimal
    unit: str


def _tag_value(key: str, tag_key: str) -> str:
    # Cost Explorer names a tag group "<key>$<value>" ("<key>$" for resources without the tag).
    prefix = f"{tag_key}$"
    return key[len(prefix) :] if key.startswith(prefix) else key


def cost_and_usage(first_day: date, last_day: date, tag_key: str) -> Iterator[CostGroup]:
    """Daily SageMaker and S3 costs, `first_day` to `last_day` inclusive, by tag value and usage type."""
    params = {
        "TimePeriod": {
            "Start": first_day.isoformat(),
            "End": date.fromordinal(last_day.toordinal() + 1).isoformat(),
        },
        "Granularity": "DAILY",
        "Metrics": [METRIC],
        "GroupBy": [{"Type": "TAG", "Key": tag_key}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
        "Filter": {
            "Dimensions": {"Key": "SERVICE", "Values": ["Amazon SageMaker", "Amazon Simple Storage Service"]}
        },
    }
    token: dict[str, str] = {}
    while True:
        # API: GetCostAndUsage
        page = call(CE, "get_cost_and_usage", f"cost and usage {first_day}–{last_day}", **params, **token)
        for period in page.get("ResultsByTime", []):
            day = date.fromisoformat(period["TimePeriod"]["Start"])
            for group in period.get("Groups", []):
                keys = group.get("Keys", [])
                metric = group.get("Metrics", {}).get(METRIC, {})
                yield CostGroup(
                    day=day,
                    tag_value=_tag_value(keys[0] if keys else "", tag_key),
                    usage_type=keys[1] if len(keys) > 1 else "",
                    amount=Decimal(str(metric.get("Amount", "0"))),
                    unit=str(metric.get("Unit", "USD")),
                )
        if not page.get("NextPageToken"):
            return
        token = {"NextPageToken": page["NextPageToken"]}


def emulated_results_queue(results: list[dict[str, Any]]) -> None:
    """Queue answers for moto's Cost Explorer (emulated mode only: the demo's "what AWS billed").

    Moto hands each queued answer to the next GetCostAndUsage request with new parameters and repeats it
    for the same parameters (moto's /moto-api/static/ce/cost-and-usage-results).
    """
    if settings.AWS_MODE != "emulated":
        raise ImproperlyConfigured("Cost Explorer answers can be queued in the emulated mode only.")
    url = f"{settings.EMULATOR_URL.rstrip('/')}/moto-api/static/ce/cost-and-usage-results"
    body = json.dumps({"results": results}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - the emulator's own URL
        if answer.status != 201:
            raise ImproperlyConfigured(f"The emulator refused the Cost Explorer answers ({answer.status}).")
