"""Prices and names as AWS bills them: usage types, ARNs and unit prices from a catalogue version."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.conf import settings

from deployments.models import CatalogueVersion

# The region code that starts a SageMaker usage type ("USE1-Host:ml.m5.large"), as Cost Explorer shows it.
REGION_CODES = {
    "us-east-1": "USE1",
    "us-east-2": "USE2",
    "us-west-1": "USW1",
    "us-west-2": "USW2",
    "eu-west-1": "EU",
    "eu-west-2": "EUW2",
    "eu-central-1": "EUC1",
    "ap-southeast-1": "APS1",
    "ap-southeast-2": "APS2",
    "ap-northeast-1": "APN1",
}
GIB = Decimal(1024**3)
log = logging.getLogger(__name__)


def region() -> str:
    return str(settings.AWS_REGION)


def usage_type(billed: str) -> str:
    """`billed` ("Host:ml.m5.large") with the region's code in front, as AWS names usage types."""
    return f"{REGION_CODES.get(region(), region().upper())}-{billed}"


def account_id() -> str:
    """The account of the execution role's ARN (arn:aws:iam::<account>:role/…)."""
    parts = str(settings.SAGEMAKER_EXECUTION_ROLE_ARN).split(":")
    return parts[4] if len(parts) > 4 else ""


def arn(resource: str) -> str:
    """A SageMaker ARN in this region and account ("endpoint/<name>", "transform-job/<name>")."""
    return f"arn:aws:sagemaker:{region()}:{account_id()}:{resource.lower()}"


def region_prices(version: CatalogueVersion) -> dict[str, Any]:
    regions: dict[str, Any] = version.data.get("regions", {})
    return regions.get(region(), {})


def decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def hourly(version: CatalogueVersion, instance_type: str, use: str) -> Decimal:
    """USD per instance-hour of `instance_type` for `use` (realtime, async, transform); 0, with a warning in
    the log, when the version does not price it (the line still shows its hours)."""
    entry = region_prices(version).get("instances", {}).get(instance_type, {})
    price = entry.get(f"{use}_per_hour", entry.get("realtime_per_hour"))
    if price is None:
        log.warning("%s has no %s price in %s (%s): billed at 0", instance_type, use, version, region())
    return decimal(price)


def serverless(version: CatalogueVersion, what: str) -> Decimal:
    """USD per GB-second (`per_gb_second`) or per GB processed (`per_gb_data_processed`)."""
    return decimal(region_prices(version).get("serverless", {}).get(what))


# S3 Standard, first 50 TB per month (us-east-1 list price): the SageMaker catalogue's storage_per_gb_month
# prices ML storage volumes, not S3; a catalogue may carry its own `s3_per_gb_month`.
S3_STANDARD_PER_GB_MONTH = Decimal("0.023")


def s3_per_gb_month(version: CatalogueVersion) -> Decimal:
    found = region_prices(version).get("s3_per_gb_month")
    return decimal(found) if found is not None else S3_STANDARD_PER_GB_MONTH
