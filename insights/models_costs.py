"""What each tenant costs: the usage ledger, its daily allocation to tenants, and the inputs they read.

Money is Decimal end to end. `cost` columns hold the exact product (8 decimal places); `billed_cost`
columns hold cents. A ledger line's `billed_cost` is its cost rounded half-up to the cent, and the
allocation of that line shares those cents out by largest remainder, so a day's allocation adds up to
the day's ledger to the cent (insights/costs/allocation.py). Lines of a day are only ever replaced
together, by `insights.costs.runs.costs_run` (one transaction per rerun).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.db import models

from deployments.models import CatalogueVersion, Deployment, Kind
from tenants.models import Tenant


def money_field(**options: Any) -> models.DecimalField:
    """An exact amount: 8 decimal places."""
    return models.DecimalField(max_digits=20, decimal_places=8, **options)


def cents_field(**options: Any) -> models.DecimalField:
    """An amount in cents."""
    return models.DecimalField(max_digits=14, decimal_places=2, **options)


def quantity_field(**options: Any) -> models.DecimalField:
    return models.DecimalField(max_digits=24, decimal_places=6, **options)


# What a ledger line bills: a deployment's kind (deployments.models.Kind), or a tenant's objects in S3.
S3_KIND = "s3"
COST_KINDS: list[tuple[str, str]] = [*Kind.choices, (S3_KIND, "S3 storage")]
COST_KIND_LABELS: dict[str, str] = dict(COST_KINDS)


class SplitBasis(models.TextChoices):
    """How a shared endpoint's cost is split among the tenants present (a CostRule, per deployment)."""

    INVOCATIONS = "invocations", "In proportion to invocations"
    LATENCY = "latency", "In proportion to model time (latency × invocations)"
    EVEN = "even", "Evenly"
    WEIGHTS = "weights", "By fixed weights"


class IdlePolicy(models.TextChoices):
    """What happens to the share of a shared endpoint nobody used."""

    OVERHEAD = "overhead", "Kept as vendor overhead"
    SPREAD = "spread", "Spread over the tenants by the same rule"


class AllocationBasis(models.TextChoices):
    """Why an allocation line went where it went."""

    SILO = "silo", "The tenant's own resource"
    INVOCATIONS = "invocations", "Its invocations"
    LATENCY = "latency", "Its model time"
    EVEN = "even", "An even share"
    WEIGHTS = "weights", "Its fixed weight"
    IDLE = "idle", "Idle: nobody used it"


BASIS_LABELS: dict[str, str] = dict(AllocationBasis.choices)


class CostRule(models.Model):
    """How one shared deployment's cost is split and what its idle share becomes (operator's setting).

    Kept beside the deployment rather than in its settings: changing the split must not roll out a new
    endpoint config. A shared deployment without a rule splits by invocations and keeps idle as overhead.
    """

    deployment = models.OneToOneField(Deployment, on_delete=models.CASCADE, related_name="cost_rule")
    basis = models.CharField(max_length=12, choices=SplitBasis.choices, default=SplitBasis.INVOCATIONS)
    # Tenant id (str) -> positive weight, for basis=weights; a member without one weighs 1.
    weights = models.JSONField(default=dict, blank=True)
    idle_policy = models.CharField(max_length=10, choices=IdlePolicy.choices, default=IdlePolicy.OVERHEAD)
    updated_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.deployment}: {self.get_basis_display()}, idle {self.get_idle_policy_display()}"


class CapacitySample(models.Model):
    """How many instances an asynchronous endpoint ran from `at` on (until the next sample).

    Read from Application Auto Scaling's activities (DescribeScalingActivities) or DescribeEndpoint's
    CurrentInstanceCount; the ledger bills an async endpoint's hours from these, zero included.
    """

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    instance_count = models.PositiveIntegerField()
    source = models.CharField(max_length=20, default="activity")  # activity | describe | demo

    class Meta:
        ordering = ["deployment", "at"]
        constraints = [models.UniqueConstraint(fields=["deployment", "at"], name="capacity_one_per_moment")]

    def __str__(self) -> str:
        return f"{self.deployment_id} × {self.instance_count} from {self.at:%Y-%m-%d %H:%M}"


class StorageSample(models.Model):
    """The bytes stored under a tenant's S3 prefix on a day (ListObjectsV2 summed), billed per GB-month."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    prefix = models.CharField(max_length=1024)
    bytes = models.PositiveBigIntegerField()
    objects_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "day"], name="storage_one_per_day")]
        indexes = [models.Index(fields=["day"], name="storage_day")]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.day}: {self.bytes} bytes"


class LedgerLine(models.Model):
    """One day of one AWS resource's usage, priced: instance-hours of one type, GB-seconds, GB, GB-months.

    `tenant` is NULL for a shared resource (its tenants get their shares in AllocationLine). `seconds` is
    how long the resource ran that day; `quantity` × `unit_price` = `cost`.
    """

    day = models.DateField()
    deployment = models.ForeignKey(
        Deployment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    resource_id = models.CharField(max_length=1024)  # endpoint ARN, transform job ARN or s3:// prefix
    kind = models.CharField(max_length=16, choices=COST_KINDS)
    isolation = models.CharField(max_length=10)  # silo / bridge / pool
    usage_type = models.CharField(max_length=80)  # AWS's, e.g. USE1-Host:ml.m5.large
    quantity = quantity_field()
    unit = models.CharField(max_length=20)  # Hrs, GB-Second, GB, GB-Mo
    unit_price = models.DecimalField(max_digits=20, decimal_places=10)
    cost = money_field()
    billed_cost = cents_field()
    seconds = models.PositiveIntegerField(default=0)
    instance_type = models.CharField(max_length=40, blank=True)
    instance_count = models.PositiveIntegerField(
        default=0
    )  # the most instances in the day (0: serverless, S3)
    invocations = models.PositiveBigIntegerField(default=0)  # metered requests the day (serverless: billed)
    price_version = models.ForeignKey(CatalogueVersion, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3, default="USD")
    run = models.ForeignKey("AllocationRun", on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["day", "id"]
        indexes = [
            models.Index(fields=["day"], name="ledger_day"),
            models.Index(fields=["deployment", "day"], name="ledger_deployment_day"),
            models.Index(fields=["tenant", "day"], name="ledger_tenant_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.resource_id} {self.usage_type} {self.cost}"


class AllocationLine(models.Model):
    """A share of one ledger line that one tenant pays, or its idle share (`tenant` NULL, `is_idle`).

    `share_numerator / share_denominator` is the fraction that made it (the tenant's invocations over
    all invocations, its weight × hours over everyone's, its hours present over the day's…), and the
    columns copied from the ledger line (resource, kind, usage type) let pages sum without a join.
    """

    day = models.DateField()
    # DO_NOTHING: a rerun deletes a range's allocation lines first, then its ledger lines, each in one
    # statement (a cascade would make Django read every line back first).
    ledger_line = models.ForeignKey(
        LedgerLine, on_delete=models.DO_NOTHING, null=True, blank=True, related_name="allocations"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    deployment = models.ForeignKey(
        Deployment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resource_id = models.CharField(max_length=1024)
    kind = models.CharField(max_length=16, choices=COST_KINDS)
    isolation = models.CharField(max_length=10)
    usage_type = models.CharField(max_length=80)
    basis = models.CharField(max_length=12, choices=AllocationBasis.choices)
    share_numerator = quantity_field()
    share_denominator = quantity_field()
    invocations = models.PositiveBigIntegerField(default=0)  # the tenant's on this resource that day
    hours_present = models.DecimalField(max_digits=8, decimal_places=4, default=0)
    is_idle = models.BooleanField(default=False)
    # Idle lines: overhead (tenant NULL) or spread (the tenant's part of the idle share, is_idle True).
    idle_policy = models.CharField(max_length=10, choices=IdlePolicy.choices, blank=True)
    cost = money_field()
    billed_cost = cents_field()
    currency = models.CharField(max_length=3, default="USD")
    run = models.ForeignKey("AllocationRun", on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["day", "id"]
        indexes = [
            models.Index(fields=["tenant", "day"], name="allocation_tenant_day"),
            models.Index(fields=["day"], name="allocation_day"),
            models.Index(fields=["deployment", "day"], name="allocation_deployment_day"),
        ]

    def __str__(self) -> str:
        who = self.tenant_id or "idle"
        return f"{self.day} {who} {self.resource_id} {self.billed_cost}"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class AllocationRun(models.Model):
    """One computation of the ledger and allocation for a range of days (the daily cron, or a rerun)."""

    first_day = models.DateField()
    last_day = models.DateField()
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    trigger = models.CharField(max_length=20, default="cron")  # cron | rerun | demo | bench
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    ledger_lines = models.PositiveIntegerField(default=0)
    allocation_lines = models.PositiveIntegerField(default=0)
    total = cents_field(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.first_day}–{self.last_day} {self.status}"


class AwsCostLine(models.Model):
    """Cost Explorer's figure for a day, tenant tag value and usage type (GetCostAndUsage, daily)."""

    day = models.DateField()
    tag_value = models.CharField(max_length=100)  # the saasadmin:tenant tag: a slug, "shared" or ""
    tenant = models.ForeignKey(Tenant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    usage_type = models.CharField(max_length=80)
    cost = money_field()
    currency = models.CharField(max_length=3, default="USD")
    fetched_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["day", "tag_value", "usage_type"]
        constraints = [
            models.UniqueConstraint(fields=["day", "tag_value", "usage_type"], name="aws_cost_one_per_group")
        ]
        indexes = [models.Index(fields=["tenant", "day"], name="aws_cost_tenant_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.tag_value} {self.usage_type} {self.cost}"
