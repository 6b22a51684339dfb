"""Monthly cost estimates from the bundled catalogue's prices (`deployments.catalogue`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from deployments.catalogue import USES, hours_per_month, instance_problem, offered, region_prices
from deployments.models import Kind
from deployments.rules import INSTANCE_USES

RUNS_PER_MONTH = {"manual": 0.0, "daily": 30.4, "weekly": 4.35, "monthly": 1.0}
CENT = Decimal("0.01")


class NotOffered(ValueError):
    """An instance type asked for a use it is not offered for (deployments.catalogue.offered)."""


def hourly(instance_type: str, use: str = "realtime", region: str | None = None) -> Decimal:
    """On-demand price per hour of `instance_type` for `use` (realtime, async, transform, multi_model)."""
    if instance_type not in offered(use, region):
        raise NotOffered(instance_problem(use, instance_type, region))
    entry = region_prices(region)["instances"][instance_type]
    return Decimal(str(entry[f"{USES[use].price}_per_hour"]))


def money(value: Decimal | float) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Estimate:
    """A monthly cost and how it was reached (shown next to the figure)."""

    monthly: Decimal
    basis: str


def serverless_monthly(
    memory_mb: int, requests_per_day: float, duration_ms: float, payload_kb: float = 10
) -> Estimate:
    """Serverless: GB-seconds of compute plus GB of data processed, per month."""
    prices = region_prices()["serverless"]
    requests = requests_per_day * 30.4
    gb_seconds = requests * (memory_mb / 1024) * (duration_ms / 1000)
    data_gb = requests * payload_kb / (1024 * 1024)
    cost = Decimal(str(gb_seconds * prices["per_gb_second"] + data_gb * prices["per_gb_data_processed"]))
    return Estimate(
        money(cost),
        f"{requests:,.0f} requests × {memory_mb} MB × {duration_ms:g} ms at ${prices['per_gb_second']}/GB-s",
    )


def instances_monthly(instance_type: str, count: int, use: str, hours: float | None = None) -> Estimate:
    """Instances billed by the hour (`hours` per instance per month; default: always on)."""
    hours = hours_per_month() if hours is None else hours
    cost = hourly(instance_type, use) * count * Decimal(str(hours))
    return Estimate(
        money(cost), f"{count} × {instance_type} × {hours:,.0f} h at ${hourly(instance_type, use)}/h"
    )


def deployment_monthly(kind: str, values: dict[str, Any]) -> Estimate:
    """The monthly cost of one deployment of `kind` with normalised settings `values`."""
    if kind == Kind.SERVERLESS:
        return serverless_monthly(
            values["memory_mb"], values.get("requests_per_day") or 0, values.get("duration_ms") or 200
        )
    try:
        return _instances_deployment_monthly(kind, values)
    except NotOffered as exc:
        # A deployment saved before its type was withdrawn for this use: AWS would refuse to run it.
        return Estimate(money(0), f"none until its instance type changes: {exc}")


def _instances_deployment_monthly(kind: str, values: dict[str, Any]) -> Estimate:
    use = INSTANCE_USES[kind]
    if kind == Kind.BATCH:
        runs = RUNS_PER_MONTH[values["schedule"]]
        hours = runs * values["run_minutes"] / 60
        estimate = instances_monthly(values["instance_type"], values["instance_count"], use, hours)
        return Estimate(estimate.monthly, f"{runs:g} runs × {values['run_minutes']} min on {estimate.basis}")
    if kind == Kind.ASYNC and values["min_capacity"] == 0:
        # Scales to zero: at most max_capacity always on; the plan shows the ceiling, the advisor the usage.
        estimate = instances_monthly(values["instance_type"], values["instance_count"], use)
        return Estimate(estimate.monthly, f"at most {estimate.basis}; scales to 0 when idle")
    return instances_monthly(values["instance_type"], values["instance_count"], use)


def instances_for_load(instance_type: str, peak_rps: float, inference_ms: float) -> int:
    """Instances needed for `peak_rps` at `inference_ms` each, one request per vCPU at a time, 70% busy."""
    vcpu = region_prices()["instances"][instance_type]["vcpu"]
    per_instance = vcpu * 1000 / max(inference_ms, 1) * 0.7
    return max(1, math.ceil(peak_rps / per_instance))
