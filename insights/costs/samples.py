"""The ledger's measured inputs that AWS keeps no history of: async instance counts and S3 bytes.

- `capacity_sample`: each in-service async endpoint's CurrentInstanceCount (DescribeEndpoint), kept
  when it changed since the last sample (the count holds until the next one);
- `storage_sample`: the bytes under each tenant's prefixes (ListObjectsV2), one row per tenant and day.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from django.utils import timezone

from deployments.aws import AwsError, NotFound, sagemaker, storage
from deployments.models import Deployment, Kind, Status
from deployments.resources import bucket_uri
from insights.models_costs import CapacitySample, StorageSample
from tenants.models import Tenant, TenantStatus

log = logging.getLogger(__name__)


def capacity_sample(now: datetime | None = None) -> int:
    """Sample every live async endpoint's instance count; returns how many samples were kept."""
    now = now or timezone.now()
    endpoints = (
        Deployment.objects.filter(kind=Kind.ASYNC).exclude(live_model_name="").exclude(status=Status.DELETED)
    )
    last = {
        sample.deployment_id: sample.instance_count
        for sample in CapacitySample.objects.filter(deployment__in=endpoints).order_by("deployment_id", "at")
    }
    kept = []
    for deployment in endpoints:
        try:
            count = sagemaker.endpoint_describe(deployment.aws_name).instance_count
        except NotFound:
            count = 0
        except AwsError as exc:
            log.warning("capacity of %s not sampled: %s", deployment.aws_name, exc)
            continue
        if count is not None and last.get(deployment.pk) != count:
            kept.append(
                CapacitySample(deployment=deployment, at=now, instance_count=count, source="describe")
            )
    CapacitySample.objects.bulk_create(kept, ignore_conflicts=True)
    return len(kept)


def tenant_prefixes(slug: str) -> list[str]:
    """Where a tenant's objects live: its models and its datasets (batch input and output)."""
    return [bucket_uri("models", slug) + "/", bucket_uri("datasets", slug) + "/"]


def storage_sample(day: date) -> int:
    """Record the bytes under each tenant's prefixes as `day`'s; a tenant sampled that day already is left."""
    done = set(StorageSample.objects.filter(day=day).values_list("tenant_id", flat=True))
    tenants = Tenant.objects.exclude(status=TenantStatus.OFFBOARDED).exclude(pk__in=done)
    rows = []
    for tenant in tenants.order_by("slug"):
        prefixes = tenant_prefixes(tenant.slug)
        try:
            sizes = [storage.prefix_size(prefix) for prefix in prefixes]
        except AwsError as exc:
            log.warning("storage of %s not sampled: %s", tenant.slug, exc)
            continue
        rows.append(
            StorageSample(
                tenant=tenant,
                day=day,
                prefix=" + ".join(prefixes),
                bytes=sum(size for size, _ in sizes),
                objects_count=sum(count for _, count in sizes),
            )
        )
    StorageSample.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
