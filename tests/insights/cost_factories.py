"""Cost rows written directly, for the finance pages' tests (the ledger's own tests compute them).

`cost_world` gives Alpha its own real-time endpoint and puts Alpha and Beta on a shared multi-model
endpoint with some idle kept as overhead, over the previous and the running month.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from deployments.models import CatalogueVersion, Deployment, DeploymentMember, Kind
from insights.finance.months import current_month, today_utc
from insights.models_costs import AllocationLine, LedgerLine
from tenants.models import Tenant

ARN = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/"


def price_version() -> CatalogueVersion:
    version, _ = CatalogueVersion.objects.get_or_create(
        sha256="0" * 64, defaults={"valid_from": date(2020, 1, 1), "retrieved": date(2020, 1, 1), "data": {}}
    )
    return version


def ledger(
    day: date, deployment: Deployment | None, *, cost: str, hours: str = "24", tenant: Tenant | None = None,
    invocations: int = 0, kind: str = "", usage_type: str = "USE1-Host:ml.m5.large",
) -> LedgerLine:  # fmt: skip
    amount = Decimal(cost)
    return LedgerLine.objects.create(
        day=day,
        deployment=deployment,
        tenant=tenant,
        resource_id=ARN + (deployment.aws_name if deployment else "s3"),
        kind=kind or (deployment.kind if deployment else "s3"),
        isolation=deployment.isolation if deployment else "silo",
        usage_type=usage_type,
        quantity=Decimal(hours),
        unit="Hrs",
        unit_price=(amount / Decimal(hours)).quantize(Decimal("0.0000000001")),
        cost=amount,
        billed_cost=amount,
        seconds=int(Decimal(hours) * 3600),
        instance_type="ml.m5.large",
        instance_count=1,
        invocations=invocations,
        price_version=price_version(),
    )


def allocate(
    line: LedgerLine, tenant: Tenant | None, *, cost: str, basis: str = "silo", numerator: str = "1",
    denominator: str = "1", invocations: int = 0, hours: str = "24", idle: bool = False, policy: str = "",
) -> AllocationLine:  # fmt: skip
    return AllocationLine.objects.create(
        day=line.day,
        ledger_line=line,
        tenant=tenant,
        deployment=line.deployment,
        resource_id=line.resource_id,
        kind=line.kind,
        isolation=line.isolation,
        usage_type=line.usage_type,
        basis=basis,
        share_numerator=Decimal(numerator),
        share_denominator=Decimal(denominator),
        invocations=invocations,
        hours_present=Decimal(hours),
        is_idle=idle,
        idle_policy=policy,
        cost=Decimal(cost),
        billed_cost=Decimal(cost),
    )


def cost_day(world: SimpleNamespace, day: date) -> None:
    """One day: Alpha's own endpoint ($2.76), the shared one ($4.00: Alpha 300 and Beta 100 of 400
    invocations share $3.00, $1.00 idle overhead)."""
    own = ledger(day, world.alpha_rt, cost="2.76", tenant=world.tenant_a)
    allocate(own, world.tenant_a, cost="2.76")
    shared = ledger(day, world.shared_mm, cost="4.00", invocations=400)
    allocate(shared, world.tenant_a, cost="2.25", basis="invocations", numerator="300", denominator="400",
             invocations=300)  # fmt: skip
    allocate(shared, world.tenant_b, cost="0.75", basis="invocations", numerator="100", denominator="400",
             invocations=100)  # fmt: skip
    allocate(shared, None, cost="1.00", basis="idle", numerator="6", denominator="24", idle=True,
             policy="overhead")  # fmt: skip


def cost_world(world: SimpleNamespace, *, today: date | None = None) -> SimpleNamespace:
    """The deployments and two months of cost lines: every day of last month, this month up to yesterday
    (or the 1st, when today is the 1st)."""
    world.alpha_rt = Deployment.objects.create(
        tenant=world.tenant_a, name="alpha-rt", kind=Kind.REALTIME, isolation="silo", aws_name="sa-alpha-rt"
    )
    world.shared_mm = Deployment.objects.create(
        tenant=None, name="bridge-mme", kind=Kind.MULTI_MODEL, isolation="bridge", aws_name="sa-bridge-mme"
    )
    for tenant in (world.tenant_a, world.tenant_b):
        DeploymentMember.objects.create(
            deployment=world.shared_mm, tenant=tenant, target=f"{tenant.slug}.tar.gz"
        )
    month = current_month(today)
    world.month, world.previous = month, month.previous()
    day = world.previous.start
    last = max(month.start, (today or today_utc()) - timedelta(days=1))
    world.days = 0
    while day <= last:
        cost_day(world, day)
        world.days += 1
        day += timedelta(days=1)
    return world


def lines_of(response: Any) -> list[str]:
    """A streamed CSV response's lines."""
    return b"".join(response.streaming_content).decode().splitlines()
