"""manage.py refresh_prices — rewrite catalogue/sagemaker_prices.json from the AWS Pricing API (aws mode)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from deployments import pricing
from deployments.aws import AwsError
from deployments.aws.pricing import Price, sagemaker_prices


def region_entry(prices: list[Price], previous: dict[str, Any]) -> dict[str, Any]:
    """A catalogue region from Pricing API prices; what the API does not list is kept from `previous`."""
    instances: dict[str, dict[str, Any]] = {}
    serverless = dict(previous.get("serverless", {}))
    for price in prices:
        if price.use in ("realtime", "async", "transform"):
            entry = instances.setdefault(
                price.subject, dict(previous.get("instances", {}).get(price.subject, {}))
            )
            entry[f"{price.use}_per_hour"] = round(price.usd, 6)
            if price.use == "realtime" and price.vcpu:
                entry.update(vcpu=price.vcpu, memory_gib=price.memory_gib, gpus=price.gpus)
        elif price.use == "serverless_gb" and price.subject:
            serverless["per_gb_second"] = round(price.usd / float(price.subject), 10)
        elif price.use == "serverless_data":
            serverless["per_gb_data_processed"] = round(price.usd, 6)
    complete = {
        name: entry for name, entry in instances.items() if {"realtime_per_hour", "vcpu"} <= entry.keys()
    }
    for entry in complete.values():
        entry.setdefault("async_per_hour", entry["realtime_per_hour"])
        entry.setdefault("transform_per_hour", entry["realtime_per_hour"])
    return {**previous, "instances": dict(sorted(complete.items())), "serverless": serverless}


class Command(BaseCommand):
    help = "Refresh the SageMaker pricing catalogue from the AWS Pricing API (needs AWS_MODE=aws)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--region", action="append", help="region to refresh (default: every one listed)")

    def handle(self, *args: Any, region: list[str] | None = None, **options: Any) -> None:
        if settings.AWS_MODE != "aws":
            raise CommandError("The Pricing API is AWS's own: run with AWS_MODE=aws and credentials.")
        data = json.loads(pricing.CATALOGUE_PATH.read_text())
        for code in region or list(data["regions"]):
            try:
                prices = list(sagemaker_prices(code))
            except AwsError as exc:
                raise CommandError(f"{code}: {exc}") from exc
            if not prices:
                raise CommandError(
                    f"{code}: the Pricing API listed no SageMaker prices; the catalogue is unchanged."
                )
            data["regions"][code] = region_entry(prices, data["regions"].get(code, {}))
            self.stdout.write(f"{code}: {len(data['regions'][code]['instances'])} instance types")
        data["retrieved"] = date.today().isoformat()
        data["source"] = (
            "AWS Price List Query API (GetProducts, AmazonSageMaker), via manage.py refresh_prices"
        )
        pricing.CATALOGUE_PATH.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        self.stdout.write(self.style.SUCCESS(f"Wrote {pricing.CATALOGUE_PATH}"))
